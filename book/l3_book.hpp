#pragma once
// Order-level (L3) book for one instrument, with the aggregated L2 view kept beside it.
//
// Why this shape: an L3 feed (Bitfinex raw books, order-by-order feeds) names orders by id and
// says add / change / delete; every message touches one order, found by id, and one or two
// price levels. So:
//  - Orders live in a preallocated pool (dense uint32 indices, a free chain through `next`),
//    found through an open-addressing table of (id, index) pairs: linear probing at load
//    <= 1/2, deletion by backward shift (no tombstones, so probe lengths never degrade).
//  - Price levels live in a second pool, found through a table keyed on (side, price). A level
//    is a FIFO queue of its orders through intrusive prev/next links, and keeps the exact sum
//    of their sizes and their number, so the L2 total is never recomputed by a walk.
//  - Both pools share one capacity (a level exists only while it holds an order), reserved up
//    front. Only when every slot is in use does the book grow (cold, nothrow, doubling); an
//    operation that then fails to allocate returns NoMemory.
//  - The L2 view is a book::L2Book updated with the level's new absolute total and order count
//    after every operation, so a builder publishes an L3 instrument exactly like an L2 one
//    (same top-N, same crossed check). The one or two level changes of the last operation are
//    kept (last_changes()) so a journal can carry them as ordinary L2 level records.
// Queue position: a price (or side) change always moves the order to the back of its new
// level; what a size change does depends on the venue (QueuePolicy). The L2 view does not
// depend on it, the order of a level's queue does.
// Errors are codes and counters, never exceptions: a delete of an unknown order is normal on
// windowed feeds and is counted (unknown_deletes), not fatal.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "book/l2_book.hpp"
#include "book/types.hpp"

namespace fh::book {

using OrderId = std::uint64_t;

// What a size change at an unchanged price does to the order's place in its level's queue.
enum class QueuePolicy : std::uint8_t {
  KeepOnDecrease, // a smaller size keeps its place (partial fills, reductions); a larger one
                  // goes to the back (price-time priority as most venues apply it)
  KeepAlways,     // size changes never move the order
  BackAlways,     // every modification re-queues the order at the back
};

enum class L3Result : std::uint8_t {
  Added = 0,
  Modified,
  Deleted,
  UnknownDelete, // delete of an id not in the book: counted, the book is unchanged
  UnknownModify, // explicit modify of an id not in the book: counted, the book is unchanged
  DuplicateAdd,  // explicit add of an id already in the book: counted, the book is unchanged
  BadOrder,      // size <= 0, or a level total would overflow int64: the book is unchanged
  NoMemory,      // growth failed: the L3 book is unchanged, the L2 view may not be
};

struct L3Counters {
  std::uint64_t adds = 0;
  std::uint64_t modifies = 0;
  std::uint64_t deletes = 0;
  std::uint64_t unknown_deletes = 0;
  std::uint64_t unknown_modifies = 0;
  std::uint64_t duplicate_adds = 0;
  std::uint64_t bad_orders = 0;
  std::uint64_t requeues = 0; // modifications that sent the order to the back of a level
};

struct Order {
  OrderId id;
  std::int64_t price;
  std::int64_t qty;    // > 0
  std::uint32_t level; // index of its level in the level pool
  std::uint32_t prev;  // queue links (kNil at the ends); `next` also chains free slots
  std::uint32_t next;
  Side side;
  std::uint8_t price_text_dp;
  std::uint8_t qty_text_dp;
};

struct OrderLevel {
  std::int64_t price;
  std::int64_t total;  // exact sum of the sizes of its orders
  std::uint32_t count; // orders in the queue
  std::uint32_t head;  // oldest order (front of the queue); `head` also chains free slots
  std::uint32_t tail;  // newest order
  Side side;
  std::uint8_t price_text_dp;
};

// One L2 level after an operation: absolute total and count, qty 0 = the level is gone.
struct LevelChange {
  Side side;
  Level level;
};

class L3Book {
public:
  static constexpr std::uint32_t kNil = 0xffffffffU;

  // reserve_orders: orders (and levels) held without growing.
  L3Book(std::uint8_t price_decimals, std::uint8_t qty_decimals, std::size_t reserve_orders = 4096,
         QueuePolicy policy = QueuePolicy::KeepOnDecrease);
  L3Book(const L3Book &) = delete;
  L3Book &operator=(const L3Book &) = delete;
  L3Book(L3Book &&) noexcept = default;
  L3Book &operator=(L3Book &&) noexcept = default;
  ~L3Book() = default;

  // Empties the book (a snapshot follows); keeps capacity and counters.
  void clear() noexcept;

