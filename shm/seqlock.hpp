#pragma once
// Seqlocked 8-byte words shared by one writer and any number of readers in other processes.
//
// Why this shape: rigtorp/Seqlock copies the protected value with memcpy between compiler
// fences. That is a data race in the C++ memory model, ThreadSanitizer reports it, and its
// fences are std::atomic_thread_fence, which ThreadSanitizer does not model (GCC: -Wtsan).
// Here every shared word is touched only through std::atomic_ref<std::uint64_t>: data stores
// are release and data loads are acquire, which on x86 are the same plain movs a memcpy would
// emit, with no fence instruction. The protocol:
//   writer: seq = s+1 (relaxed); data words (release stores); seq = s+2 (release)
//   reader: s0 = seq (acquire); data words (acquire loads); s1 = seq (relaxed);
//           the copy is consistent iff s0 is even and s1 == s0
// A reader that loads any data word of a later write acquires that store and therefore also
// sees the odd seq stored before it, so s1 != s0 and it retries. Acquire loads keep the s1
// load after the data loads. Readers only load: 8-byte atomic loads are plain loads, safe on a
// PROT_READ mapping, and never dirty a line the writer owns.
//
// A reader must not spin forever: a writer killed inside a write leaves seq odd for good. The
// retry loop spins briefly, then yields, and gives up after a time budget (read()).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <sched.h>
#include <time.h>

namespace fh::shm::seqlock {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

[[nodiscard]] inline std::uint64_t load_acquire(const std::uint64_t& w) noexcept {
  // atomic_ref needs a non-const object; a load never writes through it.
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_acquire);
}
[[nodiscard]] inline std::uint64_t load_relaxed(const std::uint64_t& w) noexcept {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_relaxed);
}
inline void store_release(std::uint64_t& w, std::uint64_t v) noexcept {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_release);
}
inline void store_relaxed(std::uint64_t& w, std::uint64_t v) noexcept {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_relaxed);
}

// Words `n` of a trivially copyable object at `src` -> shared words at `dst` (release stores).
inline void store_from(std::uint64_t* dst, const void* src, std::size_t n) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t w;
    std::memcpy(&w, bytes + 8 * i, 8);
    store_release(dst[i], w);
  }
}

// Shared words at `src` -> `n` words of a local trivially copyable object (acquire loads).
inline void load_into(void* dst, const std::uint64_t* src, std::size_t n) noexcept {
  auto* bytes = static_cast<unsigned char*>(dst);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t w = load_acquire(src[i]);
    std::memcpy(bytes + 8 * i, &w, 8);
  }
}

// Writer. Returns the odd sequence to hand to write_end.
[[nodiscard]] inline std::uint64_t write_begin(std::uint64_t& seq) noexcept {
  const std::uint64_t odd = load_relaxed(seq) + 1;
  store_relaxed(seq, odd);
  return odd;
}
inline void write_end(std::uint64_t& seq, std::uint64_t odd) noexcept {
  store_release(seq, odd + 1);
}

// Reader, one attempt: s0 = read_begin(); copy; valid iff read_valid(s0).
[[nodiscard]] inline std::uint64_t read_begin(const std::uint64_t& seq) noexcept {
  return load_acquire(seq);
}
[[nodiscard]] inline bool read_valid(const std::uint64_t& seq, std::uint64_t s0) noexcept {
  return (s0 & 1U) == 0 && load_relaxed(seq) == s0;
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

[[nodiscard]] inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Spins briefly (the writer holds a slot for tens of ns), then yields the core to a writer
// that may be descheduled on a busy host, and gives up once `budget_ns` has passed.
class Backoff {
public:
  explicit Backoff(std::int64_t budget_ns) noexcept : budget_ns_(budget_ns) {}
  // False once the budget is spent.
  [[nodiscard]] bool wait() noexcept {
    if (++spins_ < kSpins) {
      cpu_relax();
      return true;
    }
    const std::int64_t now = monotonic_ns();
    if (start_ns_ == 0)
      start_ns_ = now;
    else if (now - start_ns_ > budget_ns_)
      return false;
    ::sched_yield();
    return true;
  }

private:
  static constexpr unsigned kSpins = 256;
  std::int64_t budget_ns_;
  std::int64_t start_ns_ = 0;
  unsigned spins_ = 0;
};

// Retries `copy()` until it ran inside one even sequence. False when the budget ran out
// (the slot stayed odd or kept changing): the copy must then not be used.
template <class Copy>
[[nodiscard]] bool read(const std::uint64_t& seq, Copy&& copy, std::int64_t budget_ns) noexcept {
  Backoff backoff(budget_ns);
  for (;;) {
    const std::uint64_t s0 = read_begin(seq);
    if ((s0 & 1U) == 0) {
      copy();
      if (load_relaxed(seq) == s0)
        return true;
    }
    if (!backoff.wait())
      return false;
  }
}

} // namespace fh::shm::seqlock
