#pragma once
// Deribit JSON-RPC WebSocket adapter (wss://www.deribit.com/ws/api/v2): frame parser and
// instrument metadata.
//
// Why this shape: like the OKX adapter, one DeribitParser per ingest thread walks a received
// frame once with simdjson on-demand (error codes only), reads prices and amounts from the raw
// JSON number tokens into int64 mantissas (never through double) and appends normalized events
// to a caller-owned EventBatch. The instrument comes from the channel name
// ("book.BTC-24SEP21-8000-P.raw"), which Deribit writes before "data", so every number can be
// parsed at the instrument's scale on the first pass; the data's own instrument_name must
// agree. The simdjson buffers are sized once; a message allocates nothing (the registry
// allocates only on the first sight of a symbol, and only when no metadata was loaded).
//
// Channels (VENUE_RULES.md "Deribit"):
//   book.{instrument}.raw / .100ms  type "snapshot" | "change", entries [action, price, amount]
//                                   with action new / change / delete (amount is absolute;
//                                   delete -> qty 0). Snapshot: BookBegin
//                                   kFlagSnapshot|kFlagHasSeq, first_seq = last_seq = change_id.
//                                   Change: kFlagHasSeq| kFlagHasPrevSeq, first_seq = last_seq =
//                                   change_id, prev_seq = prev_change_id; the builder's
//                                   StreamSnapshot chain (prev_change_id == last change_id) does
//                                   the rest.
//   ticker.{instrument}.{interval}   -> Bbo (best_bid/ask price + amount; null or 0 = empty side)
//   trades.{instrument}.{interval}   -> Trade per element (direction = aggressor side)
// Amounts are what Deribit sends: USD for inverse futures/perpetuals, contracts (coin) for
// options, base coin for linear USDC contracts. Responses to requests ("id"), heartbeats and
// channels we do not consume (grouped books, trades.{kind}.{currency}, ...) are Ignored after
// a structural walk, so a damaged frame is Malformed, never Ignored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class DeribitParser {
public:
  // Largest frame parsed without growing simdjson's buffers (a deep book.raw snapshot of a
  // perpetual is tens of KB). A larger frame still parses; the parser then grows once.
  static constexpr std::size_t kDefaultFrameCapacity = 256 * 1024;

  explicit DeribitParser(InstrumentRegistry &registry,
                         std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// Loads one REST public/get_instruments response (any currency). Canonical names (DESIGN.md):
//   BTC-PERPETUAL           -> BTC-USD-PERP             perpetual, inverse
//   BTC-24SEP21             -> BTC-USD-20210924         future, inverse
//   BTC-30JUL21-40000-C     -> BTC-USD-20210730-40000-C option, inverse (coin-settled)
//   SOL_USDC-PERPETUAL      -> SOL-USDC-PERP            perpetual, linear
// The quote of a coin-settled contract is USD (counter_currency when given): the currency its
// price index, strike and futures prices are in, although option premiums are quoted in the
// coin. Linear contracts (future_type/instrument_type "linear", or a USDC/USDT quote) take
// their quote_currency. Expiry is the UTC date of expiration_timestamp; the strike is the
// "strike" number written without trailing zeros. Price decimals and tick come from
// tick_size; qty decimals, lot and min_qty from min_trade_amount. Combos are skipped. Marks
// Deribit metadata loaded when at least one instrument was added; returns how many were.
std::size_t load_deribit_instruments(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a name seen without metadata: kind, contract type and canonical
// name from the shape of the name (as above; a strike's 'd' is its decimal point, as in
// XRP_USDC-30JUN23-0d625-C), decimals InstrumentRegistry::kDefaultDecimals.
Instrument deribit_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
