// labels: unit replay
// GateIoParser and the currency-pair loader over the real Gate.io captures in data/gateio/
// cryptofeed (PROVENANCE.md "Other venues"): the 2021-04-22 spot stream (239 received frames),
// its 10 REST order-book snapshots and the currency_pairs response. Every expected value comes
// from the venue text itself, read independently here with simdjson's DOM API and a separate
// decimal reader (tests/support/text_oracles.hpp), or from the counts in PROVENANCE.md.
// Malformed inputs are real frames corrupted mechanically (cut, one byte replaced).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/gateio.hpp"
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
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;
using test::significant_decimals;
using test::wire_decimals;

constexpr const char *kWs = "gateio/cryptofeed/spot_2021-04-22_ws.txt.gz";
constexpr const char *kSnapshots = "gateio/cryptofeed/spot_2021-04-22_order_book_snapshots_http.txt.gz";
constexpr const char *kPairs = "gateio/cryptofeed/spot_currency_pairs_2021-04-22_http.txt.gz";

// ---- independent oracles -----------------------------------------------------------------------
// "1619093543708.2642" (ms with a fraction) -> ns, by string surgery.
std::int64_t ms_fraction_text_to_ns(std::string_view s) {
  const std::size_t dot = s.find('.');
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  frac.resize(6, '0');
  return std::stoll(std::string(s.substr(0, dot))) * 1000000 + std::stoll(frac);
}

std::uint64_t dom_u64(simdjson::simdjson_result<simdjson::dom::element> r) {
  std::uint64_t v = 0;
  EXPECT_EQ(r.get_uint64().get(v), simdjson::SUCCESS);
  return v;
}

std::size_t load_pairs(InstrumentRegistry &registry) {
  std::size_t n = 0;
  for (const Record &l : read_capture(kPairs))
    if (l.kind == RecordKind::Http)
      n += load_gateio_currency_pairs(l.payload, registry);
  return n;
}

// ---- fixture -----------------------------------------------------------------------------------
class GateIoParserTest : public ::testing::Test {
protected:
  struct Counts {
    std::size_t received = 0, book = 0, trades = 0, tickers = 0, candles = 0, acks = 0;
    std::size_t errors = 0, levels = 0;
  };

  // One BookLevel per [price, amount] of `side_levels`, in wire order, from out[i].
  static ::testing::AssertionResult check_levels(simdjson::dom::array side_levels, book::Side side,
                                                 const Instrument &inst, const EventBatch &out,
                                                 std::size_t &i) {
    for (const simdjson::dom::element lv : side_levels) {
      const simdjson::dom::array a = dom_arr(lv);
      const std::string_view px = dom_str(a.at(0));
      const std::string_view sz = dom_str(a.at(1));
      if (i >= out.size())
        return ::testing::AssertionFailure() << "too few events";
      const Event &e = out[i++];
      if (e.type != EventType::BookLevel || e.side != side ||
          ref_mantissa(px, inst.price_decimals) != e.level.price ||
          ref_mantissa(sz, inst.qty_decimals) != e.level.qty ||
          wire_decimals(px) != e.level.price_text_dp || wire_decimals(sz) != e.level.qty_text_dp)
        return ::testing::AssertionFailure() << "level " << px << " " << sz;
    }
    return ::testing::AssertionSuccess();
  }

