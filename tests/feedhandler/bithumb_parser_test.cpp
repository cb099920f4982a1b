// labels: unit replay
// BithumbParser over the real Bithumb capture in data/bithumb/cryptofeed (PROVENANCE.md, "Other
// venues": 98 text frames of `transaction` + `orderbookdepth`, 2021-06-01, plus the
// ticker/ALL_BTC and ALL_KRW responses). The old socket sends level changes only, with no
// snapshot and no sequence, so no book can be built: the replay must say so (no book synced,
// every batch skipped), never show a synced book. Expected values come from the frames' text,
// read here with simdjson's DOM and a separate decimal reader, or from PROVENANCE.md.
// Corrupted inputs are real frames changed mechanically; each test says how.
#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/bithumb.hpp"
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

constexpr const char *kWs = "bithumb/cryptofeed/transaction_orderbookdepth_2021-06-01_ws.txt.gz";
constexpr const char *kMeta = "bithumb/cryptofeed/ticker_all_2021-06-01_http.txt.gz";

std::int64_t e8(std::string_view text) {
  const auto m = ref_mantissa(text, 8);
  EXPECT_TRUE(m.has_value()) << text;
  return m.value_or(-1);
}

// "2021-06-02 08:43:34.555058" in Korea Standard Time (UTC+9) -> Unix ns, with libc's timegm.
std::int64_t kst_ns(const std::string &text) {
  std::tm tm{};
  tm.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(text.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(text.substr(8, 2));
  tm.tm_hour = std::stoi(text.substr(11, 2));
  tm.tm_min = std::stoi(text.substr(14, 2));
  tm.tm_sec = std::stoi(text.substr(17, 2));
  std::string frac = text.size() > 20 ? text.substr(20) : std::string();
  frac.append(9 - frac.size(), '0');
  return (static_cast<std::int64_t>(timegm(&tm)) - 9 * 3600) * 1'000'000'000 + std::stoll(frac);
}

// A frame seen through simdjson's DOM (every Bithumb value is a string).
struct Dom {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  explicit Dom(std::string_view json) {
    EXPECT_EQ(parser.parse(json.data(), json.size()).get(doc), simdjson::SUCCESS);
  }
  std::string str(simdjson::dom::element e, const char *key) {
    std::string_view s;
    EXPECT_EQ(e[key].get_string().get(s), simdjson::SUCCESS) << key;
    return std::string(s);
  }
  std::string type() {
    std::string_view s;
    return doc["type"].get_string().get(s) ? std::string() : std::string(s);
  }
  simdjson::dom::array list() {
    simdjson::dom::array a;
    EXPECT_EQ(doc["content"]["list"].get_array().get(a), simdjson::SUCCESS);
    return a;
  }
};

// Book batches a depth frame describes: one per run of entries of one symbol.
std::size_t runs_of(Dom &d) {
  std::size_t runs = 0;
  std::string last;
  for (const simdjson::dom::element e : d.list()) {
    const std::string sym = d.str(e, "symbol");
    if (runs == 0 || sym != last)
      ++runs;
    last = sym;
  }
  return runs;
}

bool is_frame(const Record &r) {
  return r.kind == RecordKind::WsText;
}

class BithumbParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &r : read_capture(kMeta))
      if (r.kind == RecordKind::Http)
        if (const auto quote = bithumb_ticker_all_quote(r.url))
          n += load_bithumb_tickers(r.payload, *quote, registry);
    return n;
  }
  CaptureRecords frames_ = read_capture(kWs, is_frame);
};

TEST_F(BithumbParserTest, ReplayBuildsNoBookAndSaysWhy) {
  std::size_t status_frames = 0, batches = 0, trades = 0;
  std::set<std::string> depth_symbols;
  for (const Record &r : frames_) {
    Dom d(r.payload);
    const std::string type = d.type();
    if (type.empty()) {
      status_frames += d.doc["status"].error() ? 0U : 1U;
    } else if (type == "orderbookdepth") {
      batches += runs_of(d);
      for (const simdjson::dom::element e : d.list())
        depth_symbols.insert(d.str(e, "symbol"));
    } else if (type == "transaction") {
      trades += d.list().size();
    }
  }
  ASSERT_EQ(frames_.size(), 98U); // PROVENANCE.md
  ASSERT_GT(batches, 0U);

  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  r->run();
  const ReplayTotals &t = r->totals();
  EXPECT_EQ(t.messages, 98U);
  EXPECT_EQ(t.parse_errors, 0U);
  EXPECT_EQ(t.ignored, status_frames);
  const test::Sum s = test::sum_books(*r);
  EXPECT_EQ(s.books, depth_symbols.size());
  EXPECT_EQ(s.c.book_messages, batches);
  // Why nothing syncs: there is no snapshot, so every update batch is skipped.
  EXPECT_EQ(s.synced, 0U);
  EXPECT_EQ(s.c.snapshots, 0U);
  EXPECT_EQ(s.c.applied, 0U);
  EXPECT_EQ(s.c.skipped_stale, batches);
  for (const std::string &sym : depth_symbols) {
    const InstrumentBook *b = test::book_of(*r, Venue::Bithumb, sym);
    ASSERT_NE(b, nullptr) << sym;
    EXPECT_NE(b->status(), BookStatus::Synced) << sym;
    EXPECT_EQ(b->status(), BookStatus::Empty) << sym; // never had a snapshot
    EXPECT_EQ(b->book().depth(book::Side::Bid) + b->book().depth(book::Side::Ask), 0U) << sym;
  }
  std::uint64_t booked_trades = 0;
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id))
      booked_trades += b->counters().trades;
  EXPECT_EQ(booked_trades, trades);
}

