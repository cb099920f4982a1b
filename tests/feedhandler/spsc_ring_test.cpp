// labels: unit concurrent
// The SPSC ring between ingest and book threads: capacity rules, and under two real threads
// every record arrives once, in order (run under ThreadSanitizer in CI).
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "feedhandler/spsc_ring.hpp"

namespace fh {
namespace {

TEST(SpscRing, RoundsCapacityUpToAPowerOfTwo) {
  SpscRing<std::uint64_t> ring(1000);
  EXPECT_EQ(ring.capacity(), 1024u);
}

TEST(SpscRing, RefusesPushWhenFullAndPopWhenEmpty) {
  SpscRing<std::uint64_t> ring(4);
  std::uint64_t v = 0;
  EXPECT_FALSE(ring.try_pop(v));
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_TRUE(ring.try_pop(v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ring.try_push(4));
  const std::uint64_t batch[2] = {5, 6};
  EXPECT_FALSE(ring.try_push_n(batch, 2)); // all or nothing
  for (std::uint64_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_TRUE(ring.try_push_n(batch, 2));
  EXPECT_EQ(ring.consume(10, [&](std::uint64_t x) { v = x; }), 2u);
  EXPECT_EQ(v, 6u);
  EXPECT_TRUE(ring.empty());
}

TEST(SpscRing, DeliversEveryRecordInOrderAcrossThreads) {
  constexpr std::uint64_t kCount = 200'000;
  SpscRing<std::uint64_t> ring(1024);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      if (i % 3 == 0) {
        const std::uint64_t pair[2] = {i, i + 1};
        if (i + 1 < kCount && ring.try_push_n(pair, 2)) i += 2;
      } else if (ring.try_push(i)) {
        ++i;
      }
    }
  });
  std::uint64_t expected = 0;
  bool in_order = true;
  while (expected < kCount) {
    ring.consume(64, [&](std::uint64_t v) {
      in_order = in_order && v == expected;
      ++expected;
    });
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kCount);
  EXPECT_TRUE(ring.empty());
}

} // namespace
} // namespace fh
