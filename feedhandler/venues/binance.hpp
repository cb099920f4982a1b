#pragma once
// Binance market-data adapter: spot, USD-M futures, COIN-M futures and Binance.US share one
// wire format, so they share this parser; the Venue picks the symbol namespace and whether
// depth events must carry `pu` (futures chain on `pu`, spot on `U == prev u + 1`).
//
// Why this shape: one parser object per connection owns a pre-sized simdjson on-demand
// parser, so parsing a frame never allocates (the registry allocates once per new symbol).
// The frame is walked once in document order; each field is dispatched on its raw key and
// price levels are converted to fixed-point as they stream past. Binance sends the fields of
// an event in a fixed order (type and symbol before the level arrays, the asks last), which
// the walk exploits: the asks and closing braces are read straight from the text. If a frame
// ever breaks that order, a cold path walks it again the general way (rewinding to look
// the arrays up by name), so correctness never depends on field order. On any error the
// events already appended for the frame are removed again: a batch only ever holds whole
// messages.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"
#include "feedhandler/venue.hpp"

namespace fh::venues {

class BinanceParser {
public:
  // Largest frame parsed without reallocating. A 5000-level spot REST snapshot is ~350 KB;
  // a larger frame still parses, but grows the buffers once (an allocation).
  static constexpr std::size_t kDefaultMaxFrame = std::size_t{1} << 20;

  // venue: BinanceSpot, BinanceUsdm, BinanceCoinm or BinanceUs.
  BinanceParser(Venue venue, InstrumentRegistry &registry,
                std::size_t max_frame = kDefaultMaxFrame);

  BinanceParser(const BinanceParser &) = delete;
  BinanceParser &operator=(const BinanceParser &) = delete;

  // One received WebSocket text frame: a combined-stream envelope {"stream":..,"data":{..}},
  // a raw event object, or (hftbacktest captures) a bare REST depth snapshot
  // {"lastUpdateId":..} written inline, whose symbol is its "symbol" field if present, else
  // `symbol_hint`. `frame` has SIMDJSON_PADDING readable bytes after it. Appends events to
  // `out`; on an error status `out` is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns, EventBatch &out,
                                  std::string_view symbol_hint = {}) noexcept;

  // A REST GET /api/v3/depth, /fapi/v1/depth or /dapi/v1/depth response body for `symbol`
  // (same padding contract as parse()).
  [[nodiscard]] ParseStatus parse_depth_snapshot(std::string_view body, std::string_view symbol,
                                                 std::int64_t recv_ts_ns, EventBatch &out) noexcept;

  [[nodiscard]] Venue venue() const noexcept { return venue_; }

  // The instrument of a native symbol (registered with binance_default_instrument on first
  // sight when the venue has no metadata); a one-entry cache sits in front of the registry
  // because a connection mostly repeats its last symbol.
  [[nodiscard]] const Instrument *instrument(std::string_view native) noexcept {
    if (cached_ != nullptr && native.size() == cached_len_ &&
        std::string_view(cached_name_, cached_len_) == native)
      return cached_;
    return instrument_slow(native);
  }

private:
  enum class Mode : std::uint8_t { Stream, RestSnapshot };
  [[nodiscard]] ParseStatus run(std::string_view frame, std::int64_t recv_ts_ns, EventBatch &out,
                                std::string_view symbol, Mode mode) noexcept;
  [[nodiscard]] const Instrument *instrument_slow(std::string_view native) noexcept;

  static constexpr std::size_t kCacheName = 32;

  simdjson::ondemand::parser json_;
  InstrumentRegistry &registry_;
  Venue venue_;
  const Instrument *cached_ = nullptr;
  std::size_t cached_len_ = 0;
  char cached_name_[kCacheName] = {};
};

// Control path (allocates, uses the simdjson DOM): registers every symbol of an exchangeInfo
// response (GET /api/v3/exchangeInfo, /fapi/v1/exchangeInfo, /dapi/v1/exchangeInfo) with
// price/qty decimals from the PRICE_FILTER tickSize / LOT_SIZE stepSize, tick and lot as
// mantissas, and canonical names: spot BASE-QUOTE; futures by contractType: PERPETUAL ->
// BASE-QUOTE-PERP, dated contracts -> BASE-QUOTE-YYYYMMDD from deliveryDate (UTC). Marks the
// venue's metadata as loaded when at least one symbol was registered. Returns that count
// (0 for a body that is not an exchangeInfo response).
std::size_t load_binance_exchange_info(std::string_view body, Venue venue,
                                       InstrumentRegistry &registry);

// InstrumentRegistry::DefaultFactory for a symbol seen without metadata: the canonical name
// is guessed from the native symbol (known quote-asset suffixes for spot; COIN-M
// "BTCUSD_PERP" -> BTC-USD-PERP, "BTCUSD_211231" -> BTC-USD-20211231; USD-M without '_' ->
// BASE-QUOTE-PERP); a symbol of no known shape keeps its native name. Decimals are
// InstrumentRegistry::kDefaultDecimals, exact for Binance (it never sends more than 8).
Instrument binance_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
