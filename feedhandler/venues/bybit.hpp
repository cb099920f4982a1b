#pragma once
// Bybit public WebSocket adapter: frame parser (v5 and the legacy 2021 format) and instrument
// metadata.
//
// Why this shape: one BybitParser per venue id (BybitSpot, BybitLinear, BybitInverse share the
// wire format but not symbols), so the venue of every event is fixed at construction and the
// frame never says it. A frame is walked once with simdjson on-demand (error codes only);
// prices and sizes are read from the raw tokens into int64 mantissas. Bybit writes the
// sequence ids (`u`, `cross_seq`) and the engine time (`cts`) after the levels, so the
// BookBegin is pushed first and patched when the message ends. The topic (always written first)
// selects the handler:
//
//   v5     orderbook.{depth}.{symbol}  snapshot/delta; BookBegin carries kFlagHasSeq with
//                                      first_seq = last_seq = u and prev_seq = u - 1, so the
//                                      builder's StreamSnapshot chain demands u == last u + 1;
//                                      u == 1 (service restart) is a snapshot (VENUE_RULES.md)
//          publicTrade.{symbol}        -> Trade
//          tickers.{symbol}            -> Bbo, only when bid1/ask1 price and size are all given
//   legacy orderBookL2_25.{symbol}     id-keyed snapshot / delete-update-insert; see
//                                      bybit_legacy.hpp for the cross_seq and order-id checks
//          trade.{symbol}              -> Trade
//
// Acknowledgements, pongs and other topics are checked for well-formedness and Ignored. The
// simdjson buffers are sized at construction and the legacy order-id tables on the first sight
// of a topic; after that a message allocates nothing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"
#include "feedhandler/venues/bybit_legacy.hpp"

namespace fh::venues {

class BybitParser {
public:
  // Largest frame parsed without growing the simdjson buffers: an orderbook.500 snapshot is
  // 18 KB (2024-12-01 XRPUSDT), orderbook.1000 about twice that; a legacy message at most 4.4 KB
  // in our capture. A larger frame still parses; the parser then grows once (allocates).
  static constexpr std::size_t kDefaultFrameCapacity = 64 * 1024;

  BybitParser(Venue venue, InstrumentRegistry &registry,
              std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame (wss://stream.bybit.com/v5/public/{spot,linear,inverse}, or the
  // legacy /realtime_public and /realtime). `frame` must have SIMDJSON_PADDING readable bytes
  // after its end. On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  [[nodiscard]] Venue venue() const noexcept { return venue_; }

private:
  // Cold: marks the legacy topic of a frame that failed to parse as lost.
  void lost_legacy_message(std::string_view frame, BybitLegacyTopic *topic) noexcept;

  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  Venue venue_;
  BybitLegacyBooks legacy_;
};

// Loads one REST v2 /public/symbols response (the legacy API; PROVENANCE.md "Bybit"). USDT
// symbols go to BybitLinear as BASE-USDT-PERP; USD symbols to BybitInverse, as BASE-USD-PERP or,
// for dated futures (BTCUSDU21, alias BTCUSD0924), BASE-USD-YYYYMMDD. Price decimals from
// price_scale (at least tick_size's); sizes get 8 decimals because this feed writes sizes as
// JSON floats finer than qty_step (see bybit_metadata.cpp). Marks each venue that received an
// instrument as having metadata. Returns the number of instruments added or updated (0 when the
// body is not a successful symbols response).
std::size_t load_bybit_legacy_symbols(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a symbol seen without metadata: kind and canonical name from the
// symbol's shape and the venue (BTCUSDT on BybitLinear -> BTC-USDT-PERP, on BybitSpot ->
// BTC-USDT), decimals InstrumentRegistry::kDefaultDecimals. A shape it does not know keeps the
// symbol as its canonical name.
Instrument bybit_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
