#pragma once
// Venue identities. One id per distinct wire protocol + symbol namespace: Binance spot,
// USD-M and COIN-M share a parser but not symbols or sync rules.
#include <cstdint>
#include <optional>
#include <string_view>

namespace fh {

enum class Venue : std::uint8_t {
  BinanceSpot = 0,
  BinanceUsdm,
  BinanceCoinm,
  BinanceUs,
  Okx,
  Kraken,
  kCount
};

inline constexpr std::string_view venue_name(Venue v) noexcept {
  switch (v) {
  case Venue::BinanceSpot: return "binance";
  case Venue::BinanceUsdm: return "binance-usdm";
  case Venue::BinanceCoinm: return "binance-coinm";
  case Venue::BinanceUs: return "binance-us";
  case Venue::Okx: return "okx";
  case Venue::Kraken: return "kraken";
  case Venue::kCount: break;
  }
  return "unknown";
}

inline std::optional<Venue> venue_from_name(std::string_view s) noexcept {
  for (auto i = 0; i < static_cast<int>(Venue::kCount); ++i) {
    const auto v = static_cast<Venue>(i);
    if (venue_name(v) == s) return v;
  }
  return std::nullopt;
}

constexpr bool is_binance(Venue v) noexcept {
  return v == Venue::BinanceSpot || v == Venue::BinanceUsdm || v == Venue::BinanceCoinm ||
         v == Venue::BinanceUs;
}
// Futures use the `pu` chain; spot (incl. Binance.US) uses `U == prev u + 1`.
constexpr bool is_binance_futures(Venue v) noexcept {
  return v == Venue::BinanceUsdm || v == Venue::BinanceCoinm;
}

} // namespace fh
