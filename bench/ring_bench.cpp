// SPSC ring vs moodycamel::ReaderWriterQueue (the baseline), moving 64-byte events:
//  * same thread: push then pop, the pure per-record cost of each queue;
//  * two threads: producer pushes N events, consumer drains them; throughput. On the 2-vCPU
//    VM the two threads may share a core or sit far apart: compare ratios in one run only.
// Uses 1 core (same thread) or 2 cores (cross thread).
#include <benchmark/benchmark.h>
#include <readerwriterqueue/readerwriterqueue.h>

#include <thread>

#include "feedhandler/event.hpp"
#include "feedhandler/spsc_ring.hpp"

namespace {

fh::Event sample(std::uint64_t i) {
  fh::Event e = fh::make_event(fh::EventType::BookLevel, fh::Venue::Okx, 7, static_cast<std::int64_t>(i));
  e.level.price = static_cast<std::int64_t>(i);
  return e;
}

void BM_SameThread_FhRing(benchmark::State& state) {
  fh::SpscRing<fh::Event> ring(1024);
  fh::Event out{};
  std::uint64_t i = 0;
  for (auto _ : state) {
    (void)ring.try_push(sample(i++));
    (void)ring.try_pop(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SameThread_MoodycamelRWQ(benchmark::State& state) {
  moodycamel::ReaderWriterQueue<fh::Event> q(1024);
  fh::Event out{};
  std::uint64_t i = 0;
  for (auto _ : state) {
    (void)q.try_enqueue(sample(i++));
    (void)q.try_dequeue(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

constexpr std::uint64_t kRecords = 1u << 20;

void BM_CrossThread_FhRing(benchmark::State& state) {
  for (auto _ : state) {
    fh::SpscRing<fh::Event> ring(4096);
    std::thread consumer([&] {
      std::uint64_t got = 0, sum = 0;
      while (got < kRecords) {
        got += ring.consume(256, [&](const fh::Event& e) { sum += static_cast<std::uint64_t>(e.level.price); });
      }
      benchmark::DoNotOptimize(sum);
    });
    for (std::uint64_t i = 0; i < kRecords;) {
      if (ring.try_push(sample(i))) ++i;
    }
    consumer.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRecords));
}

void BM_CrossThread_MoodycamelRWQ(benchmark::State& state) {
  for (auto _ : state) {
    moodycamel::ReaderWriterQueue<fh::Event> q(4096);
    std::thread consumer([&] {
      std::uint64_t got = 0, sum = 0;
      fh::Event e{};
      while (got < kRecords) {
        if (q.try_dequeue(e)) {
          sum += static_cast<std::uint64_t>(e.level.price);
          ++got;
        }
      }
      benchmark::DoNotOptimize(sum);
    });
    for (std::uint64_t i = 0; i < kRecords;) {
      if (q.try_enqueue(sample(i))) ++i;
    }
    consumer.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRecords));
}

BENCHMARK(BM_SameThread_FhRing);
BENCHMARK(BM_SameThread_MoodycamelRWQ);
BENCHMARK(BM_CrossThread_FhRing)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CrossThread_MoodycamelRWQ)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
