// labels: replay
// Bybit captures replayed through the whole pipeline (capture reader -> BybitParser -> book
// builder), checked against PROVENANCE.md ("Bybit") and against books rebuilt here, message by
// message, by a deliberately plain implementation: simdjson's DOM view of the same lines,
// std::map books keyed by price, and decimal text converted by tests/support/text_oracles.hpp
// (never the production parser).
//
//   v5      data/bybit/nautilus/2024-12-01_XRPUSDT_ob500.data.zip   orderbook.500.XRPUSDT
//   legacy  data/bybit/cryptofeed/legacy_linear_orderBookL2_25_trade_2021-04-17_ws.txt.gz
//           + legacy_symbols_2021-04-17_http.txt.gz                 orderBookL2_25 + trade
#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "tests/support/replay_helpers.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::test {
namespace {

constexpr const char *kV5 = "bybit/nautilus/2024-12-01_XRPUSDT_ob500.data.zip";
constexpr const char *kLegacyWs =
    "bybit/cryptofeed/legacy_linear_orderBookL2_25_trade_2021-04-17_ws.txt.gz";
constexpr const char *kLegacySymbols = "bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz";

// PROVENANCE.md: "u runs 20254869 -> 20254918 with no gaps". With no gap that is one snapshot
// and 20254918 - 20254869 deltas, 50 messages. (The table's "51 (1 snapshot + 50 deltas)" does
// not match the file: it holds 50 lines, the last one u 20254918.)
constexpr std::uint64_t kFirstU = 20254869;
constexpr std::uint64_t kLastU = 20254918;

// A plain price -> size book, both sides keyed by mantissa.
struct MapBook {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  void set(bool bid, std::int64_t px, std::int64_t qty) {
    if (bid) {
      if (qty == 0)
        bids.erase(px);
      else
        bids[px] = qty;
    } else {
      if (qty == 0)
        asks.erase(px);
      else
        asks[px] = qty;
    }
  }
};

::testing::AssertionResult same_book(const MapBook &want, const book::L2Book &got) {
  auto side = [&](const auto &levels, book::Side s) -> ::testing::AssertionResult {
    if (got.depth(s) != levels.size())
      return ::testing::AssertionFailure() << "depth " << got.depth(s) << " != " << levels.size()
                                           << " on side " << static_cast<int>(s);
    std::size_t i = 0;
    for (const auto &[px, qty] : levels) {
      const book::Level &l = got.at(s, i++);
      if (l.price != px || l.qty != qty)
        return ::testing::AssertionFailure() << "level " << i - 1 << " differs";
    }
    return ::testing::AssertionSuccess();
  };
  if (auto r = side(want.bids, book::Side::Bid); !r)
    return r;
  return side(want.asks, book::Side::Ask);
}

std::int64_t mantissa(std::string_view text, int decimals) {
  const auto m = ref_mantissa(text, decimals);
  EXPECT_TRUE(m.has_value()) << text;
  return m.value_or(0);
}

// The legacy feed writes sizes as JSON numbers. The DOM holds them as doubles; the shortest
// text that reads back as the same double is what Bybit wrote (it writes shortest forms).
std::string number_text(simdjson::dom::element e) {
  double d = 0;
  EXPECT_EQ(e.get_double().get(d), simdjson::SUCCESS);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

class BybitReplayTest : public ::testing::Test {
protected:
  simdjson::dom::parser dom_;
};

TEST_F(BybitReplayTest, V5CaptureSyncsWithoutGapsAndMatchesAMapBookAfterEveryMessage) {
  auto r = open_replay({kV5});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->venue_of(0), Venue::BybitLinear);
  NullPublisher pub;
  MapBook want;
  std::uint64_t expect_u = kFirstU;
  std::size_t lines = 0;
  const std::uint32_t dp = InstrumentRegistry::kDefaultDecimals; // no metadata: defaults
  for (std::size_t i = 0; i < r->order().size(); ++i) {
    const capture::Record &rec = r->order()[i];
    ASSERT_EQ(rec.kind, capture::RecordKind::WsText);
    simdjson::dom::element msg;
    ASSERT_EQ(dom_.parse(rec.payload.data(), rec.payload.size(), false).get(msg),
              simdjson::SUCCESS);
    const bool snapshot = dom_str(msg["type"]) == "snapshot";
    EXPECT_EQ(snapshot, lines == 0) << "line " << rec.line;
    std::uint64_t u = 0;
    ASSERT_EQ(msg["data"]["u"].get_uint64().get(u), simdjson::SUCCESS);
    EXPECT_EQ(u, expect_u++) << "line " << rec.line;
    if (snapshot)
      want = MapBook{};
    for (const auto &[key, bid] : {std::pair{"b", true}, std::pair{"a", false}})
      for (const simdjson::dom::element lv : dom_arr(msg["data"][key]))
        want.set(bid, mantissa(dom_str(dom_arr(lv).at(0)), dp),
                 mantissa(dom_str(dom_arr(lv).at(1)), dp));
    ++lines;

    r->run_range(i, i + 1, pub);
    const InstrumentBook *b = book_of(*r, Venue::BybitLinear, "XRPUSDT");
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(b->status(), BookStatus::Synced) << "line " << rec.line;
    ASSERT_TRUE(same_book(want, b->book())) << "after line " << rec.line;
  }
  EXPECT_EQ(expect_u - 1, kLastU);
  EXPECT_EQ(lines, 1 + (kLastU - kFirstU));
  EXPECT_EQ(r->totals().messages, 1 + (kLastU - kFirstU));
  EXPECT_EQ(r->totals().parse_errors, 0u);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.books, 1u);
  EXPECT_EQ(s.synced, 1u);
  EXPECT_EQ(s.c.snapshots, 1u);
  EXPECT_EQ(s.c.applied, kLastU - kFirstU);
  EXPECT_EQ(s.c.seq_gaps, 0u);
  EXPECT_EQ(s.c.dropped, 0u);
  EXPECT_EQ(s.c.skipped_stale, 0u);
  // orderbook.500: the venue keeps 500 levels a side and deletes explicitly.
  const InstrumentBook *b = book_of(*r, Venue::BybitLinear, "XRPUSDT");
  EXPECT_EQ(b->book().depth(book::Side::Bid), 500u);
  EXPECT_EQ(b->book().depth(book::Side::Ask), 500u);
  EXPECT_EQ(b->last_update_id(), 0u); // a Binance-only field stays untouched
}

