// labels: unit replay
// HuobiParser over the real Huobi capture in data/huobi/cryptofeed (PROVENANCE.md, "Other
// venues": 362 binary frames, every one a gzip member of JSON, 2021-04-17, plus the
// common/symbols response). The test inflates the frames itself (zlib, its own calls) and
// reads them with simdjson's DOM and string surgery; expected values come from that text, from
// the metadata text, or from PROVENANCE.md. Depth pushes are full books, so the oracle for a
// book is the last push of its symbol. Corrupted inputs are real frames changed mechanically
// (gzip cut short, a compressed byte or the CRC flipped, JSON damaged and re-compressed); each
// test says how.
#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
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
#include "feedhandler/venues/huobi.hpp"
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

constexpr const char *kWs = "huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "huobi/cryptofeed/symbols_2021-04-17_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
std::string gunzip(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  static std::string buffer(1u << 20, '\0'); // reused: zeroing 1 MiB per frame is slow
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef *>(buffer.data());
  z.avail_out = static_cast<uInt>(buffer.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  std::string out(buffer.data(), z.total_out);
  inflateEnd(&z);
  return out;
}

std::string gzip(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(
      deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The decimal text of a JSON number, by moving its decimal point ("9.121E-7" -> "0.0000009121").
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

std::optional<std::int64_t> mantissa(std::string_view number_text, int decimals) {
  return ref_mantissa(plain_decimal(number_text), decimals);
}

// Every raw value written after "key": in `text`, in order.
std::vector<std::string_view> raw_values(std::string_view text, std::string_view key) {
  std::vector<std::string_view> out;
  const std::string needle = "\"" + std::string(key) + "\":";
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    const std::size_t start = at + needle.size();
    out.push_back(text.substr(start, text.find_first_of(",}]", start) - start));
  }
  return out;
}

// "bids":[[p,q],[p,q],...] -> the (p, q) texts in wire order.
std::vector<std::pair<std::string_view, std::string_view>> levels_text(std::string_view json,
                                                                       std::string_view side) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  const std::string needle = "\"" + std::string(side) + "\":[";
  std::size_t at = json.find(needle);
  EXPECT_NE(at, std::string_view::npos) << side;
  at += needle.size();
  while (json[at] == '[') {
    const std::size_t comma = json.find(',', at);
    const std::size_t close = json.find(']', comma);
    out.emplace_back(json.substr(at + 1, comma - at - 1),
                     json.substr(comma + 1, close - comma - 1));
    at = close + 1;
    if (json[at] == ',')
      ++at;
  }
  EXPECT_EQ(json[at], ']');
  return out;
}

struct Frame {
  const Record *record;
  std::string json;
  std::string kind;   // "ping", "subbed", "depth", "trade"
  std::string symbol; // market frames
};

std::vector<Frame> inflate_all(const CaptureRecords &records) {
  std::vector<Frame> frames;
  for (const Record &r : records) {
    if (r.kind != RecordKind::WsBinary)
      continue;
    // Classified by string search: trade frames carry an "id" wider than 64 bits, which
    // simdjson's DOM refuses (it parses every number), so they are read as text.
    Frame f{&r, gunzip(r.payload), {}, {}};
    const std::vector<std::string_view> ch_values = raw_values(f.json, "ch");
    if (f.json.rfind("{\"ping\":", 0) == 0) {
      f.kind = "ping";
    } else if (f.json.find("\"subbed\":") != std::string::npos) {
      f.kind = "subbed";
    } else if (ch_values.size() == 1) {
      const std::string_view ch = ch_values[0].substr(1, ch_values[0].size() - 2);
      const std::size_t a = ch.find('.') + 1, b = ch.find('.', a);
      f.symbol = std::string(ch.substr(a, b - a));
      const std::string_view topic = ch.substr(b + 1);
      f.kind = topic == "depth.step0" ? "depth" : topic == "trade.detail" ? "trade" : "other";
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

// A symbol's metadata as its text says, and the scales huobi.hpp documents for it: price at
// price-precision; sizes at the most decimals (<= 18) with max-order-amt still inside int64,
// never fewer than amount-precision.
struct Meta {
  int price_dp = 0, amount_dp = 0, qty_dp = 0;
  std::string base, quote, min_amt;
};

std::map<std::string, Meta> metadata_text() {
  std::map<std::string, Meta> out;
  for (const Record &rec : read_capture(kMeta)) {
    if (rec.kind != RecordKind::Http)
      continue;
    const std::string_view body = rec.payload;
    for (std::size_t at = body.find("\"symbol\":\""); at != std::string_view::npos;
         at = body.find("\"symbol\":\"", at + 1)) {
      const std::size_t open = body.rfind('{', at), close = body.find('}', at);
      const std::string_view obj = body.substr(open, close - open + 1);
      const std::string_view sym = raw_values(obj, "symbol").at(0);
      Meta m;
      m.price_dp = std::stoi(std::string(raw_values(obj, "price-precision").at(0)));
      m.amount_dp = std::stoi(std::string(raw_values(obj, "amount-precision").at(0)));
      const std::string_view base = raw_values(obj, "base-currency").at(0);
      const std::string_view quote = raw_values(obj, "quote-currency").at(0);
      m.base = std::string(base.substr(1, base.size() - 2));
      m.quote = std::string(quote.substr(1, quote.size() - 2));
      for (auto *s : {&m.base, &m.quote})
        for (char &c : *s)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      m.min_amt = std::string(raw_values(obj, "min-order-amt").at(0));
      const std::string max_amt = plain_decimal(raw_values(obj, "max-order-amt").at(0));
      const std::size_t dot = max_amt.find('.');
      const int own = dot == std::string::npos ? 0 : static_cast<int>(max_amt.size() - dot - 1);
      // The digits of max-order-amt at d decimals, compared as text with INT64_MAX's.
      const std::string digits = std::to_string(*ref_mantissa(max_amt, own));
      const std::string int64_max = std::to_string(INT64_MAX);
      const auto fits = [&](int dp) {
        const std::string scaled = digits + std::string(static_cast<std::size_t>(dp - own), '0');
        return scaled.size() < int64_max.size() ||
               (scaled.size() == int64_max.size() && scaled <= int64_max);
      };
      int d = own;
      while (d < 18 && fits(d + 1))
        ++d;
      m.qty_dp = std::max(d, m.amount_dp);
      out[std::string(sym.substr(1, sym.size() - 2))] = m;
    }
  }
  return out;
}

// Whether every number of a market frame fits its symbol's scales exactly.
bool representable(const Frame &f, const Meta &m) {
  std::vector<std::pair<std::string_view, std::string_view>> items;
  if (f.kind == "depth") {
    for (const char *side : {"bids", "asks"})
      for (const auto &pq : levels_text(f.json, side))
        items.push_back(pq);
  } else {
    const auto prices = raw_values(f.json, "price"), amounts = raw_values(f.json, "amount");
    for (std::size_t i = 0; i < prices.size(); ++i)
      items.emplace_back(prices[i], amounts[i]);
  }
  for (const auto &[p, q] : items)
    if (!mantissa(p, m.price_dp) || !mantissa(q, m.qty_dp))
      return false;
  return true;
}

using Side = std::vector<std::pair<std::int64_t, std::int64_t>>;

::testing::AssertionResult book_equals(const book::L2Book &b, const Frame &f, const Meta &m) {
  for (const auto side : {book::Side::Bid, book::Side::Ask}) {
    Side want;
    for (const auto &[p, q] : levels_text(f.json, side == book::Side::Bid ? "bids" : "asks"))
      want.emplace_back(*mantissa(p, m.price_dp), *mantissa(q, m.qty_dp));
    if (side == book::Side::Bid)
      std::sort(want.begin(), want.end(), std::greater<>());
    else
      std::sort(want.begin(), want.end());
    if (b.depth(side) != want.size())
      return ::testing::AssertionFailure() << "depth " << b.depth(side) << " != " << want.size();
    for (std::size_t i = 0; i < want.size(); ++i)
      if (b.at(side, i).price != want[i].first || b.at(side, i).qty != want[i].second)
        return ::testing::AssertionFailure() << "level " << i << " differs";
  }
  return ::testing::AssertionSuccess();
}

// ---- fixture ---------------------------------------------------------------------------------
class HuobiParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &r : read_capture(kMeta))
      if (r.kind == RecordKind::Http)
        n += load_huobi_symbols(r.payload, registry);
    return n;
  }
  CaptureRecords records_ = read_capture(kWs);
  std::vector<Frame> frames_ = inflate_all(records_);
  std::map<std::string, Meta> meta_ = metadata_text();
};

TEST_F(HuobiParserTest, ReplayMatchesProvenanceAndTheInflatedFrames) {
  ASSERT_EQ(frames_.size(), 362U); // PROVENANCE.md
  std::size_t ignored = 0, snapshots = 0, trades = 0, unrepresentable = 0;
  std::map<std::string, const Frame *> last_depth;
  std::set<std::string> depth_symbols;
  for (const Frame &f : frames_) {
    if (f.kind == "ping" || f.kind == "subbed") {
      ++ignored;
      continue;
    }
    ASSERT_TRUE(f.kind == "depth" || f.kind == "trade") << f.kind;
    ASSERT_EQ(meta_.count(f.symbol), 1U) << f.symbol;
    if (f.kind == "depth")
      depth_symbols.insert(f.symbol);
    if (!representable(f, meta_[f.symbol])) {
      ++unrepresentable;
      continue;
    }
    if (f.kind == "depth") {
      ++snapshots;
      last_depth[f.symbol] = &f;
    } else {
      trades += raw_values(f.json, "tradeId").size();
    }
  }
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  r->run();
  const ReplayTotals &t = r->totals();
  EXPECT_EQ(t.messages, 362U);
  EXPECT_EQ(t.binary_frames, 362U);
  EXPECT_EQ(t.ignored, ignored); // pings and subscription replies
  EXPECT_EQ(t.metadata_instruments, meta_.size());
  // Huobi prints book amounts as doubles with up to 17 significant digits: some pushes hold an
  // amount no int64 scale can carry together with the symbol's largest sizes. Those frames
  // are refused (BadNumber, counted), never rounded.
  EXPECT_EQ(t.parse_errors, unrepresentable);
  EXPECT_EQ(t.by_status[static_cast<std::size_t>(ParseStatus::BadNumber)], unrepresentable);
  const test::Sum s = test::sum_books(*r);
  EXPECT_EQ(s.c.snapshots, snapshots);
  EXPECT_EQ(s.c.applied, 0U);
  EXPECT_EQ(s.synced, last_depth.size());
  EXPECT_EQ(s.not_synced, 0U);
  std::uint64_t booked_trades = 0;
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id))
      booked_trades += b->counters().trades;
  EXPECT_EQ(booked_trades, trades);
  // The oracle: each synced book is exactly its symbol's last push, from the text.
  for (const auto &[sym, f] : last_depth) {
    const InstrumentBook *b = test::book_of(*r, Venue::Huobi, sym);
    ASSERT_NE(b, nullptr) << sym;
    EXPECT_EQ(b->status(), BookStatus::Synced) << sym;
    EXPECT_TRUE(book_equals(b->book(), *f, meta_[sym])) << sym;
  }
  // Symbols whose every push was refused have no book at all: never shown as synced.
  for (const std::string &sym : depth_symbols)
    if (last_depth.count(sym) == 0) {
      const InstrumentBook *b = test::book_of(*r, Venue::Huobi, sym);
      EXPECT_TRUE(b == nullptr || b->status() != BookStatus::Synced) << sym;
    }
  EXPECT_GT(last_depth.size(), depth_symbols.size() / 2);
}

