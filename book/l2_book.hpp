#pragma once
// Full-depth price-level (L2) book for one instrument.
//
// Why this shape: a side is a two-level sorted structure, a "chunked sorted array" (a B+-tree
// of height two). Levels live in chunks of kChunk slots taken from a pool reserved up
// front (levels, plus a parallel array of their prices that the searches read); a small
// directory lists the chunks in price order with, per chunk, its WORST price (the key the
// first-level search runs on), its pool id and which of its slots are used. Everything runs
// worst -> best: the directory (best chunk last) and the levels inside a chunk (best level
// last), so work near the top, where most updates land, touches the ends of arrays.
//  - Full-depth feeds (Binance USD-M diffs the whole book: ~5,000 levels a side, most updates
//    hundreds of levels from the top) made the old single sorted array shift kilobytes per
//    insert or erase. Here a chunk is double-ended (used slots [begin, begin + count)): an
//    insert/erase shifts the shorter side of one chunk, at most kChunk / 2 levels.
//  - First-level search: is the price in the best chunk (top-heavy feeds: OKX, Kraken)? Else
//    count branch-free over kWindow directory keys around the previous update's chunk (a
//    feed lists a message's levels in price order, so consecutive updates of a side are
//    close); a binary search only when the answer is outside the window. In the chunk: a
//    short probe from the best end (best chunk only), then a branch-free binary search on
//    the prices array (4 cache lines, not the 12 of the levels).
//  - A level beyond the worst end of the worst chunk (snapshots arrive best first) is checked
//    first and appended below it; a full chunk at that end starts a new chunk filled from
//    its top down, so snapshots fill chunks completely. Elsewhere a full chunk splits in
//    two halves. After an erase a chunk merges with a neighbour when both fit in kMergeMax
//    (hysteresis against split/merge ping-pong); an emptied chunk returns to the pool.
//    truncate() frees whole chunks and moves one chunk's begin: no level is copied.
//  - Reading the top (best(), at(side, 0..), top(), the checksums) walks the best chunk
//    backwards: contiguous, one directory read. at(i) for deeper i sums counts per group of
//    kGroup chunks, then per chunk: O(chunks / kGroup + kGroup), no hidden mutable state
//    (const reads stay safe from several threads; only apply() updates the search hint).
// Measured against (bench/book_bench.cpp): the old double-ended sorted array (kept there as
// SortedArrayBook) and std::map. A price-indexed ladder would need the tick size (the book
// only knows decimals), re-centring as prices move, and memory proportional to the price
// range rather than the level count; the chunked array needs none of that.
// The only allocation after construction is pool growth (doubling) when every chunk is in
// use: rare, cold, nothrow; apply() returns false if it fails.
//
// Levels keep how many fractional digits the venue wrote for price and size, so checksum
// strings can be rebuilt exactly (book/checksum.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "book/types.hpp"

namespace fh::book {

struct Level {
  std::int64_t price;         // mantissa at the book's price_decimals
  std::int64_t qty;           // mantissa at the book's qty_decimals; 0 = delete in apply()
  std::uint32_t orders;       // number of orders at the level when the venue says (else 0)
  std::uint8_t price_text_dp; // fractional digits of the venue's price text
  std::uint8_t qty_text_dp;   // fractional digits of the venue's size text
};
static_assert(sizeof(Level) == 24, "Level is three words: keep it that way for memmove cost");

class L2Book {
public:
  // reserve_per_side: the pool holds 2 * reserve_per_side level slots per side, enough for
  // reserve_per_side levels while chunks are on average half full (the USD-M stream runs at
  // ~56%; snapshots fill chunks completely). Beyond that the pool doubles.
  L2Book(std::uint8_t price_decimals, std::uint8_t qty_decimals,
         std::size_t reserve_per_side = 1024);
  L2Book(const L2Book &other);
  L2Book &operator=(const L2Book &other);
  L2Book(L2Book &&) noexcept = default;
  L2Book &operator=(L2Book &&) noexcept = default;
  ~L2Book() = default;

  void clear() noexcept; // keeps capacity

  // Absolute size at price; qty == 0 deletes (deleting an absent level is normal, not an
  // error). Returns false only if storage had to grow and allocation failed.
  [[nodiscard]] bool apply(Side side, const Level &level) noexcept {
    return side == Side::Bid ? sides_[0].apply<true>(level) : sides_[1].apply<false>(level);
  }