  // Compares the events of one received frame with the DOM view of the same text.
  static ::testing::AssertionResult check_message(const Record &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  std::int64_t recv_ts, Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.payload.data(), line.payload.size(), false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.line;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.line << ": "; };
    const std::string_view channel = dom_str(msg["channel"]);
    const std::string_view event = dom_str(msg["event"]);
    if (event != "update" || channel == "spot.candlesticks") {
      ++(event != "update" ? counts.acks : counts.candles);
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "not ignored: " << to_cstring(st);
      return ::testing::AssertionSuccess();
    }
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    const simdjson::dom::element result = msg["result"];
    const std::string_view pair =
        dom_str(channel == "spot.order_book_update" ? result["s"] : result["currency_pair"]);
    const Instrument *inst = registry.find(Venue::GateIo, pair);
    if (inst == nullptr)
      return fail() << "pair " << pair << " not in metadata";
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::GateIo || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    std::size_t i = 0;
    if (channel == "spot.order_book_update") {
      ++counts.book;
      const simdjson::dom::array bids = dom_arr(result["b"]);
      const simdjson::dom::array asks = dom_arr(result["a"]);
      const std::int64_t ts = static_cast<std::int64_t>(dom_u64(result["t"])) * 1000000;
      if (out.size() != bids.size() + asks.size() + 2)
        return fail() << "event count " << out.size();
      const Event &b = out[i++];
      if (b.type != EventType::BookBegin || b.flags != kFlagHasSeq ||
          b.begin.first_seq != dom_u64(result["U"]) || b.begin.last_seq != dom_u64(result["u"]) ||
          b.begin.levels != bids.size() + asks.size() || b.exch_ts_ns != ts)
        return fail() << "BookBegin";
      // The frame lists "b" before "a"; the events keep that order.
      if (auto r = check_levels(bids, book::Side::Bid, *inst, out, i); !r)
        return fail() << r.message();
      if (auto r = check_levels(asks, book::Side::Ask, *inst, out, i); !r)
        return fail() << r.message();
      counts.levels += bids.size() + asks.size();
      const Event &end = out[i++];
      if (end.type != EventType::BookEnd || end.exch_ts_ns != ts || end.flags != 0)
        return fail() << "BookEnd";
    } else if (channel == "spot.trades") {
      ++counts.trades;
      if (out.size() != 1)
        return fail() << "event count " << out.size();
      const Event &e = out[i++];
      const bool sell = dom_str(result["side"]) == "sell";
      if (e.type != EventType::Trade ||
          ref_mantissa(dom_str(result["price"]), inst->price_decimals) != e.trade.price ||
          ref_mantissa(dom_str(result["amount"]), inst->qty_decimals) != e.trade.qty ||
          e.trade.trade_id != dom_u64(result["id"]) || e.flags != (sell ? kFlagBuyerIsMaker : 0) ||
          e.exch_ts_ns != ms_fraction_text_to_ns(dom_str(result["create_time_ms"])))
        return fail() << "Trade";
    } else if (channel == "spot.tickers") {
      ++counts.tickers;
      if (out.size() != 1)
        return fail() << "event count " << out.size();
      const Event &e = out[i++];
      // No sizes and no book id in Gate's ticker; its time is the push time at the root.
      if (e.type != EventType::Bbo ||
          ref_mantissa(dom_str(result["highest_bid"]), inst->price_decimals) != e.bbo.bid_price ||
          ref_mantissa(dom_str(result["lowest_ask"]), inst->price_decimals) != e.bbo.ask_price ||
          e.bbo.bid_qty != 0 || e.bbo.ask_qty != 0 || e.bbo.update_id != 0 ||
          e.exch_ts_ns != static_cast<std::int64_t>(dom_u64(msg["time"])) * 1000000000)
        return fail() << "Bbo";
    } else {
      return fail() << "unexpected channel " << channel;
    }
    return ::testing::AssertionSuccess();
  }

  static Counts replay(InstrumentRegistry &registry) {
    Counts counts;
    GateIoParser parser(registry);
    EventBatch out;
    std::int64_t recv_ts = 1;
    for (const Record &l : read_capture(kWs)) {
      if (l.kind != RecordKind::WsText)
        continue;
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

  // The received frames that carry market data (event "update", not candlesticks).
  static CaptureRecords data_frames() {
    return read_capture(kWs, [](const Record &l) {
      return l.kind == RecordKind::WsText &&
             l.payload.find("\"event\":\"update\"") != std::string_view::npos &&
             l.payload.find("spot.candlesticks") == std::string_view::npos;
    });
  }
};

TEST_F(GateIoParserTest, ParsesEveryFrameOfTheCaptureLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_EQ(load_pairs(registry), 1458U);
  const Counts c = replay(registry);
  // PROVENANCE.md: 239 received messages. The rest split by channel as the text says.
  EXPECT_EQ(c.received, 239U);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.book + c.trades + c.tickers + c.candles + c.acks, c.received);
  EXPECT_EQ(c.book, 172U);
  EXPECT_EQ(c.trades, 9U);
  EXPECT_EQ(c.tickers, 22U);
  EXPECT_EQ(c.candles, 14U);
  EXPECT_EQ(c.acks, 22U); // 10 order-book, 10 candlestick, 1 trades, 1 tickers subscriptions
  EXPECT_GT(c.levels, 1000U);
}