TEST_F(BithumbParserTest, EveryFrameBecomesTheEventsItsTextDescribes) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  BithumbParser parser(registry);
  EventBatch out;
  std::size_t levels = 0, trades = 0, ignored = 0;
  for (const Record &r : frames_) {
    out.clear();
    const ParseStatus st = parser.parse(r.payload, 5, out);
    Dom d(r.payload);
    const std::string type = d.type();
    if (type.empty()) {
      EXPECT_EQ(st, ParseStatus::Ignored) << "line " << r.line;
      ++ignored;
      continue;
    }
    ASSERT_EQ(st, ParseStatus::Ok) << "line " << r.line;
    std::size_t i = 0;
    if (type == "orderbookdepth") {
      const std::int64_t ts = std::stoll(d.str(d.doc["content"], "datetime")) * 1000;
      std::string run_symbol;
      for (const simdjson::dom::element e : d.list()) {
        const std::string sym = d.str(e, "symbol");
        const Instrument *inst = registry.find(Venue::Bithumb, sym);
        ASSERT_NE(inst, nullptr) << sym;
        if (i == 0 || sym != run_symbol) {
          if (i != 0) {
            ASSERT_EQ(out[i].type, EventType::BookEnd);
            ++i;
          }
          ASSERT_EQ(out[i].type, EventType::BookBegin) << "line " << r.line;
          EXPECT_EQ(out[i].flags, 0); // neither snapshot nor sequenced
          EXPECT_EQ(out[i].instrument, inst->id);
          EXPECT_EQ(out[i].exch_ts_ns, ts);
          ++i;
          run_symbol = sym;
        }
        const Event &lv = out[i++];
        ASSERT_EQ(lv.type, EventType::BookLevel);
        EXPECT_EQ(lv.instrument, inst->id);
        EXPECT_EQ(lv.side, d.str(e, "orderType") == "ask" ? book::Side::Ask : book::Side::Bid);
        EXPECT_EQ(lv.level.price, e8(d.str(e, "price")));
        EXPECT_EQ(lv.level.qty, e8(d.str(e, "quantity")));
        EXPECT_EQ(lv.level.orders, std::stoul(d.str(e, "total")));
        ++levels;
      }
      ASSERT_EQ(out[i].type, EventType::BookEnd);
      EXPECT_EQ(out[i].exch_ts_ns, ts);
      ++i;
    } else {
      ASSERT_EQ(type, "transaction");
      for (const simdjson::dom::element e : d.list()) {
        const Event &tr = out[i++];
        ASSERT_EQ(tr.type, EventType::Trade);
        EXPECT_EQ(tr.instrument, registry.find(Venue::Bithumb, d.str(e, "symbol"))->id);
        EXPECT_EQ(tr.trade.price, e8(d.str(e, "contPrice")));
        EXPECT_EQ(tr.trade.qty, e8(d.str(e, "contQty")));
        EXPECT_EQ(tr.trade.trade_id, 0U); // this socket gives none
        EXPECT_EQ(tr.exch_ts_ns, kst_ns(d.str(e, "contDtm")));
        // buySellGb: 1 = sell-initiated (매도체결), 2 = buy-initiated (매수체결).
        const std::string gb = d.str(e, "buySellGb");
        ASSERT_TRUE(gb == "1" || gb == "2");
        EXPECT_EQ((tr.flags & kFlagBuyerIsMaker) != 0, gb == "1");
        ++trades;
      }
    }
    EXPECT_EQ(i, out.size()) << "line " << r.line;
  }
  EXPECT_GT(levels, 250U);
  EXPECT_GT(trades, 0U);
  EXPECT_EQ(ignored, 3U);
}

