// labels: unit replay
// KrakenParser (WS v1) over the real Kraken captures in data/kraken/cryptofeed (PROVENANCE.md,
// "Kraken"). Every expected value comes from the venue text itself, read independently here
// with simdjson's DOM API and a separate decimal reader, or from the counts in PROVENANCE.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kraken.hpp"
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
using test::significant_decimals;
using test::wire_decimals;

// ---- independent oracles ---------------------------------------------------------------------
// Shared ones (decimal text, DOM accessors): tests/support/text_oracles.hpp.
// Kraken times: "1618678133.365913" seconds -> ns, by string surgery (fraction padded to 9).
std::int64_t seconds_text_to_ns(std::string_view s) {
  const std::size_t dot = s.find('.');
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  frac.resize(9, '0');
  return std::stoll(std::string(s.substr(0, dot))) * 1000000000LL + std::stoll(frac);
}

// ---- fixture ---------------------------------------------------------------------------------
class KrakenParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(kMeta))
      if (l.kind == RecordKind::Http)
        n += load_kraken_asset_pairs(l.payload, registry);
    return n;
  }

  struct Counts {
    std::size_t received = 0;
    std::size_t snapshots = 0;
    std::size_t updates = 0;
    std::size_t with_checksum = 0;
    std::size_t two_dicts = 0;
    std::size_t trade_messages = 0;
    std::size_t trades = 0;
    std::size_t tickers = 0;
    std::size_t ignored = 0;
    std::size_t errors = 0;
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
    if (msg.is_object()) { // heartbeat, systemStatus, subscriptionStatus
      ++counts.ignored;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "event not ignored";
      return ::testing::AssertionSuccess();
    }
    const simdjson::dom::array a = dom_arr(msg);
    const std::size_t n = a.size();
    const std::string_view channel = dom_str(a.at(n - 2));
    const Instrument *inst = registry.find(Venue::Kraken, dom_str(a.at(n - 1)));
    if (inst == nullptr)
      return fail() << "pair not in metadata";
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::Kraken || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    std::size_t i = 0;
    if (channel.substr(0, 5) == "book-") {
      const auto depth = static_cast<std::uint32_t>(std::stoul(std::string(channel.substr(5))));
      if (out.size() < 2)
        return fail() << "too few events";
      const Event &b = out[i++];
      bool snapshot = false;
      std::optional<std::int64_t> checksum;
      std::int64_t last_ts = 0;
      std::uint32_t levels = 0;
      counts.two_dicts += n == 5 ? 1 : 0;
      for (std::size_t k = 1; k + 2 < n; ++k) {
        simdjson::dom::object dict;
        if (a.at(k).get_object().get(dict))
          return fail() << "payload not an object";
        for (const auto [key, value] : dict) {
          if (key == "c") {
            checksum = std::stoll(std::string(dom_str(value)));
            continue;
          }
          snapshot |= key == "as" || key == "bs";
          const book::Side side = key[0] == 'a' ? book::Side::Ask : book::Side::Bid;
          for (const simdjson::dom::element lv : dom_arr(value)) {
            const simdjson::dom::array l = dom_arr(lv);
            const std::string_view px = dom_str(l.at(0));
            const std::string_view sz = dom_str(l.at(1));
            last_ts = seconds_text_to_ns(dom_str(l.at(2)));
            if (i >= out.size())
              return fail() << "too few events";
            const Event &e = out[i++];
            ++levels;
            if (e.type != EventType::BookLevel || e.side != side ||
                ref_mantissa(px, inst->price_decimals) != e.level.price ||
                ref_mantissa(sz, inst->qty_decimals) != e.level.qty ||
                wire_decimals(px) != e.level.price_text_dp ||
                wire_decimals(sz) != e.level.qty_text_dp || e.level.orders != 0)
              return fail() << "level " << px << " " << sz;
          }
        }
      }
      if (b.type != EventType::BookBegin || b.begin.levels != levels || b.begin.depth != depth ||
          b.exch_ts_ns != last_ts || b.flags != (snapshot ? kFlagSnapshot : 0))
        return fail() << "BookBegin";
      counts.snapshots += snapshot ? 1U : 0U;
      counts.updates += snapshot ? 0U : 1U;
      counts.with_checksum += checksum ? 1U : 0U;
      if (i >= out.size())
        return fail() << "no BookEnd";
      const Event &end = out[i++];
      if (end.type != EventType::BookEnd || end.exch_ts_ns != last_ts ||
          end.flags != (checksum ? kFlagHasChecksum : 0) ||
          end.end.checksum != checksum.value_or(0))
        return fail() << "BookEnd";
    } else if (channel == "trade") {
      ++counts.trade_messages;
      for (const simdjson::dom::element t : dom_arr(a.at(1))) {
        const simdjson::dom::array f = dom_arr(t);
        if (i >= out.size())
          return fail() << "too few events";
        const Event &e = out[i++];
        ++counts.trades;
        const bool sell = dom_str(f.at(3)) == "s";
        if (e.type != EventType::Trade ||
            ref_mantissa(dom_str(f.at(0)), inst->price_decimals) != e.trade.price ||
            ref_mantissa(dom_str(f.at(1)), inst->qty_decimals) != e.trade.qty ||
            e.trade.trade_id != 0 || e.flags != (sell ? kFlagBuyerIsMaker : 0) ||
            e.exch_ts_ns != seconds_text_to_ns(dom_str(f.at(2))))
          return fail() << "Trade";
      }
    } else if (channel == "ticker") {
      ++counts.tickers;
      const simdjson::dom::array ask = dom_arr(a.at(1)["a"]);
      const simdjson::dom::array bid = dom_arr(a.at(1)["b"]);
      if (out.size() != 1)
        return fail() << "one Bbo expected";
      const Event &e = out[i++];
      if (e.type != EventType::Bbo ||
          ref_mantissa(dom_str(ask.at(0)), inst->price_decimals) != e.bbo.ask_price ||
          ref_mantissa(dom_str(ask.at(2)), inst->qty_decimals) != e.bbo.ask_qty ||
          ref_mantissa(dom_str(bid.at(0)), inst->price_decimals) != e.bbo.bid_price ||
          ref_mantissa(dom_str(bid.at(2)), inst->qty_decimals) != e.bbo.bid_qty ||
          e.bbo.update_id != 0)
        return fail() << "Bbo";
    } else {
      return fail() << "unexpected channel " << channel;
    }
    if (i != out.size())
      return fail() << "extra events: " << out.size() << " vs " << i;
    return ::testing::AssertionSuccess();
  }

  static Counts replay(const char *rel, InstrumentRegistry &registry) {
    Counts counts;
    KrakenParser parser(registry);
    EventBatch out;
    std::int64_t recv_ts = 1;
    for (const Record &l : read_capture(rel)) {
      if (l.kind != RecordKind::WsText)
        continue;
      ++counts.received;
      out.clear();
      const ParseStatus st = parser.parse(l.payload, ++recv_ts, out);
      counts.errors += is_error(st) ? 1U : 0U;
      const auto ok = check_message(l, st, out, registry, recv_ts, counts);
      EXPECT_TRUE(ok) << rel;
      if (!ok)
        break;
    }
    return counts;
  }

  // The received data messages (arrays) of a capture.
  static bool is_data_message(const Record &l) {
    return is_received(l) && !l.payload.empty() && l.payload.front() == '[';
  }
  static CaptureRecords data_messages(const char *rel) {
    return read_capture(rel, is_data_message);
  }

  static constexpr const char *kBook = "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz";
  static constexpr const char *kTrade = "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz";
  static constexpr const char *kTicker = "kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz";
  static constexpr const char *kMeta = "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz";
};