  std::size_t depth(Side side) const noexcept { return side_of(side).size(); }
  // i = 0 is the best level; i < depth(side). O(1) inside the best chunk.
  const Level &at(Side side, std::size_t i) const noexcept { return side_of(side).at(i); }
  // nullptr when the side is empty.
  const Level *best(Side side) const noexcept {
    const ChunkedSide &s = side_of(side);
    return s.size() == 0 ? nullptr : &s.at(0);
  }
  // Both sides non-empty and best bid price >= best ask price.
  bool crossed() const noexcept;
  // Keep only the best max_levels of the side. O(chunks): frees whole chunks.
  void truncate(Side side, std::size_t max_levels) noexcept { side_of(side).truncate(max_levels); }
  // Copies up to n best levels, best first; returns how many.
  std::size_t top(Side side, std::size_t n, Level *out) const noexcept {
    return side_of(side).top(n, out);
  }

  std::uint8_t price_decimals() const noexcept { return price_decimals_; }
  std::uint8_t qty_decimals() const noexcept { return qty_decimals_; }

private:
  // One side: directory and chunks both ordered worst -> best (best chunk last, best level
  // last in its chunk).
  class ChunkedSide {
  public:
    // Levels per chunk: 768 bytes of levels + 256 of prices, so an insert moves at most ~3
    // cache lines (the shorter side of a double-ended chunk) and the in-chunk search is 5
    // probes. 16 and 64 measured no better on any stream.
    static constexpr std::size_t kChunk = 32;
    // Chunks per count group (the at() / truncate() walk).
    static constexpr std::size_t kGroup = 16;
    // Two neighbouring chunks merge after an erase when their levels fit in this many.
    static constexpr std::size_t kMergeMax = kChunk / 2;
    // Chunk keys the first-level search compares branch-free around the previous update's
    // chunk before it falls back to a binary search.
    static constexpr std::size_t kWindow = 8;

    explicit ChunkedSide(std::size_t level_capacity);
    ChunkedSide(const ChunkedSide &other);
    ChunkedSide &operator=(const ChunkedSide &other);
    // A moved-from side is empty with no pool; apply() on it allocates (grow).
    ChunkedSide(ChunkedSide &&other) noexcept;
    ChunkedSide &operator=(ChunkedSide &&other) noexcept;
    ~ChunkedSide() = default;

    std::size_t size() const noexcept { return size_; }
    const Level &at(std::size_t i) const noexcept {
      const Entry &e = dir_[nchunks_ - 1];
      if (i < e.count) [[likely]]
        return levels_of(e)[e.count - 1 - i];
      return at_deep(i);
    }
    std::size_t top(std::size_t n, Level *out) const noexcept;
    void clear() noexcept;
    void truncate(std::size_t max_levels) noexcept;

    template <bool kBid> bool apply(const Level &level) noexcept;

  private:
    // A directory entry: the chunk's levels are slots [begin, begin + count) of pool chunk
    // `id`. Double-ended: an insert or erase shifts the shorter side, truncate() moves begin.
    struct Entry {
      std::uint32_t id;
      std::uint16_t begin;
      std::uint16_t count;
    };
    static_assert(kChunk <= 0xFFFF, "Entry::begin/count are 16-bit");

    // Moves slots [from, from + n) of chunk `id` to [to, to + n), levels and prices alike
    // (the ranges may overlap).
    void move_slots(std::uint32_t id, std::size_t from, std::size_t n, std::size_t to) noexcept {
      if (n == 0)
        return;
      const std::size_t base = std::size_t{id} * kChunk;
      std::memmove(pool_.get() + base + to, pool_.get() + base + from, n * sizeof(Level));
      std::memmove(prices_.get() + base + to, prices_.get() + base + from,
                   n * sizeof(std::int64_t));
    }
    void set_slot(std::uint32_t id, std::size_t slot, const Level &level) noexcept {
      const std::size_t i = std::size_t{id} * kChunk + slot;
      pool_[i] = level;
      prices_[i] = level.price;
    }
    // All ones if `c`, else zero. Binary searches step with `half & mask_if(...)`: data
    // flow, not a select GCC may turn into an unpredictable branch.
    static std::size_t mask_if(bool c) noexcept { return std::size_t{0} - std::size_t{c}; }
    // `a` is at least as good as `b` for this side (bids: higher, asks: lower).
    template <bool kBid> static bool not_worse(std::int64_t a, std::int64_t b) noexcept {
      if constexpr (kBid)
        return a >= b;
      else
        return a <= b;
    }
    Level *slots(std::uint32_t id) noexcept { return pool_.get() + std::size_t{id} * kChunk; }
    const Level *slots(std::uint32_t id) const noexcept {
      return pool_.get() + std::size_t{id} * kChunk;
    }
    Level *levels_of(const Entry &e) noexcept { return slots(e.id) + e.begin; }
    const Level *levels_of(const Entry &e) const noexcept { return slots(e.id) + e.begin; }
    const std::int64_t *prices_of(const Entry &e) const noexcept {
      return prices_.get() + std::size_t{e.id} * kChunk + e.begin;
    }
    // Directory index of the chunk `price` belongs to (nchunks_ > 0); remembers it in hint_.
    template <bool kBid> std::size_t find_chunk(std::int64_t price) noexcept;
    // Index among `prices` (worst -> best) of the first one not worse than `price`.
    template <bool kBid>
    static std::size_t find_in_chunk(const std::int64_t *prices, std::size_t count,
                                     std::int64_t price, bool probe) noexcept;