TEST_F(GateIoParserTest, ParsesEveryRestSnapshotWithItsId) {
  InstrumentRegistry registry;
  ASSERT_GT(load_pairs(registry), 0U);
  GateIoParser parser(registry);
  EventBatch out;
  std::size_t snapshots = 0;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    const std::string_view pair = capture::url_param(l.url, "currency_pair");
    const Instrument *inst = registry.find(Venue::GateIo, pair);
    ASSERT_NE(inst, nullptr) << l.url;
    out.clear();
    ASSERT_EQ(parser.parse_order_book_snapshot(l.payload, pair, 7, out), ParseStatus::Ok) << l.url;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
    const simdjson::dom::array asks = dom_arr(body["asks"]);
    const simdjson::dom::array bids = dom_arr(body["bids"]);
    ASSERT_EQ(out.size(), asks.size() + bids.size() + 2);
    const Event &b = out[0];
    EXPECT_EQ(b.type, EventType::BookBegin);
    EXPECT_EQ(b.flags, kFlagSnapshot | kFlagRest | kFlagHasSeq);
    EXPECT_EQ(b.begin.first_seq, dom_u64(body["id"]));
    EXPECT_EQ(b.begin.last_seq, dom_u64(body["id"]));
    EXPECT_EQ(b.begin.levels, asks.size() + bids.size());
    std::size_t i = 1;
    // The body lists "asks" before "bids".
    EXPECT_TRUE(check_levels(asks, book::Side::Ask, *inst, out, i)) << l.url;
    EXPECT_TRUE(check_levels(bids, book::Side::Bid, *inst, out, i)) << l.url;
    EXPECT_EQ(out[i].type, EventType::BookEnd);
    for (const Event &e : out)
      EXPECT_EQ(e.instrument, inst->id);
    ++snapshots;
  }
  EXPECT_EQ(snapshots, 10U); // PROVENANCE.md: 10 snapshots
}

// Without metadata every pair gets Gate's 10-decimal scales; the same frames parse, and the
// canonical names guessed from BASE_QUOTE agree with the metadata's.
TEST_F(GateIoParserTest, ParsesWithDefaultInstrumentsAndGuessesTheSameNames) {
  InstrumentRegistry registry;
  GateIoParser parser(registry);
  EventBatch out;
  std::size_t ok = 0;
  for (const Record &l : data_frames()) {
    out.clear();
    ASSERT_EQ(parser.parse(l.payload, 0, out), ParseStatus::Ok) << "line " << l.line;
    ++ok;
  }
  EXPECT_EQ(ok, 172U + 9U + 22U);
  InstrumentRegistry with_metadata;
  ASSERT_GT(load_pairs(with_metadata), 0U);
  ASSERT_EQ(registry.size(), 10U); // the 10 subscribed pairs, registered on first sight
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    const Instrument &guessed = registry.at(id);
    const Instrument *known = with_metadata.find(Venue::GateIo, guessed.native);
    ASSERT_NE(known, nullptr) << guessed.native;
    EXPECT_EQ(guessed.canonical, known->canonical);
    EXPECT_FALSE(guessed.from_metadata);
    EXPECT_EQ(guessed.price_decimals, 10);
    EXPECT_EQ(guessed.qty_decimals, 10);
  }
}

