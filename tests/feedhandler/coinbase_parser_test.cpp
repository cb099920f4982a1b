// labels: unit replay
// CoinbaseParser (legacy Exchange feed) over the real Coinbase capture in data/coinbase/cryptofeed
// (PROVENANCE.md, "Coinbase (legacy Pro feed)"). Every expected value comes from the venue text
// itself, read independently here with simdjson's DOM API, a separate decimal reader and libc's
// timegm, or from the counts in PROVENANCE.md. Malformed input is made mechanically from real
// messages (cut short, a byte replaced or flipped, a digit replaced by a letter).
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/book_error.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/coinbase.hpp"
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

constexpr const char *kWs = "coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "coinbase/cryptofeed/products_2021-04-17_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
// "2021-04-17T16:43:37.075687Z" -> ns, with sscanf and libc's timegm (not the production code).
std::optional<std::int64_t> ref_time_ns(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t ns = static_cast<std::int64_t>(timegm(&tm)) * 1000000000LL;
  std::string frac = s.substr(19, s.size() - 20); // ".075687" or ""
  if (!frac.empty()) {
    frac = frac.substr(1);
    frac.resize(9, '0');
    ns += std::stoll(frac);
  }
  return ns;
}

std::string_view type_of(const simdjson::dom::element &msg) {
  return dom_str(msg["type"]);
}

// Positions of the bytes that shape the JSON text: brackets, braces, commas and colons outside
// strings, and the quotes themselves (the recorded texts contain no escapes).
std::vector<std::size_t> structural_positions(std::string_view msg) {
  std::vector<std::size_t> out;
  bool in_string = false;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '"') {
      in_string = !in_string;
      out.push_back(i);
    } else if (!in_string && test::is_structural(msg[i])) {
      out.push_back(i);
    }
  }
  return out;
}

