// labels: unit replay
// OkxParser over the real OKX captures in data/okx/cryptofeed (PROVENANCE.md, "OKX"). Every
// expected value comes from the venue text itself, read independently here with simdjson's
// DOM API and a separate decimal reader, or from the counts in PROVENANCE.md.
#include <gtest/gtest.h>
#include <dlfcn.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/okx.hpp"

// ---- allocation counter (AllocatesNothingPerMessage...) -------------------------------------
// The replaceable allocation functions count, then forward to the next definition (libstdc++,
// or the sanitizer runtime under ASan), so every allocation still pairs with the matching
// default deallocation function; delete is not replaced.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<std::size_t> g_allocations{0};

template <class Fn> Fn next_definition(const char *mangled) {
  void *sym = dlsym(RTLD_NEXT, mangled);
  if (sym == nullptr)
    std::abort();
  Fn fn;
  std::memcpy(&fn, &sym, sizeof fn);
  return fn;
}
void count_allocation() {
  if (g_count_allocations.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
}
using NewFn = void *(*)(std::size_t);
using AlignedNewFn = void *(*)(std::size_t, std::align_val_t);
} // namespace
void *operator new(std::size_t n) {
  static const auto next = next_definition<NewFn>("_Znwm");
  count_allocation();
  return next(n);
}
void *operator new[](std::size_t n) {
  static const auto next = next_definition<NewFn>("_Znam");
  count_allocation();
  return next(n);
}
void *operator new(std::size_t n, std::align_val_t a) {
  static const auto next = next_definition<AlignedNewFn>("_ZnwmSt11align_val_t");
  count_allocation();
  return next(n, a);
}
void *operator new[](std::size_t n, std::align_val_t a) {
  static const auto next = next_definition<AlignedNewFn>("_ZnamSt11align_val_t");
  count_allocation();
  return next(n, a);
}

namespace fh::venues {
namespace {

// ---- capture reading (cryptofeed raw format, PROVENANCE.md section 1.A) -------------------
struct Line {
  enum class Kind { Open, Sent, Received, Http, Config } kind;
  std::string url;
  std::string text; // payload followed by SIMDJSON_PADDING zero bytes
  std::size_t size = 0;
  int number = 0; // 1-based line number in the file
  std::string_view view() const { return {text.data(), size}; }
};

Line make_line(Line::Kind kind, std::string url, std::string_view payload, int number) {
  Line l{kind, std::move(url), std::string(payload), payload.size(), number};
  l.text.append(simdjson::SIMDJSON_PADDING, '\0');
  return l;
}

std::vector<Line> read_capture(const std::string &path) {
  std::vector<Line> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "cannot open " << path;
    return lines;
  }
  std::string current;
  char buf[1 << 16];
  int number = 0;
  bool more = true;
  while (more) {
    more = gzgets(f, buf, sizeof buf) != nullptr;
    if (more) {
      current += buf;
      if (current.back() != '\n')
        continue;
      current.pop_back();
    } else if (current.empty()) {
      break;
    }
    ++number;
    std::string_view s = current;
    if (s.empty()) {
    } else if (s.substr(0, 15) == "configuration: ") {
      lines.push_back(make_line(Line::Kind::Config, {}, s.substr(15), number));
    } else if (s.substr(0, 2) == "ws" || s.substr(0, 4) == "http") {
      const std::size_t sp = s.find(' ');
      std::string url(s.substr(0, sp));
      const std::string_view rest = s.substr(sp + 1);
      const std::size_t colon = rest.find(": ");
      const std::string_view body =
          colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 2);
      if (rest.substr(0, 3) == "<->")
        lines.push_back(make_line(Line::Kind::Open, url, {}, number));
      else if (rest.substr(0, 2) == "<-")
        lines.push_back(make_line(Line::Kind::Sent, url, body, number));
      else if (rest.substr(0, 2) == "->")
        lines.push_back(make_line(Line::Kind::Http, url, body, number));
      else
        ADD_FAILURE() << path << ":" << number << " unknown url line";
    } else {
      const std::size_t colon = s.find(": ");
      EXPECT_NE(colon, std::string_view::npos) << path << ":" << number;
      lines.push_back(make_line(Line::Kind::Received, {}, s.substr(colon + 2), number));
    }
    current.clear();
  }
  gzclose(f);
  return lines;
}