TEST_F(HuobiParserTest, InflatesEveryFrameToTheBytesZlibGives) {
  GzipInflater inflater(1u << 20);
  for (const Frame &f : frames_) {
    std::string_view out;
    ASSERT_EQ(inflater.inflate(f.record->payload, out), GzipInflater::Result::Ok);
    ASSERT_EQ(out, f.json) << "line " << f.record->line;
  }
}

TEST_F(HuobiParserTest, EveryMarketFrameBecomesTheEventsItsTextDescribes) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  HuobiParser parser(registry);
  EventBatch out;
  std::size_t depth = 0, trades = 0, pings = 0;
  for (const Frame &f : frames_) {
    out.clear();
    const ParseStatus st = parser.parse(f.record->payload, 9, out);
    if (f.kind == "ping" || f.kind == "subbed") {
      EXPECT_EQ(st, ParseStatus::Ignored);
      EXPECT_EQ(out.size(), 0U);
      if (f.kind == "ping") {
        simdjson::dom::parser dom;
        std::uint64_t ping = 0;
        ASSERT_EQ(dom.parse(f.json)["ping"].get_uint64().get(ping), simdjson::SUCCESS);
        EXPECT_EQ(parser.last_ping(), ping); // for the session's {"pong":n}
        ++pings;
      }
      continue;
    }
    const Meta &m = meta_[f.symbol];
    if (!representable(f, m)) {
      EXPECT_EQ(st, ParseStatus::BadNumber) << "line " << f.record->line;
      EXPECT_EQ(out.size(), 0U);
      continue;
    }
    ASSERT_EQ(st, ParseStatus::Ok) << "line " << f.record->line;
    const Instrument *inst = registry.find(Venue::Huobi, f.symbol);
    ASSERT_NE(inst, nullptr);
    for (const Event &e : out)
      EXPECT_EQ(e.instrument, inst->id);
    if (f.kind == "depth") {
      simdjson::dom::parser dom;
      simdjson::dom::element doc;
      ASSERT_EQ(dom.parse(f.json).get(doc), simdjson::SUCCESS);
      const auto bids = levels_text(f.json, "bids"), asks = levels_text(f.json, "asks");
      ASSERT_EQ(out.size(), 2 + bids.size() + asks.size());
      const Event &begin = out[0];
      EXPECT_EQ(begin.type, EventType::BookBegin);
      EXPECT_EQ(begin.flags, kFlagSnapshot | kFlagHasSeq);
      std::uint64_t version = 0;
      std::int64_t ts = 0;
      ASSERT_EQ(doc["tick"]["version"].get_uint64().get(version), simdjson::SUCCESS);
      ASSERT_EQ(doc["tick"]["ts"].get_int64().get(ts), simdjson::SUCCESS);
      EXPECT_EQ(begin.begin.last_seq, version);
      EXPECT_EQ(begin.begin.levels, bids.size() + asks.size());
      EXPECT_EQ(begin.exch_ts_ns, ts * 1'000'000);
      std::size_t i = 1;
      for (const auto &[side, levels] :
           {std::pair{book::Side::Bid, bids}, std::pair{book::Side::Ask, asks}})
        for (const auto &[p, q] : levels) {
          const Event &e = out[i++];
          ASSERT_EQ(e.type, EventType::BookLevel);
          EXPECT_EQ(e.side, side);
          EXPECT_EQ(e.level.price, *mantissa(p, m.price_dp));
          EXPECT_EQ(e.level.qty, *mantissa(q, m.qty_dp));
        }
      EXPECT_EQ(out[i].type, EventType::BookEnd);
      ++depth;
    } else {
      // The entries of tick.data, as text: one value of each key per entry.
      const std::string_view data = std::string_view(f.json).substr(f.json.find("\"data\":["));
      const auto prices = raw_values(data, "price"), amounts = raw_values(data, "amount");
      const auto ids = raw_values(data, "tradeId"), ts = raw_values(data, "ts");
      const auto directions = raw_values(data, "direction");
      ASSERT_EQ(out.size(), prices.size());
      ASSERT_EQ(ids.size(), prices.size());
      ASSERT_EQ(ts.size(), prices.size());
      for (std::size_t i = 0; i < out.size(); ++i) {
        const Event &e = out[i];
        ASSERT_EQ(e.type, EventType::Trade);
        EXPECT_EQ(e.trade.trade_id, std::stoull(std::string(ids[i])));
        EXPECT_EQ(e.exch_ts_ns, std::stoll(std::string(ts[i])) * 1'000'000);
        EXPECT_EQ(e.trade.price, *mantissa(prices[i], m.price_dp));
        EXPECT_EQ(e.trade.qty, *mantissa(amounts[i], m.qty_dp));
        ASSERT_TRUE(directions[i] == "\"sell\"" || directions[i] == "\"buy\"");
        EXPECT_EQ((e.flags & kFlagBuyerIsMaker) != 0, directions[i] == "\"sell\""); // taker
        ++trades;
      }
    }
  }
  EXPECT_GT(depth, 100U);
  EXPECT_GT(trades, 10U);
  EXPECT_GT(pings, 0U);
}