// ---- fixture ---------------------------------------------------------------------------------
class CoinbaseParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(kMeta))
      if (l.kind == RecordKind::Http)
        n += load_coinbase_products(l.payload, registry);
    return n;
  }

  struct Counts {
    std::size_t received = 0;
    std::size_t snapshots = 0;
    std::size_t updates = 0;
    std::size_t tickers = 0;
    std::size_t trades = 0;
    std::size_t ignored = 0;
    std::size_t subscriptions = 0; // counted from the text
    std::size_t errors = 0;
    std::size_t levels = 0;
  };

  // Compares the events of one received message with the DOM view of the same text.
  static ::testing::AssertionResult check_message(const Record &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  std::int64_t recv_ts, Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.payload.data(), line.payload.size(), false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.line;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.line << ": "; };
    const std::string_view type = type_of(msg);
    if (type == "subscriptions") {
      ++counts.subscriptions;
      ++counts.ignored;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "acknowledgement not ignored";
      return ::testing::AssertionSuccess();
    }
    const Instrument *inst = registry.find(Venue::Coinbase, dom_str(msg["product_id"]));
    if (inst == nullptr)
      return fail() << "product not in metadata";
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::Coinbase || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    std::size_t i = 0;
    auto level_ok = [&](const Event &e, book::Side side, std::string_view px, std::string_view sz) {
      return e.type == EventType::BookLevel && e.side == side &&
             ref_mantissa(px, inst->price_decimals) == e.level.price &&
             ref_mantissa(sz, inst->qty_decimals) == e.level.qty &&
             wire_decimals(px) == e.level.price_text_dp &&
             wire_decimals(sz) == e.level.qty_text_dp && e.level.orders == 0;
    };
    if (type == "snapshot") {
      ++counts.snapshots;
      simdjson::dom::object obj;
      if (msg.get_object().get(obj))
        return fail() << "not an object";
      const std::size_t n = dom_arr(msg["bids"]).size() + dom_arr(msg["asks"]).size();
      if (out.size() != n + 2)
        return fail() << "event count " << out.size() << " vs " << n + 2;
      const Event &b = out[i++];
      if (b.type != EventType::BookBegin || b.flags != kFlagSnapshot || b.begin.levels != n ||
          b.exch_ts_ns != 0)
        return fail() << "BookBegin";
      for (const auto [key, value] : obj) { // document order, as on the wire
        if (key != "bids" && key != "asks")
          continue;
        const book::Side side = key == "bids" ? book::Side::Bid : book::Side::Ask;
        for (const simdjson::dom::element lv : dom_arr(value)) {
          const simdjson::dom::array a = dom_arr(lv);
          if (a.size() != 2 || !level_ok(out[i++], side, dom_str(a.at(0)), dom_str(a.at(1))))
            return fail() << "snapshot level " << i;
          ++counts.levels;
        }
      }
      if (out[i].type != EventType::BookEnd || out[i].flags != 0)
        return fail() << "BookEnd";
      ++i;
    } else if (type == "l2update") {
      ++counts.updates;
      const simdjson::dom::array changes = dom_arr(msg["changes"]);
      const auto ts = ref_time_ns(dom_str(msg["time"]));
      if (!ts || out.size() != changes.size() + 2)
        return fail() << "l2update size/time";
      const Event &b = out[i++];
      if (b.type != EventType::BookBegin || b.flags != 0 || b.begin.levels != changes.size() ||
          b.exch_ts_ns != *ts)
        return fail() << "BookBegin";
      for (const simdjson::dom::element c : changes) {
        const simdjson::dom::array a = dom_arr(c);
        const std::string_view side = dom_str(a.at(0));
        if (side != "buy" && side != "sell")
          return fail() << "side " << side;
        if (!level_ok(out[i++], side == "buy" ? book::Side::Bid : book::Side::Ask, dom_str(a.at(1)),
                      dom_str(a.at(2))))
          return fail() << "change";
        ++counts.levels;
      }
      if (out[i].type != EventType::BookEnd || out[i].exch_ts_ns != *ts)
        return fail() << "BookEnd";
      ++i;
    } else if (type == "ticker") {
      ++counts.tickers;
      std::uint64_t sequence = 0;
      if (msg["sequence"].get_uint64().get(sequence) || out.size() != 1)
        return fail() << "ticker";
      const Event &e = out[i++];
      if (e.type != EventType::Bbo ||
          ref_mantissa(dom_str(msg["best_bid"]), inst->price_decimals) != e.bbo.bid_price ||
          ref_mantissa(dom_str(msg["best_ask"]), inst->price_decimals) != e.bbo.ask_price ||
          e.bbo.bid_qty != 0 || e.bbo.ask_qty != 0 || e.bbo.update_id != sequence ||
          ref_time_ns(dom_str(msg["time"])) != e.exch_ts_ns)
        return fail() << "Bbo";
    } else if (type == "match" || type == "last_match") {
      ++counts.trades;
      std::uint64_t trade_id = 0;
      if (msg["trade_id"].get_uint64().get(trade_id) || out.size() != 1)
        return fail() << "match";
      const Event &e = out[i++];
      // The side field is the maker order's side: a resting buy was hit by a seller.
      const bool maker_bought = dom_str(msg["side"]) == "buy";
      if (e.type != EventType::Trade ||
          ref_mantissa(dom_str(msg["price"]), inst->price_decimals) != e.trade.price ||
          ref_mantissa(dom_str(msg["size"]), inst->qty_decimals) != e.trade.qty ||
          e.trade.trade_id != trade_id || e.flags != (maker_bought ? kFlagBuyerIsMaker : 0) ||
          ref_time_ns(dom_str(msg["time"])) != e.exch_ts_ns)
        return fail() << "Trade";
    } else {
      return fail() << "unexpected type " << type;
    }
    if (i != out.size())
      return fail() << "extra events: " << out.size() << " vs " << i;
    return ::testing::AssertionSuccess();
  }

  static Counts replay(InstrumentRegistry &registry) {
    Counts counts;
    CoinbaseParser parser(registry);
    EventBatch out;
    std::int64_t recv_ts = 1;
    for (const Record &l : read_capture(kWs, is_received)) {
      ++counts.received;
      out.clear();
      const ParseStatus st = parser.parse(l.payload, ++recv_ts, out);
      counts.errors += is_error(st) ? 1U : 0U;
      const auto ok = check_message(l, st, out, registry, recv_ts, counts);
      EXPECT_TRUE(ok);
      if (!ok)
        break;
    }
    return counts;
  }
};

