#pragma once
// OKX v5 public WebSocket adapter: frame parser and instrument metadata.
//
// Why this shape: one OkxParser per ingest thread turns a received text frame into normalized
// events in a caller-owned EventBatch. It walks the JSON once, in document order, with
// simdjson on-demand (error codes only), and reads prices and sizes from the raw tokens
// straight into int64 mantissas (book/decimal.hpp), so nothing is converted through double
// or copied. OKX writes `ts` and `checksum` *after* the levels, so the BookBegin is pushed
// first and patched in place when the message ends. The simdjson parser is sized once at
// construction; afterwards a message allocates nothing (the registry allocates only on the
// first sight of an unknown symbol, and only when no metadata was loaded).
//
// Channels: `books`, `books-l2-tbt`, `books50-l2-tbt` (snapshot/update with checksum, newer
// messages also seqId/prevSeqId); `books5`, `bbo-tbt` (every push is a full snapshot);
// `tickers` (-> Bbo); `trades`, `trades-all` (-> Trade). Acks, errors and "pong" are Ignored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class OkxParser {
public:
  // Largest frame parsed without growing the simdjson buffers (a 400-level `books` snapshot
  // is about 40 KB). A larger frame still parses; the parser then grows once (allocates).
  static constexpr std::size_t kDefaultFrameCapacity = 128 * 1024;

  explicit OkxParser(InstrumentRegistry &registry,
                     std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame of wss://ws.okx.com:8443/ws/v5/public. `frame` must have
  // SIMDJSON_PADDING readable bytes after its end. On any error the batch is left exactly as
  // it was (the message's events are removed).
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// Loads one REST /api/v5/public/instruments response (instType SPOT, MARGIN, SWAP, FUTURES
// or OPTION). Price decimals come from tickSz; size decimals from lotSz, except SPOT/MARGIN
// sizes (resting orders can be finer than today's lotSz): 8 decimals unless minSz says the
// token needs the integer digits (see okx_metadata.cpp). Canonical
// names: SPOT BASE-QUOTE, SWAP X-Y-SWAP -> X-Y-PERP, FUTURES X-Y-210924 -> X-Y-20210924,
// OPTION X-Y-210924-42000-P -> X-Y-20210924-42000-P. Marks OKX metadata as loaded when at
// least one instrument was added. Returns the number of instruments added or updated
// (0 when the body is not a successful instruments response).
std::size_t load_okx_instruments(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for an instId seen without metadata: kind and canonical name from
// the shape of the instId, decimals InstrumentRegistry::kDefaultDecimals.
Instrument okx_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