// Gzip damage, made mechanically on real depth frames: the member cut short at several
// offsets, one byte of the compressed data or of the CRC/length trailer inverted. The CRC
// check makes each a Malformed frame; never an Ok frame with other events than the original.
TEST_F(HuobiParserTest, DamagedGzipIsMalformedAndNeverChangesTheEvents) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  HuobiParser parser(registry);
  EventBatch clean, out;
  std::size_t cases = 0, same = 0;
  for (std::size_t k = 0; k < frames_.size(); k += 9) {
    const Frame &f = frames_[k];
    if (f.kind != "depth" || !representable(f, meta_[f.symbol]))
      continue;
    const std::string_view gz = f.record->payload;
    clean.clear();
    ASSERT_EQ(parser.parse(gz, 0, clean), ParseStatus::Ok);
    for (const std::size_t len : test::truncation_lengths(gz.size())) {
      out.clear();
      ASSERT_EQ(parser.parse(gz.substr(0, len), 0, out), ParseStatus::Malformed)
          << "line " << f.record->line << " cut at " << len;
      ASSERT_EQ(out.size(), 0U);
      ++cases;
    }
    // Bytes 10.. are the deflate data, then CRC32 and ISIZE (RFC 1952).
    for (std::size_t pos = 10; pos < gz.size(); pos += pos + 8 < gz.size() ? 13U : 1U) {
      std::string mutated(gz);
      mutated[pos] = static_cast<char>(~mutated[pos]);
      out.clear();
      const ParseStatus st = parser.parse(mutated, 0, out);
      if (st == ParseStatus::Ok) { // a flip that decodes to the same bytes (padding bits)
        ASSERT_EQ(out.size(), clean.size());
        for (std::size_t i = 0; i < out.size(); ++i)
          ASSERT_EQ(std::memcmp(&out[i], &clean[i], sizeof(Event)), 0);
        ++same;
      } else {
        ASSERT_EQ(st, ParseStatus::Malformed) << "line " << f.record->line << " byte " << pos;
        ASSERT_EQ(out.size(), 0U);
      }
      ++cases;
    }
  }
  EXPECT_GT(cases, 500U);
  EXPECT_LT(same * 20, cases);
}