TEST_F(CoinbaseParserTest, ParsesEveryRecordedMessageLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const Counts c = replay(registry);
  // PROVENANCE.md: 9,946 messages (10 snapshots, 9,719 l2update, 107 ticker, the rest
  // match/last_match/subscriptions).
  EXPECT_EQ(c.received, 9946U);
  EXPECT_EQ(c.snapshots, 10U);
  EXPECT_EQ(c.updates, 9719U);
  EXPECT_EQ(c.tickers, 107U);
  EXPECT_EQ(c.trades + c.subscriptions, 9946U - 10U - 9719U - 107U);
  EXPECT_EQ(c.ignored, c.subscriptions);
  EXPECT_GT(c.subscriptions, 0U);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_GT(c.levels, 9719U);
}

// Coinbase documents a match's `side` as the maker order's side. Its ticker channel names the
// taker's side of the same trade (same trade_id), so the aggressor we derive from the match must
// be the ticker's side for every recorded ticker (all 107 carry a trade_id found in the matches).
TEST_F(CoinbaseParserTest, AggressorOfEachMatchIsTheTickerSideOfTheSameTrade) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  CoinbaseParser parser(registry);
  EventBatch out;
  simdjson::dom::parser dom;
  std::map<std::pair<std::uint32_t, std::uint64_t>, bool> aggressor_bought; // from our Trades
  std::map<std::pair<std::string, std::uint64_t>, std::string> ticker_side; // from the text
  for (const Record &l : read_capture(kWs, is_received)) {
    out.clear();
    ASSERT_FALSE(is_error(parser.parse(l.payload, 0, out))) << l.line;
    for (const Event &e : out)
      if (e.type == EventType::Trade)
        aggressor_bought[{e.instrument, e.trade.trade_id}] = (e.flags & kFlagBuyerIsMaker) == 0;
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    if (type_of(msg) == "ticker") {
      std::uint64_t trade_id = 0;
      ASSERT_EQ(msg["trade_id"].get_uint64().get(trade_id), simdjson::SUCCESS);
      ticker_side[{std::string(dom_str(msg["product_id"])), trade_id}] = dom_str(msg["side"]);
    }
  }
  ASSERT_EQ(ticker_side.size(), 107U);
  std::size_t checked = 0;
  for (const auto &[key, side] : ticker_side) {
    const Instrument *inst = registry.find(Venue::Coinbase, key.first);
    ASSERT_NE(inst, nullptr);
    const auto it = aggressor_bought.find({inst->id, key.second});
    ASSERT_NE(it, aggressor_bought.end()) << key.first << " " << key.second;
    EXPECT_EQ(it->second, side == "buy") << key.first << " " << key.second;
    ++checked;
  }
  EXPECT_EQ(checked, 107U);
}

// Every recorded time, and each one cut short or with a byte replaced by a letter, against the
// libc oracle: converted exactly when well-formed, refused otherwise.
TEST_F(CoinbaseParserTest, ConvertsRecordedTimesLikeLibcAndRefusesBrokenOnes) {
  simdjson::dom::parser dom;
  std::size_t times = 0;
  std::size_t refused = 0;
  for (const Record &l : read_capture(kWs, is_received)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    std::string_view t;
    if (msg["time"].get_string().get(t))
      continue;
    const auto expected = ref_time_ns(t);
    ASSERT_TRUE(expected.has_value()) << t;
    std::int64_t ns = 0;
    ASSERT_TRUE(coinbase_time_to_ns(t, ns)) << t;
    ASSERT_EQ(ns, *expected) << t;
    ++times;
    if (times % 50 != 0)
      continue;
    for (std::size_t pos = 0; pos < t.size(); ++pos) {
      std::string mutated(t);
      mutated[pos] = 'q';
      ASSERT_FALSE(coinbase_time_to_ns(mutated, ns)) << mutated;
      ASSERT_FALSE(coinbase_time_to_ns(t.substr(0, pos), ns)) << pos;
      refused += 2;
    }
  }
  EXPECT_EQ(times, 9719U + 107U + 107U); // l2update, ticker, match/last_match carry a time
  EXPECT_GT(refused, 5000U);
}

