// labels: unit replay
// HyperliquidParser and the meta loader over the real Hyperliquid data (PROVENANCE.md
// "Hyperliquid"): the hftbacktest recording of l2Book + trades pushes and the SDK's VCR
// cassettes of REST info "meta" and "l2Book". Expected values come from the venue text read
// independently with simdjson's DOM API (every price and size is a JSON string here) and the
// test's own decimal reader, and from the counts in PROVENANCE.md.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/hyperliquid.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::dom_arr;
using test::dom_str;
using test::g_allocations;
using test::is_received;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;
using test::wire_decimals;

constexpr const char *kHft = "hyperliquid/hftbacktest/btcusd_20250126.gz";
constexpr const char *kMeta = "hyperliquid/sdk_cassettes/info_meta_2023.yaml";
constexpr const char *kL2 = "hyperliquid/sdk_cassettes/info_l2Book_DYDX_2023-07-17.yaml";

std::int64_t dom_i64(simdjson::dom::element e, const char *key) {
  std::int64_t v = 0;
  EXPECT_EQ(e[key].get_int64().get(v), simdjson::SUCCESS) << key;
  return v;
}
std::uint64_t dom_u64(simdjson::dom::element e, const char *key) {
  std::uint64_t v = 0;
  EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
  return v;
}

// The events a {coin, levels, time} object must give: BookBegin, bids, asks, BookEnd.
::testing::AssertionResult check_book(simdjson::dom::element data, const EventBatch &out,
                                      std::size_t &i, const Instrument &inst, std::uint8_t flags) {
  auto fail = [] { return ::testing::AssertionFailure(); };
  const simdjson::dom::array sides = dom_arr(data["levels"]);
  if (sides.size() != 2)
    return fail() << "levels is not [bids, asks]";
  const simdjson::dom::array bids = dom_arr(sides.at(0));
  const simdjson::dom::array asks = dom_arr(sides.at(1));
  const std::size_t n = bids.size() + asks.size();
  if (out.size() < i + n + 2)
    return fail() << "too few events";
  const std::int64_t ts = dom_i64(data, "time") * 1000000;
  const Event &b = out[i++];
  if (b.type != EventType::BookBegin || b.flags != flags || b.begin.levels != n ||
      b.exch_ts_ns != ts || b.begin.first_seq != 0 || b.begin.last_seq != 0 ||
      b.begin.prev_seq != 0 || b.instrument != inst.id)
    return fail() << "BookBegin";
  for (const auto &[levels, side] :
       {std::pair{bids, book::Side::Bid}, std::pair{asks, book::Side::Ask}}) {
    for (const simdjson::dom::element lv : levels) {
      const std::string_view px = dom_str(lv["px"]);
      const std::string_view sz = dom_str(lv["sz"]);
      const Event &e = out[i++];
      if (e.type != EventType::BookLevel || e.side != side || e.instrument != inst.id ||
          ref_mantissa(px, inst.price_decimals) != e.level.price ||
          ref_mantissa(sz, inst.qty_decimals) != e.level.qty ||
          wire_decimals(px) != e.level.price_text_dp || wire_decimals(sz) != e.level.qty_text_dp ||
          static_cast<std::int64_t>(e.level.orders) != dom_i64(lv, "n"))
        return fail() << "level " << px << " " << sz;
    }
  }
  const Event &end = out[i++];
  if (end.type != EventType::BookEnd || end.flags != 0 || end.exch_ts_ns != ts)
    return fail() << "BookEnd";
  return ::testing::AssertionSuccess();
}

