// labels: unit replay
// KucoinParser and the symbols loader over the real KuCoin captures in data/kucoin/cryptofeed
// (PROVENANCE.md "Other venues"): the 2021-04-25 spot stream (4,721 received frames), its 9 REST
// level-2 snapshots and the symbols response. Every expected value comes from the venue text
// itself, read independently here with simdjson's DOM API and a separate decimal reader
// (tests/support/text_oracles.hpp), or from the counts in PROVENANCE.md. Malformed inputs are
// real frames corrupted mechanically (cut, one byte replaced, one digit changed).
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kucoin.hpp"
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

constexpr const char *kWs = "kucoin/cryptofeed/spot_2021-04-25_ws.txt.gz";
constexpr const char *kSnapshots = "kucoin/cryptofeed/spot_2021-04-25_level2_snapshots_http.txt.gz";
constexpr const char *kSymbols = "kucoin/cryptofeed/symbols_2021-04-25_http.txt.gz";

std::uint64_t dom_u64(simdjson::simdjson_result<simdjson::dom::element> r) {
  std::uint64_t v = 0;
  EXPECT_EQ(r.get_uint64().get(v), simdjson::SUCCESS);
  return v;
}
std::uint64_t text_u64(std::string_view s) { return std::stoull(std::string(s)); }
std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::size_t load_symbols(InstrumentRegistry &registry) {
  std::size_t n = 0;
  for (const Record &l : read_capture(kSymbols))
    if (l.kind == RecordKind::Http)
      n += load_kucoin_symbols(l.payload, registry);
  return n;
}

// Changing one digit (the last one before `end`; 9 -> 8, else +1): length unchanged.
std::string change_digit_before(std::string text, std::size_t end) {
  for (std::size_t i = end; i-- > 0;) {
    if (text[i] >= '0' && text[i] <= '9') {
      text[i] = text[i] == '9' ? '8' : static_cast<char>(text[i] + 1);
      return text;
    }
  }
  ADD_FAILURE() << "no digit to change";
  return text;
}

// ---- fixture -----------------------------------------------------------------------------------
class KucoinParserTest : public ::testing::Test {
protected:
  struct Counts {
    std::size_t received = 0, book = 0, tickers = 0, matches = 0, candles = 0, control = 0;
    std::size_t errors = 0, levels = 0, markers = 0;
  };