// Without metadata every product is registered on first sight at 8 decimals (enough for every
// recorded number), with the canonical name the metadata gives.
TEST_F(CoinbaseParserTest, RegistersProductsOnFirstSightWithoutMetadata) {
  InstrumentRegistry registry;
  CoinbaseParser parser(registry);
  EventBatch out;
  std::size_t ok = 0;
  for (const Record &l : read_capture(kWs, is_received)) {
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 0, out);
    ASSERT_FALSE(is_error(st)) << l.line;
    ok += st == ParseStatus::Ok ? 1U : 0U;
  }
  EXPECT_EQ(ok, 9946U - 3U); // all but the three subscription acknowledgements
  InstrumentRegistry metadata;
  ASSERT_GT(load_metadata(metadata), 0U);
  ASSERT_EQ(registry.size(), 10U); // PROVENANCE.md: 10 products
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    const Instrument &guessed = registry.at(id);
    const Instrument *known = metadata.find(Venue::Coinbase, guessed.native);
    ASSERT_NE(known, nullptr) << guessed.native;
    EXPECT_EQ(guessed.canonical, known->canonical);
    EXPECT_EQ(guessed.kind, InstrumentKind::Spot);
    EXPECT_FALSE(guessed.from_metadata);
  }
}

// The recorded products are listed; a product missing from loaded metadata is refused. The
// metadata here is narrowed mechanically: the products array of the recorded /products body
// with the SKL-USD element removed.
TEST_F(CoinbaseParserTest, ReportsUnknownInstrumentForAProductMissingFromMetadata) {
  std::string body;
  for (const Record &l : read_capture(kMeta))
    if (l.kind == RecordKind::Http)
      body = std::string(l.payload);
  const std::size_t at = body.find("{\"id\":\"SKL-USD\"");
  ASSERT_NE(at, std::string::npos);
  const std::size_t end = body.find('}', at);
  ASSERT_EQ(body[end + 1], ',');
  body.erase(at, end + 2 - at);
  InstrumentRegistry registry;
  ASSERT_GT(load_coinbase_products(body, registry), 100U);
  ASSERT_EQ(registry.find(Venue::Coinbase, "SKL-USD"), nullptr);
  CoinbaseParser parser(registry);
  EventBatch out;
  std::size_t unknown = 0;
  for (const Record &l : read_capture(kWs, is_received)) {
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 0, out);
    const bool skl_usd = l.payload.find("\"product_id\":\"SKL-USD\"") != std::string_view::npos;
    if (skl_usd) {
      ASSERT_EQ(st, ParseStatus::UnknownInstrument) << l.line;
      ASSERT_EQ(out.size(), 0U);
      ++unknown;
    } else {
      ASSERT_FALSE(is_error(st)) << l.line;
    }
  }
  EXPECT_GT(unknown, 1000U);
}

