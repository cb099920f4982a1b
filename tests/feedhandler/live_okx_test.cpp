// labels: replay
// The live path end to end over loopback, against fh-venue serving the real OKX capture with
// TLS (certificates made at run time) and the venue's subscribe/ack handshake: instrument
// metadata fetched over https with the REST fetcher, our own subscribe requests (the live
// connection plan), io_uring reactor -> TLS -> WebSocket -> OKX parser -> book builder. The
// books must come out exactly as offline: every one of the capture's 3,679 checksums verifies
// (PROVENANCE.md), and the counts equal fh-replay's on the same files.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <string>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "feedhandler/venues/live_profile.hpp"
#include "feedhandler/wss_connection.hpp"
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

struct Feed {
  venues::VenueParsers* parsers = nullptr;
  FusedPipeline<NullPublisher>* pipeline = nullptr;
  EventBatch batch{EventBatch::kDefaultCapacity};
  std::vector<std::string> subscribe;
  WssConnection<Feed>* conn = nullptr;
  std::uint64_t texts = 0, parse_errors = 0, ignored = 0;
  bool opened = false, closed = false;
  std::string closed_why;

  void on_open() {
    opened = true;
    for (const auto& m : subscribe) EXPECT_TRUE(conn->send_text(m));
  }
  void on_text(std::string_view text, std::int64_t recv_ns) {
    ++texts;
    batch.clear();
    const ParseStatus st = parsers->parse(Venue::Okx, text, recv_ns, batch);
    if (st == ParseStatus::Ok) pipeline->push(batch);
    else if (st == ParseStatus::Ignored) ++ignored;
    else ++parse_errors;
  }
  void on_binary(std::span<const std::uint8_t>, std::int64_t) {}
  void on_closed(const char* why) {
    closed = true;
    closed_why = why;
  }
};

TEST(LiveOkxTest, BooksOverTlsAndWebSocketMatchEveryVenueChecksum) {
  TestCerts certs;
  ASSERT_EQ(certs.error(), "");
  VenueProcess venue;
  ASSERT_EQ(venue.start({"--listen", "127.0.0.1:0", "--cert", certs.localhost_cert(), "--key",
                         certs.localhost_key(), "--pace", "flat", "--exit-when-done",
                         data_path(kWs), data_path(kHttp)},
                        ::testing::TempDir() + "fh_live_okx_venue.log"),
            "");
  const std::string base = "https://127.0.0.1:" + std::to_string(venue.port());

  // Metadata over https, as a live start does: every instruments request of the recording.
  InstrumentRegistry registry;
  auto fetcher_or = RestFetcher::start({certs.ca()});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<RestFetcher>>(fetcher_or));
  auto& fetcher = *std::get<std::unique_ptr<RestFetcher>>(fetcher_or);
  const std::size_t instruments = load_metadata_via_rest(fetcher, base, kHttp, Venue::Okx, registry);
  EXPECT_GT(instruments, 100u);

  // The connection plan for the recording's instruments and channels.
  const auto natives = recorded_okx_natives(kWs);
  venues::SubscriptionSet subs;
  subs.natives.assign(natives.begin(), natives.end());
  subs.okx_book_channel = "books-l2-tbt";
  const auto plans = venues::plan_connections(Venue::Okx, subs, "wss://127.0.0.1:" + std::to_string(venue.port()));
  ASSERT_EQ(plans.size(), 1u);
  const auto target = parse_wss_url(plans[0].url);
  ASSERT_TRUE(target.has_value());

  venues::VenueParsers parsers(registry);
  BookBuilder builder(registry);
  NullPublisher none;
  FusedPipeline<NullPublisher> pipeline(builder, none);
  LiveClient client = make_live_client(certs.ca());
  ASSERT_TRUE(client.ok());
  auto& reactor = *client.reactor;
  const net::TlsContext& ctx = *client.tls;

  Feed feed;
  feed.parsers = &parsers;
  feed.pipeline = &pipeline;
  feed.subscribe = plans[0].subscribe_messages;
  WssConnection<Feed> conn(reactor, ctx, feed, *target);
  feed.conn = &conn;
  std::string error;
  ASSERT_TRUE(conn.start(error)) << error;
  Dispatch<WssConnection<Feed>> d{&conn};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!feed.closed && std::chrono::steady_clock::now() < deadline)
    reactor.run_once(d, std::chrono::milliseconds(50));
  ASSERT_TRUE(feed.opened) << conn.last_error();
  ASSERT_TRUE(feed.closed) << "fh-venue did not finish within 60 s";

  // Offline, the same files through fh-replay's path.
  auto offline = open_replay({kWs, kHttp});
  ASSERT_TRUE(offline);
  offline->run();
  const Sum want = sum_books(*offline);
  BookCounters got;
  std::size_t synced = 0;
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const InstrumentBook* b = builder.book(id);
    if (b == nullptr || b->counters().book_messages == 0) continue;
    got.book_messages += b->counters().book_messages;
    got.checksum_ok += b->counters().checksum_ok;
    got.checksum_fail += b->counters().checksum_fail;
    synced += b->status() == BookStatus::Synced;
  }
  EXPECT_EQ(got.checksum_ok, 3679u);
  EXPECT_EQ(got.checksum_fail, 0u);
  EXPECT_EQ(got.book_messages, want.c.book_messages);
  EXPECT_EQ(synced, want.synced);
  EXPECT_EQ(feed.parse_errors, 0u);
  EXPECT_EQ(feed.texts, offline->totals().messages); // every recorded frame arrived
  EXPECT_EQ(venue.wait_exit(), 0);
}

} // namespace
} // namespace fh::test
