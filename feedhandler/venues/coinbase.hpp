#pragma once
// Coinbase WebSocket adapters: the legacy Exchange ("Pro") feed and the Advanced Trade feed,
// behind one entry point, plus the REST /products metadata loader.
//
// Why this shape: both protocols send JSON objects and are told apart per message without
// configuration. Legacy messages are {"type": ...} (level2 `snapshot`/`l2update`, `ticker`,
// `match`/`last_match`, acks); Advanced Trade messages are {"channel": ..., "sequence_num": ...,
// "events": [...]}. The first key of the object (a few bytes) decides; only an object opening
// with neither key costs a scan of its text for "sequence_num". Both walk the message once, in
// document order, with simdjson on-demand (error codes only), and read prices and sizes from the
// raw tokens straight into int64 mantissas. The simdjson parser is sized once and shared; a message
// allocates nothing afterwards (the registry allocates on the first sight of an unknown product,
// and only when no metadata was loaded).
//
// Sync: the legacy level2 channel carries no sequence number, so a lost message cannot be seen
// in the feed itself (its `ticker` gives best_bid/best_ask, an approximate cross-check that the
// book builder counts and never acts on). What the parser *can* see is a level2 message it
// could not parse: that book missed an update. Advanced Trade numbers every message of a
// connection (`sequence_num`, +1 across all channels and products): a jump means lost messages
// of unknown products, so every book that connection fed is suspect. In both cases the books go
// Stale through Status events (reason SequenceGap: an update is missing) pushed in band, in
// front of the next message's own events. A message that fails to parse is never delivered
// (its events are removed and it is counted as an error), so its Status events ride on the next
// message that parses; until then nothing else reaches those books either.
//
// Sequence numbers are per connection: one CoinbaseParser serves one connection at a time, and
// the session calls on_new_connection() when it (re)connects.
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

// The books one protocol fed on its connection and the ones waiting to be marked Stale: two
// fixed bitmaps over instrument ids, sized once (no allocation per message). Cold paths only
// scan them (a gap, a failed message).
class CoinbaseStaleTracker {
public:
  CoinbaseStaleTracker();

  void fed(std::uint32_t instrument) noexcept { set(fed_, instrument); }
  [[nodiscard]] bool was_fed(std::uint32_t instrument) const noexcept {
    return test(fed_, instrument);
  }
  // A book missed a message: it is marked Stale in front of the next delivered message.
  void suspect(std::uint32_t instrument) noexcept;
  // Every book fed so far missed a message (which one is unknown).
  void suspect_all() noexcept;
  [[nodiscard]] bool pending() const noexcept { return pending_count_ != 0; }
  // Pushes Status{Stale, SequenceGap} for each suspect book (ascending id). False when the
  // batch is full. The suspects stay pending until clear_pending() (the message parsed).
  [[nodiscard]] bool push_pending(EventBatch &out, std::int64_t recv_ts_ns) const noexcept;
  void clear_pending() noexcept;
  // A new connection: nothing fed on it yet (pending suspects are kept).
  void forget_fed() noexcept;

private:
  static void set(std::vector<std::uint64_t> &bits, std::uint32_t id) noexcept {
    if (id < InstrumentRegistry::kMaxInstruments)
      bits[id >> 6] |= std::uint64_t{1} << (id & 63U);
  }
  static bool test(const std::vector<std::uint64_t> &bits, std::uint32_t id) noexcept {
    return id < InstrumentRegistry::kMaxInstruments &&
           (bits[id >> 6] & (std::uint64_t{1} << (id & 63U))) != 0;
  }
  std::vector<std::uint64_t> fed_;
  std::vector<std::uint64_t> pending_;
  std::size_t pending_count_ = 0;
};

// Advanced Trade (wss://advanced-trade-ws.coinbase.com): channels `level2` (messages carry
// channel "l2_data"), `market_trades` and `ticker`.
//  l2_data  events[{type snapshot|update, product_id, updates[{side bid|offer, event_time,
//           price_level, new_quantity}]}] -> BookBegin .. BookLevel (exch_ts = event_time) ..
//           BookEnd per event (exch_ts = the message timestamp)
//  market_trades events[{type, trades[{trade_id, product_id, price, size, side, time}]}] ->
//           Trade; `side` is the maker's (BUY maker = a sell aggressor). The snapshot event
//           (recent history sent on subscribe) is not replayed as new prints.
//  ticker   events[{type, tickers[{product_id, best_bid, best_bid_quantity, best_ask,
//           best_ask_quantity, ...}]}] -> Bbo
// Other channels (heartbeats, subscriptions, status, candles, ticker_batch, user) are Ignored,
// but their sequence_num is checked like every message's.
class CoinbaseAdvancedParser {
public:
  static constexpr std::size_t kDefaultFrameCapacity = 1024 * 1024;