  // One BookLevel per entry of `side_levels` (in wire order) whose price is not 0, from out[i];
  // entries priced 0 are counted as markers and must produce nothing.
  static ::testing::AssertionResult check_levels(simdjson::dom::array side_levels, book::Side side,
                                                 const Instrument &inst, const EventBatch &out,
                                                 std::size_t &i, std::size_t &markers) {
    for (const simdjson::dom::element lv : side_levels) {
      const simdjson::dom::array a = dom_arr(lv);
      const std::string_view px = dom_str(a.at(0));
      const std::string_view sz = dom_str(a.at(1));
      if (ref_mantissa(px, inst.price_decimals) == 0) {
        ++markers;
        continue;
      }
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

  static std::size_t non_markers(simdjson::dom::array side_levels) {
    std::size_t n = 0;
    for (const simdjson::dom::element lv : side_levels)
      n += ref_mantissa(dom_str(dom_arr(lv).at(0)), 18) != 0 ? 1U : 0U;
    return n;
  }

  static ::testing::AssertionResult check_message(const Record &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  std::int64_t recv_ts, Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.payload.data(), line.payload.size(), false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.line;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.line << ": "; };
    if (dom_str(msg["type"]) != "message") { // welcome, ack
      ++counts.control;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "not ignored: " << to_cstring(st);
      return ::testing::AssertionSuccess();
    }
    const std::string_view topic = dom_str(msg["topic"]);
    const std::string_view channel = topic.substr(0, topic.find(':'));
    const std::string_view symbol = topic.substr(topic.find(':') + 1);
    if (channel == "/market/candles") {
      ++counts.candles;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "candles not ignored";
      return ::testing::AssertionSuccess();
    }
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    const Instrument *inst = registry.find(Venue::Kucoin, symbol);
    if (inst == nullptr)
      return fail() << "symbol " << symbol << " not in metadata";
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::Kucoin || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    const simdjson::dom::element data = msg["data"];
    std::size_t i = 0;
    if (channel == "/market/level2") {
      ++counts.book;
      if (dom_str(data["symbol"]) != symbol)
        return fail() << "data.symbol";
      const simdjson::dom::element changes = data["changes"];
      const std::size_t n = non_markers(dom_arr(changes["asks"])) + non_markers(dom_arr(changes["bids"]));
      if (out.size() != n + 2)
        return fail() << "event count " << out.size();
      const Event &b = out[i++];
      if (b.type != EventType::BookBegin || b.flags != kFlagHasSeq ||
          b.begin.first_seq != dom_u64(data["sequenceStart"]) ||
          b.begin.last_seq != dom_u64(data["sequenceEnd"]) || b.begin.levels != n ||
          b.exch_ts_ns != 0)
        return fail() << "BookBegin";
      // Sides in the order the changes object lists them.
      simdjson::dom::object sides;
      if (changes.get_object().get(sides))
        return fail() << "changes";
      for (const auto field : sides) {
        const book::Side side = field.key == "asks" ? book::Side::Ask : book::Side::Bid;
        if (auto r = check_levels(dom_arr(field.value), side, *inst, out, i, counts.markers); !r)
          return fail() << r.message();
      }
      counts.levels += n;
      if (out[i++].type != EventType::BookEnd)
        return fail() << "BookEnd";
    } else if (channel == "/market/ticker") {
      ++counts.tickers;
      if (out.size() != 1)
        return fail() << "event count " << out.size();
      const Event &e = out[i++];
      if (e.type != EventType::Bbo ||
          ref_mantissa(dom_str(data["bestBid"]), inst->price_decimals) != e.bbo.bid_price ||
          ref_mantissa(dom_str(data["bestBidSize"]), inst->qty_decimals) != e.bbo.bid_qty ||
          ref_mantissa(dom_str(data["bestAsk"]), inst->price_decimals) != e.bbo.ask_price ||
          ref_mantissa(dom_str(data["bestAskSize"]), inst->qty_decimals) != e.bbo.ask_qty ||
          e.bbo.update_id != text_u64(dom_str(data["sequence"])) ||
          e.exch_ts_ns != static_cast<std::int64_t>(dom_u64(data["time"])) * 1000000)
        return fail() << "Bbo";
    } else if (channel == "/market/match") {
      ++counts.matches;
      if (out.size() != 1)
        return fail() << "event count " << out.size();
      const Event &e = out[i++];
      const bool sell = dom_str(data["side"]) == "sell";
      if (e.type != EventType::Trade ||
          ref_mantissa(dom_str(data["price"]), inst->price_decimals) != e.trade.price ||
          ref_mantissa(dom_str(data["size"]), inst->qty_decimals) != e.trade.qty ||
          e.trade.trade_id != text_u64(dom_str(data["sequence"])) ||
          e.flags != (sell ? kFlagBuyerIsMaker : 0) ||
          e.exch_ts_ns != std::stoll(std::string(dom_str(data["time"]))))
        return fail() << "Trade";
    } else {
      return fail() << "unexpected topic " << topic;
    }
    return ::testing::AssertionSuccess();
  }

  static Counts replay(InstrumentRegistry &registry) {
    Counts counts;
    KucoinParser parser(registry);
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

  static CaptureRecords frames_with(std::string_view needle) {
    return read_capture(kWs, [needle](const Record &l) {
      return l.kind == RecordKind::WsText && l.payload.find(needle) != std::string_view::npos;
    });
  }
};

TEST_F(KucoinParserTest, ParsesEveryFrameOfTheCaptureLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_EQ(load_symbols(registry), 634U);
  const Counts c = replay(registry);
  // PROVENANCE.md: 4,721 received messages; the split by topic is what the text says.
  EXPECT_EQ(c.received, 4721U);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.book + c.tickers + c.matches + c.candles + c.control, c.received);
  EXPECT_EQ(c.book, 3853U);
  EXPECT_EQ(c.tickers, 830U);
  EXPECT_EQ(c.matches, 18U);
  EXPECT_EQ(c.candles, 6U);
  EXPECT_EQ(c.control, 14U); // 1 welcome, 13 acks
  // Every l2update carries one change here; ["0","0",seq] markers yield no level.
  EXPECT_EQ(c.levels + c.markers, 3853U);
  EXPECT_EQ(c.markers, 1355U); // lines with ["0","0",...] in the file: 1,355
}

TEST_F(KucoinParserTest, ParsesEveryRestSnapshotWithItsSequence) {
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0U);
  KucoinParser parser(registry);
  EventBatch out;
  std::size_t snapshots = 0;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    const std::string_view symbol = capture::url_param(l.url, "symbol");
    const Instrument *inst = registry.find(Venue::Kucoin, symbol);
    ASSERT_NE(inst, nullptr) << l.url;
    out.clear();
    ASSERT_EQ(parser.parse_level2_snapshot(l.payload, symbol, 7, out), ParseStatus::Ok) << l.url;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
    ASSERT_EQ(dom_str(body["code"]), "200000");
    const simdjson::dom::element data = body["data"];
    const simdjson::dom::array asks = dom_arr(data["asks"]);
    const simdjson::dom::array bids = dom_arr(data["bids"]);
    ASSERT_EQ(out.size(), asks.size() + bids.size() + 2);
    const Event &b = out[0];
    const std::uint64_t seq = text_u64(dom_str(data["sequence"]));
    EXPECT_EQ(b.type, EventType::BookBegin);
    EXPECT_EQ(b.flags, kFlagSnapshot | kFlagRest | kFlagHasSeq);
    EXPECT_EQ(b.begin.first_seq, seq);
    EXPECT_EQ(b.begin.last_seq, seq);
    EXPECT_EQ(b.begin.levels, asks.size() + bids.size());
    EXPECT_EQ(b.exch_ts_ns, static_cast<std::int64_t>(dom_u64(data["time"])) * 1000000);
    std::size_t i = 1;
    std::size_t markers = 0;
    // The body lists "bids" before "asks".
    EXPECT_TRUE(check_levels(bids, book::Side::Bid, *inst, out, i, markers)) << l.url;
    EXPECT_TRUE(check_levels(asks, book::Side::Ask, *inst, out, i, markers)) << l.url;
    EXPECT_EQ(markers, 0U);
    EXPECT_EQ(out[i].type, EventType::BookEnd);
    ++snapshots;
  }
  EXPECT_EQ(snapshots, 9U); // PROVENANCE.md: 9 snapshots
}

