// labels: unit replay
// Live subscription plans against what real sessions sent: the captures in data/ recorded
// the client's own subscribe requests (cryptofeed "<url> <- <t>: <json>" lines) and the
// combined-stream URL it opened. Our plans for the same instruments must ask for the same
// (channel, instrument) pairs in the venue's format, within the venue's limits.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "feedhandler/venues/live_profile.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::venues {
namespace {

using Pair = std::pair<std::string, std::string>; // channel, instrument

std::vector<capture::Record> records_of(const std::string& rel, capture::RecordKind kind,
                                        std::vector<capture::CaptureFile>& keep) {
  auto f = capture::CaptureFile::open(test::data_path(rel));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  keep.push_back(std::move(std::get<capture::CaptureFile>(f)));
  std::vector<capture::Record> out;
  for (const auto& r : keep.back().records())
    if (r.kind == kind) out.push_back(r);
  return out;
}

std::set<Pair> okx_pairs(const std::vector<std::string>& messages) {
  std::set<Pair> out;
  simdjson::dom::parser parser;
  for (const auto& m : messages) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(m).get(doc), simdjson::SUCCESS) << m;
    EXPECT_EQ(std::string_view(doc["op"]), "subscribe");
    for (simdjson::dom::element a : doc["args"].get_array())
      out.emplace(std::string(std::string_view(a["channel"])), std::string(std::string_view(a["instId"])));
  }
  return out;
}

TEST(LiveProfileTest, OkxPlanAsksForWhatTheRecordedSessionSubscribed) {
  std::vector<capture::CaptureFile> keep;
  const auto sent = records_of("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                               capture::RecordKind::WsSent, keep);
  ASSERT_FALSE(sent.empty());
  std::vector<std::string> recorded;
  for (const auto& r : sent) recorded.emplace_back(r.payload);
  const std::set<Pair> want = okx_pairs(recorded);
  std::set<std::string> natives;
  for (const auto& [ch, inst] : want) natives.insert(inst);

  SubscriptionSet s;
  s.natives.assign(natives.begin(), natives.end());
  s.okx_book_channel = "books-l2-tbt"; // the recording's book channel
  const auto plans = plan_connections(Venue::Okx, s);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].url, "wss://ws.okx.com:8443/ws/v5/public"); // == the recording's ws_open
  EXPECT_EQ(std::string(keep[0].ws_url()), plans[0].url);
  EXPECT_EQ(okx_pairs(plans[0].subscribe_messages), want);
  for (const auto& m : plans[0].subscribe_messages)
    EXPECT_LE(m.size(), 64u * 1024); // OKX: a request's args may not exceed 64 KB
}

TEST(LiveProfileTest, KrakenV1PlanReproducesTheRecordedSubscribeRequests) {
  // The 2021-04-17 run recorded book-1000, ticker and trade on three connections, one
  // subscribe request each, for the same ten pairs.
  std::vector<capture::CaptureFile> keep;
  std::vector<capture::Record> sent;
  for (const char* f : {"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                        "kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz",
                        "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz"}) {
    const auto part = records_of(f, capture::RecordKind::WsSent, keep);
    ASSERT_EQ(part.size(), 1u) << f;
    sent.push_back(part[0]);
  }
  simdjson::dom::parser parser;
  std::vector<std::string> pairs;
  simdjson::dom::element first;
  ASSERT_EQ(parser.parse(sent[0].payload).get(first), simdjson::SUCCESS);
  for (simdjson::dom::element p : first["pair"].get_array()) pairs.emplace_back(std::string_view(p));

  SubscriptionSet s;
  s.natives = pairs;
  s.kraken_api = KrakenApi::V1;
  s.kraken_depth = 1000;
  const auto plans = plan_connections(Venue::Kraken, s);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(std::string(keep[0].ws_url()), plans[0].url);
  // Same requests, compared as JSON documents (spacing aside): minify both.
  std::multiset<std::string> want, got;
  for (const auto& r : sent) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(r.payload).get(e), simdjson::SUCCESS);
    want.insert(simdjson::minify(e));
  }
  for (const auto& m : plans[0].subscribe_messages) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(m).get(e), simdjson::SUCCESS) << m;
    got.insert(simdjson::minify(e));
  }
  EXPECT_EQ(got, want);
}

