#pragma once
// Upbit public WebSocket adapter (wss://api.upbit.com/websocket/v1): frame parser, market/all
// metadata and the KRW price-band tick rule.
//
// Why this shape: Upbit sends *binary* frames holding UTF-8 JSON; we subscribe with
// {"format":"SIMPLE"}, so keys are the short forms (ty, cd, obu, ap/bp/as/bs, tp/tv/ab/sid).
// Nothing on the socket is incremental: every `orderbook` message is the whole top-N book
// (15 units in 2021), so each becomes one snapshot batch (kFlagSnapshot) and the builder's
// book is exactly the last message. Numbers are bare JSON numbers, some in exponent form
// ("9.9E-7"): they are read from the raw token into int64 mantissas, never through double.
//
// Trades carry `sid`, unique per market but *not* ordered (Upbit documents this, and the
// 2021 capture has sids arriving below an earlier one), so duplicates (a resend after
// reconnect, a replayed SNAPSHOT trade) are recognised by a window of the last kRecentSids
// sids per market, not by "sid <= last". The windows live in a fixed table sized at
// construction: a frame never allocates. A receive time earlier than the window's newest
// means the stream restarted (a replay from its start) and clears that market's window.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class UpbitParser {
public:
  // An orderbook frame is about 1.3 KB (15 units); larger frames still parse (simdjson then
  // grows its buffers once).
  static constexpr std::size_t kDefaultFrameCapacity = 64 * 1024;
  // Sids remembered per market, and markets with a window (Upbit lists about 300 markets;
  // markets beyond the table are not de-duplicated, counted in dedup_table_full()).
  static constexpr std::size_t kRecentSids = 16;
  static constexpr std::size_t kDedupMarkets = 1024;

  explicit UpbitParser(InstrumentRegistry &registry,
                       std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received frame (binary or text: the bytes are the same JSON). `frame` must have
  // SIMDJSON_PADDING readable bytes after its end. On any error the batch is left exactly as
  // it was. A trade whose sid was seen recently is dropped: the frame is then Ignored and
  // duplicate_trades() counts it.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  [[nodiscard]] std::uint64_t duplicate_trades() const noexcept { return duplicates_; }
  [[nodiscard]] std::uint64_t dedup_table_full() const noexcept { return dedup_full_; }

private:
  struct RecentSids {
    std::uint32_t instrument = kNoInstrument; // kNoInstrument: free slot
    std::uint32_t next = 0;                   // ring position of the next insert
    std::uint32_t count = 0;
    std::int64_t newest_recv_ts = 0;
    std::array<std::uint64_t, kRecentSids> sid{};
  };
  // True when `sid` was seen recently on the instrument; otherwise remembers it.
  bool is_duplicate(std::uint32_t instrument, std::uint64_t sid, std::int64_t recv_ts) noexcept;

  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  std::unique_ptr<RecentSids[]> recent_; // open addressing on the instrument id
  std::uint64_t duplicates_ = 0;
  std::uint64_t dedup_full_ = 0;
};

// Loads a REST /v1/market/all response: [{"market":"KRW-BTC","korean_name",..}, ...]. It names
// markets only (QUOTE-BASE): canonical BASE-QUOTE ("KRW-BTC" -> "BTC-KRW"), 8 price and 8
// size decimals (Upbit writes at most 8), lot 1e-8. Tick: BTC markets 0.00000001 (Upbit's BTC
// market rule); KRW markets tick by price band (upbit_krw_tick()), so `tick` holds the
// finest band's tick, which divides every valid price; other quotes 1e-8. Marks Upbit
// metadata as loaded when a market was added. Returns the number of markets added.
std::size_t load_upbit_markets(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a market code seen without metadata (named like the loader).
Instrument upbit_default_instrument(Venue venue, std::string_view native);

// KRW market tick size for a price, both as mantissas at 8 decimals, by the price-band table
// Upbit published before 2024-01-29 (in force for the 2021 data; docs.upbit.com v1.4.1
// "원화 마켓 주문 가격 단위"): >= 2,000,000: 1000; >= 1,000,000: 500; >= 500,000: 100;
// >= 100,000: 50; >= 10,000: 10; >= 1,000: 5; >= 100: 1; >= 10: 0.1; >= 1: 0.01;
// >= 0.1: 0.001; below: 0.0001. Later tables (2024, 2025) differ in the lower bands.
std::int64_t upbit_krw_tick(std::int64_t price_e8) noexcept;

} // namespace fh::venues
