#pragma once
// Gate.io API v4 spot adapter: WebSocket frame parser, REST order-book snapshot parser and
// currency-pair metadata.
//
// Why this shape: Gate's spot book is a diff stream plus a REST snapshot, exactly Binance spot's
// procedure (VENUE_RULES.md "Gate.io v4"): `spot.order_book_update` carries U (first id) and u
// (last id), REST `order_book?...&with_id=true` carries `id`, and the builder's
// SyncRule::RestSnapshotChain buffers, drops u <= id, applies the update straddling id + 1 and
// then needs U == previous u + 1. So an update becomes BookBegin{kFlagHasSeq, first_seq U,
// last_seq u} -> BookLevel* -> BookEnd, and the REST body BookBegin{kFlagSnapshot | kFlagRest |
// kFlagHasSeq, last_seq id}. One GateIoParser per ingest thread owns a simdjson on-demand parser
// sized once, walks a frame once in document order (error codes only) and reads prices and
// amounts from the raw tokens into int64 mantissas; per message it allocates nothing (the
// registry allocates on the first sight of a symbol, and only when no metadata was loaded).
// Gate writes "channel" and "event" before "result" and the pair ("s") before the level arrays;
// a frame in another order is parsed again on a cold second pass that knows them.
//
// Channels: spot.order_book_update (-> book), spot.trades (-> Trade), spot.tickers (-> Bbo: best
// bid/ask prices only, Gate gives no sizes and no update id). Subscribe acknowledgements,
// candlesticks and every other channel are walked (so a broken one is Malformed) and Ignored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class GateIoParser {
public:
  // Largest frame parsed without growing simdjson's buffers. The first update of a pair is a
  // 100-level book (about 4 KB), a REST snapshot with limit=100 the same; a larger frame still
  // parses, growing the buffers once (an allocation).
  static constexpr std::size_t kDefaultFrameCapacity = 256 * 1024;

  explicit GateIoParser(InstrumentRegistry &registry,
                        std::size_t frame_capacity = kDefaultFrameCapacity);

  GateIoParser(const GateIoParser &) = delete;
  GateIoParser &operator=(const GateIoParser &) = delete;

  // One received text frame of wss://api.gateio.ws/ws/v4/. `frame` has SIMDJSON_PADDING
  // readable bytes after it. On an error status `out` is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  // A REST GET /api/v4/spot/order_book?currency_pair=X&with_id=true body for `currency_pair`
  // (same padding contract). Without "id" (with_id missing) the body cannot start a chain:
  // Malformed.
  [[nodiscard]] ParseStatus parse_order_book_snapshot(std::string_view body,
                                                      std::string_view currency_pair,
                                                      std::int64_t recv_ts_ns,
                                                      EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// Control path (allocates, simdjson DOM): loads a REST GET /api/v4/spot/currency_pairs response.
// Native symbol = "id" (BTC_USDT); canonical BASE-QUOTE from "base"/"quote" (Gate's own asset
// names). tick = 10^-precision, lot = 10^-amount_precision, min_qty = min_base_amount where given
// (most pairs give only min_quote_amount, a quote amount: min_qty stays 0). Book scales are wider
// than precision/amount_precision because resting levels are finer (see gateio_metadata.cpp).
// Marks Gate metadata as loaded when at least one pair was added; returns the number added (0
// for a body that is not a currency_pairs array).
std::size_t load_gateio_currency_pairs(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a pair seen without metadata: BASE_QUOTE -> BASE-QUOTE, Gate's book
// scales for a pair of unknown precision (10 decimals for prices and amounts).
Instrument gateio_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