// ---- fixture ---------------------------------------------------------------------------------
class HyperliquidParserTest : public ::testing::Test {
protected:
  static std::size_t load_meta(const char *rel, InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(rel))
      if (l.kind == RecordKind::Http)
        n += load_hyperliquid_meta(l.payload, registry);
    return n;
  }
  // The REST l2Book response of the DYDX cassette (its other interaction is a meta request).
  static Record l2book_response(const CaptureRecords &records) {
    for (const Record &l : records)
      if (l.kind == RecordKind::Http && l.payload.substr(0, 8) == "{\"coin\":")
        return l;
    ADD_FAILURE() << "no l2Book response in " << kL2;
    return records[0];
  }

  struct Counts {
    std::size_t received = 0, books = 0, levels = 0, trade_messages = 0, trades = 0, errors = 0;
  };

  static ::testing::AssertionResult check_message(const Record &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.payload.data(), line.payload.size(), false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.line;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.line << ": "; };
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    const std::string_view channel = dom_str(msg["channel"]);
    simdjson::dom::element data;
    if (msg["data"].get(data))
      return fail() << "no data";
    std::size_t i = 0;
    if (channel == "l2Book") {
      ++counts.books;
      const Instrument *inst = registry.find(Venue::Hyperliquid, dom_str(data["coin"]));
      if (inst == nullptr)
        return fail() << "coin not registered";
      const auto ok = check_book(data, out, i, *inst, kFlagSnapshot);
      if (!ok)
        return fail() << ok.message();
      counts.levels += i - 2;
    } else if (channel == "trades") {
      ++counts.trade_messages;
      for (const simdjson::dom::element t : dom_arr(data)) {
        const Instrument *inst = registry.find(Venue::Hyperliquid, dom_str(t["coin"]));
        if (inst == nullptr || i >= out.size())
          return fail() << "trade " << i;
        const Event &e = out[i++];
        const std::string_view side = dom_str(t["side"]);
        if (e.type != EventType::Trade || e.instrument != inst->id ||
            ref_mantissa(dom_str(t["px"]), inst->price_decimals) != e.trade.price ||
            ref_mantissa(dom_str(t["sz"]), inst->qty_decimals) != e.trade.qty ||
            e.trade.trade_id != dom_u64(t, "tid") ||
            e.flags != (side == "A" ? kFlagBuyerIsMaker : 0) || (side != "A" && side != "B") ||
            e.exch_ts_ns != dom_i64(t, "time") * 1000000)
          return fail() << "trade " << i;
        ++counts.trades;
      }
    } else {
      return fail() << "unexpected channel " << channel;
    }
    if (i != out.size())
      return fail() << "extra events";
    for (const Event &e : out)
      if (e.venue != Venue::Hyperliquid || e.recv_ts_ns != line.recv_ts_ns)
        return fail() << "venue/recv_ts";
    return ::testing::AssertionSuccess();
  }

  static Counts replay(InstrumentRegistry &registry) {
    Counts counts;
    HyperliquidParser parser(registry);
    EventBatch out;
    for (const Record &l : read_capture(kHft, is_received)) {
      ++counts.received;
      out.clear();
      const ParseStatus st = parser.parse(l.payload, l.recv_ts_ns, out);
      counts.errors += is_error(st) ? 1U : 0U;
      const auto ok = check_message(l, st, out, registry, counts);
      EXPECT_TRUE(ok);
      if (!ok)
        break;
    }
    return counts;
  }

  // Trades in the file, counted with the DOM.
  static std::size_t trades_in_file() {
    std::size_t n = 0;
    simdjson::dom::parser dom;
    for (const Record &l : read_capture(kHft, is_received)) {
      simdjson::dom::element msg;
      EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      if (dom_str(msg["channel"]) == "trades")
        n += dom_arr(msg["data"]).size();
    }
    return n;
  }
};

TEST_F(HyperliquidParserTest, ParsesEveryMessageLikeTheDomViewWithAndWithoutMetadata) {
  for (const bool metadata : {false, true}) {
    SCOPED_TRACE(metadata ? "with meta" : "without meta");
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_meta(kMeta, registry), 0U);
    }
    const Counts c = replay(registry);
    // PROVENANCE.md: 55 messages, 46 l2Book (20x20 full snapshots), 9 trades.
    EXPECT_EQ(c.received, 55U);
    EXPECT_EQ(c.books, 46U);
    EXPECT_EQ(c.levels, 46U * 40U);
    EXPECT_EQ(c.trade_messages, 9U);
    EXPECT_EQ(c.trades, trades_in_file());
    EXPECT_EQ(c.errors, 0U);
    const Instrument *btc = registry.find(Venue::Hyperliquid, "BTC");
    ASSERT_NE(btc, nullptr);
    EXPECT_EQ(btc->canonical, "BTC-USDC-PERP");
    EXPECT_EQ(btc->from_metadata, metadata);
  }
}