// ---- malformed input --------------------------------------------------------------------------
class CoinbaseMalformedTest : public CoinbaseParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_metadata(registry_), 0U);
    frames_.add(kWs, is_received);
    ASSERT_EQ(frames_.size(), 9946U);
    // A batch that already holds events: a refused frame must leave them as they are.
    ASSERT_EQ(parser_.parse(first_of("\"type\":\"snapshot\""), 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  std::string_view first_of(std::string_view needle) const {
    for (const Record &l : frames_)
      if (l.payload.find(needle) != std::string_view::npos)
        return l.payload;
    ADD_FAILURE() << needle;
    return {};
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  // Real frames of every type: the snapshots (all), tickers, matches, acks and every 50th
  // l2update.
  std::vector<std::size_t> samples() const {
    std::vector<std::size_t> s;
    std::size_t updates = 0;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const bool update =
          frames_[i].payload.find("\"type\":\"l2update\"") != std::string_view::npos;
      if (!update || updates++ % 50 == 0)
        s.push_back(i);
    }
    return s;
  }
  InstrumentRegistry registry_;
  CoinbaseParser parser_{registry_};
  EventBatch out_;
  CaptureRecords frames_;
  std::size_t before_ = 0;
};

TEST_F(CoinbaseMalformedTest, RejectsTruncatedMessagesWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = frames_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = parse_copy(std::string(msg.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 5000U);
}

TEST_F(CoinbaseMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = frames_[k].payload;
    // Every structural character of small frames, every 7th of snapshots, becomes a letter.
    const std::size_t step = msg.size() > 2000 ? 7 : 1;
    std::size_t seen = 0;
    for (const std::size_t pos : structural_positions(msg)) {
      if (seen++ % step != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " byte " << pos << " -> "
                                << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 20000U);
}

// A digit of a price or size becoming a letter is a BadNumber, never a wrong number: the first
// digit of each number the parser reads (level prices and sizes, best_bid/best_ask, a match's
// price and size).
TEST_F(CoinbaseMalformedTest, ReportsBadNumberWhenADigitOfAPriceOrSizeBecomesALetter) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = frames_[k].payload;
    std::vector<std::size_t> digits; // positions of the first character of each number read
    auto after = [&](std::string_view key) {
      const std::size_t pos = msg.find(key);
      if (pos != std::string_view::npos)
        digits.push_back(pos + key.size());
    };
    if (msg.find("\"type\":\"ticker\"") != std::string_view::npos) {
      after("\"best_bid\":\"");
      after("\"best_ask\":\"");
    } else if (msg.find("match\"") != std::string_view::npos) {
      after("\"price\":\"");
      after("\"size\":\"");
    } else if (msg.find("\"type\":\"l2update\"") != std::string_view::npos) {
      const std::size_t price = msg.find("\",\"", msg.find("[[\"")) + 3; // after the side
      digits.push_back(price);
      digits.push_back(msg.find("\",\"", price) + 3);
    } else if (msg.find("\"type\":\"snapshot\"") != std::string_view::npos) {
      const std::size_t price = msg.find("[[\"") + 3;
      digits.push_back(price);
      digits.push_back(msg.find("\",\"", price) + 3);
    }
    for (const std::size_t pos : digits) {
      ASSERT_TRUE((msg[pos] >= '0' && msg[pos] <= '9'))
          << "line " << frames_[k].line << " byte " << pos;
      std::string mutated(msg);
      mutated[pos] = 'a';
      ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
          << "line " << frames_[k].line << " byte " << pos;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 400U);
}

// Every byte of small frames (acks, tickers, matches, l2updates) flipped in three bit
// positions: whatever the parser says, it never crashes, never reports Ok for a frame that no
// longer parses as JSON, and a refused frame leaves the batch as it was.
TEST_F(CoinbaseMalformedTest, SurvivesEveryByteOfSmallFramesFlipped) {
  simdjson::dom::parser dom;
  std::size_t cases = 0;
  std::size_t refused = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = frames_[k].payload;
    if (msg.size() > 2000)
      continue;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      for (const unsigned bit : {0x01U, 0x20U, 0x80U}) {
        std::string mutated(msg);
        mutated[pos] = static_cast<char>(static_cast<unsigned char>(mutated[pos]) ^ bit);
        const std::size_t size = out_.size();
        const ParseStatus st = parse_copy(mutated);
        simdjson::dom::element ignored;
        const bool json =
            dom.parse(mutated.data(), mutated.size()).get(ignored) == simdjson::SUCCESS;
        if (is_error(st)) {
          ASSERT_EQ(out_.size(), size) << "line " << frames_[k].line << " byte " << pos;
          ++refused;
        } else {
          ASSERT_TRUE(json) << "line " << frames_[k].line << " byte " << pos << " accepted";
        }
        out_.truncate(before_);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 100000U);
  EXPECT_GT(refused, cases / 2);
}

// A level2 message that cannot be parsed cost its book an update (there is no sequence number
// to show it later). The book is marked Stale in front of the next message that parses: here
// SKL-USD's first l2update after its snapshot, cut short mechanically.
TEST_F(CoinbaseParserTest, MarksTheBookOfAnUnreadableUpdateStaleWithTheNextMessage) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const Instrument *skl_usd = registry.find(Venue::Coinbase, "SKL-USD");
  ASSERT_NE(skl_usd, nullptr);
  CoinbaseParser parser(registry);
  EventBatch out;
  const CaptureRecords frames = read_capture(kWs, is_received);
  std::size_t k = 0;
  bool snapshot_seen = false;
  for (; k < frames.size(); ++k) {
    const std::string_view p = frames[k].payload;
    const bool skl = p.find("\"product_id\":\"SKL-USD\"") != std::string_view::npos;
    if (snapshot_seen && skl && p.find("\"type\":\"l2update\"") != std::string_view::npos)
      break;
    snapshot_seen |= skl && p.find("\"type\":\"snapshot\"") != std::string_view::npos;
    out.clear();
    ASSERT_FALSE(is_error(parser.parse(p, 0, out)));
  }
  ASSERT_LT(k + 1, frames.size());
  const std::string_view update = frames[k].payload;
  out.clear();
  EXPECT_TRUE(is_error(
      test::parse_padded_copy(parser, std::string(update.substr(0, update.size() / 2)), out)));
  EXPECT_EQ(out.size(), 0U);
  // The next frame carries Status(Stale, SequenceGap) for SKL-USD first, then its own events.
  out.clear();
  EXPECT_EQ(parser.parse(frames[k + 1].payload, 0, out), ParseStatus::Ok);
  ASSERT_GE(out.size(), 2U);
  EXPECT_EQ(out[0].type, EventType::Status);
  EXPECT_EQ(out[0].instrument, skl_usd->id);
  EXPECT_EQ(out[0].status.status, BookStatus::Stale);
  EXPECT_EQ(out[0].status.reason, static_cast<std::uint8_t>(BookError::SequenceGap));
  EXPECT_NE(out[1].type, EventType::Status);
  // Once delivered it is not repeated.
  out.clear();
  EXPECT_EQ(parser.parse(frames[k + 2].payload, 0, out), ParseStatus::Ok);
  for (const Event &e : out)
    EXPECT_NE(e.type, EventType::Status);
}

// ---- allocation -------------------------------------------------------------------------------
// With metadata loaded nothing allocates, not even the first message of a product. Without, only
// the first sight of a product does (the registry adds it).
TEST_F(CoinbaseParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const CaptureRecords lines = read_capture(kWs, is_received);
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_metadata(registry), 0U);
    }
    CoinbaseParser parser(registry);
    EventBatch out;
    std::size_t messages = 0;
    std::size_t first_sight_allocations = 0;
    for (const Record &l : lines) {
      const std::size_t known = registry.size();
      out.clear();
      const std::size_t before = g_allocations.load();
      const ParseStatus st = parser.parse(l.payload, 0, out);
      const std::size_t allocations = g_allocations.load() - before;
      if (registry.size() == known) {
        ASSERT_EQ(allocations, 0U) << "line " << l.line << " status " << to_cstring(st);
      } else {
        first_sight_allocations += allocations;
      }
      ++messages;
    }
    EXPECT_EQ(messages, 9946U);
    if (!metadata) {
      EXPECT_GT(first_sight_allocations, 0U); // the counter works
    }
  }
}

} // namespace
} // namespace fh::venues