TEST_F(KrakenParserTest, ParsesEveryBookMessageLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const Counts c = replay(kBook, registry);
  // PROVENANCE.md: 4,321 messages, 10 snapshots, 4,269 updates, 4,269 checksums.
  EXPECT_EQ(c.received, 4321U);
  EXPECT_EQ(c.snapshots, 10U);
  EXPECT_EQ(c.updates, 4269U);
  EXPECT_EQ(c.with_checksum, 4269U);
  EXPECT_GT(c.two_dicts, 0U); // [id, {"a":..}, {"b":..,"c":..}, "book-1000", pair] occurs
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.snapshots + c.updates + c.ignored, c.received);
}

TEST_F(KrakenParserTest, ParsesEveryTradeAndTickerMessageLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const Counts trades = replay(kTrade, registry);
  EXPECT_EQ(trades.received, 49U); // PROVENANCE.md
  EXPECT_EQ(trades.errors, 0U);
  EXPECT_EQ(trades.trade_messages + trades.ignored, trades.received);
  EXPECT_GT(trades.trades, trades.trade_messages); // some messages carry several trades
  const Counts tickers = replay(kTicker, registry);
  EXPECT_EQ(tickers.received, 60U); // PROVENANCE.md
  EXPECT_EQ(tickers.errors, 0U);
  EXPECT_EQ(tickers.tickers + tickers.ignored, tickers.received);
  EXPECT_GT(tickers.tickers, 0U);
}

