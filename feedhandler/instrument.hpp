#pragma once
// Instruments: dense 32-bit ids, the venue's native symbol, a canonical name and the
// fixed-point scales every price/qty of that instrument is parsed at.
//
// Canonical names (DESIGN.md): BASE-QUOTE spot, BASE-QUOTE-PERP perpetual,
// BASE-QUOTE-YYYYMMDD dated future, BASE-QUOTE-YYYYMMDD-STRIKE-C|P option. Readers look up
// `venue:CANONICAL` or the native symbol.
#include <cstdint>
#include <string>
#include <string_view>

#include "feedhandler/venue.hpp"

namespace fh {

enum class InstrumentKind : std::uint8_t { Spot = 0, Perpetual, Future, Option };
// How a derivative settles: linear (quoted/settled in the quote currency, e.g. USDT perps),
// inverse (coin-margined: BTC-USD-PERP settles in BTC). Spot is None.
enum class ContractType : std::uint8_t { None = 0, Linear, Inverse };

inline constexpr std::uint32_t kNoInstrument = 0xffffffffu;

struct Instrument {
  std::uint32_t id = kNoInstrument;
  Venue venue = Venue::BinanceSpot;
  InstrumentKind kind = InstrumentKind::Spot;
  std::string native;    // as the venue's stream spells it: BTCUSDT, BTC-USDT-SWAP, XBT/USD
  std::string canonical; // BTC-USDT-PERP
  std::string base;      // BTC (venue aliases resolved: XBT -> BTC)
  std::string quote;     // USDT
  std::uint8_t price_decimals = 8; // price = mantissa * 10^-price_decimals
  std::uint8_t qty_decimals = 8;
  std::int64_t tick = 1;     // tick size as a mantissa at price_decimals
  std::int64_t lot = 1;      // lot size as a mantissa at qty_decimals
  std::uint32_t book_depth = 0; // depth the venue keeps for us (Kraken truncation); 0 = full
  std::int64_t min_qty = 0;     // smallest order size as a mantissa at qty_decimals; 0 = none given
  ContractType contract = ContractType::None;
  std::uint32_t expiry = 0;     // futures/options: YYYYMMDD (UTC), else 0
  std::string strike;           // options: strike as the canonical name writes it ("30000")
  char option_right = 0;        // options: 'C' or 'P', else 0
  bool from_metadata = false;   // false: registered on first sight with venue defaults
};

// Decimals needed to write `text` ("0.0100" -> 2): trailing zeros do not count.
std::uint8_t decimals_of(std::string_view text) noexcept;

std::string_view kind_name(InstrumentKind k) noexcept;

} // namespace fh
