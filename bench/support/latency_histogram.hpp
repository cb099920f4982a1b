#pragma once
// A latency histogram of fixed memory (HdrHistogram's log-linear idea): values below 64 ns
// have a bucket each, above that every power of two is split into 32 linear buckets, so any
// value is kept to within 1/32 (3.1%) of itself, from 1 ns to 2^40 ns (18 minutes), in
// 1,184 counters. record() is a few instructions and never allocates: it can sit on a
// measured path; percentiles are read afterwards.
#include <array>
#include <bit>
#include <cstdint>

namespace fh::bench {

class LatencyHistogram {
public:
  static constexpr int kLinear = 64;        // exact buckets for 0..63
  static constexpr int kSubBuckets = 32;    // per power of two above
  static constexpr int kMaxExponent = 35;   // values up to 2^41 - 1
  static constexpr int kBuckets = kLinear + kMaxExponent * kSubBuckets;

  void record(std::int64_t value) noexcept {
    if (value < 0) {
      ++negative_;
      value = 0;
    }
    ++counts_[static_cast<std::size_t>(index(static_cast<std::uint64_t>(value)))];
    ++total_;
    if (value > max_) max_ = value;
  }

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t negative() const noexcept { return negative_; } // clock steps: counted as 0
  std::int64_t max() const noexcept { return max_; }

  // The value at quantile q (0..1): the highest value the bucket holding the q-th sample can
  // stand for (never understates), the exact max for q = 1.
  std::int64_t at(double q) const noexcept {
    if (total_ == 0) return 0;
    if (q >= 1.0) return max_;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[static_cast<std::size_t>(i)];
      if (seen > rank) {
        const std::int64_t high = highest(i);
        return high < max_ ? high : max_;
      }
    }
    return max_;
  }

private:
  static int index(std::uint64_t v) noexcept {
    if (v < kLinear) return static_cast<int>(v);
    const int e = static_cast<int>(std::bit_width(v)) - 6; // v >> e is in [32, 63]
    if (e > kMaxExponent) return kBuckets - 1;
    return kLinear + (e - 1) * kSubBuckets + static_cast<int>((v >> e) - kSubBuckets);
  }
  static std::int64_t highest(int i) noexcept {
    if (i < kLinear) return i;
    const int e = (i - kLinear) / kSubBuckets + 1;
    const std::int64_t m = (i - kLinear) % kSubBuckets + kSubBuckets;
    return ((m + 1) << e) - 1;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0, negative_ = 0;
  std::int64_t max_ = 0;
};

} // namespace fh::bench
