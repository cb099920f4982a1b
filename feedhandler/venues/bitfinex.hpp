#pragma once
// Bitfinex WebSocket v2 adapter (wss://api.bitfinex.com/ws/2, api-pub): frame parser and the
// conf pair-list metadata.
//
// Why this shape: v2 data frames are arrays keyed by a channel id the server hands out in its
// "subscribed" event: [chanId, payload, seq]. The id means nothing across connections, so one
// BitfinexParser is one connection: it keeps the connection's channel table (chanId ->
// instrument and channel kind, in a fixed array: a connection carries at most 25-30
// subscriptions) and, when the server confirmed conf flag SEQ_ALL (65536), the
// connection-wide sequence number every message then ends with. The "info" greeting that opens
// every connection resets both, so a replayed capture needs no configuration.
//
// Per message the parser walks the array once with simdjson on-demand (error codes only) and
// reads prices and sizes from the raw tokens into int64 mantissas (the sign of an amount is
// the side; never through double). Messages:
//   book P0..P4   snapshot [[price,count,amount],..] / update [price,count,amount]: BookLevel
//                 batches, count 0 deletes the level (amount +-1 says the side)
//   book R0       snapshot [[orderId,price,amount],..] / update [orderId,price,amount]: Order
//                 batches (kFlagOrders; snapshot Add, update Upsert, price 0 Delete)
//   ticker        [BID,BID_SIZE,ASK,ASK_SIZE,...]: Bbo with both prices. The sizes are not
//                 carried (0): Bitfinex documents them as the sum of the 25 best levels, not
//                 the best level's size, and writes them as binary doubles
//                 ("45955.905192620005" in the 2021 capture)
//   trades        snapshot [[ID,MTS,AMOUNT,PRICE],..] (oldest first after reordering) and
//                 "te" -> Trade; "tu" repeats a "te" trade with more detail: checked, not
//                 emitted (no trade is counted twice)
//   "hb", "cs", events (info, conf, subscribed, unsubscribed, error, pong): no market events,
//                 except that a new connection's "info" greeting and an "unsubscribed" end the
//                 books concerned: Status(Stale, Disconnected) for each
// One book channel per pair: a second one (P0 and R0 of one symbol) is tracked as ignored.
// SEQ_ALL: a number at or below the last one (a repeat, a late message) drops the message; a
// jump is a lost message: counted, and every book of the connection gets a Status(Stale,
// SequenceGap) event ahead of the message's own events. Only a new snapshot (resubscribe)
// makes those books Synced again. A message that cannot be parsed, or data on a channel id
// the connection never announced, does not consume its number, so the next message reveals
// the loss. Once SEQ_ALL is confirmed a message without the number is Malformed.
// BookBegin carries the message's sequence number in first_seq/last_seq without kFlagHasSeq:
// it is per connection, not per book, and the parser has checked it already.
//
// The simdjson parser is sized once; afterwards a message allocates nothing (a "subscribed"
// event registers an unknown symbol on first sight, like the other venues).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

struct BitfinexCounters {
  std::uint64_t connections = 0;     // "info" greetings (each resets the channel table)
  std::uint64_t sequenced = 0;       // messages whose SEQ_ALL number was accepted
  std::uint64_t seq_gaps = 0;        // jumps in the number (each marks every book Stale)
  std::uint64_t seq_lost = 0;        // numbers skipped by those jumps (lost messages)
  std::uint64_t seq_stale = 0;       // numbers at or below the last one: message dropped
  std::uint64_t unknown_channel = 0; // data on a channel id never subscribed on this connection
  std::uint64_t table_full = 0;      // "subscribed" beyond kMaxChannels: channel not tracked
  std::uint64_t book_conflicts = 0;  // a second book channel of one pair: ignored (one book each)
};

class BitfinexParser {
public:
  // A P0 len-250 snapshot is about 10 KB; larger frames still parse (buffers grow once).
  static constexpr std::size_t kDefaultFrameCapacity = 64 * 1024;
  // Bitfinex allows 25 (newer: 30) channel subscriptions per connection.
  static constexpr std::size_t kMaxChannels = 64;
  static constexpr std::uint64_t kConfSeqAll = 65536;

  explicit BitfinexParser(InstrumentRegistry &registry,
                          std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame of one connection. `frame` must have SIMDJSON_PADDING readable
  // bytes after its end. On any error (and on Ignored) the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  // A new connection: forget channel ids and the sequence (the "info" greeting does it too).
  void reset() noexcept;

  [[nodiscard]] const BitfinexCounters &counters() const noexcept { return counters_; }
  [[nodiscard]] bool seq_all() const noexcept { return seq_all_; }
  [[nodiscard]] std::size_t channels() const noexcept { return nchannels_; }
  // Last accepted SEQ_ALL number, 0 before the first.
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }

  enum class ChannelKind : std::uint8_t { Book, RawBook, Ticker, Trades, Other };
  struct Channel {
    std::uint64_t id;
    std::uint32_t instrument; // kNoInstrument for Other
    ChannelKind kind;
  };

private:
  struct Impl; // the frame walk (bitfinex.cpp)
  friend struct Impl;

  const Channel *find_channel(std::uint64_t id) const noexcept;
  void add_channel(const Channel &c) noexcept;
  void remove_channel(std::uint64_t id) noexcept;

  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  std::array<Channel, kMaxChannels> channels_{};
  std::size_t nchannels_ = 0;
  bool seq_all_ = false;  // the server confirmed SEQ_ALL on this connection
  bool have_seq_ = false; // last_seq_ holds an accepted number
  std::uint64_t last_seq_ = 0;
  BitfinexCounters counters_;
};

// Loads one REST conf pair list (/v2/conf/pub:list:pair:exchange -> Spot,
// /v2/conf/pub:list:pair:future -> Perpetual): [["BTCUSD","AAVE:USD",...]]. Native symbol =
// "t" + pair (what "subscribe"/"subscribed" name); pairs without ':' split 3 + 3;
// derivatives drop the F0 suffix (BTCF0:USTF0 -> BTC-USDT-PERP, linear); currency codes
// through bitfinex_common_currency. The lists carry no tick or lot sizes: prices and amounts
// are parsed at 8 decimals (Bitfinex: at most 8 decimals, prices 5 significant digits), tick
// and lot one unit of the 8th decimal. Marks Bitfinex metadata loaded when at least one
// pair was added; returns the number added or updated.
std::size_t load_bitfinex_pairs(std::string_view body, InstrumentKind kind,
                                InstrumentRegistry &registry);

// The instrument assumed for a symbol seen without metadata ("tBTCUSD" -> BTC-USD,
// "tBTCF0:USTF0" -> BTC-USDT-PERP), decimals InstrumentRegistry::kDefaultDecimals.
Instrument bitfinex_default_instrument(Venue venue, std::string_view native);

// Bitfinex currency code -> common code (UST -> USDT, IOT -> IOTA, DSH -> DASH, ...; see
// bitfinex_metadata.cpp for the table and where it comes from). Others unchanged.
std::string_view bitfinex_common_currency(std::string_view code) noexcept;

} // namespace fh::venues
