#include "feedhandler/venues/dispatch.hpp"

namespace fh::venues {

VenueParsers::VenueParsers(InstrumentRegistry& registry)
    : binance_spot_(Venue::BinanceSpot, registry), binance_usdm_(Venue::BinanceUsdm, registry),
      binance_coinm_(Venue::BinanceCoinm, registry), binance_us_(Venue::BinanceUs, registry),
      okx_(registry), kraken_(registry) {}

ParseStatus VenueParsers::parse(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                EventBatch& out, std::string_view symbol_hint) noexcept {
  switch (v) {
  case Venue::BinanceSpot: return binance_spot_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceUsdm: return binance_usdm_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceCoinm: return binance_coinm_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceUs: return binance_us_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::Okx: return okx_.parse(frame, recv_ts_ns, out);
  case Venue::Kraken: return kraken_.parse(frame, recv_ts_ns, out);
  default: break; // venues without a stream parser here
  }
  return ParseStatus::Malformed;
}

ParseStatus VenueParsers::parse_binary(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                       EventBatch& out) noexcept {
  (void)frame;
  (void)recv_ts_ns;
  (void)out;
  switch (v) {
  default: return ParseStatus::Ignored; // the venue sends no binary market data
  }
}

ParseStatus VenueParsers::parse_rest_snapshot(Venue v, std::string_view body,
                                              std::string_view symbol, std::int64_t recv_ts_ns,
                                              EventBatch& out) noexcept {
  switch (v) {
  case Venue::BinanceSpot: return binance_spot_.parse_depth_snapshot(body, symbol, recv_ts_ns, out);
  case Venue::BinanceUsdm: return binance_usdm_.parse_depth_snapshot(body, symbol, recv_ts_ns, out);
  case Venue::BinanceCoinm:
    return binance_coinm_.parse_depth_snapshot(body, symbol, recv_ts_ns, out);
  case Venue::BinanceUs: return binance_us_.parse_depth_snapshot(body, symbol, recv_ts_ns, out);
  default: return ParseStatus::Ignored;
  }
}

std::optional<Venue> venue_from_url(std::string_view url) noexcept {
  struct HostVenue {
    std::string_view host;
    Venue venue;
  };
  // Longest, most specific first: "stream.binance.us" before "binance.com" patterns.
  static constexpr HostVenue kHosts[] = {
      {"binance.us", Venue::BinanceUs},        {"fstream.binance.com", Venue::BinanceUsdm},
      {"fapi.binance.com", Venue::BinanceUsdm}, {"dstream.binance.com", Venue::BinanceCoinm},
      {"dapi.binance.com", Venue::BinanceCoinm}, {"binance.com", Venue::BinanceSpot},
      {"okx.com", Venue::Okx},                 {"okex.com", Venue::Okx},
      {"kraken.com", Venue::Kraken},               {"deribit.com", Venue::Deribit},
  };
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  auto host = url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of(":/?"));
  for (const auto& hv : kHosts) {
    if (host.size() >= hv.host.size() && host.substr(host.size() - hv.host.size()) == hv.host)
      return hv.venue;
  }
  return std::nullopt;
}

bool is_depth_snapshot_url(std::string_view url) noexcept {
  return url.find("/depth?") != std::string_view::npos;
}

std::optional<std::size_t> load_metadata(Venue v, std::string_view url, std::string_view body,
                                         InstrumentRegistry& registry) {
  if (is_binance(v) && url.find("/exchangeInfo") != std::string_view::npos)
    return load_binance_exchange_info(body, v, registry);
  if (v == Venue::Okx && url.find("/public/instruments") != std::string_view::npos)
    return load_okx_instruments(body, registry);
  if (v == Venue::Kraken && url.find("/AssetPairs") != std::string_view::npos)
    return load_kraken_asset_pairs(body, registry);
  return std::nullopt;
}

} // namespace fh::venues