// REST info l2Book returns the stream's {coin, levels, time} shape: the cassette's response
// parses as one snapshot flagged REST, exactly like the DOM view of it.
TEST_F(HyperliquidParserTest, ParsesTheRestL2BookCassetteAsOneRestSnapshot) {
  const CaptureRecords records = read_capture(kL2);
  InstrumentRegistry registry;
  std::size_t meta = 0;
  for (const Record &l : records)
    if (l.kind == RecordKind::Http)
      meta += load_hyperliquid_meta(l.payload, registry); // the cassette's own meta request
  ASSERT_GT(meta, 0U);
  const Record body = l2book_response(records);
  HyperliquidParser parser(registry);
  EventBatch out;
  ASSERT_EQ(parser.parse_rest_l2book(body.payload, 7, out), ParseStatus::Ok);
  simdjson::dom::parser dom;
  simdjson::dom::element data;
  ASSERT_EQ(dom.parse(body.payload.data(), body.payload.size(), false).get(data),
            simdjson::SUCCESS);
  const Instrument *dydx = registry.find(Venue::Hyperliquid, "DYDX");
  ASSERT_NE(dydx, nullptr);
  EXPECT_EQ(dom_str(data["coin"]), "DYDX");
  std::size_t i = 0;
  EXPECT_TRUE(check_book(data, out, i, *dydx, kFlagSnapshot | kFlagRest));
  EXPECT_EQ(i, out.size());
  EXPECT_EQ(out[0].begin.levels, 40U); // 20 a side, as the stream sends
  // Not a book: the meta body is Malformed as an l2Book, and leaves the batch alone.
  const std::size_t before = out.size();
  for (const Record &l : records)
    if (l.kind == RecordKind::Http && l.payload.substr(0, 8) != "{\"coin\":") {
      EXPECT_EQ(parser.parse_rest_l2book(l.payload, 7, out), ParseStatus::Malformed);
    }
  EXPECT_EQ(out.size(), before);
}

// The stream's data object, cut out of real l2Book frames, parses through the REST entry point
// to the same events but for the REST flag: one shape, one reader.
TEST_F(HyperliquidParserTest, StreamDataObjectsParseAsRestSnapshotsWithTheSameEvents) {
  InstrumentRegistry registry;
  HyperliquidParser parser(registry);
  EventBatch stream;
  EventBatch rest;
  std::size_t n = 0;
  for (const Record &l : read_capture(kHft, is_received)) {
    const std::string_view msg = l.payload;
    if (msg.substr(0, 21) != "{\"channel\":\"l2Book\",\"")
      continue;
    const std::size_t data = msg.find("\"data\":") + 7;
    std::string object(msg.substr(data, msg.size() - 1 - data));
    const std::size_t size = object.size();
    object.append(simdjson::SIMDJSON_PADDING, '\0');
    stream.clear();
    rest.clear();
    ASSERT_EQ(parser.parse(msg, 3, stream), ParseStatus::Ok);
    ASSERT_EQ(parser.parse_rest_l2book(std::string_view(object.data(), size), 3, rest),
              ParseStatus::Ok);
    ASSERT_EQ(rest.size(), stream.size());
    ASSERT_EQ(rest[0].flags, kFlagSnapshot | kFlagRest);
    rest[0].flags = stream[0].flags;
    for (std::size_t i = 0; i < rest.size(); ++i)
      ASSERT_EQ(std::memcmp(&rest[i], &stream[i], sizeof(Event)), 0) << "event " << i;
    ++n;
  }
  EXPECT_EQ(n, 46U);
}

