// labels: unit replay
// UpbitParser over the real Upbit capture in data/upbit/cryptofeed (PROVENANCE.md, "Other
// venues": 449 binary frames of SIMPLE-format trade + orderbook JSON, 2021-04-17, plus the
// market/all response). Expected values come from the frames' text, read here independently
// (simdjson's DOM for strings and integers, string surgery for the decimal numbers), from
// PROVENANCE.md, or from Upbit's published KRW price-band table. Corrupted inputs are real
// frames changed mechanically (cut, a byte replaced, a frame repeated); each test says how.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/upbit.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::g_allocations;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;

constexpr const char *kWs = "upbit/cryptofeed/trade_orderbook_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "upbit/cryptofeed/market_all_2021-04-17_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
// The decimal text of a JSON number, by moving its decimal point ("9.9E-7" -> "0.00000099"):
// string surgery only, so exponent forms are checked without the production decimal parser.
std::string plain_decimal(std::string_view t) {
  const std::size_t e = t.find_first_of("eE");
  const std::string mant(t.substr(0, e));
  const int exp = e == std::string_view::npos ? 0 : std::stoi(std::string(t.substr(e + 1)));
  const std::size_t dot = mant.find('.');
  std::string digits = mant;
  if (dot != std::string::npos)
    digits.erase(dot, 1);
  const int point =
      (dot == std::string::npos ? static_cast<int>(mant.size()) : static_cast<int>(dot)) + exp;
  if (point <= 0)
    return "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  if (static_cast<std::size_t>(point) >= digits.size())
    return digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  return digits.substr(0, static_cast<std::size_t>(point)) + "." +
         digits.substr(static_cast<std::size_t>(point));
}

std::int64_t e8(std::string_view number_text) {
  const auto m = ref_mantissa(plain_decimal(number_text), 8);
  EXPECT_TRUE(m.has_value()) << number_text;
  return m.value_or(-1);
}

// Every raw value written after "key": in `text`, in order.
std::vector<std::string_view> raw_values(std::string_view text, std::string_view key) {
  std::vector<std::string_view> out;
  const std::string needle = "\"" + std::string(key) + "\":";
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    const std::size_t start = at + needle.size();
    const std::size_t end = text.find_first_of(",}]", start);
    out.push_back(text.substr(start, end - start));
  }
  return out;
}

std::string dom_string(std::string_view json, const char *key) {
  simdjson::dom::parser dom;
  simdjson::dom::element doc;
  std::string_view s;
  if (dom.parse(json.data(), json.size()).get(doc) || doc[key].get_string().get(s))
    return {};
  return std::string(s);
}
std::int64_t dom_int(std::string_view json, const char *key) {
  simdjson::dom::parser dom;
  simdjson::dom::element doc;
  std::int64_t v = -1;
  if (dom.parse(json.data(), json.size()).get(doc) || doc[key].get_int64().get(v))
    return -1;
  return v;
}

using Side = std::vector<std::pair<std::int64_t, std::int64_t>>; // (price, qty) best first

// The book an orderbook frame describes, computed from its text: unit i holds the i-th ask
// (ap, as) and bid (bp, bs); a zero size is no level.
std::pair<Side, Side> book_of_text(std::string_view json) {
  const auto ap = raw_values(json, "ap"), as = raw_values(json, "as");
  const auto bp = raw_values(json, "bp"), bs = raw_values(json, "bs");
  EXPECT_EQ(ap.size(), as.size());
  EXPECT_EQ(bp.size(), bs.size());
  Side bids, asks;
  for (std::size_t i = 0; i < ap.size(); ++i)
    if (e8(as[i]) != 0)
      asks.emplace_back(e8(ap[i]), e8(as[i]));
  for (std::size_t i = 0; i < bp.size(); ++i)
    if (e8(bs[i]) != 0)
      bids.emplace_back(e8(bp[i]), e8(bs[i]));
  std::sort(asks.begin(), asks.end());
  std::sort(bids.begin(), bids.end(), std::greater<>());
  return {bids, asks};
}

