#pragma once
// Real market data for the shm tests (never hand-written messages):
//  * instruments: the Binance USD-M exchangeInfo response recorded by cryptofeed,
//    data/binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz, loaded with the feed
//    handler's own metadata loader (decimals, tick, lot, canonical names);
//  * books, trades, BBOs: data/binance/hftbacktest/usdm_btcusdt_20240808.gz (hftbacktest
//    collector lines: "<recv ns> <combined-stream json>"). The test keeps its own book, a
//    std::map per side, seeded by the inline REST snapshot (line 55) and updated by the
//    depthUpdate diffs after it with the Binance USD-M rules (drop u < lastUpdateId; then every
//    pu equals the previous u), prices and sizes parsed with fh::book::parse_decimal at the
//    exchangeInfo decimals. After each applied diff it keeps the sorted top kTopN of each side.
// Everything is computed here, independently of shm/, so the expected values of a round trip
// through a segment come from the venue's bytes, not from our own output.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "book/decimal.hpp"
#include "feedhandler/capture.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/binance.hpp"
#include "shm/layout.hpp"
#include "shm/writer.hpp"

namespace fh::shm::test {

inline constexpr std::uint32_t kTopN = 25;
inline constexpr const char* kExchangeInfo =
    "binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz";
inline constexpr const char* kCapture = "binance/hftbacktest/usdm_btcusdt_20240808.gz";

struct RealFrame {
  std::uint64_t seq;  // u of the diff
  std::int64_t exch_ts; // E (ms) in ns
  std::int64_t recv_ts;
  std::uint8_t status; // Synced, or Crossed when best bid >= best ask
  std::uint32_t nb, na;
  std::array<Level, kTopN> bids, asks; // best first
};

struct RealTrade {
  std::int64_t price, qty;
  std::uint64_t trade_id;
  std::uint8_t side; // kAggressor*: m=true means the buyer was the maker, so the seller hit
  std::int64_t exch_ts, recv_ts;
};

struct RealBbo {
  std::int64_t bid_price, bid_qty, ask_price, ask_qty;
  std::uint64_t update_id;
  std::int64_t exch_ts, recv_ts;
};

struct RealMarket {
  std::unique_ptr<InstrumentRegistry> registry;
  const Instrument* btc = nullptr; // BTCUSDT
  std::vector<RealFrame> frames;
  std::vector<RealTrade> trades;
  std::vector<RealBbo> bbos;
};

inline InstrumentInfo info_of(const Instrument& i) {
  return InstrumentInfo{i.id, static_cast<std::uint8_t>(i.venue), static_cast<std::uint8_t>(i.kind),
                        i.price_decimals, i.qty_decimals, i.tick, i.lot, venue_name(i.venue),
                        i.native, i.canonical};
}

namespace detail {

inline std::string data_path(std::string_view rel) {
  return std::string(FH_DATA_DIR) + "/" + std::string(rel);
}

using Side = std::map<std::int64_t, std::int64_t, std::function<bool(std::int64_t, std::int64_t)>>;

// [["61800.20","2.507"], ...] -> absolute sizes into `side` (0 deletes).
inline bool apply_levels(simdjson::ondemand::array levels, const Instrument& inst, Side& side) {
  for (auto level_result : levels) {
    simdjson::ondemand::array pair;
    if (level_result.get_array().get(pair))
      return false;
    std::string_view texts[2];
    std::size_t n = 0;
    for (auto v : pair) {
      if (n == 2 || v.get_string().get(texts[n]))
        return false;
      ++n;
    }
    book::ParsedDecimal px{}, qty{};
    if (n != 2 || book::parse_decimal(texts[0], inst.price_decimals, px) != book::DecimalError::Ok ||
        book::parse_decimal(texts[1], inst.qty_decimals, qty) != book::DecimalError::Ok)
      return false;
    if (qty.mantissa == 0)
      side.erase(px.mantissa);
    else
      side[px.mantissa] = qty.mantissa;
  }
  return true;
}

inline bool decimal_field(simdjson::ondemand::object& o, std::string_view key, std::uint8_t dp,
                          std::int64_t& out) {
  std::string_view text;
  book::ParsedDecimal d{};
  if (o.find_field_unordered(key).get_string().get(text) ||
      book::parse_decimal(text, dp, d) != book::DecimalError::Ok)
    return false;
  out = d.mantissa;
  return true;
}

inline std::uint32_t top_of(const Side& side, std::array<Level, kTopN>& out) {
  std::uint32_t n = 0;
  for (auto it = side.begin(); it != side.end() && n < kTopN; ++it, ++n)
    out[n] = Level{it->first, it->second, 0, 0};
  return n;
}

} // namespace detail

// Loads up to `max_frames` book frames (and the trades and BBOs recorded up to the last of
// them). Returns "" on success, else what went wrong.
inline std::string load_real_market(RealMarket& m, std::size_t max_frames = 4000) {
  m.registry = std::make_unique<InstrumentRegistry>();
  {
    auto opened = capture::CaptureFile::open(detail::data_path(kExchangeInfo));
    if (auto* e = std::get_if<capture::Error>(&opened))
      return e->message;
    const auto& f = std::get<capture::CaptureFile>(opened);
    std::size_t loaded = 0;
    for (const capture::Record& r : f.records())
      if (r.kind == capture::RecordKind::Http)
        loaded += venues::load_binance_exchange_info(r.payload, Venue::BinanceUsdm, *m.registry);
    if (loaded == 0)
      return "no instruments in " + std::string(kExchangeInfo);
  }
  m.btc = m.registry->find(Venue::BinanceUsdm, "BTCUSDT");
  if (m.btc == nullptr)
    return "BTCUSDT missing from exchangeInfo";
  const Instrument& inst = *m.btc;

  auto opened = capture::CaptureFile::open(detail::data_path(kCapture));
  if (auto* e = std::get_if<capture::Error>(&opened))
    return e->message;
  const auto& file = std::get<capture::CaptureFile>(opened);

  simdjson::ondemand::parser parser;
  detail::Side bids(std::greater<std::int64_t>{});
  detail::Side asks(std::less<std::int64_t>{});
  // Pass 1: the inline REST snapshot seeds the book. Diffs received before it are applied in
  // pass 2 like a real handler's buffer: they are in file order, which is u order.
  std::uint64_t snapshot_id = 0;
  for (const capture::Record& r : file.records()) {
    if (r.kind != capture::RecordKind::WsText || !r.payload.starts_with("{\"lastUpdateId\""))
      continue;
    simdjson::padded_string_view json(r.payload.data(), r.payload.size(),
                                      r.payload.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    simdjson::ondemand::array b, a;
    if (parser.iterate(json).get(doc) || doc.get_object().get(root) ||
        root.find_field_unordered("lastUpdateId").get_uint64().get(snapshot_id) ||
        root.find_field_unordered("bids").get_array().get(b) ||
        !detail::apply_levels(b, inst, bids) ||
        root.find_field_unordered("asks").get_array().get(a) ||
        !detail::apply_levels(a, inst, asks))
      return "line " + std::to_string(r.line) + ": bad snapshot";
    break;
  }
  if (snapshot_id == 0)
    return "no REST snapshot in " + std::string(kCapture);

  std::uint64_t last_u = 0;
  bool synced = false;
  for (const capture::Record& r : file.records()) {
    if (m.frames.size() >= max_frames)
      break;
    if (r.kind != capture::RecordKind::WsText || r.payload.starts_with("{\"lastUpdateId\""))
      continue;
    const std::string where = "line " + std::to_string(r.line);
    simdjson::padded_string_view json(r.payload.data(), r.payload.size(),
                                      r.payload.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    if (parser.iterate(json).get(doc) || doc.get_object().get(root))
      return where + ": not a JSON object";
    std::string_view stream;
    simdjson::ondemand::object data;
    if (root.find_field_unordered("stream").get_string().get(stream) ||
        root.find_field_unordered("data").get_object().get(data))
      return where + ": no stream/data";
    if (stream.ends_with("@depth@0ms")) {
      std::uint64_t U = 0, u = 0, pu = 0, E = 0;
      if (data.find_field_unordered("E").get_uint64().get(E) ||
          data.find_field_unordered("U").get_uint64().get(U) ||
          data.find_field_unordered("u").get_uint64().get(u) ||
          data.find_field_unordered("pu").get_uint64().get(pu))
        return where + ": depthUpdate without E/U/u/pu";
      if (u < snapshot_id)
        continue;
      if (!synced) {
        if (U > snapshot_id)
          return where + ": first diff after the snapshot does not cover lastUpdateId";
        synced = true;
      } else if (pu != last_u) {
        return where + ": pu chain broken";
      }
      last_u = u;
      simdjson::ondemand::array b, a;
      if (data.find_field_unordered("b").get_array().get(b) ||
          !detail::apply_levels(b, inst, bids) ||
          data.find_field_unordered("a").get_array().get(a) ||
          !detail::apply_levels(a, inst, asks))
        return where + ": bad levels";
      RealFrame f{};
      f.seq = u;
      f.exch_ts = static_cast<std::int64_t>(E) * 1'000'000;
      f.recv_ts = r.recv_ts_ns;
      f.nb = detail::top_of(bids, f.bids);
      f.na = detail::top_of(asks, f.asks);
      const bool crossed = f.nb != 0 && f.na != 0 && f.bids[0].price >= f.asks[0].price;
      f.status = static_cast<std::uint8_t>(crossed ? BookStatus::Crossed : BookStatus::Synced);
      m.frames.push_back(f);
    } else if (stream.ends_with("@trade")) {
      RealTrade t{};
      std::uint64_t T = 0;
      bool maker = false;
      if (!detail::decimal_field(data, "p", inst.price_decimals, t.price) ||
          !detail::decimal_field(data, "q", inst.qty_decimals, t.qty) ||
          data.find_field_unordered("t").get_uint64().get(t.trade_id) ||
          data.find_field_unordered("T").get_uint64().get(T) ||
          data.find_field_unordered("m").get_bool().get(maker))
        return where + ": bad trade";
      t.side = maker ? kAggressorSell : kAggressorBuy;
      t.exch_ts = static_cast<std::int64_t>(T) * 1'000'000;
      t.recv_ts = r.recv_ts_ns;
      m.trades.push_back(t);
    } else if (stream.ends_with("@bookTicker")) {
      RealBbo q{};
      std::uint64_t T = 0;
      if (data.find_field_unordered("u").get_uint64().get(q.update_id) ||
          !detail::decimal_field(data, "b", inst.price_decimals, q.bid_price) ||
          !detail::decimal_field(data, "B", inst.qty_decimals, q.bid_qty) ||
          !detail::decimal_field(data, "a", inst.price_decimals, q.ask_price) ||
          !detail::decimal_field(data, "A", inst.qty_decimals, q.ask_qty) ||
          data.find_field_unordered("T").get_uint64().get(T))
        return where + ": bad bookTicker";
      q.exch_ts = static_cast<std::int64_t>(T) * 1'000'000;
      q.recv_ts = r.recv_ts_ns;
      m.bbos.push_back(q);
    }
  }
  if (m.frames.empty())
    return "no book frames after the snapshot";
  return {};
}

// The process-wide copy (loading takes a moment; every test in a binary shares it).
inline const RealMarket& real_market() {
  static RealMarket market;
  static const std::string error = load_real_market(market);
  if (!error.empty()) {
    std::fprintf(stderr, "real market data: %s\n", error.c_str());
    std::abort();
  }
  return market;
}

// Creates a writer; nullptr (and a test failure naming the reason) if create() failed.
inline std::unique_ptr<Writer> create_writer(const WriterOptions& o) {
  auto created = Writer::create(o);
  if (auto* e = std::get_if<CreateError>(&created)) {
    ADD_FAILURE() << e->message;
    return nullptr;
  }
  return std::make_unique<Writer>(std::move(std::get<Writer>(created)));
}

// Puts every instrument of the real market into the writer's directory.
inline void add_real_instruments(Writer& w) {
  const InstrumentRegistry& reg = *real_market().registry;
  for (std::uint32_t id = 0; id < reg.size(); ++id)
    EXPECT_EQ(w.add_instrument(info_of(reg.at(id))), WriteStatus::Ok);
}

} // namespace fh::shm::test
