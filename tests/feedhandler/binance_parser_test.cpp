// labels: unit replay
// BinanceParser over every Binance capture in data/. The expected values come from an
// independent reading of the same message (simdjson DOM + a string-based decimal conversion
// written here, not book::parse_decimal) and from the message counts in data/PROVENANCE.md.
// Malformed inputs are real messages corrupted mechanically (truncated, bytes flipped, a
// digit turned into a letter); no venue message is written by hand.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/event.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/binance.hpp"
#include "tests/support/capture_records.hpp"

// ---- Heap allocation counter (replaces the global allocation functions of this binary) ----
namespace {
std::atomic<std::size_t> g_allocations{0};

// Out of line, so the compiler never pairs a replaced operator delete's free() with an
// operator new it can see (-Wmismatched-new-delete at -O2).
[[gnu::noinline]] void release(void *p) noexcept {
  std::free(p);
}

[[gnu::noinline]] void *counted_alloc(std::size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
[[gnu::noinline]] void *counted_aligned_alloc(std::size_t n, std::align_val_t al) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  const std::size_t rounded = ((n == 0 ? 1 : n) + a - 1) / a * a;
  return std::aligned_alloc(a, rounded);
}
} // namespace

void *operator new(std::size_t n) {
  if (void *p = counted_alloc(n))
    return p;
  throw std::bad_alloc();
}
void *operator new[](std::size_t n) {
  if (void *p = counted_alloc(n))
    return p;
  throw std::bad_alloc();
}
void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  return counted_alloc(n);
}
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  return counted_alloc(n);
}
void *operator new(std::size_t n, std::align_val_t a) {
  if (void *p = counted_aligned_alloc(n, a))
    return p;
  throw std::bad_alloc();
}
void *operator new[](std::size_t n, std::align_val_t a) {
  if (void *p = counted_aligned_alloc(n, a))
    return p;
  throw std::bad_alloc();
}
void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return counted_aligned_alloc(n, a);
}
void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return counted_aligned_alloc(n, a);
}
void operator delete(void *p) noexcept {
  release(p);
}
void operator delete[](void *p) noexcept {
  release(p);
}
void operator delete(void *p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void *p, std::size_t) noexcept {
  release(p);
}
void operator delete(void *p, const std::nothrow_t &) noexcept {
  release(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept {
  release(p);
}
void operator delete(void *p, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void *p, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void *p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  release(p);
}
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  release(p);
}

namespace fh::venues {
namespace {

constexpr std::size_t kPad = simdjson::SIMDJSON_PADDING;

using test::CaptureRecords;
using test::read_capture;
using test::Record;
using test::RecordKind;

enum class Format { CryptofeedWs, CryptofeedHttp, Hftbacktest };

// The messages of a capture, in file order: the received frames of a cryptofeed WS or an
// hftbacktest capture ("<t>: <json>", "<ns> <json>"), the response bodies of a cryptofeed
// REST capture ("<url> -> <t>: <body>"). Empty payloads are not messages.
CaptureRecords messages_of(const std::string &rel, Format fmt) {
  const RecordKind kind = fmt == Format::CryptofeedHttp ? RecordKind::Http : RecordKind::WsText;
  return read_capture(rel,
                      [kind](const Record &r) { return r.kind == kind && !r.payload.empty(); });
}

// A copy of a payload followed by SIMDJSON_PADDING bytes of `pad` (the parser contract).
struct Frame {
  explicit Frame(std::string_view json, char pad = '\0') : size(json.size()) {
    buf.reserve(json.size() + kPad);
    buf.assign(json);
    buf.append(kPad, pad);
  }
  [[nodiscard]] std::string_view view() const { return {buf.data(), size}; }
  std::string buf;
  std::size_t size;
};

// "symbol=XMRBTC&limit=5000" in a REST URL.
std::string symbol_of_url(std::string_view url) {
  const auto at = url.find("symbol=");
  if (at == std::string_view::npos)
    return {};
  const auto begin = at + 7;
  const auto end = url.find('&', begin);
  return std::string(url.substr(begin, end == std::string_view::npos ? url.npos : end - begin));
}

// Independent decimal conversion for the oracle: string surgery + std::stoll.
struct Mantissa {
  std::int64_t value = 0;
  int text_dp = 0;
  bool ok = false;
};
Mantissa oracle_mantissa(std::string_view text, int decimals) {
  Mantissa m;
  const auto dot = text.find('.');
  const std::string int_part(text.substr(0, dot));
  const std::string frac(dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1));
  std::string digits = int_part;
  for (int i = 0; i < decimals; ++i)
    digits += static_cast<std::size_t>(i) < frac.size() ? frac[static_cast<std::size_t>(i)] : '0';
  for (std::size_t i = static_cast<std::size_t>(decimals); i < frac.size(); ++i)
    if (frac[i] != '0')
      return m;
  m.value = std::stoll(digits);
  m.text_dp = static_cast<int>(frac.size());
  m.ok = true;
  return m;
}

enum class Kind { Depth, Snapshot, BookTicker, Trade, AggTrade, Ignored };

struct Counts {
  std::size_t messages = 0, depth = 0, snapshot = 0, book_ticker = 0, trade = 0, agg_trade = 0,
              ignored = 0, parse_errors = 0, mismatches = 0;
  std::string first_mismatch;
};

// Reads a message with the simdjson DOM and checks the parser's events against it.
class DomOracle {
public:
  // `hint` is the symbol for a bare inline snapshot without a "symbol" field. Returns "" when
  // the events match; sets `kind` and `symbol` (the message's symbol, if it has one).
  std::string check(std::string_view json, Venue venue, const InstrumentRegistry &reg,
                    ParseStatus st, const EventBatch &out, std::size_t from, std::int64_t recv_ts,
                    std::string_view hint, Kind &kind, std::string &symbol) {
    const simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser_.parse(padded).get(root) != simdjson::SUCCESS)
      return "dom parse failed";
    simdjson::dom::element data = root;
    simdjson::dom::element inner;
    if (root["data"].get(inner) == simdjson::SUCCESS)
      data = inner;
    std::string_view e;
    std::uint64_t ignore = 0;
    if (data["e"].get_string().get(e) == simdjson::SUCCESS) {
      kind = e == "depthUpdate"  ? Kind::Depth
             : e == "bookTicker" ? Kind::BookTicker
             : e == "trade"      ? Kind::Trade
             : e == "aggTrade"   ? Kind::AggTrade
                                 : Kind::Ignored;
    } else if (data["lastUpdateId"].get_uint64().get(ignore) == simdjson::SUCCESS) {
      kind = Kind::Snapshot;
    } else if (std::string_view b; data["u"].get_uint64().get(ignore) == simdjson::SUCCESS &&
                                   data["b"].get_string().get(b) == simdjson::SUCCESS) {
      kind = Kind::BookTicker;
    } else {
      kind = Kind::Ignored;
    }
    std::string_view s;
    if (data["s"].get_string().get(s) == simdjson::SUCCESS ||
        data["symbol"].get_string().get(s) == simdjson::SUCCESS)
      symbol.assign(s);
    else if (kind == Kind::Snapshot)
      symbol.assign(hint);
    else
      symbol.clear();

    if (kind == Kind::Ignored)
      return st == ParseStatus::Ignored && out.size() == from ? "" : "expected Ignored";
    if (st != ParseStatus::Ok)
      return std::string("status ") + to_cstring(st);
    const Instrument *inst = reg.find(venue, symbol);
    if (inst == nullptr)
      return "instrument not registered: " + symbol;
    const std::size_t n = out.size() - from;
    auto common = [&](const Event &ev, EventType type) -> std::string {
      if (ev.type != type)
        return "event type";
      if (ev.venue != venue || ev.instrument != inst->id || ev.recv_ts_ns != recv_ts)
        return "venue/instrument/recv_ts";
      return "";
    };
    auto u64 = [&](const char *key) {
      std::uint64_t v = 0;
      return data[key].get_uint64().get(v) == simdjson::SUCCESS ? v : ~std::uint64_t{0};
    };
    auto has = [&](const char *key) {
      simdjson::dom::element x;
      return data[key].get(x) == simdjson::SUCCESS;
    };
    auto dec = [&](const char *key, int dp) {
      std::string_view text;
      if (data[key].get_string().get(text) != simdjson::SUCCESS)
        return Mantissa{};
      return oracle_mantissa(text, dp);
    };

    switch (kind) {
    case Kind::Depth:
    case Kind::Snapshot: {
      const bool snap = kind == Kind::Snapshot;
      simdjson::dom::array bids;
      simdjson::dom::array asks;
      if (data[snap ? "bids" : "b"].get_array().get(bids) != simdjson::SUCCESS ||
          data[snap ? "asks" : "a"].get_array().get(asks) != simdjson::SUCCESS)
        return "dom: no level arrays";
      const std::size_t levels = bids.size() + asks.size();
      if (n != levels + 2)
        return "event count " + std::to_string(n) + " != " + std::to_string(levels + 2);
      const Event &b = out[from];
      if (auto err = common(b, EventType::BookBegin); !err.empty())
        return err;
      const std::int64_t exch = has("E") ? static_cast<std::int64_t>(u64("E")) * 1000000 : 0;
      if (b.exch_ts_ns != exch)
        return "exch_ts";
      if (b.begin.levels != levels)
        return "levels field";
      if (snap) {
        const std::uint64_t id = u64("lastUpdateId");
        if (b.flags != (kFlagSnapshot | kFlagRest | kFlagHasSeq) || b.begin.first_seq != id ||
            b.begin.last_seq != id)
          return "snapshot begin";
      } else {
        const bool has_pu = has("pu");
        if (is_binance_futures(venue) != has_pu)
          return "pu presence does not match the venue";
        const auto flags = static_cast<std::uint8_t>(kFlagHasSeq | (has_pu ? kFlagHasPrevSeq : 0));
        if (b.flags != flags || b.begin.first_seq != u64("U") || b.begin.last_seq != u64("u") ||
            b.begin.prev_seq != (has_pu ? u64("pu") : 0))
          return "depth begin U/u/pu";
      }
      std::size_t i = from + 1;
      for (int side = 0; side < 2; ++side) {
        for (simdjson::dom::element lv : side == 0 ? bids : asks) {
          simdjson::dom::array pair = lv.get_array().value_unsafe();
          const std::string_view px = pair.at(0).get_string().value_unsafe();
          const std::string_view qx = pair.at(1).get_string().value_unsafe();
          const Mantissa p = oracle_mantissa(px, inst->price_decimals);
          const Mantissa q = oracle_mantissa(qx, inst->qty_decimals);
          const Event &ev = out[i++];
          if (auto err = common(ev, EventType::BookLevel); !err.empty())
            return err;
          if (!p.ok || !q.ok || ev.level.price != p.value || ev.level.qty != q.value ||
              ev.level.price_text_dp != p.text_dp || ev.level.qty_text_dp != q.text_dp)
            return "level " + std::string(px) + " " + std::string(qx);
          if (ev.side != (side == 0 ? book::Side::Bid : book::Side::Ask) || ev.exch_ts_ns != exch)
            return "level side/exch_ts";
        }
      }
      if (auto err = common(out[i], EventType::BookEnd); !err.empty())
        return err;
      return out[i].flags == 0 ? "" : "book end flags";
    }
    case Kind::BookTicker: {
      if (n != 1)
        return "bbo event count";
      const Event &ev = out[from];
      if (auto err = common(ev, EventType::Bbo); !err.empty())
        return err;
      const Mantissa bp = dec("b", inst->price_decimals), bq = dec("B", inst->qty_decimals);
      const Mantissa ap = dec("a", inst->price_decimals), aq = dec("A", inst->qty_decimals);
      const std::int64_t exch = has("E")   ? static_cast<std::int64_t>(u64("E")) * 1000000
                                : has("T") ? static_cast<std::int64_t>(u64("T")) * 1000000
                                           : 0;
      if (!bp.ok || !bq.ok || !ap.ok || !aq.ok || ev.bbo.bid_price != bp.value ||
          ev.bbo.bid_qty != bq.value || ev.bbo.ask_price != ap.value ||
          ev.bbo.ask_qty != aq.value || ev.bbo.update_id != u64("u") || ev.exch_ts_ns != exch)
        return "bbo fields";
      return "";
    }
    case Kind::Trade:
    case Kind::AggTrade: {
      if (n != 1)
        return "trade event count";
      const Event &ev = out[from];
      if (auto err = common(ev, EventType::Trade); !err.empty())
        return err;
      const Mantissa p = dec("p", inst->price_decimals), q = dec("q", inst->qty_decimals);
      bool maker = false;
      if (data["m"].get_bool().get(maker) != simdjson::SUCCESS)
        return "dom: m";
      const std::uint64_t id = u64(kind == Kind::Trade ? "t" : "a");
      if (!p.ok || !q.ok || ev.trade.price != p.value || ev.trade.qty != q.value ||
          ev.trade.trade_id != id ||
          ev.exch_ts_ns != static_cast<std::int64_t>(u64("T")) * 1000000 ||
          ev.flags != (maker ? kFlagBuyerIsMaker : 0) ||
          ev.side != (maker ? book::Side::Ask : book::Side::Bid))
        return "trade fields";
      return "";
    }
    case Kind::Ignored:
      break;
    }
    return "";
  }

private:
  simdjson::dom::parser parser_;
};

void count(Counts &c, Kind k) {
  switch (k) {
  case Kind::Depth:
    ++c.depth;
    break;
  case Kind::Snapshot:
    ++c.snapshot;
    break;
  case Kind::BookTicker:
    ++c.book_ticker;
    break;
  case Kind::Trade:
    ++c.trade;
    break;
  case Kind::AggTrade:
    ++c.agg_trade;
    break;
  case Kind::Ignored:
    ++c.ignored;
    break;
  }
}

// Loads the exchangeInfo response of a cryptofeed REST file into the registry.
std::size_t load_exchange_info_file(const std::string &rel, Venue venue, InstrumentRegistry &reg) {
  std::size_t loaded = 0;
  for (const Record &r : messages_of(rel, Format::CryptofeedHttp))
    loaded += load_binance_exchange_info(r.payload, venue, reg);
  return loaded;
}

class BinanceParserTest : public ::testing::Test {
protected:
  // Parses every received message of `rel` (one connection) with one parser and checks each
  // against the DOM oracle. The hint for an inline snapshot is the symbol of the messages
  // before it, as a live feed handler knows the symbol of the stream it subscribed.
  Counts replay(const std::string &rel, Format fmt, Venue venue, InstrumentRegistry &reg,
                BinanceParser &parser) {
    Counts c;
    EventBatch out;
    std::string hint;
    std::string symbol;
    for (const Record &r : messages_of(rel, fmt)) {
      const std::string_view json = r.payload;
      ++c.messages;
      const Frame frame(json);
      const std::int64_t recv_ts = static_cast<std::int64_t>(c.messages) * 1000 + 7;
      out.clear();
      std::string url_symbol;
      ParseStatus st;
      if (fmt == Format::CryptofeedHttp) {
        url_symbol = symbol_of_url(r.url);
        st = parser.parse_depth_snapshot(frame.view(), url_symbol, recv_ts, out);
      } else {
        st = parser.parse(frame.view(), recv_ts, out, hint);
      }
      if (is_error(st))
        ++c.parse_errors;
      Kind kind = Kind::Ignored;
      const std::string err =
          oracle_.check(json, venue, reg, st, out, 0, recv_ts,
                        fmt == Format::CryptofeedHttp ? url_symbol : hint, kind, symbol);
      if (!err.empty() && c.mismatches++ == 0)
        c.first_mismatch = err + " in: " + std::string(json.substr(0, 300));
      count(c, kind);
      if (!symbol.empty())
        hint = symbol;
    }
    return c;
  }
  Counts replay(const std::vector<std::string> &files, Format fmt, Venue venue) {
    InstrumentRegistry reg;
    BinanceParser parser(venue, reg);
    Counts total;
    for (const auto &f : files) {
      const Counts c = replay(f, fmt, venue, reg, parser);
      total.messages += c.messages;
      total.depth += c.depth;
      total.snapshot += c.snapshot;
      total.book_ticker += c.book_ticker;
      total.trade += c.trade;
      total.agg_trade += c.agg_trade;
      total.ignored += c.ignored;
      total.parse_errors += c.parse_errors;
      if (total.mismatches == 0)
        total.first_mismatch = c.first_mismatch;
      total.mismatches += c.mismatches;
    }
    return total;
  }

  DomOracle oracle_;
};

// ---- Replays over every Binance capture ----

TEST_F(BinanceParserTest, UsdmBtcusdt20240808MatchesTheDomAndProvenanceCounts) {
  const Counts c = replay({"binance/hftbacktest/usdm_btcusdt_20240808.gz"}, Format::Hftbacktest,
                          Venue::BinanceUsdm);
  EXPECT_EQ(c.mismatches, 0u) << c.first_mismatch;
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_EQ(c.messages, 93954u);
  EXPECT_EQ(c.depth, 6551u);
  EXPECT_EQ(c.book_ticker, 66089u);
  EXPECT_EQ(c.trade, 21313u);
  EXPECT_EQ(c.snapshot, 1u); // the inline REST snapshot
  EXPECT_EQ(c.ignored, 0u);
}

TEST_F(BinanceParserTest, SpotBtcusdt20240808And09MatchTheDomAndProvenanceCounts) {
  const Counts c = replay({"binance/hftbacktest/spot_btcusdt_20240808.gz",
                           "binance/hftbacktest/spot_btcusdt_20240809.gz"},
                          Format::Hftbacktest, Venue::BinanceSpot);
  EXPECT_EQ(c.mismatches, 0u) << c.first_mismatch;
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_EQ(c.messages, 41249u + 58325u);
  EXPECT_EQ(c.depth, 6495u);
  EXPECT_EQ(c.book_ticker, 73174u);
  EXPECT_EQ(c.trade, 19904u);
  EXPECT_EQ(c.snapshot, 1u);
  EXPECT_EQ(c.ignored, 0u);
}

TEST_F(BinanceParserTest, CoinmBtcusdPerp20240808And09MatchTheDomAndProvenanceCounts) {
  const Counts c = replay({"binance/hftbacktest/coinm_btcusd_perp_20240808.gz",
                           "binance/hftbacktest/coinm_btcusd_perp_20240809.gz"},
                          Format::Hftbacktest, Venue::BinanceCoinm);
  EXPECT_EQ(c.mismatches, 0u) << c.first_mismatch;
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_EQ(c.messages, 48270u + 50116u);
  EXPECT_EQ(c.depth, 44795u);
  EXPECT_EQ(c.snapshot, 1u);
  EXPECT_EQ(c.ignored, 0u);
}

TEST_F(BinanceParserTest, UsdmBtcusdt20240718And19MatchTheDomAndProvenanceCounts) {
  const Counts c = replay({"binance/hftbacktest/usdm_btcusdt_20240718.gz",
                           "binance/hftbacktest/usdm_btcusdt_20240719.gz"},
                          Format::Hftbacktest, Venue::BinanceUsdm);
  EXPECT_EQ(c.mismatches, 0u) << c.first_mismatch;
  EXPECT_EQ(c.parse_errors, 0u);
  EXPECT_EQ(c.messages, 11414u + 60570u);
  EXPECT_EQ(c.depth, 9022u);
  EXPECT_EQ(c.snapshot, 1u);
  EXPECT_EQ(c.ignored, 0u);
}

struct CryptofeedCase {
  const char *ws;
  const char *snapshots;
  const char *exchange_info;
  Venue venue;
  std::size_t ws_messages; // PROVENANCE.md
  std::size_t snapshots_n; // PROVENANCE.md
};

const CryptofeedCase kCryptofeed[] = {
    {"binance/cryptofeed/spot_2021-10-12_ws.txt.gz",
     "binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz",
     "binance/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz", Venue::BinanceSpot, 265, 4},
    {"binance/cryptofeed/spot_2021-08-14_ws.txt.gz",
     "binance/cryptofeed/spot_2021-08-14_depth_snapshots_http.txt.gz",
     "binance/cryptofeed/spot_2021-08-14_exchangeInfo_http.txt.gz", Venue::BinanceSpot, 1003, 4},
    {"binance/cryptofeed/usdm_2021-07-22_ws.txt.gz",
     "binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz",
     "binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz", Venue::BinanceUsdm, 1535, 4},
    {"binance/cryptofeed/coinm_2021-07-22_ws.txt.gz",
     "binance/cryptofeed/coinm_2021-07-22_depth_snapshots_http.txt.gz",
     "binance/cryptofeed/coinm_2021-07-22_exchangeInfo_http.txt.gz", Venue::BinanceCoinm, 4371, 10},
    {"binance_us/cryptofeed/spot_2021-10-12_ws.txt.gz",
     "binance_us/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz",
     "binance_us/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz", Venue::BinanceUs, 480, 4},
};

// With the venue's exchangeInfo loaded, prices and sizes are parsed at the tick/step
// exponents: every message of the 2021 captures must still be exact (no BadNumber).
TEST_F(BinanceParserTest, CryptofeedCapturesParseExactlyAtExchangeInfoExponents) {
  for (const CryptofeedCase &k : kCryptofeed) {
    SCOPED_TRACE(k.ws);
    InstrumentRegistry reg;
    ASSERT_GT(load_exchange_info_file(k.exchange_info, k.venue, reg), 0u);
    BinanceParser parser(k.venue, reg);
    const Counts ws = replay(k.ws, Format::CryptofeedWs, k.venue, reg, parser);
    EXPECT_EQ(ws.mismatches, 0u) << ws.first_mismatch;
    EXPECT_EQ(ws.parse_errors, 0u);
    EXPECT_EQ(ws.messages, k.ws_messages);
    EXPECT_GT(ws.depth, 0u);
    EXPECT_GT(ws.agg_trade, 0u);
    EXPECT_EQ(ws.depth + ws.book_ticker + ws.agg_trade + ws.ignored, ws.messages);
    const Counts rest = replay(k.snapshots, Format::CryptofeedHttp, k.venue, reg, parser);
    EXPECT_EQ(rest.mismatches, 0u) << rest.first_mismatch;
    EXPECT_EQ(rest.parse_errors, 0u);
    EXPECT_EQ(rest.snapshot, k.snapshots_n);
    EXPECT_EQ(rest.messages, k.snapshots_n);
  }
}

// Without metadata every symbol is registered on first sight at 8 decimals.
TEST_F(BinanceParserTest, CryptofeedCapturesParseWithDefaultInstruments) {
  for (const CryptofeedCase &k : kCryptofeed) {
    SCOPED_TRACE(k.ws);
    InstrumentRegistry reg;
    BinanceParser parser(k.venue, reg);
    const Counts ws = replay(k.ws, Format::CryptofeedWs, k.venue, reg, parser);
    EXPECT_EQ(ws.mismatches, 0u) << ws.first_mismatch;
    EXPECT_EQ(ws.parse_errors, 0u);
    EXPECT_EQ(ws.messages, k.ws_messages);
    const Counts rest = replay(k.snapshots, Format::CryptofeedHttp, k.venue, reg, parser);
    EXPECT_EQ(rest.mismatches, 0u) << rest.first_mismatch;
    EXPECT_EQ(rest.snapshot, k.snapshots_n);
    for (std::uint32_t id = 0; id < reg.size(); ++id)
      EXPECT_EQ(reg.at(id).price_decimals, InstrumentRegistry::kDefaultDecimals);
  }
}

// ---- Helpers over single real messages ----

// The first received message of a capture for which `pick` returns true.
std::string first_message(const std::string &rel, Format fmt,
                          const std::function<bool(std::string_view)> &pick) {
  for (const Record &r : messages_of(rel, fmt))
    if (pick(r.payload))
      return std::string(r.payload);
  return {};
}
auto contains(std::string_view needle) {
  return [needle](std::string_view json) { return json.find(needle) != std::string_view::npos; };
}

struct Sample {
  std::string name;
  Venue venue;
  std::string json;
  bool rest_snapshot = false;
  std::string symbol; // for REST snapshots
};

Sample sample(std::string name, Venue venue, std::string json, bool rest = false,
              std::string symbol = {}) {
  Sample s;
  s.name = std::move(name);
  s.venue = venue;
  s.json = std::move(json);
  s.rest_snapshot = rest;
  s.symbol = std::move(symbol);
  return s;
}

std::vector<Sample> load_samples() {
  const std::string spot = "binance/cryptofeed/spot_2021-10-12_ws.txt.gz";
  const std::string usdm = "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz";
  std::vector<Sample> s;
  s.push_back(sample("spot depthUpdate", Venue::BinanceSpot,
                     first_message(spot, Format::CryptofeedWs, contains("depthUpdate"))));
  s.push_back(sample("spot bookTicker", Venue::BinanceSpot,
                     first_message(spot, Format::CryptofeedWs, contains("@bookTicker"))));
  s.push_back(sample("spot aggTrade", Venue::BinanceSpot,
                     first_message(spot, Format::CryptofeedWs, contains("aggTrade"))));
  s.push_back(sample("spot kline", Venue::BinanceSpot,
                     first_message(spot, Format::CryptofeedWs, contains("kline"))));
  s.push_back(sample("usdm depthUpdate", Venue::BinanceUsdm,
                     first_message(usdm, Format::CryptofeedWs, contains("depthUpdate"))));
  s.push_back(sample("usdm bookTicker", Venue::BinanceUsdm,
                     first_message(usdm, Format::CryptofeedWs, contains("@bookTicker"))));
  s.push_back(sample("usdm trade", Venue::BinanceUsdm,
                     first_message("binance/hftbacktest/usdm_btcusdt_20240808.gz",
                                   Format::Hftbacktest, contains("@trade"))));
  s.push_back(sample("spot inline snapshot", Venue::BinanceSpot,
                     first_message("binance/hftbacktest/spot_btcusdt_20240808.gz",
                                   Format::Hftbacktest, contains("lastUpdateId")),
                     false, "BTCUSDT"));
  s.push_back(sample("usdm REST snapshot", Venue::BinanceUsdm,
                     first_message("binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz",
                                   Format::CryptofeedHttp, contains("lastUpdateId")),
                     true, "SUSHIUSDT"));
  for (const Sample &x : s)
    EXPECT_FALSE(x.json.empty()) << x.name;
  return s;
}
const std::vector<Sample> &samples() {
  static const std::vector<Sample> all = load_samples();
  return all;
}

ParseStatus parse_sample(BinanceParser &p, const Sample &s, std::string_view frame,
                         EventBatch &out) {
  return s.rest_snapshot ? p.parse_depth_snapshot(frame, s.symbol, 1, out)
                         : p.parse(frame, 1, out, s.symbol);
}

// Fills the batch with the events of one real message (the spot depthUpdate sample) so that
// "unchanged" means more than "empty".
std::size_t prefill(EventBatch &out) {
  InstrumentRegistry reg;
  BinanceParser p(Venue::BinanceSpot, reg);
  const Frame f(samples()[0].json);
  EXPECT_EQ(p.parse(f.view(), 1, out), ParseStatus::Ok);
  EXPECT_GT(out.size(), 0u);
  return out.size();
}

// Cut/flip positions: all of a small message; for the big snapshots the first and last 256
// bytes plus ~1024 evenly spaced ones, to keep the run short.
std::vector<std::size_t> positions(std::size_t n) {
  std::vector<std::size_t> pos;
  if (n <= 2048) {
    for (std::size_t i = 0; i < n; ++i)
      pos.push_back(i);
    return pos;
  }
  for (std::size_t i = 0; i < 256; ++i)
    pos.push_back(i);
  for (std::size_t i = 256; i < n - 256; i += (n - 512) / 1024 + 1)
    pos.push_back(i);
  for (std::size_t i = n - 256; i < n; ++i)
    pos.push_back(i);
  return pos;
}

// ---- Malformed input ----

TEST_F(BinanceParserTest, EverySampleParsesOkOrIgnoredWhole) {
  InstrumentRegistry reg;
  for (const Sample &s : samples()) {
    BinanceParser p(s.venue, reg);
    EventBatch out;
    const Frame f(s.json);
    const ParseStatus st = parse_sample(p, s, f.view(), out);
    EXPECT_EQ(st, s.name == "spot kline" ? ParseStatus::Ignored : ParseStatus::Ok) << s.name;
  }
}

// Mechanical corruption: each real sample cut at every length. A cut object can never be a
// complete frame; the padding is filled with '}' as well as NUL so a cut frame cannot be
// "completed" by whatever follows it in the receive buffer.
TEST_F(BinanceParserTest, TruncatedRealMessagesAreErrorsAndLeaveTheBatchUnchanged) {
  InstrumentRegistry reg;
  for (const Sample &s : samples()) {
    BinanceParser p(s.venue, reg);
    EventBatch out;
    const std::size_t before = prefill(out);
    for (const char pad : {'\0', '}', ']', ','}) {
      for (const std::size_t cut : positions(s.json.size())) {
        const Frame f(std::string_view(s.json).substr(0, cut), pad);
        const ParseStatus st = parse_sample(p, s, f.view(), out);
        ASSERT_TRUE(is_error(st)) << s.name << " cut at " << cut << " pad '" << pad
                                  << "': " << to_cstring(st);
        ASSERT_EQ(out.size(), before) << s.name << " cut at " << cut;
      }
    }
  }
}

// Mechanical corruption: every byte of each sample XORed with a few masks. Some flips leave a
// valid message (a digit becomes another digit), so the outcome may be Ok; what must hold is
// no crash (sanitizers), errors leave the batch as it was, and Ok output is well framed.
TEST_F(BinanceParserTest, FlippedBytesNeverCrashAndErrorsLeaveTheBatchUnchanged) {
  InstrumentRegistry reg;
  std::size_t errors = 0;
  std::size_t runs = 0;
  for (const Sample &s : samples()) {
    BinanceParser p(s.venue, reg);
    EventBatch out;
    const std::size_t before = prefill(out);
    for (const std::size_t pos : positions(s.json.size())) {
      for (const int mask : {0x01, 0x20, 0x5a, 0x80}) {
        std::string corrupt = s.json;
        corrupt[pos] = static_cast<char>(static_cast<unsigned char>(corrupt[pos]) ^ mask);
        const Frame f(corrupt);
        const ParseStatus st = parse_sample(p, s, f.view(), out);
        ++runs;
        if (st != ParseStatus::Ok) {
          errors += is_error(st) ? 1U : 0U;
          ASSERT_EQ(out.size(), before) << s.name << " flip at " << pos;
          continue;
        }
        // Well framed: a book message is Begin, `levels` levels, End.
        ASSERT_GT(out.size(), before);
        const Event &first = out[before];
        if (first.type == EventType::BookBegin) {
          ASSERT_EQ(out.size(), before + first.begin.levels + 2);
          ASSERT_EQ(out[out.size() - 1].type, EventType::BookEnd);
        } else {
          ASSERT_EQ(out.size(), before + 1);
        }
        out.truncate(before);
      }
    }
  }
  EXPECT_GT(errors, runs / 4); // most flips break the JSON or a number
}

// Mechanical corruption: the last digit of the last level's quantity in a real depth
// message becomes a letter. Levels were already appended when the error is found; they
// must be removed again.
TEST_F(BinanceParserTest, DigitTurnedLetterInLastLevelIsBadNumberAndBatchUnchanged) {
  InstrumentRegistry reg;
  for (const Sample &s : samples()) {
    if (s.name != "spot depthUpdate" && s.name != "usdm depthUpdate" &&
        s.name != "usdm REST snapshot")
      continue;
    BinanceParser p(s.venue, reg);
    EventBatch out;
    const std::size_t before = prefill(out);
    std::string corrupt = s.json;
    // Last level's quantity: the last `"` + digit before the closing brackets.
    const auto pos = corrupt.find_last_of("0123456789", corrupt.rfind("\"]"));
    ASSERT_NE(pos, std::string::npos);
    corrupt[pos] = 'x';
    const Frame f(corrupt);
    EXPECT_EQ(parse_sample(p, s, f.view(), out), ParseStatus::BadNumber) << s.name;
    EXPECT_EQ(out.size(), before) << s.name;
  }
}

// Mechanical corruption: a digit of the "u" update id becomes a letter: not a number at all.
TEST_F(BinanceParserTest, DigitTurnedLetterInUpdateIdIsMalformed) {
  InstrumentRegistry reg;
  for (const Sample &s : samples()) {
    if (s.name != "spot depthUpdate" && s.name != "usdm bookTicker")
      continue;
    BinanceParser p(s.venue, reg);
    EventBatch out;
    const std::size_t before = prefill(out);
    std::string corrupt = s.json;
    const auto key = corrupt.find("\"u\":");
    ASSERT_NE(key, std::string::npos);
    corrupt[key + 5] = 'x';
    const Frame f(corrupt);
    EXPECT_EQ(parse_sample(p, s, f.view(), out), ParseStatus::Malformed) << s.name;
    EXPECT_EQ(out.size(), before);
  }
}

TEST_F(BinanceParserTest, BatchOverflowIsReportedAndLeavesTheBatchUnchanged) {
  InstrumentRegistry reg;
  const Sample s = samples()[0]; // spot depthUpdate with 3 levels -> 5 events
  BinanceParser p(s.venue, reg);
  EventBatch out(4);
  const Frame f(s.json);
  EXPECT_EQ(p.parse(f.view(), 1, out), ParseStatus::BatchOverflow);
  EXPECT_EQ(out.size(), 0u);
}

TEST_F(BinanceParserTest, SymbolUnknownToLoadedMetadataIsUnknownInstrument) {
  InstrumentRegistry reg;
  ASSERT_GT(load_exchange_info_file("binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz",
                                    Venue::BinanceUsdm, reg),
            0u);
  // A COIN-M message (BCHUSD_PERP) fed to the USD-M parser: not in the USD-M metadata.
  const std::string json = first_message("binance/cryptofeed/coinm_2021-07-22_ws.txt.gz",
                                         Format::CryptofeedWs, contains("depthUpdate"));
  BinanceParser p(Venue::BinanceUsdm, reg);
  EventBatch out;
  const Frame f(json);
  EXPECT_EQ(p.parse(f.view(), 1, out), ParseStatus::UnknownInstrument);
  EXPECT_EQ(out.size(), 0u);
}

TEST_F(BinanceParserTest, InlineSnapshotWithoutSymbolNeedsTheHint) {
  InstrumentRegistry reg;
  const std::string json = first_message("binance/hftbacktest/spot_btcusdt_20240808.gz",
                                         Format::Hftbacktest, contains("lastUpdateId"));
  BinanceParser p(Venue::BinanceSpot, reg);
  EventBatch out;
  const Frame f(json);
  EXPECT_EQ(p.parse(f.view(), 1, out), ParseStatus::UnknownInstrument);
  EXPECT_EQ(p.parse(f.view(), 1, out, "BTCUSDT"), ParseStatus::Ok);
  ASSERT_GT(out.size(), 2u);
  EXPECT_EQ(reg.at(out[0].instrument).native, "BTCUSDT");
}

// ---- Field order and envelope independence ----

// Re-serializes a real message with the keys of every object in reverse order (a mechanical
// transformation through the DOM; values are the original tokens).
void reverse_keys(simdjson::dom::element e, std::string &out) {
  switch (e.type()) {
  case simdjson::dom::element_type::OBJECT: {
    std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
    const simdjson::dom::object obj = e.get_object().value_unsafe();
    for (const simdjson::dom::key_value_pair kv : obj)
      fields.emplace_back(kv.key, kv.value);
    out += '{';
    for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
      if (it != fields.rbegin())
        out += ',';
      out += '"';
      out.append(it->first);
      out += "\":";
      reverse_keys(it->second, out);
    }
    out += '}';
    break;
  }
  case simdjson::dom::element_type::ARRAY: {
    out += '[';
    bool first = true;
    const simdjson::dom::array arr = e.get_array().value_unsafe();
    for (const simdjson::dom::element x : arr) {
      if (!first)
        out += ',';
      first = false;
      reverse_keys(x, out);
    }
    out += ']';
    break;
  }
  default:
    out += simdjson::minify(e);
    break;
  }
}