// JSON damage inside a valid gzip member: a real frame inflated, cut or with a structural byte
// replaced by a letter, and compressed again.
TEST_F(HuobiParserTest, MalformedJsonInsideValidGzipIsAnError) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  HuobiParser parser(registry);
  EventBatch out;
  std::size_t cases = 0;
  for (std::size_t k = 0; k < frames_.size(); k += 5) {
    const Frame &f = frames_[k];
    if ((f.kind == "depth" || f.kind == "trade") && !representable(f, meta_[f.symbol]))
      continue;
    const std::string &json = f.json;
    for (const std::size_t len : test::truncation_lengths(json.size())) {
      out.clear();
      ASSERT_TRUE(is_error(parser.parse(gzip(json.substr(0, len)), 0, out)))
          << "line " << f.record->line << " cut at " << len;
      ASSERT_EQ(out.size(), 0U);
      ++cases;
    }
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < json.size(); ++pos) {
      if (!test::is_structural(json[pos]) || seen++ % 17 != 0)
        continue;
      std::string mutated = json;
      mutated[pos] = 'x';
      out.clear();
      ASSERT_TRUE(is_error(parser.parse(gzip(mutated), 0, out)))
          << "line " << f.record->line << " byte " << pos;
      ASSERT_EQ(out.size(), 0U);
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000U);
}

