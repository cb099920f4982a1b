// labels: replay
// The Hyperliquid recording replayed through the whole pipeline (Replay: capture reader ->
// dispatch -> HyperliquidParser -> BookBuilder), alone and with the SDK's meta cassette as the
// metadata input. Every l2Book push is a complete book (VENUE_RULES.md), so the oracle is the
// recording itself: 46 snapshots, no chain to break, and the final book must equal the last
// l2Book message level for level (prices, sizes, order counts), read here with the DOM.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <string>
#include <vector>

#include "tests/support/counting_new.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::test {
namespace {

using capture::Record;
using capture::RecordKind;

constexpr const char *kHft = "hyperliquid/hftbacktest/btcusd_20250126.gz";
constexpr const char *kMeta = "hyperliquid/sdk_cassettes/info_meta_2023.yaml";
constexpr const char *kL2 = "hyperliquid/sdk_cassettes/info_l2Book_DYDX_2023-07-17.yaml";

bool is_l2book(const Record &r) {
  return r.kind == RecordKind::WsText &&
         r.payload.find("\"channel\":\"l2Book\"") != std::string_view::npos;
}

// The book must hold exactly the levels of this l2Book message, in order.
::testing::AssertionResult equals_message(const InstrumentBook &b, std::string_view msg) {
  simdjson::dom::parser dom;
  simdjson::dom::element root;
  if (dom.parse(msg.data(), msg.size(), false).get(root))
    return ::testing::AssertionFailure() << "DOM";
  const simdjson::dom::array sides = dom_arr(root["data"]["levels"]);
  const Instrument &inst = b.instrument();
  std::size_t s = 0;
  for (const simdjson::dom::element side_levels : sides) {
    const book::Side side = s++ == 0 ? book::Side::Bid : book::Side::Ask;
    const simdjson::dom::array levels = dom_arr(side_levels);
    if (b.book().depth(side) != levels.size())
      return ::testing::AssertionFailure() << "depth " << b.book().depth(side);
    std::size_t i = 0;
    for (const simdjson::dom::element lv : levels) {
      const book::Level &l = b.book().at(side, i++);
      std::int64_t n = 0;
      if (lv["n"].get_int64().get(n) ||
          l.price != ref_mantissa(dom_str(lv["px"]), inst.price_decimals) ||
          l.qty != ref_mantissa(dom_str(lv["sz"]), inst.qty_decimals) || l.orders != n)
        return ::testing::AssertionFailure() << "level " << i << " of side " << s;
    }
  }
  return ::testing::AssertionSuccess();
}

std::size_t trades_in_file(const Replay &r) {
  std::size_t n = 0;
  simdjson::dom::parser dom;
  for (const Record &rec : const_cast<Replay &>(r).order()) {
    if (rec.kind != RecordKind::WsText ||
        rec.payload.find("\"channel\":\"trades\"") == std::string_view::npos)
      continue;
    simdjson::dom::element msg;
    EXPECT_EQ(dom.parse(rec.payload.data(), rec.payload.size(), false).get(msg), simdjson::SUCCESS);
    n += dom_arr(msg["data"]).size();
  }
  return n;
}

std::string_view last_l2book(const Replay &r) {
  std::string_view last;
  for (const Record &rec : const_cast<Replay &>(r).order())
    if (is_l2book(rec))
      last = rec.payload;
  return last;
}

class HyperliquidReplay : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<Replay> run(const std::vector<std::string> &files) {
    ReplayOptions o;
    o.threaded = GetParam();
    auto r = open_replay(files, o);
    if (r)
      r->run();
    return r;
  }
  void expect_golden(const Replay &r) {
    EXPECT_EQ(r.totals().messages, 55U); // PROVENANCE.md: 55 messages
    EXPECT_EQ(r.totals().parse_errors, 0U);
    const Sum s = sum_books(r);
    EXPECT_EQ(s.c.book_messages, 46U); // 46 l2Book
    EXPECT_EQ(s.c.snapshots, 46U);     // every one a full snapshot
    EXPECT_EQ(s.c.applied, 0U);        // nothing incremental
    EXPECT_EQ(s.c.seq_gaps, 0U);
    EXPECT_EQ(s.books, 1U);
    EXPECT_EQ(s.synced, 1U);
    const InstrumentBook *b = book_of(r, Venue::Hyperliquid, "BTC");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->counters().trades, trades_in_file(r)); // the 9 trades messages' trades
    EXPECT_GT(b->counters().trades, 9U);
    EXPECT_EQ(b->instrument().canonical, "BTC-USDC-PERP");
    EXPECT_TRUE(equals_message(*b, last_l2book(r)));
  }
};

TEST_P(HyperliquidReplay, RecordingAloneEndsWithTheLastL2BookExactly) {
  auto r = run({kHft});
  ASSERT_TRUE(r);
  expect_golden(*r);
  EXPECT_FALSE(book_of(*r, Venue::Hyperliquid, "BTC")->instrument().from_metadata);
}

