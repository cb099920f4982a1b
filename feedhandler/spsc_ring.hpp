#pragma once
// Single-producer single-consumer ring for fixed-size records (the ingest -> book hop).
//
// Shaped after rigtorp/SPSCQueue: power-of-two capacity, head and tail on their own cache
// lines, and each side keeps a cached copy of the other side's index so that it touches the
// shared line only when its cached view says the ring is full (producer) or empty
// (consumer). Bulk push/pop amortize the index stores over a whole frame's events.
// Storage is allocated once in the constructor; push/pop never allocate or block.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace fh {

inline constexpr std::size_t kCacheLine = 64;

template <class T> class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "records are copied with plain stores");

public:
  explicit SpscRing(std::size_t min_capacity) : mask_(round_up(min_capacity) - 1) {
    slots_ = std::make_unique<T[]>(mask_ + 1);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // Producer. False when full.
  [[nodiscard]] bool try_push(const T& v) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) [[unlikely]] {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = v;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Producer: pushes all of [first, first+n) or nothing.
  [[nodiscard]] bool try_push_n(const T* first, std::size_t n) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail + n - head_cache_ > mask_ + 1) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail + n - head_cache_ > mask_ + 1) return false;
    }
    for (std::size_t i = 0; i < n; ++i) slots_[(tail + i) & mask_] = first[i];
    tail_.store(tail + n, std::memory_order_release);
    return true;
  }

  // Consumer. False when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer: calls fn(const T&) for up to `limit` records, then releases them at once.
  template <class Fn> std::size_t consume(std::size_t limit, Fn&& fn) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    std::size_t avail = tail_cache_ - head;
    if (avail == 0) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      avail = tail_cache_ - head;
      if (avail == 0) return 0;
    }
    const std::size_t n = avail < limit ? avail : limit;
    for (std::size_t i = 0; i < n; ++i) fn(slots_[(head + i) & mask_]);
    head_.store(head + n, std::memory_order_release);
    return n;
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

private:
  static std::size_t round_up(std::size_t n) noexcept {
    std::size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }

  std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0}; // written by producer
  std::size_t head_cache_ = 0;                           // producer's view of head_
  alignas(kCacheLine) std::atomic<std::size_t> head_{0}; // written by consumer
  std::size_t tail_cache_ = 0;                           // consumer's view of tail_
};

} // namespace fh