// In the replay: one depth push of a symbol is damaged (gzip cut in half, or a compressed byte
// inverted). It is counted Malformed and never reaches the book, which stays exactly the
// previous push (a complete venue book, still synced); the next push replaces it as usual.
TEST_F(HuobiParserTest, DamagedPushLeavesThePreviousSnapshotUntilTheNextOne) {
  for (const bool cut : {true, false}) {
    auto r = test::open_replay({kWs, kMeta});
    ASSERT_TRUE(r);
    auto &order = r->order();
    // The depth pushes of the first symbol whose pushes all parse.
    std::string sym;
    std::vector<std::size_t> at;
    for (const Frame &f : frames_)
      if (f.kind == "depth" && sym.empty()) {
        bool all = true;
        for (const Frame &g : frames_)
          all = all &&
                (g.symbol != f.symbol || g.kind != "depth" || representable(g, meta_[g.symbol]));
        if (all)
          sym = f.symbol;
      }
    ASSERT_FALSE(sym.empty());
    std::vector<std::string> json_of; // inflated text of each of those pushes, in order
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i].kind != RecordKind::WsBinary)
        continue;
      const std::string json = gunzip(order[i].payload);
      if (json.find("\"ch\":\"market." + sym + ".depth.step0\"") != std::string::npos) {
        at.push_back(i);
        json_of.push_back(json);
      }
    }
    ASSERT_GE(at.size(), 3U);
    const std::size_t k = at.size() / 2;
    std::string damaged(order[at[k]].payload);
    if (cut)
      damaged.resize(damaged.size() / 2);
    else
      damaged[damaged.size() / 2] = static_cast<char>(~damaged[damaged.size() / 2]);
    order[at[k]].payload = damaged;

    NullPublisher pub;
    r->run_range(0, at[k] + 1, pub);
    EXPECT_EQ(r->totals().by_status[static_cast<std::size_t>(ParseStatus::Malformed)], 1U);
    const InstrumentBook *b = test::book_of(*r, Venue::Huobi, sym);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status(), BookStatus::Synced);
    Frame prev{nullptr, json_of[k - 1], "depth", sym};
    EXPECT_TRUE(book_equals(b->book(), prev, meta_[sym]));
    const std::uint64_t snapshots = b->counters().snapshots;
    r->run_range(at[k] + 1, at[k + 1] + 1, pub);
    EXPECT_EQ(b->counters().snapshots, snapshots + 1);
    EXPECT_EQ(b->status(), BookStatus::Synced);
    Frame next{nullptr, json_of[k + 1], "depth", sym};
    EXPECT_TRUE(book_equals(b->book(), next, meta_[sym]));
  }
}

