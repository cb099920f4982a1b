// labels: replay
// Venue sessions against fh-venue serving real captures over TLS + WebSocket, with faults.
// OKX: the venue drops the connection after 1,000 frames; the session notices, marks every
// book it carried stale (in band), reconnects with backoff, resubscribes, and the venue's
// fresh snapshots make each book synced again; no checksum ever fails, and no book is
// reported synced between the drop and its new snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
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
#include "tests/support/live_helpers.hpp"
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
  EXPECT_GT(load_metadata_via_rest(fetcher, "https://127.0.0.1:" + port, kHttp, Venue::Okx, registry), 0u);

  venues::SubscriptionSet subs;
  subs.natives = recorded_okx_natives(kWs);
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
  LiveClient client = make_live_client(certs.ca());
  ASSERT_TRUE(client.ok());
  auto& reactor = *client.reactor;
  Session session(reactor, *client.tls, nullptr, registry, parsers,
                  pipeline, so);
  std::string error;
  ASSERT_TRUE(session.start(error)) << error;

  // Until the second connection has carried the rest of the capture: fh-venue sends every
  // remaining frame, then waits; stop when no frame came for a while after the reconnect.
  Dispatch<WssConnection<Session>> d{&session.connection()};
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
    } else if (c.reconnects() >= 1 && std::chrono::steady_clock::now() - quiet_since > std::chrono::milliseconds(500)) {
      break;
    }
  }
  const auto& c = session.counters();
  EXPECT_EQ(c.disconnects, 1u) << session.connection().last_error();
  EXPECT_EQ(c.reconnects(), 1u);
  EXPECT_EQ(c.resubscribes(), 1u);
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

// Binance USD-M, paced at 10x the recorded rate: the stream is buffered while the session
// fetches each symbol's REST depth snapshot from fh-venue (the recorded responses) with the
// RestFetcher; the straddle rule then syncs every book (PROVENANCE.md: all 4 synced, 0 pu breaks) and the venue's own
// bookTicker agrees with our book whenever their update ids meet.
TEST(LiveSessionTest, BinanceSessionSyncsFromRestSnapshotsFetchedWhileTheStreamBuffers) {
  const std::string ws = "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz";
  const std::string snaps = "binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz";
  const std::string info = "binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz";
  TestCerts certs;
  ASSERT_EQ(certs.error(), "");
  VenueProcess venue;
  ASSERT_EQ(venue.start({"--listen", "127.0.0.1:0", "--cert", certs.localhost_cert(), "--key",
                         certs.localhost_key(), "--pace", "scale=10", data_path(ws), data_path(snaps),
                         data_path(info)},
                        ::testing::TempDir() + "fh_live_binance_venue.log"),
            "");
  const std::string base = "https://127.0.0.1:" + std::to_string(venue.port());
  InstrumentRegistry registry;
  RestOptions ro;
  ro.ca_file = certs.ca();
  auto fetcher_or = RestFetcher::start(ro);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<RestFetcher>>(fetcher_or));
  auto& fetcher = *std::get<std::unique_ptr<RestFetcher>>(fetcher_or);
  // exchangeInfo first, as a live start does.
  auto info_file = capture::CaptureFile::open(data_path(info));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(info_file));
  const std::string info_url(std::get<capture::CaptureFile>(info_file).records().at(0).url);
  fetcher.submit({1, base + info_url.substr(info_url.find('/', 8)), 5000});
  RestResponse meta;
  for (int i = 0; i < 5000 && !fetcher.poll(meta); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(meta.ok()) << meta.error;
  ASSERT_TRUE(venues::load_metadata(Venue::BinanceUsdm, meta.url, meta.body, registry).has_value());

  // The recorded session's symbols, from its stream URL.
  auto ws_file = capture::CaptureFile::open(data_path(ws));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(ws_file));
  const std::string url(std::get<capture::CaptureFile>(ws_file).ws_url());
  std::set<std::string> natives;
  for (std::size_t at = url.find("streams=") + 8; at < url.size();) {
    const std::size_t end = std::min(url.find('/', at), url.size());
    const std::string stream = url.substr(at, end - at);
    if (stream.find("@depth") != std::string::npos) {
      std::string sym = stream.substr(0, stream.find('@'));
      for (auto& ch : sym) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      natives.insert(sym);
    }
    at = end + 1;
  }
  ASSERT_EQ(natives.size(), 4u);
  venues::SubscriptionSet subs;
  subs.natives.assign(natives.begin(), natives.end());
  venues::SessionOptions so;
  so.venue = Venue::BinanceUsdm;
  so.plan = venues::plan_connections(Venue::BinanceUsdm, subs, "wss://127.0.0.1:" + std::to_string(venue.port())).at(0);
  so.rest_base = base;

  venues::VenueParsers parsers(registry);
  BookBuilder builder(registry);
  Transitions seen;
  FusedPipeline<Transitions> pipeline(builder, seen);
  LiveClient client = make_live_client(certs.ca());
  ASSERT_TRUE(client.ok());
  auto& reactor = *client.reactor;
  Session session(reactor, *client.tls, &fetcher, registry, parsers,
                  pipeline, so);
  std::string error;
  ASSERT_TRUE(session.start(error)) << error;
  Dispatch<WssConnection<Session>> d{&session.connection()};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(d, std::chrono::milliseconds(5));
    session.on_tick(shm::realtime_ns());
    if (session.counters().snapshots_fetched == 4 && session.counters().messages >= 1535) break;
  }
  const auto& c = session.counters();
  EXPECT_EQ(c.snapshots_requested, 4u);
  EXPECT_EQ(c.snapshots_fetched, 4u);
  EXPECT_EQ(c.snapshot_failures, 0u);
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_EQ(c.messages, 1535u); // PROVENANCE.md: 1,535 ws frames
  // Offline, the same files through fh-replay's path (pu chain unbroken there, PROVENANCE.md):
  // the same snapshot plus the same updates must give the same books, level for level.
  auto offline = open_replay({ws, snaps, info});
  ASSERT_TRUE(offline);
  offline->run();
  std::size_t synced = 0;
  for (const auto& n : natives) {
    const Instrument* inst = registry.find(Venue::BinanceUsdm, n);
    ASSERT_NE(inst, nullptr) << n;
    const InstrumentBook* b = builder.book(inst->id);
    const InstrumentBook* o = book_of(*offline, Venue::BinanceUsdm, n);
    ASSERT_NE(b, nullptr) << n;
    ASSERT_NE(o, nullptr) << n;
    synced += b->status() == BookStatus::Synced;
    EXPECT_EQ(b->counters().seq_gaps, 0u) << n;
    EXPECT_EQ(b->counters().bbo_checks_fail, 0u) << n;
    EXPECT_EQ(b->last_update_id(), o->last_update_id()) << n;
    for (const book::Side side : {book::Side::Bid, book::Side::Ask}) {
      ASSERT_EQ(b->book().depth(side), o->book().depth(side)) << n;
      for (std::size_t i = 0; i < b->book().depth(side); ++i) {
        ASSERT_EQ(b->book().at(side, i).price, o->book().at(side, i).price) << n << " " << i;
        ASSERT_EQ(b->book().at(side, i).qty, o->book().at(side, i).qty) << n << " " << i;
      }
    }
  }
  EXPECT_EQ(synced, 4u);
}

} // namespace
} // namespace fh::test