// The wire carries more decimals than pair_decimals ("354.80000000" for XMR/USD, 2): every
// level must fit the metadata scale (extra digits are zeros) and keep its wire decimals.
TEST_F(KrakenParserTest, EveryBookLevelFitsTheMetadataScale) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  std::size_t levels = 0;
  std::size_t wider_than_metadata = 0;
  simdjson::dom::parser dom;
  for (const Record &l : data_messages(kBook)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    const simdjson::dom::array a = dom_arr(msg);
    const Instrument *inst = registry.find(Venue::Kraken, dom_str(a.at(a.size() - 1)));
    ASSERT_NE(inst, nullptr);
    for (std::size_t k = 1; k + 2 < a.size(); ++k) {
      simdjson::dom::object dict;
      ASSERT_EQ(a.at(k).get_object().get(dict), simdjson::SUCCESS);
      for (const auto [key, value] : dict) {
        if (key == "c")
          continue;
        for (const simdjson::dom::element lv : dom_arr(value)) {
          const std::string_view px = dom_str(dom_arr(lv).at(0));
          const std::string_view sz = dom_str(dom_arr(lv).at(1));
          ASSERT_LE(significant_decimals(px), inst->price_decimals) << inst->native << " " << px;
          ASSERT_LE(significant_decimals(sz), inst->qty_decimals) << inst->native << " " << sz;
          wider_than_metadata += wire_decimals(px) > inst->price_decimals ? 1U : 0U;
          ++levels;
        }
      }
    }
  }
  EXPECT_GT(levels, 10000U);
  EXPECT_GT(wider_than_metadata, 0U);
}

// Without metadata pairs are registered on first sight at 8 decimals, which every Kraken
// price and volume in the capture fits: the replay still matches the DOM view.
TEST_F(KrakenParserTest, ParsesTheCaptureWithDefaultInstrumentsWhenNoMetadataIsLoaded) {
  InstrumentRegistry registry;
  const Counts c = replay(kBook, registry);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.snapshots, 10U);
  EXPECT_EQ(c.updates, 4269U);
  EXPECT_EQ(registry.size(), 10U);
  InstrumentRegistry with_metadata;
  ASSERT_GT(load_metadata(with_metadata), 0U);
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    const Instrument &guessed = registry.at(id);
    const Instrument *known = with_metadata.find(Venue::Kraken, guessed.native);
    ASSERT_NE(known, nullptr) << guessed.native;
    EXPECT_EQ(guessed.canonical, known->canonical);
    EXPECT_FALSE(guessed.from_metadata);
  }
}

TEST_F(KrakenParserTest, ReportsUnknownInstrumentWhenMetadataLacksThePair) {
  InstrumentRegistry registry;
  registry.mark_metadata_loaded(Venue::Kraken); // metadata that lists none of these pairs
  KrakenParser parser(registry);
  EventBatch out;
  std::size_t n = 0;
  for (const Record &l : data_messages(kBook)) {
    out.clear();
    ASSERT_EQ(parser.parse(l.payload, 0, out), ParseStatus::UnknownInstrument) << l.line;
    ASSERT_EQ(out.size(), 0U);
    ++n;
  }
  EXPECT_EQ(n, 4279U);
}

// JSON allows "\/" for "/". Real messages with the pair's slash escaped mechanically (the
// only change) take the parser's slow name path and must give the same events.
TEST_F(KrakenParserTest, ParsesTheSameEventsWhenThePairIsEscaped) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  KrakenParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  std::size_t n = 0;
  for (const char *file : {kBook, kTrade, kTicker}) {
    const CaptureRecords msgs = data_messages(file);
    for (std::size_t k = 0; k < msgs.size(); k += 13) {
      const std::string_view msg = msgs[k].payload;
      const std::size_t slash = msg.rfind('/');
      ASSERT_NE(slash, std::string_view::npos);
      std::string escaped =
          std::string(msg.substr(0, slash)) + "\\" + std::string(msg.substr(slash));
      const std::size_t size = escaped.size();
      escaped.append(simdjson::SIMDJSON_PADDING, '\0');
      expected.clear();
      actual.clear();
      ASSERT_EQ(parser.parse(msg, 7, expected), ParseStatus::Ok);
      ASSERT_EQ(parser.parse(std::string_view(escaped.data(), size), 7, actual), ParseStatus::Ok)
          << file << " line " << msgs[k].line;
      ASSERT_EQ(actual.size(), expected.size());
      for (std::size_t i = 0; i < actual.size(); ++i)
        ASSERT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(Event)), 0) << "event " << i;
      ++n;
    }
  }
  EXPECT_GT(n, 300U);
}