    const Level &at_deep(std::size_t i) const noexcept;
    // Insert at position j of chunk k, which has a free slot: the shorter side moves (after
    // re-centring the chunk if that side has no free slot).
    void insert_at(std::size_t k, std::size_t j, const Level &level) noexcept;
    // Moves chunk k's levels so the free slots split evenly, at least one below if `below`
    // (else at least one above).
    [[gnu::noinline]] void recentre(Entry &e, bool below) noexcept;
    // Insert into the full chunk k at position j: split or start a new chunk.
    // `level` is taken by value: growth may move the pool it could have come from.
    [[gnu::noinline]] bool insert_into_full(std::size_t k, std::size_t j, Level level) noexcept;
    // First level of an empty side.
    [[gnu::noinline]] bool insert_first(Level level) noexcept;
    // After an erase left chunk k with few levels: merge it with a neighbour if both fit.
    [[gnu::noinline]] void merge_small(std::size_t k) noexcept;
    void erase_at(std::size_t k, std::size_t j) noexcept;
    // Directory edits; the caller then recounts the groups from the first changed entry.
    void insert_dir(std::size_t k, std::int64_t key, Entry entry) noexcept;
    void remove_dir(std::size_t k) noexcept;
    void recount_groups(std::size_t from_chunk) noexcept;
    // Takes a chunk from the pool (growing it if empty). False if allocation failed.
    bool take_chunk(std::uint32_t &id) noexcept;
    // Cold: double the pool (and directory). False if allocation failed.
    [[gnu::cold, gnu::noinline]] bool grow() noexcept;

    std::unique_ptr<Level[]> pool_;           // cap_ chunks of kChunk level slots
    std::unique_ptr<std::int64_t[]> prices_;  // the same slots' prices, for the searches
    std::unique_ptr<std::int64_t[]> keys_;    // directory: worst price of each chunk
    std::unique_ptr<Entry[]> dir_;            // directory: where each chunk's levels are
    std::unique_ptr<std::uint32_t[]> groups_; // levels in directory entries [g*kGroup, +kGroup)
    std::unique_ptr<std::uint32_t[]> free_;   // stack of unused pool ids
    std::size_t cap_ = 0;                     // chunks in the pool
    std::size_t nchunks_ = 0;                 // directory entries in use
    std::size_t nfree_ = 0;
    std::size_t size_ = 0; // levels
    std::size_t hint_ = 0; // directory index of the previous update's chunk (a search hint)
  };

  const ChunkedSide &side_of(Side s) const noexcept { return sides_[s == Side::Bid ? 0 : 1]; }
  ChunkedSide &side_of(Side s) noexcept { return sides_[s == Side::Bid ? 0 : 1]; }