// `fh-replay data/hyperliquid/hftbacktest/btcusd_20250126.gz data/hyperliquid/sdk_cassettes/
// info_meta_2023.yaml`: the cassette is read as REST records and its meta body loads the
// universe before any frame parses; BTC then has the venue's scales (szDecimals 5).
TEST_P(HyperliquidReplay, MetaCassetteIsAMetadataInput) {
  auto r = run({kHft, kMeta});
  ASSERT_TRUE(r);
  expect_golden(*r);
  simdjson::dom::parser dom;
  simdjson::dom::element meta;
  const auto opened = capture::CaptureFile::open(data_path(kMeta));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(opened));
  const capture::CaptureFile &cassette = std::get<capture::CaptureFile>(opened);
  ASSERT_EQ(cassette.records().size(), 1U);
  ASSERT_EQ(
      dom.parse(cassette.records()[0].payload.data(), cassette.records()[0].payload.size(), false)
          .get(meta),
      simdjson::SUCCESS);
  EXPECT_EQ(r->totals().metadata_instruments, dom_arr(meta["universe"]).size());
  const Instrument &btc = book_of(*r, Venue::Hyperliquid, "BTC")->instrument();
  EXPECT_TRUE(btc.from_metadata);
  EXPECT_EQ(btc.qty_decimals, 5);
  EXPECT_EQ(btc.price_decimals, 1);
}

INSTANTIATE_TEST_SUITE_P(FusedAndThreaded, HyperliquidReplay, ::testing::Bool(),
                         [](const auto &p) { return p.param ? "threaded" : "fused"; });

// The cassette reader: each vcrpy interaction is one REST record with the request uri, the
// exact response body (YAML '' unescaped) and the response's date header as receive time.
TEST(HyperliquidCassette, EachInteractionIsOneRestRecordWithItsBodyAndDate) {
  const auto opened = capture::CaptureFile::open(data_path(kL2));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(opened));
  const capture::CaptureFile &f = std::get<capture::CaptureFile>(opened);
  EXPECT_EQ(f.format(), capture::Format::VcrCassette);
  EXPECT_EQ(f.skipped_lines(), 0U);
  ASSERT_EQ(f.records().size(), 2U); // a meta request, then the l2Book request
  // "date: Mon, 17 Jul 2023 21:43:21 GMT" and "... 21:43:24 GMT" (PROVENANCE.md: 21:43:24).
  const std::int64_t t0 = 1689630201LL * 1000000000LL;
  const std::int64_t expected_ts[] = {t0, t0 + 3LL * 1000000000LL};
  for (std::size_t i = 0; i < 2; ++i) {
    const Record &rec = f.records()[i];
    EXPECT_EQ(rec.kind, RecordKind::Http);
    EXPECT_EQ(rec.url, "https://api.hyperliquid.xyz/info");
    EXPECT_EQ(rec.recv_ts_ns, expected_ts[i]);
    simdjson::dom::parser dom;
    simdjson::dom::element body;
    EXPECT_EQ(dom.parse(rec.payload.data(), rec.payload.size(), false).get(body),
              simdjson::SUCCESS);
    // Padding contract: SIMDJSON_PADDING readable bytes after the payload.
    EXPECT_EQ(rec.payload.data()[rec.payload.size()], '\0');
  }
  // The body is the response string exactly: content-length header says 1461 bytes.
  EXPECT_EQ(f.records()[1].payload.size(), 1461U);
  EXPECT_EQ(f.records()[1].payload.substr(0, 25), "{\"coin\":\"DYDX\",\"levels\":[");
}

// A corrupted l2Book is a counted parse error; Hyperliquid gives no continuity to check, so the
// book keeps the last complete snapshot until the next one replaces it (VENUE_RULES.md).
TEST(HyperliquidFaults, TruncatedL2BookIsCountedAndTheNextSnapshotReplacesTheBook) {
  auto r = open_replay({kHft});
  ASSERT_TRUE(r);
  std::vector<std::size_t> books;
  for (std::size_t i = 0; i < r->order().size(); ++i)
    if (is_l2book(r->order()[i]))
      books.push_back(i);
  ASSERT_EQ(books.size(), 46U);
  std::deque<std::string> store;
  Record &rec = r->order()[books[20]];
  store.emplace_back(rec.payload.substr(0, rec.payload.size() / 2));
  const std::size_t len = store.back().size();
  store.back().append(simdjson::SIMDJSON_PADDING, '\0');
  rec.payload = std::string_view(store.back().data(), len);
  NullPublisher pub;
  r->run_range(0, books[20] + 1, pub);
  EXPECT_EQ(r->totals().parse_errors, 1U);
  const InstrumentBook *b = book_of(*r, Venue::Hyperliquid, "BTC");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(equals_message(*b, r->order()[books[19]].payload));
  r->run_range(books[20] + 1, r->order().size(), pub);
  EXPECT_EQ(sum_books(*r).c.snapshots, 45U);
  EXPECT_EQ(b->status(), BookStatus::Synced);
  EXPECT_TRUE(equals_message(*b, last_l2book(*r)));
}

// After the first snapshot (the book reserved), the rest of the recording allocates nothing.
TEST(HyperliquidAllocations, NoHeapAllocationPerMessageAfterTheFirstSnapshot) {
  for (const std::vector<std::string> &files :
       {std::vector<std::string>{kHft}, std::vector<std::string>{kHft, kMeta}}) {
    auto r = open_replay(files);
    ASSERT_TRUE(r);
    std::size_t warm = 0;
    while (warm < r->order().size() && !is_l2book(r->order()[warm]))
      ++warm;
    ++warm;
    NullPublisher pub;
    r->run_range(0, warm, pub);
    const std::size_t before = g_allocations.load();
    r->run_range(warm, r->order().size(), pub);
    const std::size_t during = g_allocations.load() - before;
    EXPECT_EQ(sum_books(*r).c.snapshots, 46U);
    EXPECT_EQ(during, 0U) << files.size();
  }
}

} // namespace
} // namespace fh::test