// Both Deribit runs sent one public/subscribe with book, trades and ticker channels for ten
// options. Asked for the same instruments with the recording's "raw" interval, our plan must
// send that request byte for byte (same id 0, channel order, no spacing); the other run
// ordered its channels differently, so there the channel lists are compared.
TEST(LiveProfileTest, DeribitPlanReproducesTheRecordedSubscribeRequestExactly) {
  for (const char* file : {"deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz",
                           "deribit/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz"}) {
    std::vector<capture::CaptureFile> keep;
    const auto sent = records_of(file, capture::RecordKind::WsSent, keep);
    ASSERT_EQ(sent.size(), 1u) << file;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(sent[0].payload).get(doc), simdjson::SUCCESS);
    SubscriptionSet s;
    for (simdjson::dom::element c : doc["params"]["channels"].get_array()) {
      const std::string_view ch(c);
      if (ch.rfind("book.", 0) != 0) continue;
      s.natives.emplace_back(ch.substr(5, ch.rfind('.') - 5));
    }
    ASSERT_EQ(s.natives.size(), 10u) << file;
    s.deribit_interval = "raw";
    const auto plans = plan_connections(Venue::Deribit, s);
    ASSERT_EQ(plans.size(), 1u);
    EXPECT_EQ(plans[0].url, std::string(keep[0].ws_url()));
    ASSERT_EQ(plans[0].subscribe_messages.size(), 1u);
    const std::string& ours = plans[0].subscribe_messages[0];
    if (std::string_view(file).find("07-22") != std::string_view::npos) {
      EXPECT_EQ(ours, sent[0].payload) << file;
    } else {
      // The 04-17 run listed ticker channels first: same request, channels in another order.
      simdjson::dom::element mine;
      simdjson::dom::parser p2;
      ASSERT_EQ(p2.parse(ours).get(mine), simdjson::SUCCESS);
      std::multiset<std::string> a, b;
      for (simdjson::dom::element c : doc["params"]["channels"].get_array()) a.emplace(std::string_view(c));
      for (simdjson::dom::element c : mine["params"]["channels"].get_array()) b.emplace(std::string_view(c));
      EXPECT_EQ(a, b) << file;
      EXPECT_EQ(a.size(), 30u);
    }
  }
}

TEST(LiveProfileTest, DeribitBookResubscribeNamesOnlyTheBookChannel) {
  SubscriptionSet s;
  s.natives = {"BTC-24SEP21-8000-P", "ETH-30JUL21-2800-C"};
  const auto m = book_resubscribe_messages(Venue::Deribit, s, {"ETH-30JUL21-2800-C"});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], R"({"jsonrpc":"2.0","id":1000,"method":"public/unsubscribe","params":{"channels":["book.ETH-30JUL21-2800-C.100ms"]}})");
  EXPECT_EQ(m[1], R"({"jsonrpc":"2.0","id":1001,"method":"public/subscribe","params":{"channels":["book.ETH-30JUL21-2800-C.100ms"]}})");
}

TEST(LiveProfileTest, DeribitKeepaliveAnswerIsNotMarketDataAndDataIsNot) {
  EXPECT_NE(ping_text(Venue::Deribit).find("public/test"), std::string_view::npos);
  std::vector<capture::CaptureFile> keep;
  const auto text = records_of("deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz",
                               capture::RecordKind::WsText, keep);
  ASSERT_GT(text.size(), 100u);
  std::size_t called_keepalive = 0;
  for (const auto& r : text) called_keepalive += is_keepalive_text(Venue::Deribit, r.payload);
  EXPECT_EQ(called_keepalive, 0u); // no recorded frame answers id 9929 or is a heartbeat
}

TEST(LiveProfileTest, KrakenV2PlanUsesTheCurrentProtocol) {
  SubscriptionSet s;
  s.natives = {"BTC/USD", "ETH/USD"};
  const auto plans = plan_connections(Venue::Kraken, s);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].url, "wss://ws.kraken.com/v2");
  simdjson::dom::parser parser;
  std::set<std::string> channels;
  for (const auto& m : plans[0].subscribe_messages) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(m).get(e), simdjson::SUCCESS) << m;
    EXPECT_EQ(std::string_view(e["method"]), "subscribe");
    channels.emplace(std::string_view(e["params"]["channel"]));
    EXPECT_EQ(e["params"]["symbol"].get_array().size(), 2u);
  }
  EXPECT_EQ(channels, (std::set<std::string>{"book", "ticker", "trade"}));
}

