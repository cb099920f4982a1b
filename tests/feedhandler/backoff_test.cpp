// labels: unit
// Reconnect backoff and request pacing: bounds, growth, cap, reset after a healthy stretch,
// jitter that spreads simultaneous reconnects, and pacing without bursts.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "feedhandler/backoff.hpp"

namespace fh {
namespace {

TEST(BackoffTest, DelaysStayWithinTheGrowingCeilingAndTheCap) {
  BackoffPolicy p;
  Backoff b(p, 42);
  for (int attempt = 0; attempt < 40; ++attempt) {
    const std::int64_t ceiling =
        std::min(p.cap_ms, p.base_ms * (std::int64_t{1} << std::min(attempt, 30)));
    const std::int64_t d = b.next_delay_ms();
    EXPECT_GE(d, p.min_ms) << attempt;
    EXPECT_LE(d, std::max(ceiling, p.min_ms)) << attempt;
  }
  EXPECT_EQ(b.attempts(), 40);
}

TEST(BackoffTest, LaterAttemptsWaitLongerOnAverage) {
  // Mean over many independent sequences: attempt k's ceiling doubles until the cap.
  std::vector<double> mean(8, 0.0);
  constexpr int kRuns = 2000;
  for (int r = 0; r < kRuns; ++r) {
    Backoff b({}, static_cast<std::uint64_t>(r) * 7919 + 1);
    for (std::size_t k = 0; k < mean.size(); ++k)
      mean[k] += static_cast<double>(b.next_delay_ms()) / kRuns;
  }
  for (std::size_t k = 2; k < 7; ++k) EXPECT_GT(mean[k + 1], mean[k] * 1.5) << k;
}

TEST(BackoffTest, SimultaneousReconnectsAreSpreadOut) {
  // 100 connections dropped at once, each with its own seed: their 5th retries are not in
  // lockstep (a storm would put them all in the same few ms).
  std::set<std::int64_t> fifth;
  for (int c = 0; c < 100; ++c) {
    Backoff b({}, 1000 + static_cast<std::uint64_t>(c));
    std::int64_t d = 0;
    for (int k = 0; k < 5; ++k) d = b.next_delay_ms();
    fifth.insert(d / 50); // 50 ms buckets
  }
  EXPECT_GT(fifth.size(), 40u);
}

TEST(BackoffTest, AHealthyConnectionResetsTheAttempts) {
  Backoff b({}, 3);
  for (int k = 0; k < 6; ++k) b.next_delay_ms();
  b.on_connected_for(1'000); // flapped: keep growing
  EXPECT_EQ(b.attempts(), 6);
  b.on_connected_for(b.policy().healthy_after_ms);
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_LE(b.next_delay_ms(), std::max(b.policy().base_ms, b.policy().min_ms));
}

TEST(PacerTest, AllowsOneRequestPerIntervalWithoutBursts) {
  Pacer p(300);
  std::int64_t now = 1'000'000'000;
  EXPECT_TRUE(p.try_acquire(now));
  EXPECT_FALSE(p.try_acquire(now));
  EXPECT_FALSE(p.try_acquire(now + 299'999'999));
  EXPECT_TRUE(p.try_acquire(now + 300'000'000));
  // After a long idle period there is still no burst: one, then wait again.
  now += 10'000'000'000;
  EXPECT_TRUE(p.try_acquire(now));
  EXPECT_FALSE(p.try_acquire(now + 1));
  EXPECT_EQ(p.next_allowed_ns(), now + 300'000'000);
}

} // namespace
} // namespace fh