::testing::AssertionResult book_equals(const book::L2Book &b, const std::pair<Side, Side> &want) {
  for (const auto side : {book::Side::Bid, book::Side::Ask}) {
    const Side &w = side == book::Side::Bid ? want.first : want.second;
    if (b.depth(side) != w.size())
      return ::testing::AssertionFailure() << (side == book::Side::Bid ? "bids" : "asks")
                                           << " depth " << b.depth(side) << " != " << w.size();
    for (std::size_t i = 0; i < w.size(); ++i)
      if (b.at(side, i).price != w[i].first || b.at(side, i).qty != w[i].second)
        return ::testing::AssertionFailure() << "level " << i << " differs";
  }
  return ::testing::AssertionSuccess();
}

bool is_frame(const Record &r) {
  return r.kind == RecordKind::WsBinary;
}

// ---- fixture ---------------------------------------------------------------------------------
class UpbitParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &r : read_capture(kMeta))
      if (r.kind == RecordKind::Http)
        n += load_upbit_markets(r.payload, registry);
    return n;
  }
  static std::size_t markets_in_metadata_text() {
    std::size_t n = 0;
    for (const Record &r : read_capture(kMeta))
      if (r.kind == RecordKind::Http)
        n += raw_values(r.payload, "market").size();
    return n;
  }
  CaptureRecords frames_ = read_capture(kWs, is_frame);
};

TEST_F(UpbitParserTest, ReplayMatchesProvenanceAndTheFrames) {
  std::size_t books = 0, trades = 0;
  std::set<std::string> book_markets;
  for (const Record &r : frames_) {
    const std::string ty = dom_string(r.payload, "ty");
    if (ty == "orderbook") {
      ++books;
      book_markets.insert(dom_string(r.payload, "cd"));
    } else if (ty == "trade") {
      ++trades;
    }
  }
  ASSERT_EQ(frames_.size(), 449U); // PROVENANCE.md
  ASSERT_EQ(books + trades, 449U);

  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  r->run();
  const ReplayTotals &t = r->totals();
  EXPECT_EQ(t.messages, 449U);
  EXPECT_EQ(t.binary_frames, 449U);
  EXPECT_EQ(t.parse_errors, 0U);
  EXPECT_EQ(t.ignored, 0U); // no duplicate sid in the capture
  EXPECT_EQ(t.metadata_instruments, markets_in_metadata_text());
  const test::Sum s = test::sum_books(*r);
  EXPECT_EQ(s.books, book_markets.size());
  EXPECT_EQ(s.synced, book_markets.size()); // every book is a full snapshot: always exact
  EXPECT_EQ(s.c.snapshots, books);
  EXPECT_EQ(s.c.applied, 0U);
  EXPECT_EQ(s.c.seq_gaps, 0U);
  EXPECT_EQ(s.c.checksum_fail, 0U);
  std::uint64_t booked_trades = 0;
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id))
      booked_trades += b->counters().trades;
  EXPECT_EQ(booked_trades, trades);
}

// The oracle for a full-snapshot venue: at the end, each book is exactly its market's last
// orderbook frame, as computed from the text.
TEST_F(UpbitParserTest, EveryBookEqualsItsLastSnapshotExactly) {
  std::map<std::string, std::string_view> last;
  for (const Record &r : frames_)
    if (dom_string(r.payload, "ty") == "orderbook")
      last[dom_string(r.payload, "cd")] = r.payload;
  ASSERT_EQ(last.size(), 5U);
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  r->run();
  for (const auto &[market, json] : last) {
    const InstrumentBook *b = test::book_of(*r, Venue::Upbit, market);
    ASSERT_NE(b, nullptr) << market;
    EXPECT_EQ(b->status(), BookStatus::Synced) << market;
    EXPECT_TRUE(book_equals(b->book(), book_of_text(json))) << market;
    EXPECT_EQ(b->last_exch_ts_ns(), dom_int(json, "tms") * 1'000'000) << market;
  }
}