  ChunkedSide sides_[2];
  std::uint8_t price_decimals_;
  std::uint8_t qty_decimals_;
};

// ---- inline hot path -------------------------------------------------------------------

template <bool kBid>
inline std::size_t L2Book::ChunkedSide::find_chunk(std::int64_t price) noexcept {
  // Keys (worst price per chunk) run worst -> best, so "price is not worse than key d" holds
  // for a prefix of the directory; the target is the last chunk of that prefix. Count that
  // prefix branch-free inside a window of kWindow keys around the chunk of the previous
  // update; only when the boundary lies outside it, binary-search the rest.
  const std::size_t n = nchunks_;
  const std::int64_t *const keys = keys_.get();
  if (not_worse<kBid>(price, keys[n - 1]))
    return hint_ = n - 1; // the best chunk: most updates of top-heavy feeds
  std::size_t prefix = 0;
  if (n > kWindow) [[likely]] {
    const std::size_t h = hint_ < n ? hint_ : n - 1;
    std::size_t lo = h > kWindow / 2 - 1 ? h - (kWindow / 2 - 1) : 0;
    lo = lo < n - kWindow ? lo : n - kWindow;
    std::size_t in = 0;
    for (std::size_t i = 0; i < kWindow; ++i)
      in += not_worse<kBid>(price, keys[lo + i]) ? 1U : 0U;
    prefix = lo + in;
    if (in == 0 || in == kWindow) {
      // The prefix ends in [0, lo] or in [lo + kWindow, n - 1] (key n - 1 is better).
      std::size_t base = in == 0 ? 0 : lo + kWindow;
      std::size_t len = in == 0 ? lo : n - 1 - base;
      if (len != 0) {
        while (len > 1) {
          const std::size_t half = len / 2;
          base += half & mask_if(not_worse<kBid>(price, keys[base + half - 1]));
          len -= half;
        }
        base += not_worse<kBid>(price, keys[base]) ? 1U : 0U;
      }
      prefix = base;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i)
      prefix += not_worse<kBid>(price, keys[i]) ? 1U : 0U;
  }
  // Worse than every chunk's worst level: it extends the worst chunk.
  return hint_ = prefix == 0 ? 0 : prefix - 1;
}

template <bool kBid>
inline std::size_t L2Book::ChunkedSide::find_in_chunk(const std::int64_t *prices, std::size_t count,
                                                      std::int64_t price, bool probe) noexcept {
  // Prices run worst -> best: the answer is the number of levels worse than `price`. In the
  // best chunk (`probe`) most updates hit the best end: probe a few from there first. Then
  // a branch-free binary search over at most 4 cache lines of prices.
  constexpr std::size_t kProbe = 4;
  std::size_t hi = count;
  const std::size_t stop = !probe ? count : count > kProbe ? count - kProbe : 0;
  while (hi > stop) {
    if (!not_worse<kBid>(prices[hi - 1], price))
      return hi;
    --hi;
  }
  std::size_t lo = 0;
  std::size_t len = hi;
  if (len == 0)
    return 0;
  while (len > 1) {
    const std::size_t half = len / 2;
    lo += half & mask_if(!not_worse<kBid>(prices[lo + half - 1], price));
    len -= half;
  }
  return lo + (not_worse<kBid>(prices[lo], price) ? 0U : 1U);
}

template <bool kBid> inline bool L2Book::ChunkedSide::apply(const Level &level) noexcept {
  if (nchunks_ == 0) [[unlikely]]
    return level.qty == 0 ? true : insert_first(level);
  if (!not_worse<kBid>(level.price, keys_[0])) {
    // Worse than the worst level: snapshots loading best-first land here every time.
    if (level.qty == 0)
      return true;
    if (dir_[0].count == kChunk) [[unlikely]]
      return insert_into_full(0, 0, level);
    insert_at(0, 0, level);
    return true;
  }
  const std::size_t k = find_chunk<kBid>(level.price);
  const Entry &e = dir_[k];
  const std::int64_t *const prices = prices_of(e);
  const std::size_t count = e.count;
  const std::size_t j = find_in_chunk<kBid>(prices, count, level.price, k + 1 == nchunks_);
  if (j != count && prices[j] == level.price) {
    if (level.qty != 0)
      levels_of(e)[j] = level; // same price: the prices array is unchanged
    else
      erase_at(k, j);
    return true;
  }
  if (level.qty == 0)
    return true; // delete of an absent level: normal on every venue
  if (count == kChunk) [[unlikely]]
    return insert_into_full(k, j, level);
  insert_at(k, j, level);
  return true;
}

inline void L2Book::ChunkedSide::insert_at(std::size_t k, std::size_t j,
                                           const Level &level) noexcept {
  Entry &e = dir_[k];
  const std::size_t count = e.count;
  const bool below = j <= count / 2; // the shorter side is below the new level
  if (below ? e.begin == 0 : e.begin + count == kChunk) [[unlikely]]
    recentre(e, below);
  if (below) {
    move_slots(e.id, e.begin, j, e.begin - 1U);
    --e.begin;
  } else {
    move_slots(e.id, e.begin + j, count - j, e.begin + j + 1);
  }
  set_slot(e.id, e.begin + j, level);
  ++e.count;
  ++groups_[k / kGroup];
  ++size_;
  if (j == 0)
    keys_[k] = level.price; // new worst level of the chunk (only the worst chunk gets one)
}

inline void L2Book::ChunkedSide::erase_at(std::size_t k, std::size_t j) noexcept {
  Entry &e = dir_[k];
  const std::size_t count = e.count;
  if (j < count - 1 - j) {
    move_slots(e.id, e.begin, j, e.begin + 1U); // [0, j) up by one
    ++e.begin;
  } else {
    move_slots(e.id, e.begin + j + 1, count - 1 - j, e.begin + j); // (j, count) down by one
  }
  --e.count;
  --groups_[k / kGroup];
  --size_;
  if (count == 1) {
    free_[nfree_++] = e.id;
    remove_dir(k);
    recount_groups(k);
    return;
  }
  if (j == 0)
    keys_[k] = prices_of(e)[0];
  if (count - 1 < kMergeMax) [[unlikely]]
    merge_small(k);
}

inline bool L2Book::crossed() const noexcept {
  const Level *bid = best(Side::Bid);
  const Level *ask = best(Side::Ask);
  return bid != nullptr && ask != nullptr && bid->price >= ask->price;
}

} // namespace fh::book