std::vector<Event> events_of(BinanceParser &p, const Sample &s, std::string_view json,
                             ParseStatus &st) {
  EventBatch out;
  const Frame f(json);
  st = parse_sample(p, s, f.view(), out);
  return {out.begin(), out.end()};
}

bool same_event(const Event &x, const Event &y) {
  if (x.type != y.type || x.flags != y.flags || x.side != y.side || x.venue != y.venue ||
      x.instrument != y.instrument || x.exch_ts_ns != y.exch_ts_ns || x.recv_ts_ns != y.recv_ts_ns)
    return false;
  switch (x.type) {
  case EventType::BookBegin:
    return x.begin.first_seq == y.begin.first_seq && x.begin.last_seq == y.begin.last_seq &&
           x.begin.prev_seq == y.begin.prev_seq && x.begin.levels == y.begin.levels;
  case EventType::BookLevel:
    return x.level.price == y.level.price && x.level.qty == y.level.qty &&
           x.level.price_text_dp == y.level.price_text_dp &&
           x.level.qty_text_dp == y.level.qty_text_dp && x.level.orders == y.level.orders;
  case EventType::BookEnd:
    return x.end.checksum == y.end.checksum;
  case EventType::Trade:
    return x.trade.price == y.trade.price && x.trade.qty == y.trade.qty &&
           x.trade.trade_id == y.trade.trade_id;
  case EventType::Bbo:
    return x.bbo.bid_price == y.bbo.bid_price && x.bbo.bid_qty == y.bbo.bid_qty &&
           x.bbo.ask_price == y.bbo.ask_price && x.bbo.ask_qty == y.bbo.ask_qty &&
           x.bbo.update_id == y.bbo.update_id;
  default:
    return false;
  }
}

