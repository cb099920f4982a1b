#pragma once
// Hyperliquid WebSocket adapter (wss://api.hyperliquid.xyz/ws): frame parser, the REST l2Book
// snapshot and instrument metadata (REST info "meta").
//
// Why this shape: Hyperliquid's public l2Book has no sequence numbers and nothing incremental:
// every push is the complete top of the book (20 levels a side by default, VENUE_RULES.md), so
// each one becomes a snapshot batch (BookBegin kFlagSnapshot, levels[0] bids then levels[1]
// asks, each {px, sz, n} with n = order count, BookEnd) and the builder simply replaces the
// book; there is no chain to check and none is claimed. `time` (ms) is the exchange time; it
// follows the levels on the wire, so the BookBegin is patched when the object ends. Like the
// other adapters the parser walks a frame once with simdjson on-demand (error codes only),
// reads px/sz strings straight into int64 mantissas, is sized once and allocates nothing per
// message. The instrument ("coin") precedes the levels and prices in every frame we have; if
// it ever follows them the frame is read a second time (rewind), never at a guessed scale.
//
// Channels: `l2Book` -> book snapshot; `trades` -> Trade per element (side "B" = buyer was the
// aggressor, "A" = seller; tid = trade id). subscriptionResponse, pong, error and other
// channels are Ignored after a structural walk.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class HyperliquidParser {
public:
  // A 20x20 l2Book push is about 2.5 KB; 64 KB leaves room for deeper books and trade bursts.
  static constexpr std::size_t kDefaultFrameCapacity = 64 * 1024;

  explicit HyperliquidParser(InstrumentRegistry &registry,
                             std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  // A REST info {"type":"l2Book"} response body: the same {coin, levels, time} object as the
  // stream's data, as one snapshot batch flagged kFlagSnapshot | kFlagRest. Same padding rule.
  [[nodiscard]] ParseStatus parse_rest_l2book(std::string_view body, std::int64_t recv_ts_ns,
                                              EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// Loads one REST info {"type":"meta"} response: {"universe":[{name, szDecimals, ...}]}. Every
// universe entry is a perpetual, linear, margined and settled in USDC, so its canonical name is
// NAME-USDC-PERP (DESIGN.md names linear perps by their settlement currency, BTC-USDT-PERP;
// BTC-USD-PERP is the coin-margined inverse kind). Sizes have szDecimals decimals (lot 1);
// prices at most 6 - szDecimals decimals (Hyperliquid's MAX_DECIMALS for perps; the tick stored
// is that finest step, the venue's 5-significant-figure rule makes the effective tick coarser
// for large prices). The venue's minimum order is a notional, not a size, so min_qty stays 0.
// Returns the number of instruments added (0 when the body is not a meta response); marks
// Hyperliquid metadata loaded when it is not 0.
std::size_t load_hyperliquid_meta(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a coin seen without metadata: "BTC" -> BTC-USDC-PERP (linear);
// a spot pair "PURR/USDC" -> PURR-USDC; a spot index "@107" keeps its name. Decimals
// InstrumentRegistry::kDefaultDecimals (more than any Hyperliquid price or size uses).
Instrument hyperliquid_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