// Malformed input is produced mechanically from real messages: cut at several offsets, a
// structural byte replaced, a digit replaced by a letter. The batch must be left as it was.
class KrakenMalformedTest : public KrakenParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_metadata(registry_), 0U);
    msgs_.add(kBook, is_data_message).add(kTrade, is_data_message).add(kTicker, is_data_message);
    ASSERT_EQ(parser_.parse(msgs_[0].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  // Snapshots, one- and two-dict updates, trades, tickers.
  std::vector<std::size_t> samples() const {
    std::vector<std::size_t> s;
    for (std::size_t i = 0; i < msgs_.size(); i += 41)
      s.push_back(i);
    for (std::size_t i = msgs_.size() - 80; i < msgs_.size(); i += 3)
      s.push_back(i);
    for (std::size_t i = 0; i < msgs_.size(); ++i)
      if (msgs_[i].payload.find("]]},{\"") != std::string_view::npos && s.size() < 400)
        s.push_back(i);
    return s;
  }
  InstrumentRegistry registry_;
  KrakenParser parser_{registry_};
  EventBatch out_;
  CaptureRecords msgs_;
  std::size_t before_ = 0;
};

TEST_F(KrakenMalformedTest, RejectsTruncatedMessagesWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = msgs_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = parse_copy(std::string(msg.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << msgs_[k].line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000U);
}

TEST_F(KrakenMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = msgs_[k].payload;
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      const char c = msg[pos];
      if (!test::is_structural(c))
        continue;
      // Every structural byte of short messages, every 5th of long ones.
      if (msg.size() > 2000 && seen++ % 5 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << msgs_[k].line << " byte " << pos << " '" << c
                                << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 5000U);
}

TEST_F(KrakenMalformedTest, ReportsBadNumberWhenADigitBecomesALetter) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = msgs_[k].payload;
    // In book and trade messages every string that starts with a digit is a price, volume,
    // time or checksum the parser reads; in a ticker those are the ones in "a" and "b" (the
    // fields from "c" on are statistics it does not use). Its last digit becomes a letter
    // (every 3rd such string).
    const std::size_t limit = msg.find(",\"c\":[");
    std::size_t seen = 0;
    for (std::size_t pos = msg.find('"'); pos < limit && pos != std::string_view::npos;
         pos = msg.find('"', pos + 1)) {
      const std::size_t close = msg.find('"', pos + 1);
      ASSERT_NE(close, std::string_view::npos);
      const bool numeric = msg[pos + 1] >= '0' && msg[pos + 1] <= '9';
      if (numeric && seen++ % 3 == 0) {
        std::string mutated(msg);
        mutated[close - 1] = 'q';
        ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
            << "line " << msgs_[k].line << " byte " << close - 1;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
      pos = close;
    }
  }
  EXPECT_GT(cases, 1000U);
}

// With metadata loaded nothing allocates, not even the first message of a pair. With
// defaults, only the first sight of a pair does (the registry adds it).
TEST_F(KrakenParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_metadata(registry), 0U);
    }
    KrakenParser parser(registry);
    EventBatch out;
    std::size_t messages = 0;
    std::size_t first_sight_allocations = 0;
    for (const char *file : {kBook, kTrade, kTicker}) {
      for (const Record &l : read_capture(file)) {
        if (l.kind != RecordKind::WsText)
          continue;
        const std::size_t known = registry.size();
        out.clear();
        const std::size_t before = g_allocations.load();
        const ParseStatus st = parser.parse(l.payload, 0, out);
        const std::size_t allocations = g_allocations.load() - before;
        if (registry.size() == known) {
          ASSERT_EQ(allocations, 0U) << file << ":" << l.line << " " << to_cstring(st);
        } else {
          first_sight_allocations += allocations;
        }
        ++messages;
      }
    }
    EXPECT_EQ(messages, 4321U + 49U + 60U);
    if (!metadata) {
      EXPECT_GT(first_sight_allocations, 0U);
    }
  }
}

} // namespace
} // namespace fh::venues