bool same_events(const std::vector<Event> &a, const std::vector<Event> &b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_event(a[i], b[i]))
      return false;
  return true;
}

TEST_F(BinanceParserTest, FieldOrderDoesNotChangeTheEvents) {
  InstrumentRegistry reg;
  simdjson::dom::parser dom;
  for (const Sample &s : samples()) {
    BinanceParser p(s.venue, reg);
    const simdjson::padded_string padded(s.json);
    simdjson::dom::element root;
    ASSERT_EQ(dom.parse(padded).get(root), simdjson::SUCCESS);
    std::string reversed;
    reverse_keys(root, reversed);
    ASSERT_NE(reversed, s.json);
    ParseStatus st_orig{};
    ParseStatus st_rev{};
    const auto orig = events_of(p, s, s.json, st_orig);
    const auto rev = events_of(p, s, reversed, st_rev);
    EXPECT_EQ(st_orig, st_rev) << s.name;
    EXPECT_TRUE(same_events(orig, rev)) << s.name << ": " << reversed.substr(0, 200);
  }
}

// Two more mechanical re-serializations, of the kind a venue could send after a change:
// the envelope's keys swapped ({"data":..,"stream":..}: something follows the event object)
// and the event object's first key moved to its end (something follows the asks). Both
// leave the usual shape the parser reads fastest; the events must not change.
void reorder(simdjson::dom::element e, bool rotate_first_key, std::string &out) {
  const simdjson::dom::object obj = e.get_object().value_unsafe();
  std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
  for (const simdjson::dom::key_value_pair kv : obj)
    fields.emplace_back(kv.key, kv.value);
  if (rotate_first_key)
    std::rotate(fields.begin(), fields.begin() + 1, fields.end());
  else
    std::reverse(fields.begin(), fields.end());
  out += '{';
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i != 0)
      out += ',';
    out += '"';
    out.append(fields[i].first);
    out += "\":";
    out += simdjson::minify(fields[i].second);
  }
  out += '}';
}

