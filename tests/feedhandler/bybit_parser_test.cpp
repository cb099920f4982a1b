// labels: unit replay
// BybitParser over the real Bybit captures in data/bybit (PROVENANCE.md, "Bybit"): the v5
// orderbook.500 file and the legacy 2021 orderBookL2_25 + trade capture. Every expected value
// comes from the venue text itself, read independently here with simdjson's DOM API and the
// decimal oracles of tests/support/text_oracles.hpp, or from PROVENANCE.md. Malformed inputs
// are real messages corrupted mechanically (cut, a structural byte or a digit replaced), as each
// test says.
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/replay.hpp"
#include "feedhandler/venues/bybit.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/replay_helpers.hpp"
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
using test::wire_decimals;

constexpr const char *kV5 = "bybit/nautilus/2024-12-01_XRPUSDT_ob500.data.zip";
constexpr const char *kLegacyWs =
    "bybit/cryptofeed/legacy_linear_orderBookL2_25_trade_2021-04-17_ws.txt.gz";
constexpr const char *kLegacySymbols = "bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
std::uint64_t dom_u64(simdjson::dom::element e) {
  std::uint64_t v = 0;
  if (e.is_string())
    return std::stoull(std::string(dom_str(e)));
  EXPECT_EQ(e.get_uint64().get(v), simdjson::SUCCESS);
  return v;
}