// JSON objects are unordered. Real frames reordered mechanically (no value changed): "result"
// cut and re-inserted before "time"; in book frames also "s" moved after "a". Same events.
TEST_F(GateIoParserTest, ParsesTheSameEventsWhenFieldsComeInAnotherOrder) {
  InstrumentRegistry registry;
  ASSERT_GT(load_pairs(registry), 0U);
  GateIoParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  std::size_t checked = 0;
  std::size_t pair_moved = 0;
  for (const Record &l : data_frames()) {
    const std::string_view msg = l.payload;
    const std::size_t result_pos = msg.find(",\"result\":");
    ASSERT_NE(result_pos, std::string_view::npos);
    ASSERT_EQ(msg.back(), '}');
    std::string result(msg.substr(result_pos + 1, msg.size() - 2 - result_pos));
    // "s":"PAIR", moved to the end of the result object.
    const std::size_t s_pos = result.find("\"s\":\"");
    if (s_pos != std::string::npos) {
      const std::size_t s_end = result.find("\",", s_pos + 5);
      ASSERT_NE(s_end, std::string::npos);
      const std::string member = result.substr(s_pos, s_end + 1 - s_pos);
      result.erase(s_pos, s_end + 2 - s_pos);
      ASSERT_EQ(result.back(), '}');
      result.insert(result.size() - 1, "," + member);
      ++pair_moved;
    }
    std::string reordered = "{" + result + "," + std::string(msg.substr(1, result_pos - 1)) + "}";
    ASSERT_EQ(reordered.size(), msg.size());
    expected.clear();
    actual.clear();
    ASSERT_EQ(parser.parse(msg, 5, expected), ParseStatus::Ok);
    ASSERT_EQ(test::parse_padded_copy(parser, reordered, actual), ParseStatus::Ok)
        << reordered.substr(0, 160);
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      Event a = actual[i];
      a.recv_ts_ns = expected[i].recv_ts_ns; // parse_padded_copy passes recv_ts 0
      ASSERT_EQ(std::memcmp(&a, &expected[i], sizeof(Event)), 0) << "line " << l.line << " event " << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 203U);
  EXPECT_EQ(pair_moved, 172U);
}

