// labels: replay
// Venue sessions against fh-venue serving real captures over TLS + WebSocket, with faults.
// OKX: the venue drops the connection after 1,000 frames; the session notices, marks every
// book it carried stale (in band), reconnects with backoff, resubscribes, and the venue's
// fresh snapshots make each book synced again; no checksum ever fails, and no book is
// reported synced between the drop and its new snapshot.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/venue_session.hpp"
#include "net/tls_context.hpp"
#include "net/uring_reactor.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/venue_process.hpp"

namespace fh::test {
namespace {

const char* kWs = "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
const char* kHttp = "okx/cryptofeed/instruments_2022-02-27_http.txt.gz";

// Every status transition, in order, per instrument.
struct Transitions {
  std::map<std::uint32_t, std::vector<std::pair<BookStatus, BookError>>> by_instrument;
  void on_notice(const BookNotice& n, const Event&) noexcept {
    if (n.status_changed && n.book != nullptr)
      by_instrument[n.book->instrument().id].emplace_back(n.book->status(), n.book->last_error());
  }
};

using Session = venues::VenueSession<FusedPipeline<Transitions>>;

struct Dispatch {
  Session* s;
  void on_connected(net::ConnId id) { s->connection().on_connected(id); }
  void on_data(net::ConnId id, net::RecvBuffer b, std::int64_t ns) { s->connection().on_data(id, b, ns); }
  void on_no_data(net::ConnId) {}
  void on_closed(net::ConnId id, net::CloseReason r, int e) { s->connection().on_closed(id, r, e); }
  void on_timer(net::TimerId, std::uint64_t) {}
};

void load_okx_metadata(RestFetcher& fetcher, const std::string& base, InstrumentRegistry& registry) {
  auto http = capture::CaptureFile::open(data_path(kHttp));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(http));
  std::size_t requested = 0;
  for (const auto& r : std::get<capture::CaptureFile>(http).records()) {
    if (r.kind != capture::RecordKind::Http) continue;
    const std::string url(r.url);
    fetcher.submit({requested++, base + url.substr(url.find('/', 8)), 5000});
  }
  for (std::size_t got = 0; got < requested;) {
    RestResponse resp;
    if (!fetcher.poll(resp)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    ++got;
    ASSERT_TRUE(resp.ok()) << resp.url << ": " << resp.error;
    ASSERT_TRUE(venues::load_metadata(Venue::Okx, resp.url, resp.body, registry).has_value());
  }
}

std::vector<std::string> recorded_okx_natives() {
  auto ws = capture::CaptureFile::open(data_path(kWs));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(ws));
  std::set<std::string> natives;
  for (const auto& r : std::get<capture::CaptureFile>(ws).records()) {
    if (r.kind != capture::RecordKind::WsSent) continue;
    for (std::size_t at = r.payload.find("\"instId\":\""); at != std::string_view::npos;
         at = r.payload.find("\"instId\":\"", at + 1)) {
      const std::size_t start = at + 10;
      natives.emplace(r.payload.substr(start, r.payload.find('"', start) - start));
    }
  }
  return {natives.begin(), natives.end()};
}

TEST(LiveSessionTest, OkxSessionSurvivesAForcedCloseAndEveryBookResyncs) {
  TestCerts certs;
  ASSERT_EQ(certs.error(), "");
  VenueProcess venue;
  ASSERT_EQ(venue.start({"--listen", "127.0.0.1:0", "--cert", certs.localhost_cert(), "--key",
                         certs.localhost_key(), "--pace", "flat", "--fault", "close-after=1000",
                         data_path(kWs), data_path(kHttp)},
                        ::testing::TempDir() + "fh_live_session_venue.log"),
            "");
  const std::string port = std::to_string(venue.port());
  InstrumentRegistry registry;
  auto fetcher_or = RestFetcher::start({certs.ca()});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<RestFetcher>>(fetcher_or));
  auto& fetcher = *std::get<std::unique_ptr<RestFetcher>>(fetcher_or);
  load_okx_metadata(fetcher, "https://127.0.0.1:" + port, registry);

  venues::SubscriptionSet subs;
  subs.natives = recorded_okx_natives();
  subs.okx_book_channel = "books-l2-tbt";
  venues::SessionOptions so;
  so.venue = Venue::Okx;
  so.plan = venues::plan_connections(Venue::Okx, subs, "wss://127.0.0.1:" + port).at(0);
  so.backoff.base_ms = 50;
  so.backoff.min_ms = 20;

  venues::VenueParsers parsers(registry);
  BookBuilder builder(registry);
  Transitions seen;
  FusedPipeline<Transitions> pipeline(builder, seen);
  auto reactor_or = net::UringReactor::create({});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::UringReactor>>(reactor_or));
  auto& reactor = *std::get<std::unique_ptr<net::UringReactor>>(reactor_or);
  net::TlsClientConfig tc;
  tc.ca_file = certs.ca();
  auto ctx_or = net::TlsContext::client(tc);
  ASSERT_TRUE(std::holds_alternative<net::TlsContext>(ctx_or));
  Session session(reactor, std::get<net::TlsContext>(ctx_or), nullptr, registry, parsers, builder,
                  pipeline, so);
  std::string error;
  ASSERT_TRUE(session.start(error)) << error;

  // Until the second connection has carried the rest of the capture: fh-venue sends every
  // remaining frame, then waits; stop when no frame came for a while after the reconnect.
  Dispatch d{&session};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::uint64_t last_messages = 0;
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(d, std::chrono::milliseconds(5));
    session.on_tick(shm::realtime_ns());
    const auto& c = session.counters();
    if (c.messages != last_messages) {
      last_messages = c.messages;
      quiet_since = std::chrono::steady_clock::now();
    } else if (c.reconnects >= 1 && std::chrono::steady_clock::now() - quiet_since > std::chrono::milliseconds(500)) {
      break;
    }
  }
  const auto& c = session.counters();
  EXPECT_EQ(c.disconnects, 1u) << session.connection().last_error();
  EXPECT_EQ(c.reconnects, 1u);
  EXPECT_EQ(c.resubscribes, 1u);
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_GT(c.messages, 3777u - 1000u); // both connections carried frames

  std::size_t books = 0;
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const InstrumentBook* b = builder.book(id);
    if (b == nullptr || b->counters().book_messages == 0) continue;
    ++books;
    EXPECT_EQ(b->counters().checksum_fail, 0u) << b->instrument().native;
    EXPECT_EQ(b->status(), BookStatus::Synced) << b->instrument().native;
    // Synced, then stale because of the drop, then synced again from the new snapshot.
    const auto& t = seen.by_instrument[id];
    ASSERT_GE(t.size(), 3u) << b->instrument().native;
    std::size_t drop = 0;
    while (drop < t.size() && t[drop].second != BookError::Disconnected) ++drop;
    ASSERT_LT(drop, t.size()) << b->instrument().native << " never marked stale on the drop";
    EXPECT_EQ(t[drop].first, BookStatus::Stale);
    ASSERT_LT(drop + 1, t.size());
    EXPECT_EQ(t[drop + 1].first, BookStatus::Synced) << b->instrument().native;
    EXPECT_GE(b->counters().resyncs, 1u);
  }
  EXPECT_EQ(books, 10u);
}

} // namespace
} // namespace fh::test
