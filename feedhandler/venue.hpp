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
  BybitSpot,    // Bybit v5 category=spot
  BybitLinear,  // v5 category=linear (USDT/USDC contracts; also the legacy 2021 USDT perps)
  BybitInverse, // v5 category=inverse (coin-margined)
  Coinbase,
  Deribit,
  Hyperliquid,
  Bitfinex,
  Upbit,
  Bithumb,
  GateIo,
  Kucoin,
  Huobi,
  Iex, // IEX DEEP/TOPS over UDP multicast (US equities; the classic multicast feed)
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
  case Venue::BybitSpot: return "bybit-spot";
  case Venue::BybitLinear: return "bybit-linear";
  case Venue::BybitInverse: return "bybit-inverse";
  case Venue::Coinbase: return "coinbase";
  case Venue::Deribit: return "deribit";
  case Venue::Hyperliquid: return "hyperliquid";
  case Venue::Bitfinex: return "bitfinex";
  case Venue::Upbit: return "upbit";
  case Venue::Bithumb: return "bithumb";
  case Venue::GateIo: return "gateio";
  case Venue::Kucoin: return "kucoin";
  case Venue::Huobi: return "huobi";
  case Venue::Iex: return "iex";
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
constexpr bool is_bybit(Venue v) noexcept {
  return v == Venue::BybitSpot || v == Venue::BybitLinear || v == Venue::BybitInverse;
}

// How a venue's book is made exact (VENUE_RULES.md). The builder switches on this, so a new
// venue with a known rule needs no builder change.
enum class SyncRule : std::uint8_t {
  // Diff stream buffered until a REST snapshot; first event straddles id+1, then
  // U == prev u + 1 (Binance spot/US, Gate.io v4 spot, KuCoin level2).
  RestSnapshotChain,
  // Diff stream buffered until a REST snapshot; first straddles id, then pu == prev u
  // (Binance USD-M / COIN-M).
  RestSnapshotPrevChain,
  // The stream sends its own snapshot on subscribe; updates only apply on top of it. With
  // kFlagHasSeq the update's prev_seq must equal the last applied seq (OKX seqId, Deribit
  // change_id, Bybit u). Venues that push full books every time (Hyperliquid, Upbit, Huobi)
  // send snapshots only. A venue without any snapshot (Bithumb's old socket) never syncs.
  StreamSnapshot,
};

constexpr SyncRule sync_rule(Venue v) noexcept {
  switch (v) {
  case Venue::BinanceSpot:
  case Venue::BinanceUs:
  case Venue::GateIo:
  case Venue::Kucoin: return SyncRule::RestSnapshotChain;
  case Venue::BinanceUsdm:
  case Venue::BinanceCoinm: return SyncRule::RestSnapshotPrevChain;
  default: return SyncRule::StreamSnapshot;
  }
}
constexpr bool needs_rest_snapshot(Venue v) noexcept {
  return sync_rule(v) != SyncRule::StreamSnapshot;
}

} // namespace fh