TEST_F(BinanceParserTest, FieldsAroundTheLevelsInAnotherOrderGiveTheSameEvents) {
  InstrumentRegistry reg;
  simdjson::dom::parser dom;
  std::size_t compared = 0;
  for (const Sample &s : samples()) {
    const simdjson::padded_string padded(s.json);
    simdjson::dom::element root;
    ASSERT_EQ(dom.parse(padded).get(root), simdjson::SUCCESS);
    simdjson::dom::element data;
    std::string swapped;
    std::string rotated;
    if (root["data"].get(data) == simdjson::SUCCESS) {
      reorder(root, false, swapped); // {"data":{...},"stream":"..."}
      std::string inner;
      reorder(data, true, inner);
      rotated = "{\"stream\":" + simdjson::minify(root["stream"].value_unsafe()) +
                ",\"data\":" + inner + "}";
    } else {
      reorder(root, true, rotated);
    }
    BinanceParser p(s.venue, reg);
    ParseStatus st_orig{};
    const auto orig = events_of(p, s, s.json, st_orig);
    for (const std::string *variant : {&swapped, &rotated}) {
      if (variant->empty())
        continue;
      ParseStatus st{};
      const auto got = events_of(p, s, *variant, st);
      EXPECT_EQ(st, st_orig) << s.name << ": " << variant->substr(0, 200);
      EXPECT_TRUE(same_events(orig, got)) << s.name << ": " << variant->substr(0, 200);
      ++compared;
    }
  }
  EXPECT_GE(compared, 15u);
}

