#pragma once
// Kraken WebSocket v1 adapter (wss://ws.kraken.com): frame parser and AssetPairs metadata.
//
// Why this shape: v1 data frames are arrays whose *last* two elements name the channel and
// the pair: [chanId, payload..., "book-1000", "XBT/CHF"]. The pair decides the decimals the
// payload is parsed at, so the parser first reads the two names from the end of the frame
// text (a backward scan over a few bytes; an on-demand pass only when that scan cannot be
// trusted, e.g. escapes), resolves the instrument, then walks the array once in document
// order with simdjson on-demand and checks that the names it meets at the end are the ones
// it scanned. Prices and sizes go from the raw tokens straight into int64 mantissas; the
// wire decimals are kept (price_text_dp/qty_text_dp) because Kraken's checksum is computed
// over the exact text and v1 sends more decimals than pair_decimals ("354.80000000").
// The simdjson parser is sized once; a message allocates nothing afterwards.
//
// book-N: snapshot {"as","bs"} or updates {"a"}/{"b","c"} in one or two dicts -> one
// BookBegin (depth N) .. BookEnd (checksum c). trade -> Trade per entry. ticker -> Bbo.
// Objects (heartbeat, systemStatus, subscriptionStatus) and other channels are Ignored.
//
// Kraken WebSocket v2 (wss://ws.kraken.com/v2) arrives through the same parse(): the protocol
// is told per message, without configuration. v1 data are arrays and v1 events objects with
// "event"; v2 messages are objects keyed "channel" or "method". A v2 object normally opens with
// one of those keys (a few bytes checked); any other object is walked as before, and handed to
// KrakenV2Parser (kraken_v2.hpp, sharing this parser's simdjson buffers) only when it has a
// "channel" or "method" key and no "event".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"
#include "feedhandler/venues/kraken_v2.hpp"

namespace fh::venues {

class KrakenParser {
public:
  // A depth-1000 book snapshot is about 80 KB; larger frames still parse (the simdjson
  // buffers then grow once).
  static constexpr std::size_t kDefaultFrameCapacity = 256 * 1024;

  explicit KrakenParser(InstrumentRegistry &registry,
                        std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  KrakenV2Parser v2_; // no buffers of its own: runs on parser_
};

// Loads a REST /0/public/AssetPairs response. Native symbol = `wsname` ("XBT/CHF"; pairs
// without one cannot be subscribed over WebSocket and are skipped), decimals = pair_decimals
// / lot_decimals, canonical BASE-QUOTE with Kraken's aliases resolved (XBT -> BTC,
// XDG -> DOGE). Marks Kraken metadata as loaded when at least one pair was added. Returns the
// number of pairs added or updated.
std::size_t load_kraken_asset_pairs(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a pair seen without metadata ("XBT/CHF" -> BTC-CHF),
// decimals InstrumentRegistry::kDefaultDecimals.
Instrument kraken_default_instrument(Venue venue, std::string_view native);

// Kraken asset code -> common code: XBT -> BTC, XDG -> DOGE, and the legacy 4-letter codes
// with an X/Z class prefix (XXBT, XETH, ZUSD, XXDG) lose the prefix first. Other codes are
// returned unchanged.
std::string_view kraken_common_asset(std::string_view code) noexcept;

} // namespace fh::venues