TEST_F(UpbitParserTest, EveryFrameBecomesTheEventsItsTextDescribes) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  std::size_t levels_checked = 0, trades_checked = 0, book_frames = 0, trade_frames = 0;
  for (const Record &r : frames_) {
    (dom_string(r.payload, "ty") == "orderbook" ? book_frames : trade_frames)++;
    out.clear();
    ASSERT_EQ(parser.parse(r.payload, 7, out), ParseStatus::Ok) << "line " << r.line;
    const std::string market = dom_string(r.payload, "cd");
    const Instrument *inst = registry.find(Venue::Upbit, market);
    ASSERT_NE(inst, nullptr);
    for (const Event &e : out) {
      EXPECT_EQ(e.instrument, inst->id);
      EXPECT_EQ(e.venue, Venue::Upbit);
      EXPECT_EQ(e.recv_ts_ns, 7);
    }
    if (dom_string(r.payload, "ty") == "orderbook") {
      const auto ap = raw_values(r.payload, "ap"), as = raw_values(r.payload, "as");
      const auto bp = raw_values(r.payload, "bp"), bs = raw_values(r.payload, "bs");
      ASSERT_EQ(ap.size(), 15U) << "line " << r.line; // 15 units in the 2021 data
      ASSERT_EQ(out.size(), 2 + 2 * ap.size()) << "line " << r.line;
      EXPECT_EQ(out[0].type, EventType::BookBegin);
      EXPECT_EQ(out[0].flags, kFlagSnapshot);
      EXPECT_EQ(out[0].begin.levels, 2 * ap.size());
      EXPECT_EQ(out[0].exch_ts_ns, dom_int(r.payload, "tms") * 1'000'000);
      for (std::size_t i = 0; i < ap.size(); ++i) {
        const Event &ask = out[1 + 2 * i];
        const Event &bid = out[2 + 2 * i];
        ASSERT_EQ(ask.type, EventType::BookLevel);
        ASSERT_EQ(ask.side, book::Side::Ask);
        ASSERT_EQ(bid.side, book::Side::Bid);
        EXPECT_EQ(ask.level.price, e8(ap[i]));
        EXPECT_EQ(ask.level.qty, e8(as[i]));
        EXPECT_EQ(bid.level.price, e8(bp[i]));
        EXPECT_EQ(bid.level.qty, e8(bs[i]));
        levels_checked += 2;
      }
      EXPECT_EQ(out[out.size() - 1].type, EventType::BookEnd);
    } else {
      ASSERT_EQ(out.size(), 1U);
      const Event &e = out[0];
      ASSERT_EQ(e.type, EventType::Trade);
      EXPECT_EQ(e.trade.price, e8(raw_values(r.payload, "tp").at(0)));
      EXPECT_EQ(e.trade.qty, e8(raw_values(r.payload, "tv").at(0)));
      EXPECT_EQ(static_cast<std::int64_t>(e.trade.trade_id), dom_int(r.payload, "sid"));
      EXPECT_EQ(e.exch_ts_ns, dom_int(r.payload, "ttms") * 1'000'000);
      // ab: BID = the taker bought, ASK = the taker sold (Upbit's ask_bid).
      const std::string ab = dom_string(r.payload, "ab");
      ASSERT_TRUE(ab == "BID" || ab == "ASK");
      EXPECT_EQ((e.flags & kFlagBuyerIsMaker) != 0, ab == "ASK");
      ++trades_checked;
    }
  }
  EXPECT_EQ(levels_checked, book_frames * 30U);
  EXPECT_EQ(trades_checked, trade_frames);
  EXPECT_EQ(book_frames + trade_frames, 449U);
  EXPECT_EQ(parser.duplicate_trades(), 0U);
}

// Upbit documents sid as unique but not ordered; the capture shows it: some sids arrive below
// one already seen on the same market. They are real trades and must not be dropped.
TEST_F(UpbitParserTest, SidsArrivingBelowAnEarlierSidAreNotDuplicates) {
  std::map<std::string, std::int64_t> highest;
  std::size_t below = 0, trades = 0;
  for (const Record &r : frames_) {
    if (dom_string(r.payload, "ty") != "trade")
      continue;
    ++trades;
    const std::int64_t sid = dom_int(r.payload, "sid");
    auto [it, fresh] = highest.emplace(dom_string(r.payload, "cd"), sid);
    if (!fresh) {
      below += sid < it->second ? 1U : 0U;
      it->second = std::max(it->second, sid);
    }
  }
  ASSERT_GT(below, 0U);
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  std::size_t trade_events = 0;
  for (const Record &r : frames_) {
    out.clear();
    ASSERT_EQ(parser.parse(r.payload, r.recv_ts_ns, out), ParseStatus::Ok);
    for (const Event &e : out)
      trade_events += e.type == EventType::Trade ? 1U : 0U;
  }
  EXPECT_EQ(trade_events, trades);
  EXPECT_EQ(parser.duplicate_trades(), 0U);
}