TEST_F(BinanceParserTest, RawEventAndCombinedStreamEnvelopeGiveTheSameEvents) {
  InstrumentRegistry reg;
  simdjson::dom::parser dom;
  std::size_t compared = 0;
  for (const Sample &s : samples()) {
    const simdjson::padded_string padded(s.json);
    simdjson::dom::element root;
    ASSERT_EQ(dom.parse(padded).get(root), simdjson::SUCCESS);
    simdjson::dom::element data;
    if (root["data"].get(data) != simdjson::SUCCESS)
      continue;
    // The "data" member of the real envelope, as a raw stream would deliver it.
    const std::string raw = simdjson::minify(data);
    BinanceParser p(s.venue, reg);
    ParseStatus st_env{};
    ParseStatus st_raw{};
    const auto env = events_of(p, s, s.json, st_env);
    const auto bare = events_of(p, s, raw, st_raw);
    EXPECT_EQ(st_env, st_raw) << s.name;
    EXPECT_TRUE(same_events(env, bare)) << s.name;
    ++compared;
  }
  EXPECT_GE(compared, 7u);
}

// ---- Allocation-free hot path ----

// After the first message of each symbol (which registers it), parsing allocates nothing:
// counted with this binary's replacement operator new over whole captures.
TEST_F(BinanceParserTest, ParsingAllocatesNothingAfterFirstMessageOfEachSymbol) {
  struct File {
    const char *rel;
    Format fmt;
    Venue venue;
  };
  const File files[] = {
      {"binance/cryptofeed/coinm_2021-07-22_ws.txt.gz", Format::CryptofeedWs, Venue::BinanceCoinm},
      {"binance/cryptofeed/spot_2021-08-14_ws.txt.gz", Format::CryptofeedWs, Venue::BinanceSpot},
      {"binance/hftbacktest/spot_btcusdt_20240808.gz", Format::Hftbacktest, Venue::BinanceSpot},
      {"binance/hftbacktest/usdm_btcusdt_20240718.gz", Format::Hftbacktest, Venue::BinanceUsdm},
  };
  for (const File &file : files) {
    SCOPED_TRACE(file.rel);
    // Frames are loaded first so the measured loop does nothing but parse.
    std::vector<Frame> frames;
    for (const Record &r : messages_of(file.rel, file.fmt))
      frames.emplace_back(r.payload);
    InstrumentRegistry reg;
    BinanceParser p(file.venue, reg);
    EventBatch out;
    std::size_t allocating = 0;
    std::size_t parsed = 0;
    std::size_t symbols_registered = 0;
    const std::string hint = "BTCUSDT"; // the inline snapshots of the hftbacktest files
    for (const Frame &f : frames) {
      out.clear();
      const std::size_t instruments = reg.size();
      const std::size_t before = g_allocations.load(std::memory_order_relaxed);
      const ParseStatus st = p.parse(f.view(), 1, out, hint);
      const std::size_t allocs = g_allocations.load(std::memory_order_relaxed) - before;
      ASSERT_FALSE(is_error(st));
      ++parsed;
      if (reg.size() != instruments)
        ++symbols_registered;
      else if (allocs != 0)
        ++allocating;
    }
    EXPECT_EQ(allocating, 0u);
    EXPECT_GT(parsed, 1000u);
    EXPECT_GT(symbols_registered, 0u);
  }
}

} // namespace
} // namespace fh::venues
