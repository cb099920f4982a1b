#pragma once
// Normalized events: what every venue parser produces and the book builder consumes.
//
// One cache line each, trivially copyable, so they move through SPSC rings and into the
// shm journal with a plain copy. A venue book message becomes a *batch*:
//   BookBegin (sequence ids, snapshot flag) -> BookLevel x N (wire order) -> BookEnd (checksum)
// The builder decides at BookBegin whether the batch applies, is buffered (waiting for a
// snapshot), is dropped (older than the book) or is a gap; it verifies at BookEnd.
// Order-level (L3) feeds use the same frame with Order events inside:
//   BookBegin (kFlagOrders, snapshot flag) -> Order x N (wire order) -> BookEnd
// and the builder keeps an L3 book whose aggregated L2 view it publishes like any L2 book.
#include <cstdint>
#include <type_traits>

#include "book/types.hpp"
#include "feedhandler/venue.hpp"

namespace fh {

enum class EventType : std::uint8_t {
  None = 0,
  BookBegin,  // start of one venue book message
  BookLevel,  // absolute size at a price; qty 0 deletes
  BookEnd,    // end of the message; carries the venue checksum if any
  Trade,      // one trade print
  Bbo,        // venue top-of-book (Binance bookTicker, OKX tickers, Kraken ticker)
  Status,     // instrument status change (stale / resyncing / crossed / synced)
  Order,      // one order of an order-level (L3) book message: add / modify / delete
};

// BookBegin flags
inline constexpr std::uint8_t kFlagSnapshot = 1u << 0;     // replaces the book
inline constexpr std::uint8_t kFlagRest = 1u << 1;         // came from a REST snapshot
inline constexpr std::uint8_t kFlagHasPrevSeq = 1u << 2;   // prev_seq is meaningful
inline constexpr std::uint8_t kFlagHasSeq = 1u << 3;       // first_seq/last_seq meaningful
inline constexpr std::uint8_t kFlagOrders = 1u << 6;       // the batch carries Order events (L3)
// BookEnd flags
inline constexpr std::uint8_t kFlagHasChecksum = 1u << 4;  // checksum present and non-zero
// Trade flags
inline constexpr std::uint8_t kFlagBuyerIsMaker = 1u << 5; // aggressor was the seller

enum class Aggressor : std::uint8_t { Unknown = 0, Buy = 1, Sell = 2 };

struct BookBeginData {
  std::uint64_t first_seq; // Binance U, OKX seqId, Kraken 0
  std::uint64_t last_seq;  // Binance u (or REST lastUpdateId), OKX seqId
  std::uint64_t prev_seq;  // Binance futures pu, OKX prevSeqId
  std::uint32_t levels;    // BookLevel events that follow
  std::uint32_t depth;     // depth the venue maintains (Kraken book-N): truncate to it; 0 = none
  std::uint64_t reserved2;
};

struct BookLevelData {
  std::int64_t price;       // mantissa at the instrument's price decimals
  std::int64_t qty;         // mantissa at the instrument's qty decimals; 0 = delete
  std::uint32_t orders;     // order count where the venue gives it, else 0
  std::uint8_t price_text_dp; // decimals as written on the wire (checksums rebuild the text)
  std::uint8_t qty_text_dp;
  std::uint8_t reserved[18];
};

// What an Order event does. Venues that send an order's whole new state without saying
// whether it is new (Bitfinex raw books) use Upsert: the book adds an unknown id, else modifies.
enum class OrderAction : std::uint8_t { Add = 0, Modify, Upsert, Delete };

struct OrderData {
  std::uint64_t order_id;
  std::int64_t price;         // mantissa at the instrument's price decimals (Delete: may be 0)
  std::int64_t qty;           // remaining size, > 0 (Delete: 0)
  OrderAction action;
  std::uint8_t price_text_dp; // decimals as written on the wire
  std::uint8_t qty_text_dp;
  std::uint8_t reserved[13];
};

struct BookEndData {
  std::int64_t checksum; // venue checksum as sent (OKX signed int32, Kraken uint32)
  std::uint64_t reserved[4];
};

struct TradeData {
  std::int64_t price;
  std::int64_t qty;
  std::uint64_t trade_id;
  std::uint64_t reserved[2];
};

struct BboData {
  std::int64_t bid_price;
  std::int64_t bid_qty;
  std::int64_t ask_price;
  std::int64_t ask_qty;
  std::uint64_t update_id; // Binance bookTicker `u`; 0 when the venue gives none
};

enum class BookStatus : std::uint8_t {
  Empty = 0,         // never had data
  WaitingSnapshot,   // buffering updates until a snapshot arrives
  Synced,            // exactly the venue's book
  Stale,             // uncertain (gap, checksum failure): not to be trusted
  Crossed,           // sequence intact but best bid >= best ask
};

inline constexpr const char* to_cstring(BookStatus s) noexcept {
  switch (s) {
  case BookStatus::Empty: return "empty";
  case BookStatus::WaitingSnapshot: return "waiting_snapshot";
  case BookStatus::Synced: return "synced";
  case BookStatus::Stale: return "stale";
  case BookStatus::Crossed: return "crossed";
  }
  return "?";
}

struct StatusData {
  BookStatus status;
  std::uint8_t reason; // fh::BookError code that caused it
  std::uint8_t reserved[38];
};

struct alignas(64) Event {
  EventType type;
  std::uint8_t flags;
  book::Side side;       // BookLevel / Order side
  Venue venue;
  std::uint32_t instrument;
  std::int64_t exch_ts_ns; // venue event time, 0 if none
  std::int64_t recv_ts_ns; // local receive time of the frame
  union {
    BookBeginData begin;
    BookLevelData level;
    OrderData order; // side: Event::side
    BookEndData end;
    TradeData trade;
    BboData bbo;
    StatusData status;
  };
};

static_assert(sizeof(Event) == 64, "one event per cache line");
static_assert(std::is_trivially_copyable_v<Event>);

// Zero-initialized event of a type, for parsers to fill in.
inline Event make_event(EventType t, Venue v, std::uint32_t instrument, std::int64_t recv_ts_ns) noexcept {
  Event e{};
  e.type = t;
  e.venue = v;
  e.instrument = instrument;
  e.recv_ts_ns = recv_ts_ns;
  return e;
}

} // namespace fh