// Each real trade frame is delivered twice in a row (as after a reconnect): the repeat is
// dropped and counted; book frames repeated are snapshots and simply apply again.
TEST_F(UpbitParserTest, RepeatedTradeFramesAreDroppedAndCounted) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  std::size_t trades = 0;
  for (const Record &r : frames_) {
    const bool trade = dom_string(r.payload, "ty") == "trade";
    out.clear();
    ASSERT_EQ(parser.parse(r.payload, r.recv_ts_ns, out), ParseStatus::Ok);
    const std::size_t first = out.size();
    ASSERT_EQ(parser.parse(r.payload, r.recv_ts_ns, out),
              trade ? ParseStatus::Ignored : ParseStatus::Ok);
    if (trade) {
      EXPECT_EQ(out.size(), first); // nothing added for the repeat
      ++trades;
    }
  }
  EXPECT_EQ(parser.duplicate_trades(), trades);
}

// Replay with one trade record repeated right after itself: the builder sees the trade once.
TEST_F(UpbitParserTest, ReplayDropsARepeatedTradeRecord) {
  auto clean = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(clean);
  clean->run();
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  auto &order = r->order();
  std::size_t at = order.size();
  for (std::size_t i = order.size() / 2; i < order.size(); ++i)
    if (order[i].kind == RecordKind::WsBinary && dom_string(order[i].payload, "ty") == "trade") {
      at = i;
      break;
    }
  ASSERT_LT(at, order.size());
  const std::string market = dom_string(order[at].payload, "cd");
  const capture::Record copy = order[at];
  order.insert(order.begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  EXPECT_EQ(r->totals().messages, 450U);
  EXPECT_EQ(r->totals().ignored, 1U);
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_EQ(test::book_of(*r, Venue::Upbit, market)->counters().trades,
            test::book_of(*clean, Venue::Upbit, market)->counters().trades);
}

// Replay::reset() keeps the parsers; the second run starts over in receive time, so the sid
// windows start over too: the same trades are not taken for duplicates of the first run.
TEST_F(UpbitParserTest, ReplayingAgainAfterResetCountsEveryTradeAgain) {
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  const auto trades = [&] {
    std::uint64_t n = 0;
    for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
      if (const InstrumentBook *b = r->builder().book(id))
        n += b->counters().trades;
    return n;
  };
  r->run();
  const std::uint64_t first = trades();
  EXPECT_GT(first, 0U);
  r->reset();
  r->run();
  EXPECT_EQ(trades(), first);
  EXPECT_EQ(r->totals().ignored, 0U);
}

// A corrupted orderbook frame (cut in half, or the last digit of its first ask price made a
// letter) is counted and changes nothing: the book stays exactly the previous snapshot, still
// synced (it was a complete, exact book), and the next frame replaces it as usual.
TEST_F(UpbitParserTest, CorruptBookFrameLeavesThePreviousSnapshotInPlace) {
  for (const bool truncate : {true, false}) {
    auto r = test::open_replay({kWs, kMeta});
    ASSERT_TRUE(r);
    auto &order = r->order();
    std::vector<std::size_t> waves; // KRW-WAVES orderbook frames
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i].kind == RecordKind::WsBinary &&
          dom_string(order[i].payload, "ty") == "orderbook" &&
          dom_string(order[i].payload, "cd") == "KRW-WAVES")
        waves.push_back(i);
    ASSERT_GE(waves.size(), 3U);
    const std::size_t k = waves.size() / 2;
    const std::size_t at = waves[k];
    std::string text(order[at].payload);
    if (truncate) {
      text.resize(text.size() / 2);
    } else {
      const std::size_t ap = text.find("\"ap\":");
      const std::size_t end = text.find(',', ap);
      text[end - 1] = 'x';
    }
    const std::size_t len = text.size();
    text.append(simdjson::SIMDJSON_PADDING, '\0');
    order[at].payload = std::string_view(text.data(), len);

    NullPublisher pub;
    r->run_range(0, at + 1, pub);
    EXPECT_EQ(r->totals().parse_errors, 1U);
    const InstrumentBook *b = test::book_of(*r, Venue::Upbit, "KRW-WAVES");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status(), BookStatus::Synced);
    EXPECT_TRUE(book_equals(b->book(), book_of_text(order[waves[k - 1]].payload)));
    r->run_range(at + 1, waves[k + 1] + 1, pub);
    EXPECT_EQ(b->status(), BookStatus::Synced);
    EXPECT_TRUE(book_equals(b->book(), book_of_text(order[waves[k + 1]].payload)));
  }
}

