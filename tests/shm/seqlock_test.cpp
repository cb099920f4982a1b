// labels: unit concurrent
// The seqlock primitive (shm/seqlock.hpp) in isolation, over synthetic integer words (pure
// mechanics, no market data): sequence parity, a reader refusing a copy taken inside a write,
// the time budget, and a writer thread racing reader threads where every copy must be one
// whole version (the invariant ties every word to the version number written in word 1).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "shm/seqlock.hpp"

namespace fh::shm {
namespace {

constexpr std::size_t kWords = 96; // 768 bytes: the size of an N = 10 book slot

// Word i of version v: distinct per word and per version, so any mix of two versions shows.
std::uint64_t word_of(std::uint64_t version, std::size_t i) {
  return version * 0x9E3779B97F4A7C15ULL + i;
}

class SeqlockTest : public ::testing::Test {
protected:
  alignas(128) std::uint64_t block_[kWords] = {};
};

TEST_F(SeqlockTest, WriteMakesTheSequenceOddThenEven) {
  std::uint64_t& seq = block_[0];
  EXPECT_EQ(seqlock::load_relaxed(seq), 0u);
  const std::uint64_t odd = seqlock::write_begin(seq);
  EXPECT_EQ(odd, 1u);
  EXPECT_EQ(seqlock::load_relaxed(seq) % 2, 1u);
  seqlock::write_end(seq, odd);
  EXPECT_EQ(seqlock::load_relaxed(seq), 2u);
  const std::uint64_t odd2 = seqlock::write_begin(seq);
  EXPECT_EQ(odd2, 3u);
  seqlock::write_end(seq, odd2);
  EXPECT_EQ(seqlock::load_relaxed(seq), 4u);
}

TEST_F(SeqlockTest, CopyTakenInsideAWriteIsRejected) {
  std::uint64_t& seq = block_[0];
  const std::uint64_t s0 = seqlock::read_begin(seq);
  EXPECT_TRUE(seqlock::read_valid(seq, s0)); // nothing happened in between
  const std::uint64_t odd = seqlock::write_begin(seq);
  // A read started while the writer is inside: odd s0, never valid.
  const std::uint64_t inside = seqlock::read_begin(seq);
  EXPECT_FALSE(seqlock::read_valid(seq, inside));
  seqlock::write_end(seq, odd);
  // A read that started before the write and validates after it: sequence moved.
  EXPECT_FALSE(seqlock::read_valid(seq, s0));
}

TEST_F(SeqlockTest, ReadGivesUpWhenTheWriterNeverFinishes) {
  // A writer killed inside a write leaves the sequence odd for good.
  (void)seqlock::write_begin(block_[0]);
  int copies = 0;
  const std::int64_t start = seqlock::monotonic_ns();
  const bool ok = seqlock::read(block_[0], [&] { ++copies; }, 20'000'000);
  const std::int64_t took = seqlock::monotonic_ns() - start;
  EXPECT_FALSE(ok);
  EXPECT_EQ(copies, 0); // an odd sequence is never copied
  EXPECT_GE(took, 20'000'000);
  EXPECT_LT(took, 2'000'000'000);
}

TEST_F(SeqlockTest, StoreFromAndLoadIntoRoundTripAnObject) {
  struct Object {
    std::uint64_t a;
    std::int64_t b;
    std::uint32_t c;
    std::uint16_t d;
    std::uint8_t e[2];
  };
  static_assert(sizeof(Object) == 24);
  const Object in{0x0123456789abcdefULL, -42, 7, 9, {1, 2}};
  seqlock::store_from(block_, &in, sizeof(Object) / 8);
  Object out{};
  seqlock::load_into(&out, block_, sizeof(Object) / 8);
  EXPECT_EQ(out.a, in.a);
  EXPECT_EQ(out.b, in.b);
  EXPECT_EQ(out.c, in.c);
  EXPECT_EQ(out.d, in.d);
  EXPECT_EQ(out.e[0], 1);
  EXPECT_EQ(out.e[1], 2);
}

// One writer thread rewrites all words as fast as it can; reader threads copy the block and
// check that every word belongs to the version the copy claims. Under ThreadSanitizer this is
// also the proof that the protocol has no data race (all shared accesses are atomics).
TEST_F(SeqlockTest, ConcurrentReadersNeverSeeAMixOfVersions) {
  constexpr int kReaders = 3;
  constexpr std::uint64_t kVersions = 200'000;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0}, copies{0}, regressions{0};

  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      std::uint64_t local[kWords];
      std::uint64_t last_version = 0;
      while (!done.load(std::memory_order_acquire)) {
        const bool ok = seqlock::read(
            block_[0], [&] { seqlock::load_into(local, block_, kWords); }, 10'000'000'000);
        if (!ok)
          continue;
        const std::uint64_t v = local[1];
        if (local[0] != 2 * v)
          torn.fetch_add(1);
        for (std::size_t i = 2; i < kWords; ++i)
          if (v != 0 && local[i] != word_of(v, i))
            torn.fetch_add(1);
        if (v < last_version)
          regressions.fetch_add(1);
        last_version = v;
        copies.fetch_add(1);
      }
    });
  }
  std::thread writer([&] {
    std::uint64_t words[kWords];
    for (std::uint64_t v = 1; v <= kVersions; ++v) {
      for (std::size_t i = 2; i < kWords; ++i)
        words[i] = word_of(v, i);
      words[1] = v;
      const std::uint64_t odd = seqlock::write_begin(block_[0]);
      seqlock::store_from(block_ + 1, words + 1, kWords - 1);
      seqlock::write_end(block_[0], odd);
    }
    done.store(true, std::memory_order_release);
  });
  writer.join();
  for (auto& r : readers)
    r.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(regressions.load(), 0u);
  EXPECT_GT(copies.load(), 0u);
  EXPECT_EQ(seqlock::load_relaxed(block_[0]), 2 * kVersions);
}

} // namespace
} // namespace fh::shm