std::string data_path(const char *rel) {
  return std::string(FH_DATA_DIR) + "/" + rel;
}

// ---- independent oracles ---------------------------------------------------------------------
// Text -> mantissa without the production parser: integer and fraction digits, the fraction
// padded or cut to `decimals` (cut digits must be zeros), read with std::from_chars.
std::optional<std::int64_t> ref_mantissa(std::string_view s, int decimals) {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  const std::size_t dot = s.find('.');
  std::string digits(s.substr(0, dot));
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  while (static_cast<int>(frac.size()) > decimals) {
    if (frac.back() != '0')
      return std::nullopt;
    frac.pop_back();
  }
  frac.append(static_cast<std::size_t>(decimals) - frac.size(), '0');
  digits += frac;
  std::int64_t v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
    return std::nullopt;
  return negative ? -v : v;
}
int wire_decimals(std::string_view s) {
  const std::size_t dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}
int significant_decimals(std::string_view s) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos)
    return 0;
  std::size_t end = s.size();
  while (end > dot + 1 && s[end - 1] == '0')
    --end;
  return static_cast<int>(end - dot - 1);
}
std::int64_t ms_text_to_ns(std::string_view s) {
  return std::stoll(std::string(s)) * 1000000;
}

using DomResult = simdjson::simdjson_result<simdjson::dom::element>;
std::string_view dom_str(DomResult r) {
  std::string_view s;
  EXPECT_EQ(r.get_string().get(s), simdjson::SUCCESS);
  return s;
}
simdjson::dom::array dom_arr(simdjson::dom::element e) {
  simdjson::dom::array a;
  EXPECT_EQ(e.get_array().get(a), simdjson::SUCCESS);
  return a;
}
simdjson::dom::array dom_arr(DomResult r) {
  simdjson::dom::array a;
  EXPECT_EQ(r.get_array().get(a), simdjson::SUCCESS);
  return a;
}