// Malformed input, produced mechanically from real frames: cut at several offsets, or a
// structural byte replaced by a letter. Every one is an error and the batch is left as it was.
TEST_F(UpbitParserTest, RejectsTruncatedAndStructurallyBrokenFrames) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  ASSERT_EQ(parser.parse(frames_[0].payload, 0, out), ParseStatus::Ok);
  const std::size_t before = out.size();
  std::size_t cases = 0;
  for (std::size_t k = 0; k < frames_.size(); k += 11) {
    const std::string_view msg = frames_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = test::parse_padded_copy(parser, std::string(msg.substr(0, len)), out);
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " cut at " << len;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]) || seen++ % 5 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = test::parse_padded_copy(parser, mutated, out);
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " byte " << pos;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
  }
  EXPECT_GT(cases, 1500U);
}

// A digit of a price or size replaced by a letter: BadNumber, nothing added.
TEST_F(UpbitParserTest, ReportsBadNumberWhenADigitBecomesALetter) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  std::size_t cases = 0;
  for (std::size_t k = 0; k < frames_.size(); k += 7) {
    const std::string_view msg = frames_[k].payload;
    for (const char *key : {"\"ap\":", "\"bs\":", "\"tp\":", "\"tv\":"}) {
      const std::size_t at = msg.find(key);
      if (at == std::string_view::npos)
        continue;
      std::string mutated(msg);
      mutated[at + std::string_view(key).size()] = 'q';
      ASSERT_EQ(test::parse_padded_copy(parser, mutated, out), ParseStatus::BadNumber)
          << "line " << frames_[k].line << " " << key;
      ASSERT_EQ(out.size(), 0U);
      ++cases;
    }
  }
  EXPECT_GT(cases, 100U);
}

TEST_F(UpbitParserTest, AllocatesNothingPerFrame) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  UpbitParser parser(registry);
  EventBatch out;
  std::size_t frames = 0;
  // Twice over the capture (the second pass starts over in time, as a replay does).
  for (int pass = 0; pass < 2; ++pass) {
    for (const Record &r : frames_) {
      out.clear();
      const std::size_t before = g_allocations.load();
      const ParseStatus st = parser.parse(r.payload, r.recv_ts_ns, out);
      ASSERT_EQ(g_allocations.load() - before, 0U) << "line " << r.line << " " << to_cstring(st);
      ++frames;
    }
  }
  EXPECT_EQ(frames, 898U);
  // The counter works: a new parser allocates (its simdjson buffers, its sid windows).
  const std::size_t before = g_allocations.load();
  UpbitParser other(registry);
  EXPECT_GT(g_allocations.load() - before, 0U);
}

// The whole data path (parse, snapshot apply, trades) once each market's book exists: the
// builder allocates a book on an instrument's first sight, so the capture's markets are
// prepared first, as the control path does before subscribing.
TEST_F(UpbitParserTest, ReplayAllocatesNothingOnceBooksArePrepared) {
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  for (const Record &f : frames_)
    r->builder().prepare(r->registry().find(Venue::Upbit, dom_string(f.payload, "cd"))->id);
  NullPublisher pub;
  const std::size_t before = g_allocations.load();
  r->run_range(0, r->order().size(), pub);
  EXPECT_EQ(g_allocations.load() - before, 0U);
  EXPECT_EQ(test::sum_books(*r).c.snapshots, 145U);
}

