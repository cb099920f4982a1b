#pragma once
// Huobi / HTX spot WebSocket adapter (wss://api.huobi.pro/ws): gzip inflation, frame parser and
// common/symbols metadata.
//
// Why this shape: every frame Huobi sends is a binary gzip member holding JSON, so inflation
// is on the hot path. GzipInflater keeps one z_stream for the parser's life and resets it per
// frame (inflateReset keeps zlib's state and window), inflating with one Z_FINISH call into
// a buffer allocated at construction with SIMDJSON_PADDING behind it, which simdjson then
// parses in place. zlib's own allocations go through operator new (so allocation tests see
// them) and all happen in the constructor, which primes the stream once; a frame allocates
// nothing. A frame that is not one complete, CRC-checked gzip member is Malformed; one that
// inflates beyond the buffer is BatchOverflow.
//
// Messages: {"ping":n} is Ignored (last_ping() keeps n: the session answers {"pong":n});
// subscription replies are Ignored; market.<sym>.depth.step0 pushes the whole (150-level)
// book every time -> one snapshot batch (kFlagSnapshot, tick.version as its sequence);
// market.<sym>.trade.detail -> one Trade per tick.data entry (tradeId, direction = taker
// side); other channels (kline, bbo, aggregated depth steps, mbp) are Ignored. Numbers are
// JSON numbers, often in exponent form ("9.121E-7", "3.358149508E7"), read from their raw
// tokens into int64 mantissas, never through double.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

struct z_stream_s; // zlib's stream; only huobi_inflate.cpp includes zlib.h

namespace fh::venues {

class GzipInflater {
public:
  enum class Result : std::uint8_t { Ok, Corrupt, TooLarge };

  // `capacity`: largest inflated frame, in bytes.
  explicit GzipInflater(std::size_t capacity);
  ~GzipInflater();
  GzipInflater(GzipInflater &&) noexcept;
  GzipInflater &operator=(GzipInflater &&) noexcept;
  GzipInflater(const GzipInflater &) = delete;
  GzipInflater &operator=(const GzipInflater &) = delete;

  // Inflates one complete gzip member. On Ok, `out` views the inflated bytes in the internal
  // buffer (valid until the next call), followed by SIMDJSON_PADDING readable bytes.
  [[nodiscard]] Result inflate(std::string_view gzip, std::string_view &out) noexcept;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
  struct StreamDeleter {
    void operator()(z_stream_s *s) const noexcept;
  };
  std::unique_ptr<z_stream_s, StreamDeleter> stream_; // on the heap: zlib keeps a pointer to it
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_;
  bool ready_ = false; // inflateInit2 succeeded
};

class HuobiParser {
public:
  // Largest inflated frame (a 150-level depth push is about 7 KB inflated; mbp.400 pushes a
  // few tens of KB). Larger frames are refused (BatchOverflow), never truncated.
  static constexpr std::size_t kDefaultFrameCapacity = 256 * 1024;

  explicit HuobiParser(InstrumentRegistry &registry,
                       std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received binary frame (a gzip member). The frame itself needs no padding: only the
  // inflated JSON is handed to simdjson. On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view gzip_frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;
  // The same after inflation: `json` must have SIMDJSON_PADDING readable bytes after its end.
  [[nodiscard]] ParseStatus parse_json(std::string_view json, std::int64_t recv_ts_ns,
                                       EventBatch &out) noexcept;

  // Value of the last {"ping":n} seen (0 before any): the live session answers {"pong":n}.
  [[nodiscard]] std::uint64_t last_ping() const noexcept { return last_ping_; }

private:
  GzipInflater inflater_;
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  std::uint64_t last_ping_ = 0;
};

// Loads a REST /v1/common/symbols response. Native = `symbol` ("btcusdt"), canonical =
// BASE-QUOTE upper-cased from base-currency/quote-currency; price decimals = price-precision
// (tick 1 at them). Sizes: Huobi prints book amounts as binary doubles (up to 17 significant
// digits, e.g. "4058.1997100628932" where amount-precision is 4), so the size scale keeps as
// many decimals as int64 allows while max-order-amt still fits, and never fewer than
// amount-precision; lot = 10^-amount-precision and min_qty = min-order-amt at that scale. A
// level finer or larger than that scale still fails exact parsing (BadNumber, counted).
// Marks Huobi metadata as loaded when a symbol was added. Returns the number added.
std::size_t load_huobi_symbols(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a symbol seen without metadata: the symbol cannot be split into
// base and quote without it, so the canonical name is the upper-cased symbol; 8 decimals.
Instrument huobi_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