  // frame_capacity 0: no buffers of its own, for use through parse(parser, ...) only.
  explicit CoinbaseAdvancedParser(InstrumentRegistry &registry,
                                  std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept {
    return parse(parser_, frame, recv_ts_ns, out);
  }
  [[nodiscard]] ParseStatus parse(simdjson::ondemand::parser &parser, std::string_view frame,
                                  std::int64_t recv_ts_ns, EventBatch &out) noexcept;

  // The connection was (re)opened: sequence_num starts afresh and no book is fed by it yet.
  void on_new_connection() noexcept;

  // sequence_num jumps seen (each marked every fed book Stale).
  [[nodiscard]] std::uint64_t sequence_gaps() const noexcept { return gaps_; }
  [[nodiscard]] bool has_sequence() const noexcept { return has_last_; }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_seq_; }
  [[nodiscard]] const CoinbaseStaleTracker &tracker() const noexcept { return tracker_; }

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  CoinbaseStaleTracker tracker_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t gaps_ = 0;
  bool has_last_ = false;
};

// The Coinbase entry point: legacy Exchange feed (wss://ws-feed.exchange.coinbase.com, formerly
// ws-feed.pro.coinbase.com) and Advanced Trade, told apart per message.
//  snapshot   {product_id, bids[[px,sz]], asks[[px,sz]]} -> BookBegin(snapshot) .. BookEnd
//  l2update   {product_id, changes[[buy|sell, px, sz]], time} -> BookBegin .. BookEnd
//  ticker     {sequence, product_id, best_bid, best_ask, [best_bid_size, best_ask_size], time}
//             -> Bbo (sizes 0 when absent; update_id = sequence)
//  match, last_match {trade_id, side, size, price, product_id, time} -> Trade; `side` is the
//             maker order's side (a sell maker means a buy aggressor)
// Acknowledgements (subscriptions), heartbeats, errors and L3 (`full`) types are Ignored.
class CoinbaseParser {
public:
  static constexpr std::size_t kDefaultFrameCapacity =
      CoinbaseAdvancedParser::kDefaultFrameCapacity;

  explicit CoinbaseParser(InstrumentRegistry &registry,
                          std::size_t frame_capacity = kDefaultFrameCapacity);

  // One received text frame. `frame` must have SIMDJSON_PADDING readable bytes after its end.
  // On any error the batch is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  // The session (re)connected: Advanced Trade's sequence_num restarts; books fed before are
  // the session's to mark (it knows the connection dropped).
  void on_new_connection() noexcept;

  [[nodiscard]] const CoinbaseAdvancedParser &advanced() const noexcept { return advanced_; }
  [[nodiscard]] const CoinbaseStaleTracker &legacy_tracker() const noexcept { return legacy_; }

private:
  ParseStatus parse_legacy(std::string_view frame, std::int64_t recv_ts_ns,
                           EventBatch &out) noexcept;

  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
  CoinbaseStaleTracker legacy_;
  CoinbaseAdvancedParser advanced_; // no buffers of its own: runs on parser_
};

// Whether an object frame speaks Advanced Trade: its first key is "channel". A few bytes.
[[nodiscard]] bool coinbase_advanced_first_key(std::string_view frame) noexcept;

// RFC 3339 UTC time as Coinbase writes it ("2021-04-17T16:43:37.075687Z", fraction of 0..9
// digits, "Z" only, 1970 to 2262 as int64 ns allow) -> ns since the epoch. False otherwise.
[[nodiscard]] bool coinbase_time_to_ns(std::string_view text, std::int64_t &out_ns) noexcept;

// Loads a REST GET /products response of the Exchange API (an array of products). Per product:
// native = canonical = `id` (BASE-QUOTE spot, from base_currency/quote_currency), price
// decimals and tick from quote_increment, lot from base_increment, min_qty from base_min_size.
// Size decimals are 8 (Coinbase writes sizes with at most 8 decimals; a resting size can be
// finer than today's base_increment after an increment change), fewer for huge-supply tokens
// whose largest level (base_max_size x 1000) would need more than the 18 digits an int64 always
// holds, never fewer than base_increment's or base_min_size's. Marks Coinbase metadata as loaded
// when at least one product was added. Returns the number added or updated (0 when the body is not
// such a list).
std::size_t load_coinbase_products(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a product seen without metadata: "BTC-USD" -> spot BTC-USD (other
// shapes keep the id as canonical name), decimals InstrumentRegistry::kDefaultDecimals.
Instrument coinbase_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