  // Explicit add: a new id at the back of its level.
  [[nodiscard]] L3Result add(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                             std::uint8_t price_text_dp = 0, std::uint8_t qty_text_dp = 0) noexcept;
  // Explicit modify of a known id: new price, side and/or size (see QueuePolicy).
  [[nodiscard]] L3Result modify(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                                std::uint8_t price_text_dp = 0,
                                std::uint8_t qty_text_dp = 0) noexcept;
  // The order's full new state: add when the id is new, else modify (Bitfinex raw books).
  [[nodiscard]] L3Result upsert(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                                std::uint8_t price_text_dp = 0,
                                std::uint8_t qty_text_dp = 0) noexcept;
  [[nodiscard]] L3Result remove(OrderId id) noexcept;

  // The aggregated view: per price, the total size and the number of orders.
  const L2Book &l2() const noexcept { return l2_; }
  bool crossed() const noexcept { return l2_.crossed(); }

  std::size_t order_count() const noexcept { return orders_; }
  std::size_t level_count(Side side) const noexcept { return l2_.depth(side); }
  // nullptr when absent. Pointers are valid until the next non-const call.
  const Order *find(OrderId id) const noexcept;
  const OrderLevel *level(Side side, std::int64_t price) const noexcept;
  // Queue walk: front(level) then next(order) until nullptr.
  const Order *front(const OrderLevel &l) const noexcept { return at(l.head); }
  const Order *next(const Order &o) const noexcept { return at(o.next); }

  // The L2 levels the last successful operation changed (one, or two for a price move), in
  // the order they were applied to l2().
  std::span<const LevelChange> last_changes() const noexcept { return {changes_, nchanges_}; }

  const L3Counters &counters() const noexcept { return counters_; }
  QueuePolicy policy() const noexcept { return policy_; }
  std::size_t capacity() const noexcept { return cap_; }
  std::uint8_t price_decimals() const noexcept { return l2_.price_decimals(); }
  std::uint8_t qty_decimals() const noexcept { return l2_.qty_decimals(); }

private:
  // Open-addressing table slots. idx == kNil marks an empty slot.
  struct OrderSlot {
    OrderId id;
    std::uint32_t idx;
  };
  struct LevelSlot {
    std::int64_t price;
    std::uint32_t idx;
    Side side;
  };

  const Order *at(std::uint32_t i) const noexcept { return i == kNil ? nullptr : &pool_[i]; }

  std::size_t order_home(OrderId id) const noexcept;
  std::size_t level_home(Side side, std::int64_t price) const noexcept;
  std::uint32_t find_order(OrderId id) const noexcept;
  std::uint32_t find_level(Side side, std::int64_t price) const noexcept;
  void insert_order_slot(OrderId id, std::uint32_t idx) noexcept;
  void insert_level_slot(Side side, std::int64_t price, std::uint32_t idx) noexcept;
  void erase_order_slot(OrderId id) noexcept;
  void erase_level_slot(Side side, std::int64_t price) noexcept;

  // Adds to the back of (side, price), creating the level. Capacity must be available.
  [[nodiscard]] bool insert(std::uint32_t oi, Side side, std::int64_t price,
                            std::uint8_t price_text_dp) noexcept;
  // Unlinks an order from its level (the level is freed when it empties); records the change.
  void detach(std::uint32_t oi) noexcept;
  // Moves an order to the back of its own level.
  void requeue(std::uint32_t oi) noexcept;
  // L2 view of level `li` (or its deletion) and the change record.
  [[nodiscard]] bool publish_level(Side side, std::int64_t price, std::uint32_t li) noexcept;
  [[nodiscard]] L3Result add_new(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                                 std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept;
  [[nodiscard]] L3Result modify_at(std::uint32_t oi, Side side, std::int64_t price,
                                   std::int64_t qty, std::uint8_t price_text_dp,
                                   std::uint8_t qty_text_dp) noexcept;
  // Cold: doubles pools and tables. False if allocation failed (nothing changed).
  [[gnu::cold, gnu::noinline]] bool grow() noexcept;
  bool allocate(std::size_t cap) noexcept;

  std::unique_ptr<Order[]> pool_;
  std::unique_ptr<OrderLevel[]> levels_;
  std::unique_ptr<OrderSlot[]> order_table_;
  std::unique_ptr<LevelSlot[]> level_table_;
  std::size_t cap_ = 0;        // orders (and levels) the pools hold
  std::size_t table_mask_ = 0; // both tables: 2 * cap_ rounded up to a power of two, minus 1
  int table_shift_ = 0;        // 64 - log2(table size): Fibonacci hashing takes the top bits
  std::uint32_t free_order_ = kNil;
  std::uint32_t free_level_ = kNil;
  std::size_t orders_ = 0;
  L2Book l2_;
  LevelChange changes_[2] = {};
  std::size_t nchanges_ = 0;
  QueuePolicy policy_;
  L3Counters counters_;
};

} // namespace fh::book