// Without metadata every symbol gets 10 decimals. Stream frames all fit; the BCHSV-USDT
// snapshot holds a size with 11 decimals ("0.00019434546") and is BadNumber, exactly that one.
// Names guessed from the symbol agree with the metadata's except where KuCoin renamed the
// currency (BCHSV is BSV): only the metadata knows that.
TEST_F(KucoinParserTest, ParsesWithDefaultInstrumentsExceptWhatNeedsTheMetadata) {
  InstrumentRegistry registry;
  KucoinParser parser(registry);
  EventBatch out;
  for (const Record &l : read_capture(kWs)) {
    if (l.kind != RecordKind::WsText)
      continue;
    out.clear();
    ASSERT_FALSE(is_error(parser.parse(l.payload, 0, out))) << "line " << l.line;
  }
  simdjson::dom::parser dom;
  std::size_t bad = 0;
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
    int worst = 0;
    for (const char *side : {"asks", "bids"})
      for (const simdjson::dom::element lv : dom_arr(body["data"][side]))
        for (const simdjson::dom::element x : dom_arr(lv))
          worst = std::max(worst, significant_decimals(dom_str(x)));
    out.clear();
    const ParseStatus st =
        parser.parse_level2_snapshot(l.payload, capture::url_param(l.url, "symbol"), 0, out);
    EXPECT_EQ(st, worst > 10 ? ParseStatus::BadNumber : ParseStatus::Ok) << l.url;
    bad += st == ParseStatus::BadNumber ? 1 : 0;
  }
  EXPECT_EQ(bad, 1U);
  InstrumentRegistry with_metadata;
  ASSERT_GT(load_symbols(with_metadata), 0U);
  ASSERT_EQ(registry.size(), 9U); // LTX-USDT never sent anything
  std::size_t renamed = 0;
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    const Instrument &guessed = registry.at(id);
    const Instrument *known = with_metadata.find(Venue::Kucoin, guessed.native);
    ASSERT_NE(known, nullptr) << guessed.native;
    EXPECT_FALSE(guessed.from_metadata);
    EXPECT_EQ(guessed.canonical == known->canonical, guessed.native == known->canonical)
        << guessed.native;
    renamed += guessed.native != known->canonical ? 1U : 0U;
  }
  EXPECT_EQ(renamed, 1U); // BCHSV-USDT -> BSV-USDT
}