// ---- malformed input ---------------------------------------------------------------------------
class GateIoMalformedTest : public GateIoParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_pairs(registry_), 0U);
    frames_ = read_capture(kWs, [](const Record &l) { return l.kind == RecordKind::WsText; });
    ASSERT_EQ(frames_.size(), 239U);
    // A few events already in the batch: a failed message must not disturb them.
    ASSERT_EQ(parser_.parse(data_frames()[0].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  InstrumentRegistry registry_;
  GateIoParser parser_{registry_};
  EventBatch out_;
  CaptureRecords frames_;
  std::size_t before_ = 0;
};

// Every received frame (acknowledgements and candlesticks included), cut at 7 offsets and by
// its last byte: an error every time, the batch untouched.
TEST_F(GateIoMalformedTest, RejectsEveryTruncatedFrameWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const Record &l : frames_) {
    for (const std::size_t len : test::truncation_lengths(l.payload.size())) {
      const ParseStatus st = parse_copy(std::string(l.payload.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << l.line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 239U * 14U);
}

// Every 3rd structural byte ({}[],:") of every received frame replaced by a letter.
TEST_F(GateIoMalformedTest, RejectsEveryFrameWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const Record &l : frames_) {
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < l.payload.size(); ++pos) {
      if (!test::is_structural(l.payload[pos]) || seen++ % 3 != 0)
        continue;
      std::string mutated(l.payload);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << l.line << " byte " << pos << " '" << l.payload[pos]
                                << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 8000U);
}

// The last digit of a level's price and, separately, of its amount becomes a letter.
TEST_F(GateIoMalformedTest, ReportsBadNumberWhenADigitOfALevelBecomesALetter) {
  std::size_t cases = 0;
  for (const Record &l : data_frames()) {
    const std::string_view msg = l.payload;
    std::size_t level = 0;
    for (std::size_t start = msg.find("[\""); start != std::string_view::npos;
         start = msg.find("[\"", start + 1)) {
      if (level++ % 3 != 0)
        continue;
      const std::size_t px_end = msg.find('"', start + 2);
      const std::size_t sz_end = msg.find('"', px_end + 3);
      ASSERT_EQ(msg.substr(px_end, 3), "\",\"");
      for (const std::size_t pos : {px_end - 1, sz_end - 1}) {
        std::string mutated(msg);
        mutated[pos] = 'a';
        ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber) << "line " << l.line << " byte " << pos;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 400U);
}

// An update id or time that loses a digit to a letter cannot be chained: Malformed.
TEST_F(GateIoMalformedTest, ReportsMalformedWhenAnUpdateIdOrTimeLosesADigit) {
  std::size_t cases = 0;
  for (const Record &l : data_frames()) {
    if (l.payload.find("spot.order_book_update") == std::string_view::npos)
      continue;
    for (const char *key : {"\"U\":", "\"u\":", "\"t\":"}) {
      std::string mutated(l.payload);
      const std::size_t pos = mutated.find(key);
      ASSERT_NE(pos, std::string::npos);
      mutated[pos + std::strlen(key) + 1] = 'z';
      ASSERT_EQ(parse_copy(mutated), ParseStatus::Malformed) << "line " << l.line << " " << key;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 3U * 172U);
}

// One letter of the pair changed (first letter -> 'Q'): a pair the loaded metadata does not
// list (checked against the response) is UnknownInstrument, never a new instrument.
TEST_F(GateIoMalformedTest, ReportsUnknownInstrumentForAPairMissingFromTheMetadata) {
  std::size_t cases = 0;
  const std::size_t known = registry_.size();
  for (const Record &l : data_frames()) {
    std::string mutated(l.payload);
    std::size_t pos = mutated.find("\"s\":\"");
    pos = pos != std::string::npos ? pos + 5 : mutated.find("\"currency_pair\":\"") + 17;
    mutated[pos] = 'Q';
    const std::string pair = mutated.substr(pos, mutated.find('"', pos) - pos);
    if (registry_.find(Venue::GateIo, pair) != nullptr)
      continue;
    ASSERT_EQ(parse_copy(mutated), ParseStatus::UnknownInstrument) << pair;
    ASSERT_EQ(out_.size(), before_);
    ++cases;
  }
  EXPECT_EQ(registry_.size(), known);
  EXPECT_GT(cases, 150U);
}

TEST_F(GateIoMalformedTest, RejectsACutOrBrokenRestSnapshot) {
  std::size_t cases = 0;
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    const std::string_view pair = capture::url_param(l.url, "currency_pair");
    for (const std::size_t len : test::truncation_lengths(l.payload.size())) {
      std::string cut(l.payload.substr(0, len));
      const std::size_t n = cut.size();
      cut.append(simdjson::SIMDJSON_PADDING, '\0');
      ASSERT_TRUE(is_error(parser_.parse_order_book_snapshot(std::string_view(cut.data(), n), pair,
                                                             0, out_)))
          << l.url << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
    // "id" -> "xd": a body without the id cannot start a chain.
    std::string no_id(l.payload);
    no_id[no_id.find("\"id\"") + 1] = 'x';
    const std::size_t n = no_id.size();
    no_id.append(simdjson::SIMDJSON_PADDING, '\0');
    ASSERT_EQ(parser_.parse_order_book_snapshot(std::string_view(no_id.data(), n), pair, 0, out_),
              ParseStatus::Malformed);
    ASSERT_EQ(out_.size(), before_);
    ++cases;
  }
  EXPECT_EQ(cases, 10U * 15U);
}

// ---- allocation --------------------------------------------------------------------------------
// With metadata loaded nothing allocates, not even a pair's first message. With defaults, only
// the first sight of a pair does (the registry adds it).
TEST_F(GateIoParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const CaptureRecords frames = read_capture(kWs);
  const CaptureRecords snapshots = read_capture(kSnapshots);
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_pairs(registry), 0U);
    }
    GateIoParser parser(registry);
    EventBatch out;
    std::size_t messages = 0;
    std::size_t first_sight_allocations = 0;
    for (const CaptureRecords *records : {&frames, &snapshots}) {
      for (const Record &l : *records) {
        if (l.kind != RecordKind::WsText && !(l.kind == RecordKind::Http && records == &snapshots))
          continue;
        const std::size_t known = registry.size();
        out.clear();
        const std::size_t before = g_allocations.load();
        const ParseStatus st =
            l.kind == RecordKind::WsText
                ? parser.parse(l.payload, 0, out)
                : parser.parse_order_book_snapshot(
                      l.payload, capture::url_param(l.url, "currency_pair"), 0, out);
        const std::size_t allocations = g_allocations.load() - before;
        ASSERT_FALSE(is_error(st)) << "line " << l.line;
        if (registry.size() == known) {
          ASSERT_EQ(allocations, 0U) << "line " << l.line << " status " << to_cstring(st);
        } else {
          first_sight_allocations += allocations;
        }
        ++messages;
      }
    }
    EXPECT_EQ(messages, 239U + 10U);
    if (!metadata) {
      EXPECT_GT(first_sight_allocations, 0U); // the counter works
    }
  }
}

// ---- metadata ----------------------------------------------------------------------------------
class GateIoMetadataTest : public ::testing::Test {
protected:
  static simdjson::dom::array pairs(simdjson::dom::parser &dom, const CaptureRecords &lines) {
    for (const Record &l : lines)
      if (l.kind == RecordKind::Http) {
        simdjson::dom::element root;
        EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(root), simdjson::SUCCESS);
        return dom_arr(root);
      }
    ADD_FAILURE() << "no currency_pairs response";
    return {};
  }
};

