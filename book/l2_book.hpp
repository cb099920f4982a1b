#pragma once
// Full-depth price-level (L2) book for one instrument.
//
// Why this shape: almost every update lands within a few levels of the top, and a book is
// read top-first. Each side is one contiguous sorted array of Levels with the BEST level at
// the END, so an update near the top finds its level by a short linear probe from the end
// (binary search below that) and an insert/erase there moves only the few better levels.
// The array is double-ended (live range [begin_, end_) inside a larger buffer): an
// insert/erase shifts whichever part is shorter, so the far bottom is cheap too, and
// truncate() (Kraken keeps only its subscribed depth) just advances begin_. Snapshots arrive
// best-first, i.e. they grow the bottom, which the free room below begin_ absorbs.
// The only allocation after construction is growth beyond the reservation: rare, cold,
// nothrow (apply() returns false if it fails).
//
// Levels keep how many fractional digits the venue wrote for price and size, so checksum
// strings can be rebuilt exactly (book/checksum.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
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
  // reserve_per_side: levels per side that fit without any allocation. The buffer is twice
  // that, so the double-ended array has room to shift either way.
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
  // i = 0 is the best level; i < depth(side).
  const Level &at(Side side, std::size_t i) const noexcept { return side_of(side).at(i); }
  // nullptr when the side is empty.
  const Level *best(Side side) const noexcept {
    const SideArray &s = side_of(side);
    return s.size() == 0 ? nullptr : &s.at(0);
  }
  // Both sides non-empty and best bid price >= best ask price.
  bool crossed() const noexcept;
  // Keep only the best max_levels of the side. O(1).
  void truncate(Side side, std::size_t max_levels) noexcept { side_of(side).truncate(max_levels); }
  // Copies up to n best levels, best first; returns how many.
  std::size_t top(Side side, std::size_t n, Level *out) const noexcept;

  std::uint8_t price_decimals() const noexcept { return price_decimals_; }
  std::uint8_t qty_decimals() const noexcept { return qty_decimals_; }

private:
  // One side: levels sorted worst -> best in buf_[begin_, end_).
  class SideArray {
  public:
    explicit SideArray(std::size_t capacity);
    SideArray(const SideArray &other);
    SideArray &operator=(const SideArray &other);
    // A moved-from side is empty with no buffer; apply() on it allocates (make_room).
    SideArray(SideArray &&other) noexcept;
    SideArray &operator=(SideArray &&other) noexcept;
    ~SideArray() = default;

    std::size_t size() const noexcept { return end_ - begin_; }
    const Level &at(std::size_t i) const noexcept { return buf_[end_ - 1 - i]; }
    void clear() noexcept { begin_ = end_ = capacity_ / 2; }
    void truncate(std::size_t max_levels) noexcept {
      if (size() > max_levels)
        begin_ = end_ - max_levels;
    }

    template <bool kBid> bool apply(const Level &level) noexcept;

  private:
    // `a` is at least as good as `b` for this side (bids: higher, asks: lower).
    template <bool kBid> static bool not_worse(std::int64_t a, std::int64_t b) noexcept {
      if constexpr (kBid)
        return a >= b;
      else
        return a <= b;
    }
    // Index of the first level (from the bottom) not worse than `price`.
    template <bool kBid> std::size_t find(std::int64_t price) const noexcept;
    void insert_at(std::size_t pos, const Level &level) noexcept;
    void erase_at(std::size_t pos) noexcept;
    // Cold: recentre the live range, or grow the buffer. False if allocation failed.
    [[gnu::cold, gnu::noinline]] bool make_room() noexcept;

    std::unique_ptr<Level[]> buf_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
  };

  const SideArray &side_of(Side s) const noexcept { return sides_[s == Side::Bid ? 0 : 1]; }
  SideArray &side_of(Side s) noexcept { return sides_[s == Side::Bid ? 0 : 1]; }

  SideArray sides_[2];
  std::uint8_t price_decimals_;
  std::uint8_t qty_decimals_;
};

// ---- inline hot path -------------------------------------------------------------------

template <bool kBid> inline std::size_t L2Book::SideArray::find(std::int64_t price) const noexcept {
  // Linear probe over the best few levels: most updates land here, and the loop predicts
  // well. Below that, a branch-free binary search over [begin_, hi).
  constexpr std::size_t kProbe = 8;
  std::size_t hi = end_;
  const std::size_t stop = size() > kProbe ? end_ - kProbe : begin_;
  while (hi > stop) {
    if (!not_worse<kBid>(buf_[hi - 1].price, price))
      return hi;
    --hi;
  }
  if (hi == begin_)
    return hi;
  // Levels [begin_, hi) are partitioned: worse than `price` first, then not worse. Classic
  // base/half lower bound; the conditional move keeps mispredictions out of the loop.
  const Level *base = buf_.get() + begin_;
  std::size_t n = hi - begin_;
  while (n > 1) {
    const std::size_t half = n / 2;
    base = not_worse<kBid>(base[half].price, price) ? base : base + half;
    n -= half;
  }
  const auto idx = static_cast<std::size_t>(base - buf_.get());
  return not_worse<kBid>(base->price, price) ? idx : idx + 1;
}

template <bool kBid> inline bool L2Book::SideArray::apply(const Level &level) noexcept {
  const std::size_t pos = find<kBid>(level.price);
  if (pos != end_ && buf_[pos].price == level.price) {
    if (level.qty == 0)
      erase_at(pos);
    else
      buf_[pos] = level;
    return true;
  }
  if (level.qty == 0)
    return true; // delete of an absent level: normal on every venue
  // Room is needed on the side we will shift; insert_at decides. Make sure at least one
  // free slot exists at each end it might use.
  if (begin_ == 0 || end_ == capacity_) [[unlikely]] {
    const std::size_t offset = pos - begin_;
    if (!make_room())
      return false;
    insert_at(begin_ + offset, level);
    return true;
  }
  insert_at(pos, level);
  return true;
}

inline void L2Book::SideArray::insert_at(std::size_t pos, const Level &level) noexcept {
  // Precondition: begin_ > 0 and end_ < capacity_. Shift the shorter part.
  Level *const b = buf_.get();
  if (pos - begin_ < end_ - pos) {
    // Move [begin_, pos) down by one.
    std::copy(b + begin_, b + pos, b + begin_ - 1);
    --begin_;
    b[pos - 1] = level;
  } else {
    // Move [pos, end_) up by one.
    std::copy_backward(b + pos, b + end_, b + end_ + 1);
    ++end_;
    b[pos] = level;
  }
}

inline void L2Book::SideArray::erase_at(std::size_t pos) noexcept {
  Level *const b = buf_.get();
  if (pos - begin_ < end_ - pos - 1) {
    std::copy_backward(b + begin_, b + pos, b + pos + 1); // [begin_, pos) up by one
    ++begin_;
  } else {
    std::copy(b + pos + 1, b + end_, b + pos); // (pos, end_) down by one
    --end_;
  }
}

inline bool L2Book::crossed() const noexcept {
  const Level *bid = best(Side::Bid);
  const Level *ask = best(Side::Ask);
  return bid != nullptr && ask != nullptr && bid->price >= ask->price;
}

} // namespace fh::book