TEST_F(UpbitParserTest, LoadsEveryMarketWithCanonicalNames) {
  InstrumentRegistry registry;
  const std::size_t n = load_metadata(registry);
  EXPECT_EQ(n, markets_in_metadata_text());
  EXPECT_TRUE(registry.has_metadata(Venue::Upbit));
  std::size_t krw = 0, btc = 0, usdt = 0;
  for (const Record &rec : read_capture(kMeta)) {
    if (rec.kind != RecordKind::Http)
      continue;
    for (std::string_view code : raw_values(rec.payload, "market")) {
      code = code.substr(1, code.size() - 2); // the quoted string
      const Instrument *inst = registry.find(Venue::Upbit, code);
      ASSERT_NE(inst, nullptr) << code;
      const std::size_t dash = code.find('-');
      const std::string quote(code.substr(0, dash)), base(code.substr(dash + 1));
      EXPECT_EQ(inst->canonical, base + "-" + quote);
      EXPECT_EQ(inst->base, base);
      EXPECT_EQ(inst->quote, quote);
      EXPECT_EQ(inst->kind, InstrumentKind::Spot);
      EXPECT_TRUE(inst->from_metadata);
      EXPECT_EQ(inst->price_decimals, 8);
      EXPECT_EQ(inst->qty_decimals, 8);
      EXPECT_EQ(inst->lot, 1);
      if (quote == "KRW") {
        EXPECT_EQ(inst->tick, 10000); // 0.0001 KRW: the finest band of the 2021 table
        ++krw;
      } else {
        EXPECT_EQ(inst->tick, 1); // BTC market: 0.00000001 BTC (Upbit BTC market rule)
        (quote == "BTC" ? btc : usdt)++;
      }
    }
  }
  EXPECT_EQ(krw + btc + usdt, n);
  EXPECT_GT(krw, 0U);
  EXPECT_GT(btc, 0U);
  const Instrument *btc_krw = registry.find_canonical(Venue::Upbit, "BTC-KRW");
  ASSERT_NE(btc_krw, nullptr);
  EXPECT_EQ(btc_krw->native, "KRW-BTC");
}

// Upbit's KRW price-band table before 2024-01-29 (docs.upbit.com v1.4.1, "원화 마켓 주문 가격
// 단위"), written out here from the document, at each band's edges.
TEST_F(UpbitParserTest, KrwTickFollowsThePublishedPriceBands) {
  struct Row {
    const char *price;
    const char *tick;
  };
  const Row rows[] = {
      {"3000000", "1000"},  {"2000000", "1000"},  {"1999999", "500"}, {"1000000", "500"},
      {"999999", "100"},    {"500000", "100"},    {"499999", "50"},   {"100000", "50"},
      {"99999", "10"},      {"10000", "10"},      {"9999", "5"},      {"1000", "5"},
      {"999", "1"},         {"100", "1"},         {"99.9", "0.1"},    {"10", "0.1"},
      {"9.99", "0.01"},     {"1", "0.01"},        {"0.999", "0.001"}, {"0.1", "0.001"},
      {"0.0999", "0.0001"}, {"0.0001", "0.0001"},
  };
  for (const Row &row : rows)
    EXPECT_EQ(upbit_krw_tick(e8(row.price)), e8(row.tick)) << row.price;
}

// Every KRW price in the capture (book levels and trades) lies on its band's tick, and the
// rule is not vacuous here: the KRW-WAVES prices are all multiples of 10 KRW.
TEST_F(UpbitParserTest, EveryKrwPriceInTheCaptureIsOnItsBandTick) {
  std::size_t checked = 0, coarse = 0;
  for (const Record &r : frames_) {
    if (dom_string(r.payload, "cd").rfind("KRW-", 0) != 0)
      continue;
    for (const char *key : {"ap", "bp", "tp"}) {
      for (const std::string_view text : raw_values(r.payload, key)) {
        const std::int64_t price = e8(text);
        const std::int64_t tick = upbit_krw_tick(price);
        EXPECT_EQ(price % tick, 0) << text << " tick " << tick;
        coarse += tick >= e8("10") ? 1U : 0U;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 3000U);
  EXPECT_GT(coarse, 0U);
}

} // namespace
} // namespace fh::venues
