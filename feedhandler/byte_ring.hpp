#pragma once
// Single-producer single-consumer ring of bytes, for variable-size messages leaving the hot
// path (the recorder: an ingest thread hands frames to the writer thread).
//
// Same index scheme as SpscRing (monotonic head/tail on their own cache lines, cached copy of
// the other side's index), but a message is a gather of byte parts written contiguously
// modulo the capacity, so a frame is copied once, straight from the receive buffer. A write
// that does not fit fails as a whole (the caller counts it); nothing ever waits.
#include <atomic>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "feedhandler/spsc_ring.hpp"

namespace fh {

class ByteRing {
public:
  explicit ByteRing(std::size_t min_capacity) : mask_(round_up(min_capacity) - 1) {
    bytes_ = std::make_unique<char[]>(mask_ + 1);
  }
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // Producer: all parts as one message, or nothing (false) when it does not fit now.
  [[nodiscard]] bool try_write(std::initializer_list<std::string_view> parts) noexcept {
    std::size_t total = 0;
    for (std::string_view p : parts) total += p.size();
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (total > capacity() - (tail - head_cache_)) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (total > capacity() - (tail - head_cache_)) return false;
    }
    std::size_t at = tail;
    for (std::string_view p : parts) {
      copy_in(at, p.data(), p.size());
      at += p.size();
    }
    tail_.store(tail + total, std::memory_order_release);
    return true;
  }

  // Consumer.
  std::size_t readable() noexcept {
    tail_cache_ = tail_.load(std::memory_order_acquire);
    return tail_cache_ - head_.load(std::memory_order_relaxed);
  }
  // The next n readable bytes as at most two pieces (the second is empty unless they wrap).
  struct Spans {
    std::string_view first, second;
  };
  Spans peek(std::size_t offset, std::size_t n) const noexcept {
    const std::size_t start = (head_.load(std::memory_order_relaxed) + offset) & mask_;
    const std::size_t first = std::min(n, capacity() - start);
    return {{bytes_.get() + start, first}, {bytes_.get(), n - first}};
  }
  void copy_out(std::size_t offset, void* out, std::size_t n) const noexcept {
    const Spans s = peek(offset, n);
    if (!s.first.empty()) std::memcpy(out, s.first.data(), s.first.size());
    if (!s.second.empty()) std::memcpy(static_cast<char*>(out) + s.first.size(), s.second.data(), s.second.size());
  }
  void consume(std::size_t n) noexcept {
    head_.store(head_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }

private:
  static std::size_t round_up(std::size_t v) noexcept {
    std::size_t c = 64;
    while (c < v) c <<= 1;
    return c;
  }
  void copy_in(std::size_t at, const char* src, std::size_t n) noexcept {
    if (n == 0) return; // an empty part may have a null data()
    const std::size_t start = at & mask_;
    const std::size_t first = std::min(n, capacity() - start);
    std::memcpy(bytes_.get() + start, src, first);
    std::memcpy(bytes_.get(), src + first, n - first);
  }

  const std::size_t mask_;
  std::unique_ptr<char[]> bytes_;
  alignas(kCacheLine) std::atomic<std::size_t> head_{0}; // consumer
  std::size_t tail_cache_ = 0;
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0}; // producer
  std::size_t head_cache_ = 0;
};

} // namespace fh