// A frame that inflates beyond the parser's buffer is refused (BatchOverflow), not truncated.
TEST_F(HuobiParserTest, FrameLargerThanTheBufferIsRefused) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  HuobiParser parser(registry, 1024);
  EventBatch out;
  std::size_t big = 0, small = 0;
  for (const Frame &f : frames_) {
    out.clear();
    const ParseStatus st = parser.parse(f.record->payload, 0, out);
    if (f.json.size() > 1024) {
      EXPECT_EQ(st, ParseStatus::BatchOverflow) << "line " << f.record->line;
      EXPECT_EQ(out.size(), 0U);
      ++big;
    } else if (f.kind == "ping") {
      EXPECT_EQ(st, ParseStatus::Ignored);
      ++small;
    }
  }
  EXPECT_GT(big, 100U);
  EXPECT_GT(small, 0U);
}

// Inflation and parsing allocate nothing per frame -- good frames, cut ones, corrupt ones.
// zlib's own allocations go through operator new, so the counter would see them.
TEST_F(HuobiParserTest, AllocatesNothingPerFrame) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  HuobiParser parser(registry);
  EventBatch out;
  std::vector<std::string> inputs;
  for (const Frame &f : frames_) {
    const std::string gz(f.record->payload);
    inputs.push_back(gz);
    inputs.push_back(gz.substr(0, gz.size() / 2)); // cut
    std::string flipped = gz;                      // compressed byte inverted
    flipped[gz.size() / 2] = static_cast<char>(~flipped[gz.size() / 2]);
    inputs.push_back(flipped);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    out.clear();
    const std::size_t before = g_allocations.load();
    const ParseStatus st = parser.parse(inputs[i], 0, out);
    ASSERT_EQ(g_allocations.load() - before, 0U)
        << "frame " << i / 3 << " variant " << i % 3 << " " << to_cstring(st);
  }
  // The counter sees zlib: an inflater allocates its z_stream and buffer (2) plus zlib's
  // inflate state and window, and the priming deflate's state.
  const std::size_t before = g_allocations.load();
  GzipInflater inflater(4096);
  EXPECT_GE(g_allocations.load() - before, 4U);
}