// A JSON number as Bybit wrote it: the shortest text that reads back as the same double.
std::string number_text(simdjson::dom::element e) {
  if (e.is_string())
    return std::string(dom_str(e));
  double d = 0;
  EXPECT_EQ(e.get_double().get(d), simdjson::SUCCESS);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::int64_t mantissa(const std::string &text, int decimals) {
  const auto m = ref_mantissa(text, decimals);
  EXPECT_TRUE(m.has_value()) << text << " at " << decimals;
  return m.value_or(-1);
}

// A UUID's first 64 bits: its first 16 hex digits, dashes removed.
std::uint64_t uuid_prefix(std::string_view uuid) {
  std::string hex;
  for (const char c : uuid)
    if (c != '-')
      hex += c;
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

std::size_t load_symbols(InstrumentRegistry &registry) {
  std::size_t n = 0;
  for (const Record &r : read_capture(kLegacySymbols))
    if (r.kind == RecordKind::Http)
      n += load_bybit_legacy_symbols(r.payload, registry);
  return n;
}

// ---- fixture ---------------------------------------------------------------------------------
class BybitParserTest : public ::testing::Test {
protected:
  static CaptureRecords received(const char *rel) {
    return read_capture(rel, [](const Record &r) { return r.kind == RecordKind::WsText; });
  }
  simdjson::dom::parser dom_;
};

TEST_F(BybitParserTest, V5OrderbookEventsMatchTheDomViewOfEveryLine) {
  InstrumentRegistry registry;
  BybitParser parser(Venue::BybitLinear, registry);
  EventBatch out;
  const CaptureRecords lines = received(kV5);
  ASSERT_EQ(lines.size(), 50u); // PROVENANCE: u 20254869 -> 20254918, no gaps
  for (const Record &l : lines) {
    out.clear();
    ASSERT_EQ(parser.parse(l.payload, 7, out), ParseStatus::Ok) << "line " << l.line;
    simdjson::dom::element msg;
    ASSERT_EQ(dom_.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    const Instrument *inst = registry.find(Venue::BybitLinear, dom_str(msg["data"]["s"]));
    ASSERT_NE(inst, nullptr);
    EXPECT_EQ(inst->canonical, "XRP-USDT-PERP");
    EXPECT_EQ(dom_str(msg["topic"]), "orderbook.500." + inst->native);
    const bool snapshot = dom_str(msg["type"]) == "snapshot";
    const std::uint64_t u = dom_u64(msg["data"]["u"]);
    const std::int64_t cts_ns = static_cast<std::int64_t>(dom_u64(msg["cts"])) * 1'000'000;
    const simdjson::dom::array bids = dom_arr(msg["data"]["b"]);
    const simdjson::dom::array asks = dom_arr(msg["data"]["a"]);
    ASSERT_EQ(out.size(), bids.size() + asks.size() + 2) << "line " << l.line;
    const Event &b = out[0];
    EXPECT_EQ(b.type, EventType::BookBegin);
    EXPECT_EQ(b.flags, kFlagHasSeq | (snapshot ? kFlagSnapshot : 0));
    EXPECT_EQ(b.begin.first_seq, u);
    EXPECT_EQ(b.begin.last_seq, u);
    EXPECT_EQ(b.begin.prev_seq, u - 1);
    EXPECT_EQ(b.begin.levels, bids.size() + asks.size());
    EXPECT_EQ(b.exch_ts_ns, cts_ns);
    std::size_t i = 1;
    for (const auto &[levels, side] :
         {std::pair{bids, book::Side::Bid}, std::pair{asks, book::Side::Ask}}) {
      for (const simdjson::dom::element lv : levels) {
        const std::string px(dom_str(dom_arr(lv).at(0)));
        const std::string sz(dom_str(dom_arr(lv).at(1)));
        const Event &e = out[i++];
        ASSERT_EQ(e.type, EventType::BookLevel);
        EXPECT_EQ(e.side, side);
        EXPECT_EQ(e.level.price, mantissa(px, inst->price_decimals));
        EXPECT_EQ(e.level.qty, mantissa(sz, inst->qty_decimals));
        EXPECT_EQ(e.level.price_text_dp, wire_decimals(px));
        EXPECT_EQ(e.level.qty_text_dp, wire_decimals(sz));
      }
    }
    EXPECT_EQ(out[i].type, EventType::BookEnd);
    EXPECT_EQ(out[i].exch_ts_ns, cts_ns);
    for (const Event &e : out) {
      EXPECT_EQ(e.venue, Venue::BybitLinear);
      EXPECT_EQ(e.instrument, inst->id);
      EXPECT_EQ(e.recv_ts_ns, 7);
    }
  }
}

// The same wire format on the other v5 categories: one parser per venue id, events carry it.
TEST_F(BybitParserTest, EachVenueIdKeepsItsOwnInstruments) {
  InstrumentRegistry registry;
  BybitParser spot(Venue::BybitSpot, registry);
  BybitParser inverse(Venue::BybitInverse, registry);
  EventBatch out;
  const CaptureRecords lines = received(kV5);
  ASSERT_EQ(spot.parse(lines[0].payload, 0, out), ParseStatus::Ok);
  ASSERT_EQ(inverse.parse(lines[0].payload, 0, out), ParseStatus::Ok);
  const Instrument *s = registry.find(Venue::BybitSpot, "XRPUSDT");
  const Instrument *v = registry.find(Venue::BybitInverse, "XRPUSDT");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(v, nullptr);
  EXPECT_NE(s->id, v->id);
  EXPECT_EQ(s->canonical, "XRP-USDT");
  EXPECT_EQ(s->kind, InstrumentKind::Spot);
  EXPECT_EQ(out[0].venue, Venue::BybitSpot);
  EXPECT_EQ(out[0].instrument, s->id);
  EXPECT_EQ(out[out.size() / 2 + 1].venue, Venue::BybitInverse);
}

TEST_F(BybitParserTest, LegacyEventsMatchTheDomViewOfEveryLine) {
  InstrumentRegistry registry;
  ASSERT_EQ(load_symbols(registry), 15u);
  BybitParser parser(Venue::BybitLinear, registry);
  EventBatch out;
  const CaptureRecords lines = received(kLegacyWs);
  std::map<std::string, std::uint64_t> last_cross_seq;
  std::size_t books = 0, trade_messages = 0, trades = 0, acks = 0;
  for (const Record &l : lines) {
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 11, out);
    simdjson::dom::element msg;
    ASSERT_EQ(dom_.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    if (msg["topic"].error()) { // {"success":true,...,"request":{"op":"subscribe",...}}
      ASSERT_EQ(st, ParseStatus::Ignored) << "line " << l.line;
      ASSERT_EQ(out.size(), 0u);
      ++acks;
      continue;
    }
    ASSERT_EQ(st, ParseStatus::Ok) << "line " << l.line;
    const std::string topic(dom_str(msg["topic"]));
    const std::string native = topic.substr(topic.find('.') + 1);
    const Instrument *inst = registry.find(Venue::BybitLinear, native);
    ASSERT_NE(inst, nullptr);
    for (const Event &e : out) {
      ASSERT_EQ(e.venue, Venue::BybitLinear);
      ASSERT_EQ(e.instrument, inst->id);
      ASSERT_EQ(e.recv_ts_ns, 11);
    }
    if (topic.rfind("trade.", 0) == 0) {
      ++trade_messages;
      const simdjson::dom::array data = dom_arr(msg["data"]);
      ASSERT_EQ(out.size(), data.size());
      std::size_t i = 0;
      for (const simdjson::dom::element t : data) {
        const Event &e = out[i++];
        ASSERT_EQ(e.type, EventType::Trade);
        EXPECT_EQ(e.trade.price, mantissa(std::string(dom_str(t["price"])), inst->price_decimals));
        EXPECT_EQ(e.trade.qty, mantissa(number_text(t["size"]), inst->qty_decimals));
        EXPECT_EQ(e.trade.trade_id, uuid_prefix(dom_str(t["trade_id"])));
        EXPECT_EQ(e.flags, dom_str(t["side"]) == "Sell" ? kFlagBuyerIsMaker : 0);
        EXPECT_EQ(e.exch_ts_ns, static_cast<std::int64_t>(dom_u64(t["trade_time_ms"])) * 1'000'000);
        ++trades;
      }
      continue;
    }
    ++books;
    const bool snapshot = dom_str(msg["type"]) == "snapshot";
    const std::uint64_t cs = dom_u64(msg["cross_seq"]);
    const std::int64_t ts_ns = static_cast<std::int64_t>(dom_u64(msg["timestamp_e6"])) * 1000;
    std::vector<std::pair<simdjson::dom::element, bool>> entries; // entry, is a delete
    if (snapshot) {
      for (const simdjson::dom::element e : dom_arr(msg["data"]["order_book"]))
        entries.emplace_back(e, false);
    } else {
      for (const char *list : {"delete", "update", "insert"})
        for (const simdjson::dom::element e : dom_arr(msg["data"][list]))
          entries.emplace_back(e, std::string_view(list) == "delete");
    }
    ASSERT_EQ(out.size(), entries.size() + 2) << "line " << l.line;
    const Event &b = out[0];
    EXPECT_EQ(b.type, EventType::BookBegin);
    EXPECT_EQ(b.flags, kFlagHasSeq | (snapshot ? kFlagSnapshot : 0)) << "line " << l.line;
    EXPECT_EQ(b.begin.first_seq, cs);
    EXPECT_EQ(b.begin.last_seq, cs);
    if (!snapshot) { // chained to the topic's previous message
      ASSERT_EQ(last_cross_seq.count(topic), 1u);
      EXPECT_EQ(b.begin.prev_seq, last_cross_seq[topic]) << "line " << l.line;
    }
    last_cross_seq[topic] = cs;
    EXPECT_EQ(b.begin.levels, entries.size());
    EXPECT_EQ(b.exch_ts_ns, ts_ns);
    std::size_t i = 1;
    for (const auto &[entry, is_delete] : entries) {
      const Event &e = out[i++];
      ASSERT_EQ(e.type, EventType::BookLevel);
      EXPECT_EQ(e.side, dom_str(entry["side"]) == "Buy" ? book::Side::Bid : book::Side::Ask);
      EXPECT_EQ(e.level.price,
                mantissa(std::string(dom_str(entry["price"])), inst->price_decimals));
      EXPECT_EQ(e.level.qty,
                is_delete ? 0 : mantissa(number_text(entry["size"]), inst->qty_decimals))
          << "line " << l.line;
    }
    EXPECT_EQ(out[i].type, EventType::BookEnd);
    EXPECT_EQ(out[i].exch_ts_ns, ts_ns);
  }
  EXPECT_EQ(books, 8u + 3252u); // PROVENANCE: 8 snapshots, 3,252 deltas
  EXPECT_EQ(trade_messages, 66u);
  EXPECT_EQ(acks, 16u);
  EXPECT_EQ(lines.size(), 3342u);
  EXPECT_GT(trades, trade_messages);
}

// VENUE_RULES.md: "A message with u == 1 means the service restarted. Treat it as a fresh
// snapshot". No such message was recorded: a real delta (line 2) with the digits of its "u"
// replaced by "1" stands in for one.
TEST_F(BybitParserTest, UpdateIdOneIsTakenAsAFreshSnapshot) {
  InstrumentRegistry registry;
  BybitParser parser(Venue::BybitLinear, registry);
  const CaptureRecords lines = received(kV5);
  std::string text(lines[1].payload);
  ASSERT_NE(text.find("\"type\":\"delta\""), std::string::npos);
  const std::size_t u = text.find("\"u\":") + 4;
  text.replace(u, text.find(',', u) - u, "1");
  const std::size_t n = text.size();
  text.append(simdjson::SIMDJSON_PADDING, '\0');
  EventBatch out;
  ASSERT_EQ(parser.parse(std::string_view(text.data(), n), 0, out), ParseStatus::Ok);
  EXPECT_EQ(out[0].flags, kFlagSnapshot | kFlagHasSeq);
  EXPECT_EQ(out[0].begin.last_seq, 1u);
  // The unchanged delta stays a delta.
  out.clear();
  ASSERT_EQ(parser.parse(lines[1].payload, 0, out), ParseStatus::Ok);
  EXPECT_EQ(out[0].flags, kFlagHasSeq);
}

// The legacy feed writes sizes finer than qty_step (BCHUSDT qty_step 0.01, "size":10.969999):
// a scale from qty_step would make such real levels BadNumber. Every size in the capture fits
// the loader's 8 decimals and is read exactly.
TEST_F(BybitParserTest, LegacySizesFinerThanQtyStepAreReadExactly) {
  InstrumentRegistry registry;
  ASSERT_GT(load_symbols(registry), 0u);
  const Instrument *bch = registry.find(Venue::BybitLinear, "BCHUSDT");
  ASSERT_NE(bch, nullptr);
  EXPECT_EQ(bch->qty_decimals, 8);
  EXPECT_EQ(bch->lot, 1'000'000); // qty_step 0.01 at 8 decimals
  std::size_t finer = 0;
  for (const Record &l : received(kLegacyWs)) {
    for (std::size_t p = l.payload.find("\"size\":"); p != std::string_view::npos;
         p = l.payload.find("\"size\":", p + 1)) {
      const std::size_t start = p + 7;
      const std::size_t end = l.payload.find_first_of(",}", start);
      const std::string size(l.payload.substr(start, end - start));
      ASSERT_TRUE(ref_mantissa(size, 8).has_value()) << size;
      if (l.payload.find("BCHUSDT") != std::string_view::npos && !ref_mantissa(size, 2))
        ++finer;
    }
  }
  EXPECT_GT(finer, 0u);
}

// ---- malformed input ---------------------------------------------------------------------------
class BybitMalformedTest : public BybitParserTest {
protected:
  // No metadata: the 2021 symbols list lacks the 2024 XRPUSDT, and default decimals (8) hold
  // every price and size of both captures.
  void SetUp() override {
    v5_ = received(kV5);
    legacy_ = received(kLegacyWs);
    ASSERT_EQ(v5_.size(), 50u);
    // A few events already in the batch: a failed message must not disturb them.
    ASSERT_EQ(parser_.parse(v5_[1].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  // Real messages of every kind: v5 snapshot and deltas, legacy snapshots, deltas, trades, acks.
  std::vector<std::string_view> samples() const {
    std::vector<std::string_view> s;
    for (std::size_t i = 0; i < v5_.size(); i += 7)
      s.push_back(v5_[i].payload);
    for (std::size_t i = 0; i < legacy_.size(); i += 61)
      s.push_back(legacy_[i].payload);
    for (const Record &r : legacy_) // every legacy snapshot and the first trade
      if (r.payload.find("\"snapshot\"") != std::string_view::npos ||
          (r.line == 19 && r.payload.find("\"trade.") != std::string_view::npos))
        s.push_back(r.payload);
    return s;
  }
  InstrumentRegistry registry_;
  BybitParser parser_{Venue::BybitLinear, registry_};
  EventBatch out_;
  CaptureRecords v5_, legacy_;
  std::size_t before_ = 0;
};

TEST_F(BybitMalformedTest, RejectsTruncatedMessagesWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const std::string_view msg : samples()) {
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = parse_copy(std::string(msg.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << msg.substr(0, 60) << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000u);
}

TEST_F(BybitMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::string_view msg : samples()) {
    // Every 5th structural character of the message becomes a letter.
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]) || seen++ % 5 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << msg.substr(0, 60) << " byte " << pos << " '" << msg[pos]
                                << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 5000u);
}

TEST_F(BybitMalformedTest, ReportsBadNumberWhenADigitOfAPriceOrSizeBecomesALetter) {
  std::size_t cases = 0;
  for (const std::string_view msg : samples()) {
    // v5 levels ["<px>","<sz>"], legacy "price":"<px>" and "size":<sz>: the last digit of every
    // 4th such value becomes a letter.
    std::vector<std::size_t> ends;
    for (std::size_t p = msg.find("[\""); p != std::string_view::npos; p = msg.find("[\"", p + 1)) {
      const std::size_t px_end = msg.find('"', p + 2);
      ends.push_back(px_end - 1);
      ends.push_back(msg.find('"', px_end + 3) - 1);
    }
    for (const std::string_view key :
         {std::string_view("\"price\":\""), std::string_view("\"size\":")})
      for (std::size_t p = msg.find(key); p != std::string_view::npos; p = msg.find(key, p + 1))
        ends.push_back(msg.find_first_of("\",}", p + key.size()) - 1);
    for (std::size_t k = 0; k < ends.size(); k += 4) {
      std::string mutated(msg);
      ASSERT_TRUE(mutated[ends[k]] >= '0' && mutated[ends[k]] <= '9') << msg.substr(0, 60);
      mutated[ends[k]] = 'a';
      ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
          << msg.substr(0, 60) << " @" << ends[k];
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 500u);
}

TEST_F(BybitMalformedTest, ReportsAnErrorWhenASequenceIdOrTimeLosesADigit) {
  std::size_t cases = 0;
  for (const std::string_view msg : samples()) {
    for (const char *key : {"\"u\":", "\"cts\":", "\"cross_seq\":\"", "\"timestamp_e6\":\"",
                            "\"trade_time_ms\":\""}) {
      const std::size_t pos = msg.find(key);
      if (pos == std::string_view::npos)
        continue;
      std::string mutated(msg);
      mutated[pos + std::string_view(key).size()] = 'z';
      ASSERT_TRUE(is_error(parse_copy(mutated))) << msg.substr(0, 60) << " " << key;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 50u);
}

// ---- allocation ------------------------------------------------------------------------------
// With metadata, the first message of a legacy topic allocates its id table once; without
// metadata the registry also allocates on first sight. Nothing else allocates.
TEST_F(BybitParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  for (const char *rel : {kV5, kLegacyWs}) {
    const CaptureRecords lines = received(rel);
    for (const bool metadata : {true, false}) {
      if (metadata && std::string_view(rel) == kV5)
        continue; // the 2021 symbols list has no XRPUSDT: that file runs on defaults
      InstrumentRegistry registry;
      if (metadata) {
        ASSERT_GT(load_symbols(registry), 0u);
      }
      BybitParser parser(Venue::BybitLinear, registry);
      EventBatch out;
      std::set<std::string> seen_topics;
      std::size_t messages = 0, first_sight_allocations = 0;
      for (const Record &l : lines) {
        const std::size_t known = registry.size();
        const std::size_t topic_at = l.payload.find("\"topic\":\"");
        const std::string topic =
            topic_at == std::string_view::npos
                ? std::string()
                : std::string(
                      l.payload.substr(topic_at, l.payload.find('"', topic_at + 9) - topic_at));
        const bool first_sight = seen_topics.insert(topic).second;
        out.clear();
        const std::size_t before = g_allocations.load();
        const ParseStatus st = parser.parse(l.payload, 0, out);
        const std::size_t allocations = g_allocations.load() - before;
        ASSERT_FALSE(is_error(st)) << rel << " line " << l.line;
        if (registry.size() == known && !first_sight)
          ASSERT_EQ(allocations, 0u) << rel << " line " << l.line;
        else
          first_sight_allocations += allocations;
        ++messages;
      }
      EXPECT_EQ(messages, std::string_view(rel) == kV5 ? 50u : 3342u);
      if (!metadata || std::string_view(rel) == kLegacyWs) { // the counter sees first sights
        EXPECT_GT(first_sight_allocations, 0u);
      }
    }
  }
}

// The whole data path (parse -> sequence check -> book apply) over the legacy capture: after
// the first fifth (every topic seen, books reserved), nothing allocates.
TEST_F(BybitParserTest, ReplaySteadyStateAllocatesNothing) {
  for (const std::vector<std::string> &files :
       {std::vector<std::string>{kLegacyWs, kLegacySymbols}, std::vector<std::string>{kV5}}) {
    auto r = test::open_replay(files);
    ASSERT_TRUE(r);
    NullPublisher pub;
    const std::size_t n = r->order().size();
    const std::size_t warm = files.size() == 1 ? 2 : n / 5; // v5: snapshot + first delta
    r->run_range(0, warm, pub);
    const std::size_t before = g_allocations.load();
    r->run_range(warm, n, pub);
    EXPECT_EQ(g_allocations.load() - before, 0u) << files[0];
    EXPECT_EQ(r->totals().parse_errors, 0u);
    EXPECT_GT(test::sum_books(*r).c.applied, 40u);
  }
}

} // namespace
} // namespace fh::venues
