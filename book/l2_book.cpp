// Cold parts of the L2 book: construction, copying, growth. See l2_book.hpp.
#include "book/l2_book.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace fh::book {

namespace {
constexpr std::size_t kMinCapacity = 16;
} // namespace

L2Book::SideArray::SideArray(std::size_t capacity)
    : buf_(std::make_unique_for_overwrite<Level[]>(std::max(capacity, kMinCapacity))),
      capacity_(std::max(capacity, kMinCapacity)), begin_(capacity_ / 2), end_(capacity_ / 2) {}

L2Book::SideArray::SideArray(const SideArray &other)
    : buf_(std::make_unique_for_overwrite<Level[]>(other.capacity_)), capacity_(other.capacity_),
      begin_(other.begin_), end_(other.end_) {
  std::copy(other.buf_.get() + begin_, other.buf_.get() + end_, buf_.get() + begin_);
}

L2Book::SideArray::SideArray(SideArray &&other) noexcept
    : buf_(std::move(other.buf_)), capacity_(std::exchange(other.capacity_, 0)),
      begin_(std::exchange(other.begin_, 0)), end_(std::exchange(other.end_, 0)) {}

L2Book::SideArray &L2Book::SideArray::operator=(SideArray &&other) noexcept {
  if (this != &other) {
    buf_ = std::move(other.buf_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
  }
  return *this;
}

L2Book::SideArray &L2Book::SideArray::operator=(const SideArray &other) {
  if (this != &other) {
    SideArray copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool L2Book::SideArray::make_room() noexcept {
  const std::size_t n = size();
  // Keep at least a quarter of the buffer free so recentring leaves room on both ends and
  // is not repeated on every insert.
  if (n + 1 > capacity_ - capacity_ / 4) {
    const std::size_t new_capacity = std::max(capacity_ * 2, kMinCapacity);
    std::unique_ptr<Level[]> grown(new (std::nothrow) Level[new_capacity]);
    if (!grown)
      return false;
    const std::size_t new_begin = (new_capacity - n) / 2;
    std::copy(buf_.get() + begin_, buf_.get() + end_, grown.get() + new_begin);
    buf_ = std::move(grown);
    capacity_ = new_capacity;
    begin_ = new_begin;
    end_ = new_begin + n;
    return true;
  }
  const std::size_t new_begin = (capacity_ - n) / 2;
  Level *const b = buf_.get();
  if (new_begin < begin_)
    std::copy(b + begin_, b + end_, b + new_begin);
  else if (new_begin > begin_)
    std::copy_backward(b + begin_, b + end_, b + new_begin + n);
  begin_ = new_begin;
  end_ = new_begin + n;
  return true;
}

L2Book::L2Book(std::uint8_t price_decimals, std::uint8_t qty_decimals, std::size_t reserve_per_side)
    : sides_{SideArray(reserve_per_side * 2), SideArray(reserve_per_side * 2)},
      price_decimals_(price_decimals), qty_decimals_(qty_decimals) {}

L2Book::L2Book(const L2Book &other) = default;
L2Book &L2Book::operator=(const L2Book &other) = default;

void L2Book::clear() noexcept {
  sides_[0].clear();
  sides_[1].clear();
}

std::size_t L2Book::top(Side side, std::size_t n, Level *out) const noexcept {
  const SideArray &s = side_of(side);
  const std::size_t count = std::min(n, s.size());
  for (std::size_t i = 0; i < count; ++i)
    out[i] = s.at(i);
  return count;
}

} // namespace fh::book
