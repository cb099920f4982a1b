// Order-level book: pools, open-addressing tables and the operations. See l3_book.hpp.
#include "book/l3_book.hpp"

#include <cstring>
#include <new>
#include <utility>

namespace fh::book {
namespace {

// 2^64 / golden ratio: Fibonacci hashing spreads consecutive ids (venues hand them out in
// sequence) over the whole table; the top bits of the product are the slot.
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// Is k cyclically in (i, j]? Decides whether the entry at j may move back to the hole at i.
bool in_cyclic_range(std::size_t i, std::size_t k, std::size_t j) noexcept {
  return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

} // namespace

L3Book::L3Book(std::uint8_t price_decimals, std::uint8_t qty_decimals, std::size_t reserve_orders,
               QueuePolicy policy)
    : l2_(price_decimals, qty_decimals, reserve_orders / 2 < 32 ? 32 : reserve_orders / 2),
      policy_(policy) {
  if (!allocate(reserve_orders < 16 ? 16 : reserve_orders))
    throw std::bad_alloc(); // construction is control path
}

bool L3Book::allocate(std::size_t cap) noexcept {
  std::size_t table = 1;
  int bits = 0;
  while (table < 2 * cap) {
    table <<= 1;
    ++bits;
  }
  std::unique_ptr<Order[]> pool(new (std::nothrow) Order[cap]);
  std::unique_ptr<OrderLevel[]> levels(new (std::nothrow) OrderLevel[cap]);
  std::unique_ptr<OrderSlot[]> order_table(new (std::nothrow) OrderSlot[table]);
  std::unique_ptr<LevelSlot[]> level_table(new (std::nothrow) LevelSlot[table]);
  if (!pool || !levels || !order_table || !level_table)
    return false;
  const std::size_t old_cap = cap_;
  if (old_cap != 0) {
    // Indices stay valid: only the tables are rebuilt.
    std::memcpy(static_cast<void *>(pool.get()), pool_.get(), old_cap * sizeof(Order));
    std::memcpy(static_cast<void *>(levels.get()), levels_.get(), old_cap * sizeof(OrderLevel));
  }
  // New slots join the free chains, lowest index first.
  for (std::size_t i = cap; i-- > old_cap;) {
    pool[i].next = free_order_;
    free_order_ = static_cast<std::uint32_t>(i);
    levels[i].head = free_level_;
    free_level_ = static_cast<std::uint32_t>(i);
  }
  for (std::size_t t = 0; t < table; ++t) {
    order_table[t].idx = kNil;
    level_table[t].idx = kNil;
  }
  const std::size_t old_table = old_cap == 0 ? 0 : table_mask_ + 1;
  std::unique_ptr<OrderSlot[]> old_orders = std::exchange(order_table_, std::move(order_table));
  std::unique_ptr<LevelSlot[]> old_levels = std::exchange(level_table_, std::move(level_table));
  pool_ = std::move(pool);
  levels_ = std::move(levels);
  cap_ = cap;
  table_mask_ = table - 1;
  table_shift_ = 64 - bits;
  for (std::size_t t = 0; t < old_table; ++t) {
    if (old_orders[t].idx != kNil)
      insert_order_slot(old_orders[t].id, old_orders[t].idx);
    if (old_levels[t].idx != kNil)
      insert_level_slot(old_levels[t].side, old_levels[t].price, old_levels[t].idx);
  }
  return true;
}

bool L3Book::grow() noexcept {
  if (cap_ >= kNil / 2)
    return false; // indices are 32-bit
  return allocate(cap_ * 2);
}

void L3Book::clear() noexcept {
  free_order_ = kNil;
  free_level_ = kNil;
  for (std::size_t i = cap_; i-- > 0;) {
    pool_[i].next = free_order_;
    free_order_ = static_cast<std::uint32_t>(i);
    levels_[i].head = free_level_;
    free_level_ = static_cast<std::uint32_t>(i);
  }
  for (std::size_t t = 0; t <= table_mask_; ++t) {
    order_table_[t].idx = kNil;
    level_table_[t].idx = kNil;
  }
  orders_ = 0;
  nchanges_ = 0;
  l2_.clear();
}

// ---- tables ----------------------------------------------------------------------------

std::size_t L3Book::order_home(OrderId id) const noexcept {
  return static_cast<std::size_t>((id * kGolden) >> table_shift_);
}

std::size_t L3Book::level_home(Side side, std::int64_t price) const noexcept {
  const std::uint64_t key =
      (static_cast<std::uint64_t>(price) << 1) ^ static_cast<std::uint64_t>(side);
  return static_cast<std::size_t>((key * kGolden) >> table_shift_);
}

std::uint32_t L3Book::find_order(OrderId id) const noexcept {
  for (std::size_t h = order_home(id);; h = (h + 1) & table_mask_) {
    const OrderSlot &s = order_table_[h];
    if (s.idx == kNil)
      return kNil;
    if (s.id == id)
      return s.idx;
  }
}

std::uint32_t L3Book::find_level(Side side, std::int64_t price) const noexcept {
  for (std::size_t h = level_home(side, price);; h = (h + 1) & table_mask_) {
    const LevelSlot &s = level_table_[h];
    if (s.idx == kNil)
      return kNil;
    if (s.price == price && s.side == side)
      return s.idx;
  }
}

void L3Book::insert_order_slot(OrderId id, std::uint32_t idx) noexcept {
  std::size_t h = order_home(id);
  while (order_table_[h].idx != kNil)
    h = (h + 1) & table_mask_;
  order_table_[h] = {id, idx};
}

void L3Book::insert_level_slot(Side side, std::int64_t price, std::uint32_t idx) noexcept {
  std::size_t h = level_home(side, price);
  while (level_table_[h].idx != kNil)
    h = (h + 1) & table_mask_;
  level_table_[h] = {price, idx, side};
}

void L3Book::erase_order_slot(OrderId id) noexcept {
  std::size_t i = order_home(id);
  while (order_table_[i].id != id || order_table_[i].idx == kNil)
    i = (i + 1) & table_mask_; // present: the caller found it
  // Backward shift: pull later entries of the probe run into the hole when their home allows.
  for (std::size_t j = (i + 1) & table_mask_; order_table_[j].idx != kNil;
       j = (j + 1) & table_mask_) {
    if (!in_cyclic_range(i, order_home(order_table_[j].id), j)) {
      order_table_[i] = order_table_[j];
      i = j;
    }
  }
  order_table_[i].idx = kNil;
}

void L3Book::erase_level_slot(Side side, std::int64_t price) noexcept {
  std::size_t i = level_home(side, price);
  while (level_table_[i].idx == kNil || level_table_[i].price != price ||
         level_table_[i].side != side)
    i = (i + 1) & table_mask_;
  for (std::size_t j = (i + 1) & table_mask_; level_table_[j].idx != kNil;
       j = (j + 1) & table_mask_) {
    if (!in_cyclic_range(i, level_home(level_table_[j].side, level_table_[j].price), j)) {
      level_table_[i] = level_table_[j];
      i = j;
    }
  }
  level_table_[i].idx = kNil;
}

// ---- queues ------------------------------------------------------------------------------

bool L3Book::insert(std::uint32_t oi, Side side, std::int64_t price,
                    std::uint8_t price_text_dp) noexcept {
  std::uint32_t li = find_level(side, price);
  if (li == kNil) {
    li = free_level_;
    if (li == kNil) [[unlikely]]
      return false; // cannot happen: levels <= orders <= capacity
    free_level_ = levels_[li].head;
    levels_[li] = {price, 0, 0, kNil, kNil, side, price_text_dp};
    insert_level_slot(side, price, li);
  }
  OrderLevel &l = levels_[li];
  Order &o = pool_[oi];
  o.level = li;
  o.prev = l.tail;
  o.next = kNil;
  if (l.tail != kNil)
    pool_[l.tail].next = oi;
  else
    l.head = oi;
  l.tail = oi;
  l.total += o.qty;
  ++l.count;
  return true;
}

void L3Book::detach(std::uint32_t oi) noexcept {
  Order &o = pool_[oi];
  const std::uint32_t li = o.level;
  OrderLevel &l = levels_[li];
  if (o.prev != kNil)
    pool_[o.prev].next = o.next;
  else
    l.head = o.next;
  if (o.next != kNil)
    pool_[o.next].prev = o.prev;
  else
    l.tail = o.prev;
  l.total -= o.qty;
  --l.count;
  if (l.count == 0) {
    erase_level_slot(l.side, l.price);
    l.head = free_level_;
    free_level_ = li;
  }
}

void L3Book::requeue(std::uint32_t oi) noexcept {
  Order &o = pool_[oi];
  OrderLevel &l = levels_[o.level];
  if (l.tail == oi)
    return;
  // Unlink (it has a successor, so it is not the tail).
  if (o.prev != kNil)
    pool_[o.prev].next = o.next;
  else
    l.head = o.next;
  pool_[o.next].prev = o.prev;
  // Append.
  o.prev = l.tail;
  o.next = kNil;
  pool_[l.tail].next = oi;
  l.tail = oi;
}

bool L3Book::publish_level(Side side, std::int64_t price, std::uint32_t li) noexcept {
  Level lv{price, 0, 0, 0, l2_.qty_decimals()};
  if (li != kNil) {
    const OrderLevel &l = levels_[li];
    lv.qty = l.total;
    lv.orders = l.count;
    lv.price_text_dp = l.price_text_dp;
  }
  changes_[nchanges_++] = {side, lv};
  return l2_.apply(side, lv);
}

// ---- operations --------------------------------------------------------------------------

L3Result L3Book::add_new(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                         std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept {
  if (free_order_ == kNil && !grow()) [[unlikely]]
    return L3Result::NoMemory;
  const std::uint32_t existing = find_level(side, price);
  std::int64_t sum = 0;
  if (existing != kNil && __builtin_add_overflow(levels_[existing].total, qty, &sum)) {
    ++counters_.bad_orders;
    return L3Result::BadOrder;
  }
  const std::uint32_t oi = free_order_;
  Order &o = pool_[oi];
  free_order_ = o.next;
  o = {id, price, qty, kNil, kNil, kNil, side, price_text_dp, qty_text_dp};
  (void)insert(oi, side, price, price_text_dp);
  insert_order_slot(id, oi);
  ++orders_;
  ++counters_.adds;
  if (!publish_level(side, price, pool_[oi].level)) [[unlikely]]
    return L3Result::NoMemory;
  return L3Result::Added;
}

L3Result L3Book::modify_at(std::uint32_t oi, Side side, std::int64_t price, std::int64_t qty,
                           std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept {
  Order &o = pool_[oi];
  std::int64_t sum = 0;
  if (o.side != side || o.price != price) {
    // A move: out of the old level, to the back of the new one.
    const std::uint32_t target = find_level(side, price);
    if (target != kNil && __builtin_add_overflow(levels_[target].total, qty, &sum)) {
      ++counters_.bad_orders;
      return L3Result::BadOrder;
    }
    const Side old_side = o.side;
    const std::int64_t old_price = o.price;
    detach(oi);
    o.side = side;
    o.price = price;
    o.qty = qty;
    o.price_text_dp = price_text_dp;
    o.qty_text_dp = qty_text_dp;
    (void)insert(oi, side, price, price_text_dp); // levels <= orders: a slot is free
    ++counters_.modifies;
    const bool ok = publish_level(old_side, old_price, find_level(old_side, old_price));
    if (!publish_level(side, price, o.level) || !ok) [[unlikely]]
      return L3Result::NoMemory;
    return L3Result::Modified;
  }
  OrderLevel &l = levels_[o.level];
  if (__builtin_add_overflow(l.total - o.qty, qty, &sum)) {
    ++counters_.bad_orders;
    return L3Result::BadOrder;
  }
  const bool back =
      policy_ == QueuePolicy::BackAlways || (policy_ == QueuePolicy::KeepOnDecrease && qty > o.qty);
  l.total = sum;
  o.qty = qty;
  o.qty_text_dp = qty_text_dp;
  if (back) {
    requeue(oi);
    ++counters_.requeues;
  }
  ++counters_.modifies;
  if (!publish_level(side, price, o.level)) [[unlikely]]
    return L3Result::NoMemory;
  return L3Result::Modified;
}

L3Result L3Book::add(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                     std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept {
  nchanges_ = 0;
  if (qty <= 0) {
    ++counters_.bad_orders;
    return L3Result::BadOrder;
  }
  if (find_order(id) != kNil) {
    ++counters_.duplicate_adds;
    return L3Result::DuplicateAdd;
  }
  return add_new(id, side, price, qty, price_text_dp, qty_text_dp);
}

L3Result L3Book::modify(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                        std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept {
  nchanges_ = 0;
  if (qty <= 0) {
    ++counters_.bad_orders;
    return L3Result::BadOrder;
  }
  const std::uint32_t oi = find_order(id);
  if (oi == kNil) {
    ++counters_.unknown_modifies;
    return L3Result::UnknownModify;
  }
  return modify_at(oi, side, price, qty, price_text_dp, qty_text_dp);
}

L3Result L3Book::upsert(OrderId id, Side side, std::int64_t price, std::int64_t qty,
                        std::uint8_t price_text_dp, std::uint8_t qty_text_dp) noexcept {
  nchanges_ = 0;
  if (qty <= 0) {
    ++counters_.bad_orders;
    return L3Result::BadOrder;
  }
  const std::uint32_t oi = find_order(id);
  if (oi == kNil)
    return add_new(id, side, price, qty, price_text_dp, qty_text_dp);
  return modify_at(oi, side, price, qty, price_text_dp, qty_text_dp);
}

L3Result L3Book::remove(OrderId id) noexcept {
  nchanges_ = 0;
  const std::uint32_t oi = find_order(id);
  if (oi == kNil) {
    ++counters_.unknown_deletes;
    return L3Result::UnknownDelete;
  }
  const Side side = pool_[oi].side;
  const std::int64_t price = pool_[oi].price;
  detach(oi);
  erase_order_slot(id);
  pool_[oi].next = free_order_;
  free_order_ = oi;
  --orders_;
  ++counters_.deletes;
  if (!publish_level(side, price, find_level(side, price))) [[unlikely]]
    return L3Result::NoMemory;
  return L3Result::Deleted;
}

// ---- queries -----------------------------------------------------------------------------

const Order *L3Book::find(OrderId id) const noexcept {
  return at(find_order(id));
}

const OrderLevel *L3Book::level(Side side, std::int64_t price) const noexcept {
  const std::uint32_t li = find_level(side, price);
  return li == kNil ? nullptr : &levels_[li];
}

} // namespace fh::book