TEST_F(GateIoMetadataTest, LoadsEveryPairWithTickLotAndMinimumFromTheResponseText) {
  InstrumentRegistry registry;
  EXPECT_FALSE(registry.has_metadata(Venue::GateIo));
  ASSERT_EQ(load_pairs(registry), 1458U);
  EXPECT_TRUE(registry.has_metadata(Venue::GateIo));
  simdjson::dom::parser dom;
  const CaptureRecords lines = read_capture(kPairs);
  std::size_t checked = 0;
  std::size_t with_min = 0;
  for (const simdjson::dom::element item : pairs(dom, lines)) {
    const std::string_view id = dom_str(item["id"]);
    const Instrument *inst = registry.find(Venue::GateIo, id);
    ASSERT_NE(inst, nullptr) << id;
    EXPECT_TRUE(inst->from_metadata);
    EXPECT_EQ(inst->kind, InstrumentKind::Spot);
    EXPECT_EQ(inst->contract, ContractType::None);
    EXPECT_EQ(inst->base, dom_str(item["base"]));
    EXPECT_EQ(inst->quote, dom_str(item["quote"]));
    EXPECT_EQ(inst->canonical, std::string(dom_str(item["base"])) + "-" +
                                   std::string(dom_str(item["quote"])));
    EXPECT_EQ(registry.find_canonical(Venue::GateIo, inst->canonical), inst) << inst->canonical;
    std::int64_t precision = 0;
    std::int64_t amount_precision = 0;
    ASSERT_EQ(item["precision"].get_int64().get(precision), simdjson::SUCCESS);
    ASSERT_EQ(item["amount_precision"].get_int64().get(amount_precision), simdjson::SUCCESS);
    // tick = 10^-precision, lot = 10^-amount_precision, written as text and read independently.
    auto step = [](std::int64_t dp) {
      return dp == 0 ? std::string("1") : "0." + std::string(static_cast<std::size_t>(dp - 1), '0') + "1";
    };
    EXPECT_EQ(ref_mantissa(step(precision), inst->price_decimals), inst->tick) << id;
    EXPECT_EQ(ref_mantissa(step(amount_precision), inst->qty_decimals), inst->lot) << id;
    EXPECT_GE(inst->price_decimals, precision) << id;
    EXPECT_GE(inst->qty_decimals, amount_precision) << id;
    // An amount scale leaves room for at least 10^8 units (8 integer digits of an int64's 18).
    EXPECT_LE(inst->qty_decimals, 10) << id;
    std::string_view min_base;
    if (!item["min_base_amount"].get_string().get(min_base)) {
      EXPECT_EQ(ref_mantissa(min_base, inst->qty_decimals), inst->min_qty) << id;
      ++with_min;
    } else {
      EXPECT_EQ(inst->min_qty, 0) << id; // only min_quote_amount (a quote amount) or nothing
    }
    ++checked;
  }
  EXPECT_EQ(checked, 1458U);
  EXPECT_EQ(with_min, 14U); // pairs whose entry has min_base_amount (BTC_USDC: 0.0001)
  const Instrument *btc_usdc = registry.find(Venue::GateIo, "BTC_USDC");
  ASSERT_NE(btc_usdc, nullptr);
  EXPECT_EQ(ref_mantissa("0.0001", btc_usdc->qty_decimals), btc_usdc->min_qty);
}