// JSON objects are unordered. Members moved mechanically (no value changed): "data" before
// "channel", and inside the book "coin" after "levels". Same events (the parser reads the
// frame again once it knows what it needs).
TEST_F(HyperliquidParserTest, ParsesTheSameEventsWhatEverTheMemberOrder) {
  InstrumentRegistry registry;
  ASSERT_GT(load_meta(kMeta, registry), 0U);
  HyperliquidParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  std::size_t books = 0;
  std::size_t trades = 0;
  auto same = [&](std::string text) {
    const std::size_t size = text.size();
    text.append(simdjson::SIMDJSON_PADDING, '\0');
    actual.clear();
    EXPECT_EQ(parser.parse(std::string_view(text.data(), size), 5, actual), ParseStatus::Ok)
        << text.substr(0, 120);
    EXPECT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size() && i < expected.size(); ++i)
      EXPECT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(Event)), 0) << "event " << i;
  };
  for (const Record &l : read_capture(kHft, is_received)) {
    const std::string_view msg = l.payload;
    expected.clear();
    ASSERT_EQ(parser.parse(msg, 5, expected), ParseStatus::Ok);
    // {"channel":"X","data":D} -> {"data":D,"channel":"X"}
    const std::size_t comma = msg.find(",\"data\":");
    ASSERT_NE(comma, std::string_view::npos);
    const std::string data_first = "{" +
                                   std::string(msg.substr(comma + 1, msg.size() - comma - 2)) +
                                   "," + std::string(msg.substr(1, comma - 1)) + "}";
    ASSERT_EQ(data_first.size(), msg.size());
    same(data_first);
    if (msg.find("\"channel\":\"l2Book\"") != std::string_view::npos) {
      // {"coin":"BTC","levels":L,"time":T} -> {"levels":L,"coin":"BTC","time":T}
      const std::string coin = "\"coin\":\"BTC\",";
      const std::size_t c = msg.find(coin);
      const std::size_t t = msg.rfind(",\"time\":");
      ASSERT_NE(c, std::string_view::npos);
      ASSERT_NE(t, std::string_view::npos);
      const std::string coin_last = std::string(msg.substr(0, c)) +
                                    std::string(msg.substr(c + coin.size(), t - c - coin.size())) +
                                    "," + coin.substr(0, coin.size() - 1) +
                                    std::string(msg.substr(t));
      ASSERT_EQ(coin_last.size(), msg.size());
      same(coin_last);
      // Both at once: three reads of the same frame.
      const std::size_t comma2 = coin_last.find(",\"data\":");
      same("{" + coin_last.substr(comma2 + 1, coin_last.size() - comma2 - 2) + "," +
           coin_last.substr(1, comma2 - 1) + "}");
      ++books;
    } else {
      ++trades;
    }
  }
  EXPECT_EQ(books, 46U);
  EXPECT_EQ(trades, 9U);
}

TEST_F(HyperliquidParserTest, LoadsEveryUniverseEntryOfTheMetaCassette) {
  const CaptureRecords records = read_capture(kMeta);
  ASSERT_EQ(records.size(), 1U);
  InstrumentRegistry registry;
  const std::size_t n = load_hyperliquid_meta(records[0].payload, registry);
  simdjson::dom::parser dom;
  simdjson::dom::element meta;
  ASSERT_EQ(dom.parse(records[0].payload.data(), records[0].payload.size(), false).get(meta),
            simdjson::SUCCESS);
  const simdjson::dom::array universe = dom_arr(meta["universe"]);
  EXPECT_EQ(n, universe.size());
  EXPECT_EQ(registry.size(), universe.size());
  EXPECT_TRUE(registry.has_metadata(Venue::Hyperliquid));
  for (const simdjson::dom::element asset : universe) {
    const std::string name(dom_str(asset["name"]));
    SCOPED_TRACE(name);
    const Instrument *inst = registry.find(Venue::Hyperliquid, name);
    ASSERT_NE(inst, nullptr);
    const std::int64_t sz = dom_i64(asset, "szDecimals");
    EXPECT_EQ(inst->qty_decimals, sz);
    EXPECT_EQ(inst->price_decimals, 6 - sz); // Hyperliquid: at most 6 - szDecimals decimals
    EXPECT_EQ(inst->tick, 1);
    EXPECT_EQ(inst->lot, 1);
    EXPECT_EQ(inst->kind, InstrumentKind::Perpetual);
    EXPECT_EQ(inst->contract, ContractType::Linear);
    EXPECT_EQ(inst->canonical, name + "-USDC-PERP");
    EXPECT_EQ(inst->base, name);
    EXPECT_EQ(inst->quote, "USDC");
    EXPECT_TRUE(inst->from_metadata);
  }
  // The 2023 scales hold the 2025 BTC book and the 2023 DYDX book exactly.
  const Instrument *btc = registry.find(Venue::Hyperliquid, "BTC");
  ASSERT_NE(btc, nullptr);
  EXPECT_EQ(btc->price_decimals, 1); // "szDecimals":5
  EXPECT_EQ(btc->qty_decimals, 5);
}

