#include "feedhandler/venues/dispatch.hpp"

namespace fh::venues {

VenueParsers::VenueParsers(InstrumentRegistry& registry)
    : binance_spot_(Venue::BinanceSpot, registry), binance_usdm_(Venue::BinanceUsdm, registry),
      binance_coinm_(Venue::BinanceCoinm, registry), binance_us_(Venue::BinanceUs, registry),
      bybit_spot_(Venue::BybitSpot, registry), bybit_linear_(Venue::BybitLinear, registry),
      bybit_inverse_(Venue::BybitInverse, registry),
      okx_(registry), kraken_(registry), bitfinex_(registry), deribit_(registry),
      hyperliquid_(registry),
      coinbase_(registry), gateio_(registry), kucoin_(registry), upbit_(registry),
      bithumb_(registry), huobi_(registry) {}

ParseStatus VenueParsers::parse(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                EventBatch& out, std::string_view symbol_hint) noexcept {
  switch (v) {
  case Venue::BinanceSpot: return binance_spot_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceUsdm: return binance_usdm_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceCoinm: return binance_coinm_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BinanceUs: return binance_us_.parse(frame, recv_ts_ns, out, symbol_hint);
  case Venue::BybitSpot: return bybit_spot_.parse(frame, recv_ts_ns, out);
  case Venue::BybitLinear: return bybit_linear_.parse(frame, recv_ts_ns, out);
  case Venue::BybitInverse: return bybit_inverse_.parse(frame, recv_ts_ns, out);
  case Venue::Okx: return okx_.parse(frame, recv_ts_ns, out);
  case Venue::Kraken: return kraken_.parse(frame, recv_ts_ns, out);
  case Venue::Bitfinex: return bitfinex_.parse(frame, recv_ts_ns, out);
  case Venue::Deribit: return deribit_.parse(frame, recv_ts_ns, out);
  case Venue::Hyperliquid: return hyperliquid_.parse(frame, recv_ts_ns, out);
  case Venue::Coinbase: return coinbase_.parse(frame, recv_ts_ns, out);
  case Venue::GateIo: return gateio_.parse(frame, recv_ts_ns, out);
  case Venue::Kucoin: return kucoin_.parse(frame, recv_ts_ns, out);
  case Venue::Upbit: return upbit_.parse(frame, recv_ts_ns, out); // same JSON as its binary frames
  case Venue::Bithumb: return bithumb_.parse(frame, recv_ts_ns, out);
  default: break; // venues without a stream parser here
  }
  return ParseStatus::Malformed;
}

ParseStatus VenueParsers::parse_binary(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                       EventBatch& out) noexcept {
  switch (v) {
  case Venue::Upbit: return upbit_.parse(frame, recv_ts_ns, out);  // UTF-8 JSON
  case Venue::Huobi: return huobi_.parse(frame, recv_ts_ns, out);  // gzip member of JSON
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
  case Venue::GateIo: return gateio_.parse_order_book_snapshot(body, symbol, recv_ts_ns, out);
  case Venue::Kucoin: return kucoin_.parse_level2_snapshot(body, symbol, recv_ts_ns, out);
  case Venue::Hyperliquid: return hyperliquid_.parse_rest_l2book(body, recv_ts_ns, out); // coin in body
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
      {"bybit.com", Venue::BybitLinear}, // v5 spot/inverse streams: pass the venue explicitly
      {"kraken.com", Venue::Kraken},               {"deribit.com", Venue::Deribit},
      {"hyperliquid.xyz", Venue::Hyperliquid},
      {"coinbase.com", Venue::Coinbase},
      {"gateio.ws", Venue::GateIo},              {"gate.io", Venue::GateIo},
      {"kucoin.com", Venue::Kucoin},
      {"bitfinex.com", Venue::Bitfinex},
      {"upbit.com", Venue::Upbit},               {"bithumb.com", Venue::Bithumb},
      {"huobi.pro", Venue::Huobi},
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
  return url.find("/depth?") != std::string_view::npos ||
         url.find("/spot/order_book?") != std::string_view::npos ||     // Gate v4
         url.find("/market/orderbook/level2") != std::string_view::npos; // KuCoin v1/v2/v3
}

std::string_view rest_snapshot_symbol_key(Venue v) noexcept {
  return v == Venue::GateIo ? "currency_pair" : "symbol";
}

std::optional<std::size_t> load_metadata(Venue v, std::string_view url, std::string_view body,
                                         InstrumentRegistry& registry) {
  if (is_binance(v) && url.find("/exchangeInfo") != std::string_view::npos)
    return load_binance_exchange_info(body, v, registry);
  if (v == Venue::Okx && url.find("/public/instruments") != std::string_view::npos)
    return load_okx_instruments(body, registry);
  if (v == Venue::Kraken && url.find("/AssetPairs") != std::string_view::npos)
    return load_kraken_asset_pairs(body, registry);
  // Legacy v2 symbols list both linear and inverse contracts; each goes to its own venue id.
  if (is_bybit(v) && url.find("/v2/public/symbols") != std::string_view::npos)
    return load_bybit_legacy_symbols(body, registry);
  if (v == Venue::Deribit && url.find("/public/get_instruments") != std::string_view::npos)
    return load_deribit_instruments(body, registry);
  // Hyperliquid answers every request type at POST /info: only a meta body is metadata.
  if (v == Venue::Hyperliquid && url.size() >= 5 && url.substr(url.size() - 5) == "/info") {
    if (const std::size_t n = load_hyperliquid_meta(body, registry); n != 0) return n;
    return std::nullopt;
  }
  // Exchange API GET /products (a list; /products/<id>/... are other endpoints).
  if (v == Venue::Coinbase && url.size() >= 9 && url.substr(url.size() - 9) == "/products")
    return load_coinbase_products(body, registry);
  if (v == Venue::GateIo && url.find("/spot/currency_pairs") != std::string_view::npos)
    return load_gateio_currency_pairs(body, registry);
  if (v == Venue::Kucoin && url.find("/symbols") != std::string_view::npos)
    return load_kucoin_symbols(body, registry);
  if (v == Venue::Bitfinex && url.find("/conf/pub:list:pair:exchange") != std::string_view::npos)
    return load_bitfinex_pairs(body, InstrumentKind::Spot, registry);
  if (v == Venue::Bitfinex && url.find("/conf/pub:list:pair:future") != std::string_view::npos)
    return load_bitfinex_pairs(body, InstrumentKind::Perpetual, registry);
  if (v == Venue::Upbit && url.find("/v1/market/all") != std::string_view::npos)
    return load_upbit_markets(body, registry);
  if (v == Venue::Bithumb)
    if (const auto quote = bithumb_ticker_all_quote(url)) // /public/ticker/ALL_<QUOTE>
      return load_bithumb_tickers(body, *quote, registry);
  if (v == Venue::Huobi && url.find("/v1/common/symbols") != std::string_view::npos)
    return load_huobi_symbols(body, registry);
  return std::nullopt;
}

} // namespace fh::venues