// JSON objects are unordered. Real l2update frames reordered mechanically (no value changed):
// data.symbol moved after "changes", and also "data" moved after "type". The changes are then
// met before anything names the symbol: the second pass must give the same events.
TEST_F(KucoinParserTest, ParsesTheSameEventsWhenChangesPrecedeTheSymbol) {
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0U);
  KucoinParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  std::size_t checked = 0;
  for (const Record &l : frames_with("\"subject\":\"trade.l2update\"")) {
    const std::string msg(l.payload);
    const std::size_t data_end = msg.find(",\"subject\":"); // data is the first member
    ASSERT_EQ(msg.substr(0, 9), "{\"data\":{");
    ASSERT_EQ(msg[data_end - 1], '}');
    std::string data = msg.substr(1, data_end - 1);
    const std::size_t s_pos = data.find("\"symbol\":\"");
    const std::size_t s_end = data.find("\",", s_pos + 10);
    const std::string member = data.substr(s_pos, s_end + 1 - s_pos);
    data.erase(s_pos, s_end + 2 - s_pos);
    data.insert(data.size() - 1, "," + member);
    const std::string symbol_last = "{" + data + msg.substr(data_end);
    const std::string data_last =
        "{" + msg.substr(data_end + 1, msg.size() - 2 - data_end) + "," + data + "}";
    ASSERT_EQ(symbol_last.size(), msg.size());
    ASSERT_EQ(data_last.size(), msg.size());
    expected.clear();
    ASSERT_EQ(test::parse_padded_copy(parser, msg, expected), ParseStatus::Ok);
    for (const std::string &reordered : {symbol_last, data_last}) {
      actual.clear();
      ASSERT_EQ(test::parse_padded_copy(parser, reordered, actual), ParseStatus::Ok) << reordered;
      ASSERT_EQ(actual.size(), expected.size());
      for (std::size_t i = 0; i < actual.size(); ++i)
        ASSERT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(Event)), 0)
            << "line " << l.line << " event " << i;
    }
    if (++checked == 500)
      break;
  }
  EXPECT_EQ(checked, 500U);
}