// Every price and amount the capture writes (book frames, REST snapshots, trades, tickers) fits
// its pair's scales: no more significant decimals than the scale, and no overflow.
TEST_F(GateIoMetadataTest, EveryCapturedNumberFitsItsPairsScales) {
  InstrumentRegistry registry;
  ASSERT_GT(load_pairs(registry), 0U);
  simdjson::dom::parser dom;
  std::size_t numbers = 0;
  std::size_t finer_than_tick = 0;
  auto check = [&](std::string_view pair, std::string_view px, std::string_view sz) {
    const Instrument *inst = registry.find(Venue::GateIo, pair);
    ASSERT_NE(inst, nullptr) << pair;
    ASSERT_TRUE(ref_mantissa(px, inst->price_decimals).has_value()) << pair << " " << px;
    if (!sz.empty()) {
      ASSERT_TRUE(ref_mantissa(sz, inst->qty_decimals).has_value()) << pair << " " << sz;
    }
    if (*ref_mantissa(px, inst->price_decimals) % inst->tick != 0)
      ++finer_than_tick;
    ++numbers;
  };
  for (const char *file : {kWs, kSnapshots}) {
    for (const Record &l : read_capture(file)) {
      if (l.kind != RecordKind::WsText && l.kind != RecordKind::Http)
        continue;
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      if (l.kind == RecordKind::Http) {
        const std::string_view pair = capture::url_param(l.url, "currency_pair");
        for (const char *side : {"asks", "bids"})
          for (const simdjson::dom::element lv : dom_arr(msg[side]))
            check(pair, dom_str(dom_arr(lv).at(0)), dom_str(dom_arr(lv).at(1)));
        continue;
      }
      if (dom_str(msg["event"]) != "update")
        continue;
      const std::string_view channel = dom_str(msg["channel"]);
      const simdjson::dom::element r = msg["result"];
      if (channel == "spot.order_book_update") {
        for (const char *side : {"a", "b"})
          for (const simdjson::dom::element lv : dom_arr(r[side]))
            check(dom_str(r["s"]), dom_str(dom_arr(lv).at(0)), dom_str(dom_arr(lv).at(1)));
      } else if (channel == "spot.trades") {
        check(dom_str(r["currency_pair"]), dom_str(r["price"]), dom_str(r["amount"]));
      } else if (channel == "spot.tickers") {
        check(dom_str(r["currency_pair"]), dom_str(r["highest_bid"]), {});
        check(dom_str(r["currency_pair"]), dom_str(r["lowest_ask"]), {});
      }
    }
  }
  EXPECT_GT(numbers, 2500U);
  // Resting levels off today's price grid exist (ZKS_ETH, NEO_BTC): why the scale is wider.
  EXPECT_GT(finer_than_tick, 0U);
}

// cryptofeed recorded the pairs it subscribed under its own names (the `configuration:` line,
// BASE-QUOTE): each is our canonical name of the pair the stream used.
TEST_F(GateIoMetadataTest, CanonicalNamesMatchTheRecordersConfiguration) {
  InstrumentRegistry registry;
  ASSERT_GT(load_pairs(registry), 0U);
  simdjson::dom::parser dom;
  std::set<std::string> names;
  for (const Record &l : read_capture(kPairs)) {
    if (l.kind != RecordKind::Config)
      continue;
    simdjson::dom::element cfg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(cfg), simdjson::SUCCESS);
    for (const simdjson::dom::element n : dom_arr(cfg["l2_book"]))
      names.emplace(dom_str(n));
  }
  ASSERT_EQ(names.size(), 10U);
  for (const std::string &name : names) {
    const Instrument *inst = registry.find_canonical(Venue::GateIo, name);
    ASSERT_NE(inst, nullptr) << name;
    std::string native = name;
    native[native.find('-')] = '_';
    EXPECT_EQ(inst->native, native);
  }
}

TEST_F(GateIoMetadataTest, RegistersNothingFromATruncatedOrForeignResponse) {
  const CaptureRecords lines = read_capture(kPairs);
  for (const Record &l : lines) {
    if (l.kind != RecordKind::Http)
      continue;
    InstrumentRegistry registry;
    EXPECT_EQ(load_gateio_currency_pairs(l.payload.substr(0, l.payload.size() / 2), registry), 0U);
    EXPECT_EQ(registry.size(), 0U);
    EXPECT_FALSE(registry.has_metadata(Venue::GateIo));
  }
  // A REST order-book body is not a currency_pairs response.
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    InstrumentRegistry registry;
    EXPECT_EQ(load_gateio_currency_pairs(l.payload, registry), 0U);
    EXPECT_FALSE(registry.has_metadata(Venue::GateIo));
  }
}

} // namespace
} // namespace fh::venues