// ---- fixture ---------------------------------------------------------------------------------
class OkxParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(const char *rel, InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Line &l : read_capture(data_path(rel)))
      if (l.kind == Line::Kind::Http)
        n += load_okx_instruments(l.view(), registry);
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
  static ::testing::AssertionResult check_message(const Line &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  std::int64_t recv_ts, Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.text.data(), line.size, false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.number;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.number << ": "; };
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
    for (const Line &l : read_capture(data_path(rel))) {
      if (l.kind != Line::Kind::Received)
        continue;
      ++counts.received;
      out.clear();
      const ParseStatus st = parser.parse(l.view(), ++recv_ts, out);
      counts.errors += is_error(st) ? 1U : 0U;
      const auto ok = check_message(l, st, out, registry, recv_ts, counts);
      EXPECT_TRUE(ok) << rel;
      if (!ok)
        break;
    }
    return counts;
  }

  // The book messages of a capture (received lines whose channel is books-l2-tbt).
  static std::vector<Line> book_messages(const char *rel) {
    std::vector<Line> books;
    for (Line &l : read_capture(data_path(rel)))
      if (l.kind == Line::Kind::Received &&
          l.view().substr(0, 32) == "{\"arg\":{\"channel\":\"books-l2-tbt\"")
        books.push_back(std::move(l));
    return books;
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
    for (const Line &l : book_messages(file)) {
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(msg), simdjson::SUCCESS);
      const Instrument *inst = registry.find(Venue::Okx, dom_str(msg["arg"]["instId"]));
      ASSERT_NE(inst, nullptr);
      for (const simdjson::dom::element entry : dom_arr(msg["data"]))
        for (const char *side : {"asks", "bids"})
          for (const simdjson::dom::element lv : dom_arr(entry[side])) {
            const simdjson::dom::array a = dom_arr(lv);
            ASSERT_LE(significant_decimals(dom_str(a.at(0))), inst->price_decimals)
                << inst->native << " line " << l.number;
            ASSERT_LE(significant_decimals(dom_str(a.at(1))), inst->qty_decimals)
                << inst->native << " line " << l.number;
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
  for (const Line &l : book_messages(k2022)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(msg), simdjson::SUCCESS);
    int worst = 0;
    for (const simdjson::dom::element entry : dom_arr(msg["data"]))
      for (const char *side : {"asks", "bids"})
        for (const simdjson::dom::element lv : dom_arr(entry[side])) {
          const simdjson::dom::array a = dom_arr(lv);
          worst = std::max({worst, significant_decimals(dom_str(a.at(0))),
                            significant_decimals(dom_str(a.at(1)))});
        }
    out.clear();
    const ParseStatus st = parser.parse(l.view(), 0, out);
    if (worst > InstrumentRegistry::kDefaultDecimals) {
      ASSERT_EQ(st, ParseStatus::BadNumber) << "line " << l.number;
      ASSERT_EQ(out.size(), 0U);
      ++bad;
    } else {
      ASSERT_EQ(st, ParseStatus::Ok) << "line " << l.number;
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
  for (const Line &l : read_capture(data_path(kMeta2022))) {
    if (l.kind != Line::Kind::Http)
      continue;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(body), simdjson::SUCCESS);
    for (const simdjson::dom::element item : dom_arr(body["data"]))
      listed.emplace(dom_str(item["instId"]));
  }
  OkxParser parser(registry);
  EventBatch out;
  std::size_t unknown = 0;
  std::size_t known = 0;
  for (const Line &l : book_messages("okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz")) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(msg), simdjson::SUCCESS);
    const std::string inst_id(dom_str(msg["arg"]["instId"]));
    out.clear();
    const ParseStatus st = parser.parse(l.view(), 0, out);
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
  const std::vector<Line> books = book_messages(k2022);
  ASSERT_GE(books.size(), 200U);
  for (std::size_t k = 0; k < 200; ++k) {
    const std::string_view msg = books[k].view();
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
    ASSERT_EQ(parser_.parse(books_[0].view(), 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    const std::size_t n = text.size();
    text.append(simdjson::SIMDJSON_PADDING, '\0');
    return parser_.parse(std::string_view(text.data(), n), 0, out_);
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
  std::vector<Line> books_;
  std::size_t before_ = 0;
};

TEST_F(OkxMalformedTest, RejectsTruncatedMessagesWithoutTouchingTheBatch) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = books_[k].view();
    for (const double frac : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}) {
      const auto cut = static_cast<std::size_t>(static_cast<double>(msg.size()) * frac);
      for (const std::size_t len : {cut, msg.size() - 1}) {
        const ParseStatus st = parse_copy(std::string(msg.substr(0, len)));
        ASSERT_TRUE(is_error(st)) << "line " << books_[k].number << " cut at " << len;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 400U);
}

TEST_F(OkxMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = books_[k].view();
    // Every 3rd structural character of the message becomes a letter.
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      const char c = msg[pos];
      if (c != '{' && c != '}' && c != '[' && c != ']' && c != ',' && c != ':' && c != '"')
        continue;
      if (seen++ % 3 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << books_[k].number << " byte " << pos << " '" << c
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
    const std::string_view msg = books_[k].view();
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
            << "line " << books_[k].number << " byte " << pos;
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
      std::string mutated(books_[k].view());
      const std::size_t pos = mutated.rfind(key);
      ASSERT_NE(pos, std::string::npos);
      std::size_t digit = pos + std::string_view(key).size();
      if (mutated[digit] == '-')
        ++digit;
      mutated[digit] = 'z';
      ASSERT_TRUE(is_error(parse_copy(mutated))) << "line " << books_[k].number << " " << key;
      ASSERT_EQ(out_.size(), before_);
    }
  }
}

// With metadata loaded nothing allocates, not even the first message of an instrument. With
// defaults, only the first sight of an instrument does (the registry adds it).
TEST_F(OkxParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  const std::vector<Line> lines = read_capture(data_path(k2022));
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_metadata(kMeta2022, registry), 0U);
    }
    OkxParser parser(registry);
    EventBatch out;
    std::size_t messages = 0;
    std::size_t first_sight_allocations = 0;
    for (const Line &l : lines) {
      if (l.kind != Line::Kind::Received)
        continue;
      const std::size_t known = registry.size();
      out.clear();
      g_allocations.store(0);
      g_count_allocations.store(true);
      const ParseStatus st = parser.parse(l.view(), 0, out);
      g_count_allocations.store(false);
      const std::size_t allocations = g_allocations.load();
      if (registry.size() == known) {
        ASSERT_EQ(allocations, 0U) << "line " << l.number << " status " << to_cstring(st);
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
