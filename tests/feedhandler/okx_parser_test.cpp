// labels: unit replay
// OkxParser over the real OKX captures in data/okx/cryptofeed (PROVENANCE.md, "OKX"). Every
// expected value comes from the venue text itself, read independently here with simdjson's
// DOM API and a separate decimal reader, or from the counts in PROVENANCE.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
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
#include "feedhandler/venues/okx.hpp"
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
std::int64_t ms_text_to_ns(std::string_view s) {
  return std::stoll(std::string(s)) * 1000000;
}

// ---- fixture ---------------------------------------------------------------------------------
class OkxParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(const char *rel, InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(rel))
      if (l.kind == RecordKind::Http)
        n += load_okx_instruments(l.payload, registry);
    return n;
  }

  struct Counts {
    std::size_t received = 0;
    std::size_t book = 0;
    std::size_t snapshots = 0;
    std::size_t with_checksum = 0;
    std::size_t tickers = 0;
    std::size_t trades = 0;
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
    if (!msg["event"].error()) {
      ++counts.ignored;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "event not ignored";
      return ::testing::AssertionSuccess();
    }
    const std::string_view channel = dom_str(msg["arg"]["channel"]);
    const std::string_view inst_id = dom_str(msg["arg"]["instId"]);
    const Instrument *inst = registry.find(Venue::Okx, inst_id);
    if (inst == nullptr)
      return fail() << "instrument " << inst_id << " not in metadata";
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::Okx || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    const simdjson::dom::array data = dom_arr(msg["data"]);
    std::size_t i = 0;
    if (channel == "books-l2-tbt") {
      ++counts.book;
      const bool snapshot = dom_str(msg["action"]) == "snapshot";
      counts.snapshots += snapshot ? 1 : 0;
      for (const simdjson::dom::element entry : data) {
        const simdjson::dom::array asks = dom_arr(entry["asks"]);
        const simdjson::dom::array bids = dom_arr(entry["bids"]);
        const std::size_t n = asks.size() + bids.size();
        if (out.size() < i + n + 2)
          return fail() << "too few events";
        const Event &b = out[i++];
        const std::int64_t ts = ms_text_to_ns(dom_str(entry["ts"]));
        if (b.type != EventType::BookBegin || b.begin.levels != n || b.exch_ts_ns != ts ||
            b.flags != (snapshot ? kFlagSnapshot : 0))
          return fail() << "BookBegin";
        for (const auto &[side_levels, side] :
             {std::pair{asks, book::Side::Ask}, std::pair{bids, book::Side::Bid}}) {
          for (const simdjson::dom::element lv : side_levels) {
            const simdjson::dom::array a = dom_arr(lv);
            const std::string_view px = dom_str(a.at(0));
            const std::string_view sz = dom_str(a.at(1));
            const Event &e = out[i++];
            if (e.type != EventType::BookLevel || e.side != side ||
                ref_mantissa(px, inst->price_decimals) != e.level.price ||
                ref_mantissa(sz, inst->qty_decimals) != e.level.qty ||
                wire_decimals(px) != e.level.price_text_dp ||
                wire_decimals(sz) != e.level.qty_text_dp ||
                std::to_string(e.level.orders) != dom_str(a.at(3)))
              return fail() << "level " << px << " " << sz;
          }
        }
        std::int64_t checksum = 0;
        if (entry["checksum"].get_int64().get(checksum))
          return fail() << "no checksum";
        counts.with_checksum += checksum != 0 ? 1 : 0;
        const Event &end = out[i++];
        if (end.type != EventType::BookEnd || end.end.checksum != checksum ||
            end.flags != (checksum != 0 ? kFlagHasChecksum : 0) || end.exch_ts_ns != ts)
          return fail() << "BookEnd";
      }
    } else if (channel == "tickers") {
      ++counts.tickers;
      for (const simdjson::dom::element entry : data) {
        auto px = [&](const char *k) {
          const std::string_view s = dom_str(entry[k]);
          return s.empty() ? std::optional<std::int64_t>(0) : ref_mantissa(s, inst->price_decimals);
        };
        auto sz = [&](const char *k) {
          const std::string_view s = dom_str(entry[k]);
          return s.empty() ? std::optional<std::int64_t>(0) : ref_mantissa(s, inst->qty_decimals);
        };
        if (i >= out.size())
          return fail() << "too few events";
        const Event &e = out[i++];
        if (e.type != EventType::Bbo || px("bidPx") != e.bbo.bid_price ||
            sz("bidSz") != e.bbo.bid_qty || px("askPx") != e.bbo.ask_price ||
            sz("askSz") != e.bbo.ask_qty || e.bbo.update_id != 0 ||
            e.exch_ts_ns != ms_text_to_ns(dom_str(entry["ts"])))
          return fail() << "Bbo";
      }
    } else if (channel == "trades") {
      ++counts.trades;
      for (const simdjson::dom::element entry : data) {
        if (i >= out.size())
          return fail() << "too few events";
        const Event &e = out[i++];
        const bool sell = dom_str(entry["side"]) == "sell";
        if (e.type != EventType::Trade ||
            ref_mantissa(dom_str(entry["px"]), inst->price_decimals) != e.trade.price ||
            ref_mantissa(dom_str(entry["sz"]), inst->qty_decimals) != e.trade.qty ||
            std::to_string(e.trade.trade_id) != dom_str(entry["tradeId"]) ||
            e.flags != (sell ? kFlagBuyerIsMaker : 0) ||
            e.exch_ts_ns != ms_text_to_ns(dom_str(entry["ts"])))
          return fail() << "Trade";
      }
    } else {
      return fail() << "unexpected channel " << channel;
    }
    if (i != out.size())
      return fail() << "extra events: " << out.size() << " vs " << i;
    return ::testing::AssertionSuccess();
  }

  static Counts replay(const char *rel, InstrumentRegistry &registry) {
    Counts counts;
    OkxParser parser(registry);
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

  // The book messages of a capture (received lines whose channel is books-l2-tbt).
  static CaptureRecords book_messages(const char *rel) {
    return read_capture(rel, [](const Record &l) {
      return is_received(l) && l.payload.substr(0, 32) == "{\"arg\":{\"channel\":\"books-l2-tbt\"";
    });
  }

  static constexpr const char *k2022 = "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
  static constexpr const char *kMeta2022 = "okx/cryptofeed/instruments_2022-02-27_http.txt.gz";
  static constexpr const char *kMeta2021 = "okx/cryptofeed/instruments_2021-07-22_http.txt.gz";
};

