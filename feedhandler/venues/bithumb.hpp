#pragma once
// Bithumb public WebSocket adapter (old socket wss://pubwss.bithumb.com/pub/ws): frame parser
// and ticker/ALL metadata.
//
// Why this shape: `orderbookdepth` sends changed levels only ({"symbol","orderType":"ask"|
// "bid","price","quantity"(absolute, "0" deletes),"total"(orders)}), with no sequence number
// and no snapshot on the socket. Each message becomes one update batch per symbol (a list
// may in principle mix symbols; a new batch starts when the symbol changes), flagged neither
// snapshot nor sequenced: the builder (SyncRule::StreamSnapshot) only applies updates on top
// of a snapshot, so a Bithumb book is never reported synced (it stays Empty, counting the
// batches as skipped) -- the honest state, since the levels it would hold are unknowable.
// `transaction` entries become Trades (no trade id on this socket: trade_id 0; buySellGb
// "1" = sell-initiated, "2" = buy-initiated; contDtm is Korea time, UTC+9, in microseconds).
// All values are JSON strings read in place into int64 mantissas; fields are collected per
// list entry and parsed once the entry is complete, so their order does not matter.
// Status replies ({"status","resmsg"}) and `ticker` are Ignored. The simdjson parser is
// sized once; a message allocates nothing afterwards.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class BithumbParser {
public:
  static constexpr std::size_t kDefaultFrameCapacity = 64 * 1024;

  explicit BithumbParser(InstrumentRegistry &registry,
                         std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// The quote currency of a REST /public/ticker/ALL_<QUOTE> request ("ALL" alone is the KRW
// market), or nullopt when `url` is not that endpoint.
std::optional<std::string> bithumb_ticker_all_quote(std::string_view url);

// Loads a REST /public/ticker/ALL_<QUOTE> response: {"status":"0000","data":{"ETH":{..},...,
// "date":".."}}. It names the bases of one quote: native ETH_BTC, canonical ETH-BTC, 8 price
// and 8 size decimals (Bithumb writes at most 8); tick and lot 1e-8 (the response gives no
// steps). Marks Bithumb metadata as loaded when a symbol was added. Returns the number added.
std::size_t load_bithumb_tickers(std::string_view body, std::string_view quote,
                                 InstrumentRegistry &registry);

// The instrument assumed for a symbol seen without metadata (BASE_QUOTE, named as above).
Instrument bithumb_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