// The legacy book rebuilt from the lines, keyed by entry id as the venue describes it.
struct LegacyOracle {
  struct Entry {
    std::string price;
    bool bid;
    std::string size;
  };
  std::map<std::string, std::map<std::string, Entry>> topics; // topic -> id -> entry

  MapBook book(const std::string &topic, int price_dp, int qty_dp) const {
    MapBook b;
    for (const auto &[id, e] : topics.at(topic))
      b.set(e.bid, mantissa(e.price, price_dp), mantissa(e.size, qty_dp));
    return b;
  }
};

TEST_F(BybitReplayTest, LegacyCaptureSyncsAllEightBooksAndMatchesAnIdKeyedBookAfterEveryMessage) {
  auto r = open_replay({kLegacyWs, kLegacySymbols});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->venue_of(0), Venue::BybitLinear);
  EXPECT_GE(r->totals().metadata_instruments, 8u);
  NullPublisher pub;
  LegacyOracle oracle;
  std::map<std::string, std::uint64_t> last_cross_seq;
  std::size_t snapshots = 0, deltas = 0, trade_messages = 0, trades = 0, acks = 0;
  std::size_t unknown_ids = 0, book_checks = 0;
  for (std::size_t i = 0; i < r->order().size(); ++i) {
    const capture::Record &rec = r->order()[i];
    std::string topic;
    if (rec.kind == capture::RecordKind::WsText) {
      simdjson::dom::element msg;
      ASSERT_EQ(dom_.parse(rec.payload.data(), rec.payload.size(), false).get(msg),
                simdjson::SUCCESS);
      if (msg["topic"].error()) {
        ++acks;
      } else if (dom_str(msg["topic"]).substr(0, 6) == "trade.") {
        ++trade_messages;
        trades += dom_arr(msg["data"]).size();
      } else {
        topic = std::string(dom_str(msg["topic"]));
        const std::uint64_t cs = std::stoull(std::string(dom_str(msg["cross_seq"])));
        EXPECT_GT(cs, last_cross_seq[topic]) << "line " << rec.line; // the venue's oracle
        last_cross_seq[topic] = cs;
        auto &ids = oracle.topics[topic];
        auto read = [&](simdjson::dom::element e, bool with_size) {
          return LegacyOracle::Entry{std::string(dom_str(e["price"])), dom_str(e["side"]) == "Buy",
                                     with_size ? number_text(e["size"]) : std::string("0")};
        };
        if (dom_str(msg["type"]) == "snapshot") {
          ++snapshots;
          ids.clear();
          for (const simdjson::dom::element e : dom_arr(msg["data"]["order_book"]))
            ids[std::string(dom_str(e["id"]))] = read(e, true);
        } else {
          ++deltas;
          for (const simdjson::dom::element e : dom_arr(msg["data"]["delete"]))
            unknown_ids += ids.erase(std::string(dom_str(e["id"]))) == 1 ? 0u : 1u;
          for (const simdjson::dom::element e : dom_arr(msg["data"]["update"])) {
            const std::string id(dom_str(e["id"]));
            unknown_ids += ids.count(id) == 1 ? 0u : 1u;
            ids[id] = read(e, true);
          }
          for (const simdjson::dom::element e : dom_arr(msg["data"]["insert"]))
            ids[std::string(dom_str(e["id"]))] = read(e, true);
        }
      }
    }
    r->run_range(i, i + 1, pub);
    if (topic.empty())
      continue;
    const std::string native = topic.substr(topic.find('.') + 1);
    const Instrument *inst = r->registry().find(Venue::BybitLinear, native);
    ASSERT_NE(inst, nullptr) << native;
    ASSERT_TRUE(inst->from_metadata) << native;
    const InstrumentBook *b = r->builder().book(inst->id);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(b->status(), BookStatus::Synced) << "line " << rec.line;
    ASSERT_TRUE(same_book(oracle.book(topic, inst->price_decimals, inst->qty_decimals), b->book()))
        << "after line " << rec.line;
    // orderBookL2_25: 25 levels a side after every message.
    ASSERT_EQ(b->book().depth(book::Side::Bid), 25u) << "line " << rec.line;
    ASSERT_EQ(b->book().depth(book::Side::Ask), 25u) << "line " << rec.line;
    ++book_checks;
  }
  // PROVENANCE.md: 3,342 messages: 8 snapshots, 3,252 deltas, 66 trade (the rest are the 16
  // subscription acknowledgements, one per topic subscribed on lines 2-17).
  EXPECT_EQ(snapshots, 8u);
  EXPECT_EQ(deltas, 3252u);
  EXPECT_EQ(trade_messages, 66u);
  EXPECT_EQ(acks, 16u);
  EXPECT_EQ(unknown_ids, 0u);
  EXPECT_EQ(book_checks, 8u + 3252u);
  EXPECT_EQ(r->totals().messages, 3342u);
  EXPECT_EQ(r->totals().parse_errors, 0u);
  EXPECT_EQ(r->totals().ignored, 16u);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.books, 8u);
  EXPECT_EQ(s.synced, 8u);
  EXPECT_EQ(s.c.snapshots, 8u);
  EXPECT_EQ(s.c.applied, 3252u);
  EXPECT_EQ(s.c.seq_gaps, 0u);
  EXPECT_EQ(s.c.dropped, 0u);
  EXPECT_EQ(s.c.skipped_stale, 0u);
  std::size_t trade_events = 0;
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id))
      trade_events += b->counters().trades;
  EXPECT_EQ(trade_events, trades); // one Trade per element of the 66 messages' data arrays
  EXPECT_EQ(last_cross_seq.size(), 8u);
}

} // namespace
} // namespace fh::test