TEST_F(OkxParserTest, ParsesEveryMessageOf2022CaptureLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(kMeta2022, registry), 0U);
  const Counts c = replay(k2022, registry);
  // PROVENANCE.md: 3,777 messages; 3,679 book messages, all with a checksum, 20 snapshots.
  EXPECT_EQ(c.received, 3777U);
  EXPECT_EQ(c.book, 3679U);
  EXPECT_EQ(c.with_checksum, 3679U);
  EXPECT_EQ(c.snapshots, 20U);
  EXPECT_EQ(c.errors, 0U);
  // Everything else is a subscribe acknowledgement, a ticker or a trade message.
  EXPECT_EQ(c.book + c.tickers + c.trades + c.ignored, c.received);
  EXPECT_GT(c.tickers, 0U);
  EXPECT_GT(c.trades, 0U);
}

TEST_F(OkxParserTest, ParsesEveryMessageOfThe2021ConnectionsLikeTheDomView) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(kMeta2021, registry), 0U);
  // PROVENANCE.md: received 1,616 / 1,559 / 1,534; checksums 1,504 / 1,446 / 1,422.
  const struct {
    const char *file;
    std::size_t received;
    std::size_t books;
  } files[] = {{"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz", 1616, 1504},
               {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn2_ws.txt.gz", 1559, 1446},
               {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn3_ws.txt.gz", 1534, 1422}};
  for (const auto &f : files) {
    const Counts c = replay(f.file, registry);
    EXPECT_EQ(c.received, f.received) << f.file;
    EXPECT_EQ(c.book, f.books) << f.file;
    EXPECT_EQ(c.with_checksum, f.books) << f.file;
    EXPECT_EQ(c.snapshots, 10U) << f.file; // one per subscribed instrument
    EXPECT_EQ(c.errors, 0U) << f.file;
  }
}

// The brief's decimal rule: every wire price/size has no more significant decimals than the
// instrument's scale, and keeps its wire decimals for the checksum text.
TEST_F(OkxParserTest, EveryBookLevelFitsTheMetadataScale) {
  for (const auto &[meta, file] :
       {std::pair{kMeta2022, k2022},
        std::pair{kMeta2021, "okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz"}}) {
    InstrumentRegistry registry;
    ASSERT_GT(load_metadata(meta, registry), 0U);
    std::size_t levels = 0;
    simdjson::dom::parser dom;
    for (const Record &l : book_messages(file)) {
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      const Instrument *inst = registry.find(Venue::Okx, dom_str(msg["arg"]["instId"]));
      ASSERT_NE(inst, nullptr);
      for (const simdjson::dom::element entry : dom_arr(msg["data"]))
        for (const char *side : {"asks", "bids"})
          for (const simdjson::dom::element lv : dom_arr(entry[side])) {
            const simdjson::dom::array a = dom_arr(lv);
            ASSERT_LE(significant_decimals(dom_str(a.at(0))), inst->price_decimals)
                << inst->native << " line " << l.line;
            ASSERT_LE(significant_decimals(dom_str(a.at(1))), inst->qty_decimals)
                << inst->native << " line " << l.line;
            ++levels;
          }
    }
    EXPECT_GT(levels, 5000U) << file;
  }
}

// Without metadata every instrument is parsed at kDefaultDecimals (8). A message must then
// fail with BadNumber exactly when one of its numbers needs more (ELON-USDT prices have 11),
// and parse otherwise; canonical names do not depend on metadata.
TEST_F(OkxParserTest, ReportsBadNumberExactlyWhenDefaultDecimalsAreTooCoarse) {
  InstrumentRegistry registry;
  OkxParser parser(registry);
  EventBatch out;
  std::size_t bad = 0;
  std::size_t ok = 0;
  simdjson::dom::parser dom;
  for (const Record &l : book_messages(k2022)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    int worst = 0;
    for (const simdjson::dom::element entry : dom_arr(msg["data"]))
      for (const char *side : {"asks", "bids"})
        for (const simdjson::dom::element lv : dom_arr(entry[side])) {
          const simdjson::dom::array a = dom_arr(lv);
          worst = std::max({worst, significant_decimals(dom_str(a.at(0))),
                            significant_decimals(dom_str(a.at(1)))});
        }
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 0, out);
    if (worst > InstrumentRegistry::kDefaultDecimals) {
      ASSERT_EQ(st, ParseStatus::BadNumber) << "line " << l.line;
      ASSERT_EQ(out.size(), 0U);
      ++bad;
    } else {
      ASSERT_EQ(st, ParseStatus::Ok) << "line " << l.line;
      ++ok;
    }
  }
  EXPECT_GT(bad, 0U);
  EXPECT_GT(ok, 0U);
  InstrumentRegistry with_metadata;
  ASSERT_GT(load_metadata(kMeta2022, with_metadata), 0U);
  ASSERT_EQ(registry.size(), 10U); // the 10 subscribed instruments, registered on first sight
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    const Instrument &guessed = registry.at(id);
    const Instrument *known = with_metadata.find(Venue::Okx, guessed.native);
    ASSERT_NE(known, nullptr) << guessed.native;
    EXPECT_EQ(guessed.canonical, known->canonical);
    EXPECT_EQ(guessed.kind, known->kind);
    EXPECT_FALSE(guessed.from_metadata);
    EXPECT_EQ(guessed.price_decimals, InstrumentRegistry::kDefaultDecimals);
  }
}