// The whole data path (inflate, parse, snapshot apply, trades) once each symbol's book exists:
// the builder allocates a book on an instrument's first sight, so the capture's symbols are
// prepared first, as the control path does before subscribing.
TEST_F(HuobiParserTest, ReplayAllocatesNothingOnceBooksArePrepared) {
  auto r = test::open_replay({kWs, kMeta});
  ASSERT_TRUE(r);
  for (const Frame &f : frames_)
    if (!f.symbol.empty())
      r->builder().prepare(r->registry().find(Venue::Huobi, f.symbol)->id);
  NullPublisher pub;
  const std::size_t before = g_allocations.load();
  r->run_range(0, r->order().size(), pub);
  EXPECT_EQ(g_allocations.load() - before, 0U);
  EXPECT_GT(test::sum_books(*r).c.snapshots, 200U);
}

TEST_F(HuobiParserTest, LoadsEverySymbolWithItsScalesFromTheText) {
  InstrumentRegistry registry;
  const std::size_t n = load_metadata(registry);
  EXPECT_EQ(n, meta_.size());
  EXPECT_EQ(n, 938U); // entries in the response's data array
  EXPECT_TRUE(registry.has_metadata(Venue::Huobi));
  for (const auto &[sym, m] : meta_) {
    const Instrument *inst = registry.find(Venue::Huobi, sym);
    ASSERT_NE(inst, nullptr) << sym;
    EXPECT_EQ(inst->canonical, m.base + "-" + m.quote) << sym;
    EXPECT_EQ(inst->base, m.base);
    EXPECT_EQ(inst->quote, m.quote);
    EXPECT_EQ(inst->kind, InstrumentKind::Spot);
    EXPECT_TRUE(inst->from_metadata);
    EXPECT_EQ(inst->price_decimals, m.price_dp) << sym;
    EXPECT_EQ(inst->tick, 1) << sym;
    EXPECT_EQ(inst->qty_decimals, m.qty_dp) << sym;
    EXPECT_GE(inst->qty_decimals, m.amount_dp) << sym;
    EXPECT_EQ(inst->lot, book::kPow10[static_cast<std::size_t>(m.qty_dp - m.amount_dp)]) << sym;
    EXPECT_EQ(inst->min_qty, *mantissa(m.min_amt, m.qty_dp)) << sym;
  }
  const Instrument *btc = registry.find_canonical(Venue::Huobi, "BTC-USDT");
  ASSERT_NE(btc, nullptr);
  EXPECT_EQ(btc->native, "btcusdt");
}

} // namespace
} // namespace fh::venues
