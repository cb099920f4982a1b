// Colder parts of the L2 book: construction, copying, growth, chunk splits and merges, deep
// reads. See l2_book.hpp.
#include "book/l2_book.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace fh::book {

namespace {

constexpr std::size_t kMinChunks = 4;

template <typename T> std::unique_ptr<T[]> allocate(std::size_t n) noexcept {
  return std::unique_ptr<T[]>(new (std::nothrow) T[n]);
}

std::size_t group_count(std::size_t chunks, std::size_t group) noexcept {
  return chunks / group + 1;
}

} // namespace

// ---- construction and copies -----------------------------------------------------------

L2Book::ChunkedSide::ChunkedSide(std::size_t level_capacity)
    : cap_(std::max(kMinChunks, (level_capacity + kChunk - 1) / kChunk)) {
  pool_ = std::make_unique_for_overwrite<Level[]>(cap_ * kChunk);
  prices_ = std::make_unique_for_overwrite<std::int64_t[]>(cap_ * kChunk);
  keys_ = std::make_unique_for_overwrite<std::int64_t[]>(cap_);
  dir_ = std::make_unique_for_overwrite<Entry[]>(cap_);
  groups_ = std::make_unique<std::uint32_t[]>(group_count(cap_, kGroup));
  free_ = std::make_unique_for_overwrite<std::uint32_t[]>(cap_);
  // Hand out low ids first: the pool is touched front to back.
  for (std::size_t i = 0; i < cap_; ++i)
    free_[i] = static_cast<std::uint32_t>(cap_ - 1 - i);
  nfree_ = cap_;
}

L2Book::ChunkedSide::ChunkedSide(const ChunkedSide &other)
    : cap_(other.cap_), nchunks_(other.nchunks_), nfree_(other.nfree_), size_(other.size_) {
  if (cap_ == 0)
    return;
  pool_ = std::make_unique_for_overwrite<Level[]>(cap_ * kChunk);
  prices_ = std::make_unique_for_overwrite<std::int64_t[]>(cap_ * kChunk);
  keys_ = std::make_unique_for_overwrite<std::int64_t[]>(cap_);
  dir_ = std::make_unique_for_overwrite<Entry[]>(cap_);
  groups_ = std::make_unique<std::uint32_t[]>(group_count(cap_, kGroup));
  free_ = std::make_unique_for_overwrite<std::uint32_t[]>(cap_);
  // Only live levels are copied; pool ids and slots are kept, so the directory copies as is.
  for (std::size_t k = 0; k < nchunks_; ++k) {
    const Entry &e = other.dir_[k];
    std::copy_n(other.levels_of(e), e.count, levels_of(e));
    std::copy_n(other.prices_of(e), e.count, prices_.get() + std::size_t{e.id} * kChunk + e.begin);
  }
  std::copy_n(other.keys_.get(), nchunks_, keys_.get());
  std::copy_n(other.dir_.get(), nchunks_, dir_.get());
  std::copy_n(other.groups_.get(), group_count(cap_, kGroup), groups_.get());
  std::copy_n(other.free_.get(), nfree_, free_.get());
}

L2Book::ChunkedSide::ChunkedSide(ChunkedSide &&other) noexcept
    : pool_(std::move(other.pool_)), prices_(std::move(other.prices_)),
      keys_(std::move(other.keys_)), dir_(std::move(other.dir_)), groups_(std::move(other.groups_)),
      free_(std::move(other.free_)), cap_(std::exchange(other.cap_, 0)),
      nchunks_(std::exchange(other.nchunks_, 0)), nfree_(std::exchange(other.nfree_, 0)),
      size_(std::exchange(other.size_, 0)) {}