// 2021 instruments that no longer existed in February 2022 (the expired TRX-USDT-210924
// future, the options) are unknown to the 2022 metadata.
TEST_F(OkxParserTest, ReportsUnknownInstrumentForSymbolsMissingFromLoadedMetadata) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(kMeta2022, registry), 0U);
  std::set<std::string> listed;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(kMeta2022)) {
    if (l.kind != RecordKind::Http)
      continue;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
    for (const simdjson::dom::element item : dom_arr(body["data"]))
      listed.emplace(dom_str(item["instId"]));
  }
  OkxParser parser(registry);
  EventBatch out;
  std::size_t unknown = 0;
  std::size_t known = 0;
  for (const Record &l : book_messages("okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz")) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    const std::string inst_id(dom_str(msg["arg"]["instId"]));
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 0, out);
    if (listed.count(inst_id) != 0) {
      ++known;
      EXPECT_NE(st, ParseStatus::UnknownInstrument) << inst_id;
    } else {
      ++unknown;
      ASSERT_EQ(st, ParseStatus::UnknownInstrument) << inst_id;
      ASSERT_EQ(out.size(), 0U);
    }
  }
  EXPECT_GT(unknown, 0U);
  EXPECT_GT(known, 0U);
}

// JSON objects are unordered. Mechanical reordering of real messages (the "data" member cut
// and re-inserted before "arg"; no value is changed) must give the same events.
TEST_F(OkxParserTest, ParsesTheSameEventsWhenDataPrecedesArg) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(kMeta2022, registry), 0U);
  OkxParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  const CaptureRecords books = book_messages(k2022);
  ASSERT_GE(books.size(), 200U);
  for (std::size_t k = 0; k < 200; ++k) {
    const std::string_view msg = books[k].payload;
    const std::size_t data_pos = msg.find(",\"data\":");
    ASSERT_NE(data_pos, std::string_view::npos);
    ASSERT_EQ(msg.back(), '}');
    const std::string_view data_member = msg.substr(data_pos + 1, msg.size() - 2 - data_pos);
    std::string reordered =
        "{" + std::string(data_member) + "," + std::string(msg.substr(1, data_pos - 1)) + "}";
    ASSERT_EQ(reordered.size(), msg.size());
    const std::size_t n = reordered.size();
    reordered.append(simdjson::SIMDJSON_PADDING, '\0');
    expected.clear();
    actual.clear();
    ASSERT_EQ(parser.parse(msg, 5, expected), ParseStatus::Ok);
    ASSERT_EQ(parser.parse(std::string_view(reordered.data(), n), 5, actual), ParseStatus::Ok)
        << reordered.substr(0, 120);
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
      ASSERT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(Event)), 0) << "event " << i;
  }
}