TEST(LiveProfileTest, BinanceUsdmPlanOpensTheRecordedStreams) {
  std::vector<capture::CaptureFile> keep;
  records_of("binance/cryptofeed/usdm_2021-07-22_ws.txt.gz", capture::RecordKind::WsOpen, keep);
  const std::string url(keep[0].ws_url());
  const std::string streams_part = url.substr(url.find("streams=") + 8);
  std::set<std::string> want;
  std::set<std::string> natives;
  for (std::size_t pos = 0; pos <= streams_part.size();) {
    const std::size_t slash = std::min(streams_part.find('/', pos), streams_part.size());
    const std::string stream = streams_part.substr(pos, slash - pos);
    pos = slash + 1;
    if (stream.find("@kline") != std::string::npos) continue; // candles: not market depth
    want.insert(stream);
    natives.insert(stream.substr(0, stream.find('@')));
  }
  SubscriptionSet s;
  for (const auto& n : natives) s.natives.push_back(n);
  s.binance_depth_speed = "@100ms";
  const auto plans = plan_connections(Venue::BinanceUsdm, s);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans[0].subscribe_messages.empty()); // streams are in the URL
  const std::string ours = plans[0].url.substr(plans[0].url.find("streams=") + 8);
  std::set<std::string> got;
  for (std::size_t pos = 0; pos <= ours.size();) {
    const std::size_t slash = std::min(ours.find('/', pos), ours.size());
    got.insert(ours.substr(pos, slash - pos));
    pos = slash + 1;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(plans[0].url.substr(0, plans[0].url.find("/stream?")), url.substr(0, url.find("/stream?")));
}

TEST(LiveProfileTest, BinanceDepthSnapshotUrlMatchesTheRecordedRestRequest) {
  std::vector<capture::CaptureFile> keep;
  const auto http = records_of("binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz",
                               capture::RecordKind::Http, keep);
  ASSERT_FALSE(http.empty());
  const std::string recorded(http[0].url);
  const std::string symbol = recorded.substr(recorded.find("symbol=") + 7,
                                             recorded.find('&') - recorded.find("symbol=") - 7);
  EXPECT_EQ(binance_depth_snapshot_url(Venue::BinanceUsdm, symbol, 1000), recorded);
}

TEST(LiveProfileTest, LargeSetsAreSplitWithinTheVenueLimits) {
  SubscriptionSet s;
  for (int i = 0; i < 1000; ++i) s.natives.push_back("SYM" + std::to_string(i) + "USDT");
  for (const Venue v : {Venue::BinanceSpot, Venue::Okx, Venue::Kraken, Venue::Deribit}) {
    const LiveProfile& p = live_profile(v);
    const auto plans = plan_connections(v, s);
    std::size_t covered = 0;
    for (const auto& plan : plans) {
      covered += plan.natives.size();
      EXPECT_LE(plan.natives.size() * 3, std::size_t{p.max_streams_per_connection} + 2);
    }
    EXPECT_EQ(covered, s.natives.size()) << venue_name(v);
    EXPECT_GT(plans.size(), 1u) << venue_name(v);
  }
}

TEST(LiveProfileTest, KeepaliveTextIsRecognisedAndNotMarketData) {
  EXPECT_EQ(ping_text(Venue::Okx), "ping");
  EXPECT_TRUE(is_keepalive_text(Venue::Okx, "pong"));
  // Real Kraken v1 heartbeat frames from the recording.
  std::vector<capture::CaptureFile> keep;
  const auto text = records_of("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                               capture::RecordKind::WsText, keep);
  std::size_t heartbeats = 0, book_frames_called_keepalive = 0;
  for (const auto& r : text) {
    if (r.payload.find("heartbeat") != std::string_view::npos) heartbeats += is_keepalive_text(Venue::Kraken, r.payload);
    else if (r.payload.find("book-1000") != std::string_view::npos)
      book_frames_called_keepalive += is_keepalive_text(Venue::Kraken, r.payload);
  }
  EXPECT_GT(heartbeats, 0u);
  EXPECT_EQ(book_frames_called_keepalive, 0u);
}

// Kraken v2 names pairs BTC/USD; the recorded AssetPairs metadata's wsname is XBT/USD. A
// session subscribed with the v2 name must still find the instrument (stale marks, resyncs).
TEST(FindSubscribedTest, KrakenV2PairNamesResolveToTheMetadataInstrument) {
  auto http = capture::CaptureFile::open(test::data_path("kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(http));
  InstrumentRegistry registry;
  for (const auto& r : std::get<capture::CaptureFile>(http).records())
    if (r.kind == capture::RecordKind::Http) {
      ASSERT_TRUE(load_metadata(Venue::Kraken, r.url, r.payload, registry));
    }
  const Instrument* xbt = registry.find(Venue::Kraken, "XBT/CHF");
  ASSERT_NE(xbt, nullptr);
  EXPECT_EQ(find_subscribed(registry, Venue::Kraken, "XBT/CHF"), xbt);
  EXPECT_EQ(find_subscribed(registry, Venue::Kraken, "BTC/CHF"), xbt);
  EXPECT_EQ(find_subscribed(registry, Venue::Kraken, "NOPE/CHF"), nullptr);
  EXPECT_EQ(find_subscribed(registry, Venue::Okx, "BTC/CHF"), nullptr); // Kraken only
}

} // namespace
} // namespace fh::venues