// ---- malformed input ---------------------------------------------------------------------------
class KucoinMalformedTest : public KucoinParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_symbols(registry_), 0U);
    frames_ = read_capture(kWs, [](const Record &l) { return l.kind == RecordKind::WsText; });
    ASSERT_EQ(frames_.size(), 4721U);
    // A few events already in the batch: a failed message must not disturb them.
    ASSERT_EQ(parser_.parse(frames_with("trade.l2update")[1].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
    ASSERT_GT(before_, 0U);
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  InstrumentRegistry registry_;
  KucoinParser parser_{registry_};
  EventBatch out_;
  CaptureRecords frames_;
  std::size_t before_ = 0;
};

TEST_F(KucoinMalformedTest, RejectsEveryTruncatedFrameWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const Record &l : frames_) {
    for (const std::size_t len : test::truncation_lengths(l.payload.size())) {
      const ParseStatus st = parse_copy(std::string(l.payload.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << l.line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 4721U * 14U);
}

// Every 3rd structural byte ({}[],:") of every received frame replaced by a letter. Bytes inside
// strings are not structural (the ':' of "/market/level2:SNX-BTC" is text: replacing it makes
// another, unknown, topic); quotes are, and these frames contain no escaped ones.
TEST_F(KucoinMalformedTest, RejectsEveryFrameWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const Record &l : frames_) {
    std::size_t seen = 0;
    bool in_string = false;
    for (std::size_t pos = 0; pos < l.payload.size(); ++pos) {
      const char c = l.payload[pos];
      const bool quote = c == '"';
      in_string = quote ? !in_string : in_string;
      if (!test::is_structural(c) || (in_string && !quote) || seen++ % 3 != 0)
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
  EXPECT_GT(cases, 50000U);
}

// The last digit of a change's price and, separately, of its size becomes a letter: BadNumber
// (a marker's "0" too: it is checked before it is recognised as a marker).
TEST_F(KucoinMalformedTest, ReportsBadNumberWhenADigitOfAChangeBecomesALetter) {
  std::size_t cases = 0;
  for (const Record &l : frames_with("trade.l2update")) {
    const std::string_view msg = l.payload;
    const std::size_t start = msg.find("[\"");
    ASSERT_NE(start, std::string_view::npos);
    const std::size_t px_end = msg.find('"', start + 2);
    const std::size_t sz_end = msg.find('"', px_end + 3);
    for (const std::size_t pos : {px_end - 1, sz_end - 1}) {
      std::string mutated(msg);
      mutated[pos] = 'a';
      ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber) << "line " << l.line << " byte " << pos;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 2U * 3853U);
}

// Sequence numbers that lose a digit to a letter cannot be chained: Malformed. Likewise a
// change whose own sequence is changed by one digit falls outside its message's range.
TEST_F(KucoinMalformedTest, ReportsMalformedWhenASequenceIsBroken) {
  std::size_t cases = 0;
  for (const Record &l : frames_with("trade.l2update")) {
    for (const char *key : {"\"sequenceStart\":", "\"sequenceEnd\":"}) {
      std::string mutated(l.payload);
      const std::size_t pos = mutated.find(key);
      ASSERT_NE(pos, std::string::npos);
      mutated[pos + std::strlen(key) + 2] = 'z';
      ASSERT_EQ(parse_copy(mutated), ParseStatus::Malformed) << "line " << l.line << " " << key;
      ++cases;
    }
    std::string text(l.payload);
    const std::size_t change_seq_end = text.find("\"]", text.find("[\""));
    ASSERT_EQ(parse_copy(change_digit_before(text, change_seq_end)), ParseStatus::Malformed)
        << "line " << l.line;
    ASSERT_EQ(out_.size(), before_);
    ++cases;
  }
  for (const Record &l : frames_with("trade.ticker")) {
    std::string mutated(l.payload);
    mutated[mutated.find("\"sequence\":\"") + 13] = 'z';
    ASSERT_EQ(parse_copy(mutated), ParseStatus::Malformed) << "line " << l.line;
    ASSERT_EQ(out_.size(), before_);
    ++cases;
  }
  EXPECT_EQ(cases, 3U * 3853U + 830U);
}

// One letter of the symbol changed (first letter -> 'Q', in data.symbol for level2, in the topic
// for tickers): a symbol the metadata does not list is UnknownInstrument, never registered.
TEST_F(KucoinMalformedTest, ReportsUnknownInstrumentForASymbolMissingFromTheMetadata) {
  const std::size_t known = registry_.size();
  std::size_t cases = 0;
  for (const char *needle : {"\"symbol\":\"", "\"topic\":\"/market/ticker:"}) {
    for (const Record &l : frames_with(needle)) {
      if (l.payload.find("trade.l3match") != std::string_view::npos ||
          l.payload.find("trade.candles") != std::string_view::npos)
        continue;
      std::string mutated(l.payload);
      const std::size_t pos = mutated.find(needle) + std::strlen(needle);
      mutated[pos] = 'Q';
      if (registry_.find(Venue::Kucoin, mutated.substr(pos, mutated.find('"', pos) - pos)) != nullptr)
        continue;
      ASSERT_EQ(parse_copy(mutated), ParseStatus::UnknownInstrument) << "line " << l.line;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(registry_.size(), known);
  EXPECT_EQ(cases, 3853U + 830U);
}

TEST_F(KucoinMalformedTest, RejectsACutOrFailedRestSnapshot) {
  std::size_t cases = 0;
  for (const Record &l : read_capture(kSnapshots)) {
    if (l.kind != RecordKind::Http)
      continue;
    const std::string_view symbol = capture::url_param(l.url, "symbol");
    auto parse = [&](std::string text) {
      const std::size_t n = text.size();
      text.append(simdjson::SIMDJSON_PADDING, '\0');
      return parser_.parse_level2_snapshot(std::string_view(text.data(), n), symbol, 0, out_);
    };
    for (const std::size_t len : test::truncation_lengths(l.payload.size())) {
      ASSERT_TRUE(is_error(parse(std::string(l.payload.substr(0, len))))) << l.url << " " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
    // Code "200000" -> "200001": not a successful response.
    std::string failed(l.payload);
    ASSERT_EQ(failed.find("\"code\":\"200000\""), 1U);
    failed[14] = '1';
    ASSERT_EQ(parse(failed), ParseStatus::Malformed);
    ASSERT_EQ(out_.size(), before_);
    ++cases;
  }
  EXPECT_EQ(cases, 9U * 15U);
}

// ---- allocation --------------------------------------------------------------------------------
TEST_F(KucoinParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const CaptureRecords frames = read_capture(kWs);
  const CaptureRecords snapshots = read_capture(kSnapshots);
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0U);
  KucoinParser parser(registry);
  EventBatch out;
  std::size_t messages = 0;
  for (const CaptureRecords *records : {&frames, &snapshots}) {
    for (const Record &l : *records) {
      if (l.kind != RecordKind::WsText && l.kind != RecordKind::Http)
        continue;
      out.clear();
      const std::size_t before = g_allocations.load();
      const ParseStatus st =
          l.kind == RecordKind::WsText
              ? parser.parse(l.payload, 0, out)
              : parser.parse_level2_snapshot(l.payload, capture::url_param(l.url, "symbol"), 0, out);
      ASSERT_EQ(g_allocations.load() - before, 0U) << "line " << l.line;
      ASSERT_FALSE(is_error(st)) << "line " << l.line;
      ++messages;
    }
  }
  EXPECT_EQ(messages, 4721U + 9U);
  // The counter works: a parser without metadata registers on first sight, which allocates.
  InstrumentRegistry empty;
  KucoinParser fresh(empty);
  out.clear();
  const std::size_t before = g_allocations.load();
  ASSERT_EQ(fresh.parse(frames_with("trade.l2update")[0].payload, 0, out), ParseStatus::Ok);
  EXPECT_GT(g_allocations.load() - before, 0U);
}

// ---- metadata ----------------------------------------------------------------------------------
class KucoinMetadataTest : public ::testing::Test {
protected:
  static simdjson::dom::array symbols(simdjson::dom::parser &dom, const CaptureRecords &lines) {
    for (const Record &l : lines)
      if (l.kind == RecordKind::Http) {
        simdjson::dom::element root;
        EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(root), simdjson::SUCCESS);
        return dom_arr(root["data"]);
      }
    ADD_FAILURE() << "no symbols response";
    return {};
  }
};

TEST_F(KucoinMetadataTest, LoadsEverySymbolWithTickLotAndMinimumFromTheResponseText) {
  InstrumentRegistry registry;
  EXPECT_FALSE(registry.has_metadata(Venue::Kucoin));
  ASSERT_EQ(load_symbols(registry), 634U);
  EXPECT_TRUE(registry.has_metadata(Venue::Kucoin));
  simdjson::dom::parser dom;
  const CaptureRecords lines = read_capture(kSymbols);
  std::size_t checked = 0;
  std::size_t renamed = 0;
  for (const simdjson::dom::element item : symbols(dom, lines)) {
    const std::string_view symbol = dom_str(item["symbol"]);
    const Instrument *inst = registry.find(Venue::Kucoin, symbol);
    ASSERT_NE(inst, nullptr) << symbol;
    EXPECT_TRUE(inst->from_metadata);
    EXPECT_EQ(inst->kind, InstrumentKind::Spot);
    EXPECT_EQ(inst->contract, ContractType::None);
    // The display name ("name", not read by the loader) is the canonical name.
    EXPECT_EQ(inst->canonical, upper(dom_str(item["name"]))) << symbol;
    EXPECT_EQ(registry.find_canonical(Venue::Kucoin, inst->canonical), inst);
    renamed += inst->canonical != symbol ? 1U : 0U;
    const std::string_view price_inc = dom_str(item["priceIncrement"]);
    const std::string_view base_inc = dom_str(item["baseIncrement"]);
    const std::string_view base_min = dom_str(item["baseMinSize"]);
    EXPECT_EQ(inst->price_decimals, significant_decimals(price_inc)) << symbol;
    EXPECT_EQ(ref_mantissa(price_inc, inst->price_decimals), inst->tick) << symbol;
    EXPECT_EQ(ref_mantissa(base_inc, inst->qty_decimals), inst->lot) << symbol;
    EXPECT_EQ(ref_mantissa(base_min, inst->qty_decimals), inst->min_qty) << symbol;
    EXPECT_GE(inst->qty_decimals, significant_decimals(base_inc)) << symbol;
    // A level of 10^8 minimum orders fits the size scale.
    EXPECT_LE(inst->min_qty, std::numeric_limits<std::int64_t>::max() / 100000000) << symbol;
    ++checked;
  }
  EXPECT_EQ(checked, 634U);
  // BCHSV-* -> BSV-* (5), WAX-* -> WAXP-* (3), LOKI-* -> OXEN-* (3), R-* -> REV-* (2); LYXE-* is
  // named LYXe-*, the same once upper-cased.
  EXPECT_EQ(renamed, 13U);
}

// Every price and size the capture writes (level2 changes, REST snapshots, tickers, matches)
// fits its symbol's scales; sizes finer than baseIncrement occur (why the scale is wider).
TEST_F(KucoinMetadataTest, EveryCapturedNumberFitsItsSymbolsScales) {
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0U);
  simdjson::dom::parser dom;
  std::size_t numbers = 0;
  std::size_t finer_than_lot = 0;
  auto check = [&](std::string_view symbol, std::string_view px, std::string_view sz) {
    const Instrument *inst = registry.find(Venue::Kucoin, symbol);
    ASSERT_NE(inst, nullptr) << symbol;
    ASSERT_TRUE(ref_mantissa(px, inst->price_decimals).has_value()) << symbol << " " << px;
    const auto q = ref_mantissa(sz, inst->qty_decimals);
    ASSERT_TRUE(q.has_value()) << symbol << " " << sz;
    finer_than_lot += *q % inst->lot != 0 ? 1U : 0U;
    ++numbers;
  };
  for (const char *file : {kWs, kSnapshots}) {
    for (const Record &l : read_capture(file)) {
      if (l.kind != RecordKind::WsText && l.kind != RecordKind::Http)
        continue;
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      if (l.kind == RecordKind::Http) {
        for (const char *side : {"asks", "bids"})
          for (const simdjson::dom::element lv : dom_arr(msg["data"][side]))
            check(capture::url_param(l.url, "symbol"), dom_str(dom_arr(lv).at(0)),
                  dom_str(dom_arr(lv).at(1)));
        continue;
      }
      std::string_view topic;
      if (msg["topic"].get_string().get(topic))
        continue; // welcome, ack
      const std::string_view symbol = topic.substr(topic.find(':') + 1);
      const simdjson::dom::element d = msg["data"];
      if (topic.starts_with("/market/level2:")) {
        for (const char *side : {"asks", "bids"})
          for (const simdjson::dom::element lv : dom_arr(d["changes"][side]))
            check(symbol, dom_str(dom_arr(lv).at(0)), dom_str(dom_arr(lv).at(1)));
      } else if (topic.starts_with("/market/ticker:")) {
        check(symbol, dom_str(d["bestBid"]), dom_str(d["bestBidSize"]));
        check(symbol, dom_str(d["bestAsk"]), dom_str(d["bestAskSize"]));
      } else if (topic.starts_with("/market/match:")) {
        check(symbol, dom_str(d["price"]), dom_str(d["size"]));
      }
    }
  }
  EXPECT_GT(numbers, 10000U);
  EXPECT_GT(finer_than_lot, 0U);
}

// cryptofeed's `configuration:` line names the subscribed symbols as BASE-QUOTE (BSV-USDT); each
// is our canonical name, and its native symbol is one the stream subscribed (BCHSV-USDT).
TEST_F(KucoinMetadataTest, CanonicalNamesMatchTheRecordersConfiguration) {
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0U);
  simdjson::dom::parser dom;
  std::set<std::string> names;
  for (const Record &l : read_capture(kSymbols)) {
    if (l.kind != RecordKind::Config)
      continue;
    simdjson::dom::element cfg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(cfg), simdjson::SUCCESS);
    for (const simdjson::dom::element n : dom_arr(cfg["l2_book"]))
      names.emplace(dom_str(n));
  }
  std::set<std::string> subscribed; // the symbols of the level2 subscription the client sent
  for (const Record &l : read_capture(kWs)) {
    if (l.kind != RecordKind::WsSent)
      continue;
    simdjson::dom::element req;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(req), simdjson::SUCCESS);
    std::string_view topic = dom_str(req["topic"]);
    if (!topic.starts_with("/market/level2:"))
      continue;
    topic.remove_prefix(15);
    for (std::size_t start = 0; start <= topic.size();) {
      const std::size_t comma = std::min(topic.find(',', start), topic.size());
      subscribed.emplace(topic.substr(start, comma - start));
      start = comma + 1;
    }
  }
  ASSERT_EQ(names.size(), 10U);
  ASSERT_EQ(subscribed.size(), 10U);
  std::set<std::string> natives;
  for (const std::string &name : names) {
    const Instrument *inst = registry.find_canonical(Venue::Kucoin, name);
    ASSERT_NE(inst, nullptr) << name;
    natives.insert(inst->native);
  }
  EXPECT_EQ(natives, subscribed);
  EXPECT_EQ(registry.find_canonical(Venue::Kucoin, "BSV-USDT")->native, "BCHSV-USDT");
}

TEST_F(KucoinMetadataTest, RegistersNothingFromATruncatedOrForeignResponse) {
  for (const Record &l : read_capture(kSymbols)) {
    if (l.kind != RecordKind::Http)
      continue;
    InstrumentRegistry registry;
    EXPECT_EQ(load_kucoin_symbols(l.payload.substr(0, l.payload.size() / 2), registry), 0U);
    EXPECT_FALSE(registry.has_metadata(Venue::Kucoin));
  }
  for (const Record &l : read_capture(kSnapshots)) { // a level-2 body is not a symbols list
    if (l.kind != RecordKind::Http)
      continue;
    InstrumentRegistry registry;
    EXPECT_EQ(load_kucoin_symbols(l.payload, registry), 0U);
    EXPECT_FALSE(registry.has_metadata(Venue::Kucoin));
  }
}

} // namespace
} // namespace fh::venues