// Malformed input is produced mechanically from real messages: cut at several offsets, a
// structural byte replaced, a digit replaced by a letter. The batch must be left as it was.
class OkxMalformedTest : public OkxParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_metadata(kMeta2022, registry_), 0U);
    books_ = book_messages(k2022);
    ASSERT_GE(books_.size(), 3679U);
    // A few events already in the batch: a failed message must not disturb them.
    ASSERT_EQ(parser_.parse(books_[0].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  // Real messages of every kind in the file: snapshots, updates with and without levels.
  std::vector<std::size_t> samples() const {
    std::vector<std::size_t> s;
    for (std::size_t i = 0; i < books_.size(); i += 97)
      s.push_back(i);
    return s;
  }
  InstrumentRegistry registry_;
  OkxParser parser_{registry_};
  EventBatch out_;
  CaptureRecords books_;
  std::size_t before_ = 0;
};

TEST_F(OkxMalformedTest, RejectsTruncatedMessagesWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = books_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = parse_copy(std::string(msg.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << books_[k].line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 400U);
}

TEST_F(OkxMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = books_[k].payload;
    // Every 3rd structural character of the message becomes a letter.
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      const char c = msg[pos];
      if (!test::is_structural(c))
        continue;
      if (seen++ % 3 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << books_[k].line << " byte " << pos << " '" << c
                                << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000U);
}

TEST_F(OkxMalformedTest, ReportsBadNumberWhenADigitOfALevelBecomesALetter) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = books_[k].payload;
    // Levels start with ["<px>","<sz>": in every 3rd level, the last digit of the price and,
    // separately, of the size becomes a letter.
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
        ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
            << "line " << books_[k].line << " byte " << pos;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 100U);
}

TEST_F(OkxMalformedTest, ReportsAnErrorWhenTsOrChecksumLosesADigit) {
  for (const std::size_t k : samples()) {
    for (const char *key : {"\"ts\":\"", "\"checksum\":"}) {
      std::string mutated(books_[k].payload);
      const std::size_t pos = mutated.rfind(key);
      ASSERT_NE(pos, std::string::npos);
      std::size_t digit = pos + std::string_view(key).size();
      if (mutated[digit] == '-')
        ++digit;
      mutated[digit] = 'z';
      ASSERT_TRUE(is_error(parse_copy(mutated))) << "line " << books_[k].line << " " << key;
      ASSERT_EQ(out_.size(), before_);
    }
  }
}

// With metadata loaded nothing allocates, not even the first message of an instrument. With
// defaults, only the first sight of an instrument does (the registry adds it).
TEST_F(OkxParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const CaptureRecords lines = read_capture(k2022);
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_metadata(kMeta2022, registry), 0U);
    }
    OkxParser parser(registry);
    EventBatch out;
    std::size_t messages = 0;
    std::size_t first_sight_allocations = 0;
    for (const Record &l : lines) {
      if (l.kind != RecordKind::WsText)
        continue;
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
    EXPECT_EQ(messages, 3777U);
    // The counter works: registering an instrument on first sight does allocate.
    if (!metadata) {
      EXPECT_GT(first_sight_allocations, 0U);
    }
  }
}

} // namespace
} // namespace fh::venues