// Malformed input, produced mechanically from real frames: cut at several offsets, a
// structural byte replaced by a letter, the first digit of a price or quantity made a letter.
TEST_F(BithumbParserTest, RejectsTruncatedAndBrokenFramesWithoutTouchingTheBatch) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  BithumbParser parser(registry);
  EventBatch out;
  std::size_t first = 0;
  while (Dom(frames_[first].payload).type() != "orderbookdepth")
    ++first;
  ASSERT_EQ(parser.parse(frames_[first].payload, 0, out), ParseStatus::Ok);
  const std::size_t before = out.size();
  std::size_t cases = 0, digits = 0;
  for (std::size_t k = 0; k < frames_.size(); k += 3) {
    const std::string_view msg = frames_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = test::parse_padded_copy(parser, std::string(msg.substr(0, len)), out);
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " cut at " << len;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]) || seen++ % 3 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = test::parse_padded_copy(parser, mutated, out);
      ASSERT_TRUE(is_error(st)) << "line " << frames_[k].line << " byte " << pos;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
    for (const char *key :
         {"\"price\":\"", "\"quantity\":\"", "\"contPrice\":\"", "\"contQty\":\""}) {
      const std::size_t at = msg.find(key);
      if (at == std::string_view::npos)
        continue;
      std::string mutated(msg);
      mutated[at + std::string_view(key).size()] = 'q';
      ASSERT_EQ(test::parse_padded_copy(parser, mutated, out), ParseStatus::BadNumber)
          << "line " << frames_[k].line << " " << key;
      ASSERT_EQ(out.size(), before);
      ++digits;
    }
  }
  EXPECT_GT(cases, 800U);
  EXPECT_GT(digits, 30U);
}

TEST_F(BithumbParserTest, AllocatesNothingPerFrame) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  BithumbParser parser(registry);
  EventBatch out;
  std::size_t frames = 0;
  for (const Record &r : frames_) {
    out.clear();
    const std::size_t before = g_allocations.load();
    const ParseStatus st = parser.parse(r.payload, r.recv_ts_ns, out);
    ASSERT_EQ(g_allocations.load() - before, 0U) << "line " << r.line << " " << to_cstring(st);
    ++frames;
  }
  EXPECT_EQ(frames, 98U);
  const std::size_t before = g_allocations.load();
  BithumbParser other(registry); // the counter works: construction allocates
  EXPECT_GT(g_allocations.load() - before, 0U);
}

TEST_F(BithumbParserTest, LoadsEveryBaseOfEachQuoteFromTickerAll) {
  InstrumentRegistry registry;
  const std::size_t n = load_metadata(registry);
  EXPECT_TRUE(registry.has_metadata(Venue::Bithumb));
  std::size_t expected = 0;
  std::set<std::string> quotes;
  for (const Record &rec : read_capture(kMeta)) {
    if (rec.kind != RecordKind::Http)
      continue;
    // The quote is the URL's ALL_<QUOTE> suffix.
    const std::string url(rec.url);
    const std::string quote = url.substr(url.rfind("ALL_") + 4);
    ASSERT_EQ(bithumb_ticker_all_quote(rec.url).value_or(""), quote);
    quotes.insert(quote);
    Dom d(rec.payload);
    simdjson::dom::object data;
    ASSERT_EQ(d.doc["data"].get_object().get(data), simdjson::SUCCESS);
    for (const auto field : data) {
      if (!field.value.is_object())
        continue; // "date"
      ++expected;
      const std::string base(field.key);
      const Instrument *inst = registry.find(Venue::Bithumb, base + "_" + quote);
      ASSERT_NE(inst, nullptr) << base << "_" << quote;
      EXPECT_EQ(inst->canonical, base + "-" + quote);
      EXPECT_EQ(inst->base, base);
      EXPECT_EQ(inst->quote, quote);
      EXPECT_TRUE(inst->from_metadata);
      EXPECT_EQ(inst->price_decimals, 8);
      EXPECT_EQ(inst->qty_decimals, 8);
      // Every price in the response fits the 8-decimal scale.
      for (const char *key : {"closing_price", "min_price", "max_price"}) {
        std::string_view px;
        ASSERT_EQ(field.value[key].get_string().get(px), simdjson::SUCCESS);
        EXPECT_TRUE(ref_mantissa(px, 8).has_value()) << base << " " << px;
      }
    }
  }
  EXPECT_EQ(n, expected);
  EXPECT_EQ(quotes, (std::set<std::string>{"BTC", "KRW"}));
  // Every symbol the capture subscribed is known: the replay needs no default instruments.
  for (const Record &r : frames_) {
    Dom d(r.payload);
    if (d.type().empty())
      continue;
    for (const simdjson::dom::element e : d.list())
      EXPECT_NE(registry.find(Venue::Bithumb, d.str(e, "symbol")), nullptr);
  }
  EXPECT_FALSE(bithumb_ticker_all_quote("wss://pubwss.bithumb.com/pub/ws").has_value());
}

} // namespace
} // namespace fh::venues