// Bodies that are not a meta response (the l2Book response; a truncated meta) register
// nothing and do not mark the metadata as loaded.
TEST_F(HyperliquidParserTest, MetaLoaderRegistersNothingFromOtherOrTruncatedBodies) {
  InstrumentRegistry registry;
  const CaptureRecords l2 = read_capture(kL2);
  EXPECT_EQ(load_hyperliquid_meta(l2book_response(l2).payload, registry), 0U);
  const CaptureRecords meta = read_capture(kMeta);
  EXPECT_EQ(load_hyperliquid_meta(meta[0].payload.substr(0, meta[0].payload.size() - 30), registry),
            0U);
  EXPECT_EQ(registry.size(), 0U);
  EXPECT_FALSE(registry.has_metadata(Venue::Hyperliquid));
}

// Malformed input made mechanically from every real frame: cut at several offsets, a
// structural byte replaced by a letter, the last digit of a price or size replaced by a letter.
class HyperliquidMalformedTest : public HyperliquidParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_meta(kMeta, registry_), 0U);
    frames_ = read_capture(kHft, is_received);
    ASSERT_EQ(frames_.size(), 55U);
    ASSERT_EQ(parser_.parse(frames_[0].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  InstrumentRegistry registry_;
  HyperliquidParser parser_{registry_};
  EventBatch out_;
  CaptureRecords frames_;
  std::size_t before_ = 0;
};

TEST_F(HyperliquidMalformedTest, RejectsEveryTruncationOfEveryFrame) {
  std::size_t cases = 0;
  for (const Record &m : frames_) {
    for (const std::size_t len : test::truncation_lengths(m.payload.size())) {
      const ParseStatus st = parse_copy(std::string(m.payload.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << m.line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 55U * 14U);
}

TEST_F(HyperliquidMalformedTest, RejectsFramesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const Record &m : frames_) {
    const std::string_view msg = m.payload;
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]) || seen++ % 7 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << m.line << " byte " << pos << " '" << msg[pos]
                                << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 2000U);
}

TEST_F(HyperliquidMalformedTest, ReportsBadNumberWhenADigitOfAPriceOrSizeBecomesALetter) {
  std::size_t cases = 0;
  for (const Record &m : frames_) {
    const std::string_view msg = m.payload;
    for (const std::string_view key :
         {std::string_view("\"px\":\""), std::string_view("\"sz\":\"")}) {
      for (std::size_t k = msg.find(key); k != std::string_view::npos; k = msg.find(key, k + 1)) {
        const std::size_t last = msg.find('"', k + key.size()) - 1;
        std::string mutated(msg);
        mutated[last] = 'a';
        ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
            << "line " << m.line << " byte " << last;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 2U * (46U * 40U + trades_in_file()));
}

// With metadata loaded nothing allocates, not even the first frame. Without, only the first
// sight of the coin does (the registry adds it).
TEST_F(HyperliquidParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const CaptureRecords frames = read_capture(kHft, is_received);
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_meta(kMeta, registry), 0U);
    }
    HyperliquidParser parser(registry);
    EventBatch out;
    std::size_t first_sight_allocations = 0;
    for (const Record &l : frames) {
      const std::size_t known = registry.size();
      out.clear();
      const std::size_t before = g_allocations.load();
      const ParseStatus st = parser.parse(l.payload, 0, out);
      const std::size_t allocations = g_allocations.load() - before;
      ASSERT_EQ(st, ParseStatus::Ok);
      if (registry.size() == known) {
        ASSERT_EQ(allocations, 0U) << "line " << l.line;
      } else {
        first_sight_allocations += allocations;
      }
    }
    if (!metadata) {
      EXPECT_GT(first_sight_allocations, 0U); // the counter works
    }
  }
}

} // namespace
} // namespace fh::venues
