#pragma once
// Kraken WebSocket v2 adapter (wss://ws.kraken.com/v2): frame parser for the book, trade and
// ticker channels. The v1 parser (kraken.hpp) hands v2 frames here, so one Kraken entry point
// reads both protocols, told apart per message (see KrakenParser).
//
// Why this shape: v2 frames are objects {"channel":..,"type":"snapshot"|"update","data":[..]}
// whose `data` entries each name their `symbol`, so the instrument (and with it the decimals
// the numbers are scaled to) is known per entry: the parser finds "symbol" first, rewinds the
// entry and walks it once in document order with simdjson on-demand. Prices and quantities are
// JSON numbers; they go from the raw number token straight into int64 mantissas, never through
// double. v2 writes numbers in their shortest form (0.001, not "0.00100000") and Kraken's
// checksum is taken over the number formatted at the instrument's precision (VENUE_RULES.md,
// spot-ws-book-v2), so every level carries the instrument's decimals as its text decimals and
// the book builder's existing Kraken checksum rebuilds exactly that text. Unlike v1 the depth is
// not in the channel name: it comes from the subscribe acknowledgement (result.depth) and is
// kept per instrument in a table sized once.
//
// Output is the v1 path's: book -> BookBegin (depth) .. BookLevel (wire order) .. BookEnd
// (checksum), one batch per data entry; trade -> Trade (trade_id set); ticker -> Bbo.
// Trade snapshots (recent history sent on subscribe) are Ignored, not replayed as new prints.
// Heartbeats, status, pongs and acknowledgements are Ignored. Without metadata the precision
// is unknown, so the checksum is not claimed (a guessed precision would fail every message).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class KrakenV2Parser {
public:
  static constexpr std::size_t kDefaultFrameCapacity = 256 * 1024;
  // Kraken's depth for a book subscription that names none; used until an ack says otherwise.
  static constexpr std::uint32_t kDefaultBookDepth = 10;

  // frame_capacity 0: no buffers of its own, for use through parse(parser, ...) only.
  explicit KrakenV2Parser(InstrumentRegistry &registry,
                          std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // Anything that is not a v2 object (a v1 array or event) is Malformed. On any error the
  // batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept {
    return parse(parser_, frame, recv_ts_ns, out);
  }
  // The same on a caller's simdjson parser (KrakenParser lends its own: one set of buffers).
  [[nodiscard]] ParseStatus parse(simdjson::ondemand::parser &parser, std::string_view frame,
                                  std::int64_t recv_ts_ns, EventBatch &out) noexcept;

  // The depth an instrument's book is truncated to: the last subscribe ack's, else the default.
  [[nodiscard]] std::uint32_t book_depth(std::uint32_t instrument) const noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  std::vector<std::uint16_t> depth_; // by instrument id, kMaxInstruments entries; 0 = no ack
};

// Whether an object frame speaks v2: its first key is "channel" or "method" (every v2 data
// message, heartbeat, status and successful ack opens so). Looks at a few bytes only.
[[nodiscard]] bool kraken_v2_first_key(std::string_view frame) noexcept;

// One v2 book level from the raw texts of its price and qty numbers: mantissas at the
// instrument's decimals, text decimals = the instrument's precision (what the checksum text
// is formatted with). False if either is not an exact decimal at that scale.
[[nodiscard]] bool kraken_v2_level(std::string_view price, std::string_view qty,
                                   const Instrument &inst, BookLevelData &out) noexcept;

// RFC 3339 UTC time as v2 writes it ("YYYY-MM-DDTHH:MM:SS[.fraction]Z", fraction up to 9
// digits) -> ns since the epoch. False for anything else.
[[nodiscard]] bool kraken_v2_time_to_ns(std::string_view text, std::int64_t &out_ns) noexcept;

} // namespace fh::venues
