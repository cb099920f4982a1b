#pragma once
// One parser per venue family behind a switch on Venue: the replay driver and the live
// sessions hand frames here without knowing which adapter runs. No virtual call per frame.
#include <cstdint>
#include <optional>
#include <string_view>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"
#include "feedhandler/venues/binance.hpp"
#include "feedhandler/venues/bitfinex.hpp"
#include "feedhandler/venues/bithumb.hpp"
#include "feedhandler/venues/bybit.hpp"
#include "feedhandler/venues/coinbase.hpp"
#include "feedhandler/venues/deribit.hpp"
#include "feedhandler/venues/gateio.hpp"
#include "feedhandler/venues/huobi.hpp"
#include "feedhandler/venues/hyperliquid.hpp"
#include "feedhandler/venues/kraken.hpp"
#include "feedhandler/venues/kucoin.hpp"
#include "feedhandler/venues/okx.hpp"
#include "feedhandler/venues/upbit.hpp"

namespace fh::venues {

class VenueParsers {
public:
  explicit VenueParsers(InstrumentRegistry& registry);

  // One received text frame. `frame` has SIMDJSON_PADDING readable bytes after it.
  [[nodiscard]] ParseStatus parse(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch& out, std::string_view symbol_hint = {}) noexcept;
  // One received binary frame (Upbit: UTF-8 JSON; Huobi: gzip-compressed JSON). Same padding
  // rule as parse(). Venues that send no binary frames return Ignored.
  [[nodiscard]] ParseStatus parse_binary(Venue v, std::string_view frame, std::int64_t recv_ts_ns,
                                         EventBatch& out) noexcept;
  // A REST depth snapshot body (Binance family only; other venues snapshot in-stream).
  [[nodiscard]] ParseStatus parse_rest_snapshot(Venue v, std::string_view body,
                                                std::string_view symbol, std::int64_t recv_ts_ns,
                                                EventBatch& out) noexcept;

private:
  BinanceParser binance_spot_;
  BinanceParser binance_usdm_;
  BinanceParser binance_coinm_;
  BinanceParser binance_us_;
  BybitParser bybit_spot_;
  BybitParser bybit_linear_;
  BybitParser bybit_inverse_;
  OkxParser okx_;
  KrakenParser kraken_;
  BitfinexParser bitfinex_; // one connection: replay feeds it one capture at a time
  DeribitParser deribit_;
  HyperliquidParser hyperliquid_;
  CoinbaseParser coinbase_;
  GateIoParser gateio_;
  KucoinParser kucoin_;
  UpbitParser upbit_;
  BithumbParser bithumb_;
  HuobiParser huobi_;
};

// Which venue a URL belongs to (ws stream or REST host), if we know it.
std::optional<Venue> venue_from_url(std::string_view url) noexcept;
// A REST depth snapshot request (Binance /depth, Gate /spot/order_book, KuCoin
// /market/orderbook/level2).
bool is_depth_snapshot_url(std::string_view url) noexcept;
// The query parameter naming the symbol in a venue's REST snapshot URL (Gate "currency_pair",
// everyone else "symbol").
std::string_view rest_snapshot_symbol_key(Venue v) noexcept;
// A REST metadata response: loads it into the registry. Returns the number of instruments
// loaded, or nullopt when the URL is not a metadata endpoint we know.
std::optional<std::size_t> load_metadata(Venue v, std::string_view url, std::string_view body,
                                         InstrumentRegistry& registry);

} // namespace fh::venues