L2Book::ChunkedSide &L2Book::ChunkedSide::operator=(ChunkedSide &&other) noexcept {
  if (this != &other) {
    pool_ = std::move(other.pool_);
    prices_ = std::move(other.prices_);
    keys_ = std::move(other.keys_);
    dir_ = std::move(other.dir_);
    groups_ = std::move(other.groups_);
    free_ = std::move(other.free_);
    cap_ = std::exchange(other.cap_, 0);
    nchunks_ = std::exchange(other.nchunks_, 0);
    nfree_ = std::exchange(other.nfree_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

L2Book::ChunkedSide &L2Book::ChunkedSide::operator=(const ChunkedSide &other) {
  if (this != &other) {
    ChunkedSide copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool L2Book::ChunkedSide::grow() noexcept {
  const std::size_t new_cap = std::max(cap_ * 2, kMinChunks);
  auto pool = allocate<Level>(new_cap * kChunk);
  auto prices = allocate<std::int64_t>(new_cap * kChunk);
  auto keys = allocate<std::int64_t>(new_cap);
  auto dir = allocate<Entry>(new_cap);
  auto groups = allocate<std::uint32_t>(group_count(new_cap, kGroup));
  auto free_ids = allocate<std::uint32_t>(new_cap);
  if (!pool || !prices || !keys || !dir || !groups || !free_ids)
    return false;
  for (std::size_t k = 0; k < nchunks_; ++k) {
    const Entry &e = dir_[k];
    const std::size_t at = std::size_t{e.id} * kChunk + e.begin;
    std::copy_n(levels_of(e), e.count, pool.get() + at);
    std::copy_n(prices_of(e), e.count, prices.get() + at);
  }
  std::copy_n(keys_.get(), nchunks_, keys.get());
  std::copy_n(dir_.get(), nchunks_, dir.get());
  std::fill_n(groups.get(), group_count(new_cap, kGroup), 0U);
  std::copy_n(free_.get(), nfree_, free_ids.get());
  // The new chunks are all free; low ids on top of the stack.
  for (std::size_t i = new_cap; i > cap_; --i)
    free_ids[nfree_++] = static_cast<std::uint32_t>(i - 1);
  pool_ = std::move(pool);
  prices_ = std::move(prices);
  keys_ = std::move(keys);
  dir_ = std::move(dir);
  groups_ = std::move(groups);
  free_ = std::move(free_ids);
  cap_ = new_cap;
  recount_groups(0);
  return true;
}

bool L2Book::ChunkedSide::take_chunk(std::uint32_t &id) noexcept {
  if (nfree_ == 0 && !grow()) [[unlikely]]
    return false;
  id = free_[--nfree_];
  return true;
}

// ---- directory edits ----------------------------------------------------------------------

void L2Book::ChunkedSide::recount_groups(std::size_t from_chunk) noexcept {
  for (std::size_t g = from_chunk / kGroup; g * kGroup < nchunks_; ++g) {
    const std::size_t end = std::min(nchunks_, (g + 1) * kGroup);
    std::uint32_t sum = 0;
    for (std::size_t k = g * kGroup; k < end; ++k)
      sum += dir_[k].count;
    groups_[g] = sum;
  }
}

void L2Book::ChunkedSide::insert_dir(std::size_t k, std::int64_t key, Entry entry) noexcept {
  std::copy_backward(keys_.get() + k, keys_.get() + nchunks_, keys_.get() + nchunks_ + 1);
  std::copy_backward(dir_.get() + k, dir_.get() + nchunks_, dir_.get() + nchunks_ + 1);
  keys_[k] = key;
  dir_[k] = entry;
  ++nchunks_;
}

void L2Book::ChunkedSide::remove_dir(std::size_t k) noexcept {
  std::copy(keys_.get() + k + 1, keys_.get() + nchunks_, keys_.get() + k);
  std::copy(dir_.get() + k + 1, dir_.get() + nchunks_, dir_.get() + k);
  --nchunks_;
}

// ---- structural changes -------------------------------------------------------------------

void L2Book::ChunkedSide::recentre(Entry &e, bool below) noexcept {
  const std::size_t free_slots = kChunk - e.count;
  const std::size_t begin = below ? (free_slots + 1) / 2 : free_slots / 2;
  move_slots(e.id, e.begin, e.count, begin);
  e.begin = static_cast<std::uint16_t>(begin);
}

bool L2Book::ChunkedSide::insert_first(const Level level) noexcept {
  std::uint32_t id = 0;
  if (!take_chunk(id)) [[unlikely]]
    return false;
  // Mid-chunk: room for better and worse levels alike.
  constexpr std::size_t kMid = kChunk / 2;
  set_slot(id, kMid, level);
  ++size_;
  insert_dir(0, level.price, Entry{id, static_cast<std::uint16_t>(kMid), 1});
  recount_groups(0);
  return true;
}

bool L2Book::ChunkedSide::insert_into_full(std::size_t k, std::size_t j,
                                           const Level level) noexcept {
  std::uint32_t id = 0;
  if (!take_chunk(id)) [[unlikely]]
    return false;
  if (j == 0 && k == 0) {
    // Beyond the worst level of the worst chunk (a snapshot loading best-first): a new
    // worst chunk, filled from its top down; the full one stays full.
    set_slot(id, kChunk - 1, level);
    ++size_;
    insert_dir(0, level.price, Entry{id, static_cast<std::uint16_t>(kChunk - 1), 1});
    recount_groups(0);
    return true;
  }
  if (j == kChunk && k + 1 == nchunks_) {
    // Above the best level of the best chunk: a new best chunk, filled from its bottom up.
    set_slot(id, 0, level);
    ++size_;
    insert_dir(nchunks_, level.price, Entry{id, 0, 1});
    recount_groups(nchunks_ - 1);
    return true;
  }
  // Split: the better half moves to the middle of a new chunk right after chunk k.
  constexpr std::size_t kHalf = kChunk / 2;
  constexpr std::size_t kFreshBegin = (kChunk - (kChunk - kHalf)) / 2;
  Entry &old = dir_[k];
  const std::size_t from = std::size_t{old.id} * kChunk + old.begin + kHalf;
  const std::size_t to = std::size_t{id} * kChunk + kFreshBegin;
  std::copy_n(pool_.get() + from, kChunk - kHalf, pool_.get() + to);
  std::copy_n(prices_.get() + from, kChunk - kHalf, prices_.get() + to);
  old.count = kHalf;
  const std::int64_t fresh_key = prices_[to];
  insert_dir(k + 1, fresh_key,
             Entry{id, static_cast<std::uint16_t>(kFreshBegin),
                   static_cast<std::uint16_t>(kChunk - kHalf)});
  recount_groups(k);
  if (j >= kHalf)
    insert_at(k + 1, j - kHalf, level);
  else
    insert_at(k, j, level);
  return true;
}

void L2Book::ChunkedSide::merge_small(std::size_t k) noexcept {
  // Appends chunk `src`'s levels (all better) after chunk `dst`'s best end, compacting dst
  // to the bottom of its slots first if they would not fit above it.
  auto merge = [this](std::size_t dst, std::size_t src) noexcept {
    Entry &d = dir_[dst];
    const Entry &s = dir_[src];
    if (std::size_t{d.begin} + d.count + s.count > kChunk) {
      move_slots(d.id, d.begin, d.count, 0);
      d.begin = 0;
    }
    const std::size_t from = std::size_t{s.id} * kChunk + s.begin;
    const std::size_t to = std::size_t{d.id} * kChunk + d.begin + d.count;
    std::copy_n(pool_.get() + from, s.count, pool_.get() + to);
    std::copy_n(prices_.get() + from, s.count, prices_.get() + to);
    d.count = static_cast<std::uint16_t>(d.count + s.count);
    free_[nfree_++] = s.id;
    remove_dir(src);
    recount_groups(dst);
  };
  const std::size_t count = dir_[k].count;
  if (k > 0 && count + dir_[k - 1].count <= kMergeMax)
    merge(k - 1, k); // chunk k's levels are all better than chunk k-1's
  else if (k + 1 < nchunks_ && count + dir_[k + 1].count <= kMergeMax)
    merge(k, k + 1);
}

void L2Book::ChunkedSide::clear() noexcept {
  for (std::size_t k = 0; k < nchunks_; ++k)
    free_[nfree_++] = dir_[k].id;
  nchunks_ = 0;
  size_ = 0;
  if (groups_)
    groups_[0] = 0;
}

void L2Book::ChunkedSide::truncate(std::size_t max_levels) noexcept {
  if (size_ <= max_levels)
    return;
  if (max_levels == 0) {
    clear();
    return;
  }
  // Find chunk k holding level max_levels - 1 (from the best end): whole groups first.
  std::size_t before = 0; // levels better than chunk k
  std::size_t g = (nchunks_ - 1) / kGroup;
  while (before + groups_[g] < max_levels)
    before += groups_[g--];
  std::size_t k = std::min(nchunks_, (g + 1) * kGroup) - 1;
  while (before + dir_[k].count < max_levels)
    before += dir_[k--].count;
  // Chunk k keeps its best `keep` levels, the top of its range: just move its begin.
  Entry &e = dir_[k];
  const std::size_t keep = max_levels - before;
  e.begin = static_cast<std::uint16_t>(e.begin + (e.count - keep));
  e.count = static_cast<std::uint16_t>(keep);
  keys_[k] = prices_of(e)[0];
  // Chunks [0, k) are all worse: back to the pool, and the directory moves down by k.
  for (std::size_t d = 0; d < k; ++d)
    free_[nfree_++] = dir_[d].id;
  std::copy(keys_.get() + k, keys_.get() + nchunks_, keys_.get());
  std::copy(dir_.get() + k, dir_.get() + nchunks_, dir_.get());
  nchunks_ -= k;
  size_ = max_levels;
  recount_groups(0);
  if (keep < kMergeMax)
    merge_small(0);
}

// ---- reads -------------------------------------------------------------------------------

const Level &L2Book::ChunkedSide::at_deep(std::size_t i) const noexcept {
  // From the best end: whole groups, then chunks. Precondition: i < size_.
  std::size_t g = (nchunks_ - 1) / kGroup;
  while (i >= groups_[g])
    i -= groups_[g--];
  std::size_t k = std::min(nchunks_, (g + 1) * kGroup) - 1;
  while (i >= dir_[k].count)
    i -= dir_[k--].count;
  return levels_of(dir_[k])[dir_[k].count - 1 - i];
}

std::size_t L2Book::ChunkedSide::top(std::size_t n, Level *out) const noexcept {
  std::size_t copied = 0;
  for (std::size_t k = nchunks_; k > 0 && copied < n; --k) {
    const Entry &e = dir_[k - 1];
    const Level *const levels = levels_of(e);
    const std::size_t take = std::min<std::size_t>(e.count, n - copied);
    for (std::size_t t = 0; t < take; ++t)
      out[copied + t] = levels[e.count - 1 - t];
    copied += take;
  }
  return copied;
}

// ---- the book ------------------------------------------------------------------------------

L2Book::L2Book(std::uint8_t price_decimals, std::uint8_t qty_decimals, std::size_t reserve_per_side)
    : sides_{ChunkedSide(reserve_per_side * 2), ChunkedSide(reserve_per_side * 2)},
      price_decimals_(price_decimals), qty_decimals_(qty_decimals) {}

L2Book::L2Book(const L2Book &other) = default;
L2Book &L2Book::operator=(const L2Book &other) = default;

void L2Book::clear() noexcept {
  sides_[0].clear();
  sides_[1].clear();
}

} // namespace fh::book
