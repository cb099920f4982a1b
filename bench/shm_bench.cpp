// Shared-memory segment micro-benchmarks (shm/), all in one run so the ratios mean something:
//  * publish_book cost for N = 10 and 25 with real Binance USD-M top-N books
//    (tests/shm/real_market.hpp), with the caller's publish time and with the writer stamping
//    CLOCK_REALTIME; baseline: a plain memcpy of the same number of bytes into the slot.
//  * top() and depth() read cost in a reader that maps the segment like a strategy does
//    (its own read-only mapping), uncontended.
//  * journal writer -> reader latency across two threads, one record at a time into an idle
//    reader (p50 / p99 / p99.9 / max from TSC stamps carried in the record),
//    next to the cross-core cache-line round trip of the same two cores and the same records
//    sent through moodycamel::ConcurrentQueue (the alternative transport).
//  * throughput of the journal and of ConcurrentQueue for 64-byte records, two threads.
// Cores: the two-thread benches pin the writer/producer to core 0 and the reader/consumer to
// core 1 when the host has them (counters writer_cpu / reader_cpu say where they ran). On the
// 2-vCPU VM the hypervisor moves vCPUs and steals ~35 us slices: p99 and beyond show that.
#include <benchmark/benchmark.h>
// moodycamel's inlined code trips -Wnull-dereference at -O3 (its own header, not this file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "shm/reader.hpp"
#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

namespace {

using namespace fh::shm;
using fh::shm::test::RealFrame;

inline std::uint64_t rdtsc() noexcept { return __builtin_ia32_rdtsc(); }
// Receive-side stamp: rdtscp waits for the loads before it (the record's stamp), so it is
// never taken ahead of the data it measures.
inline std::uint64_t rdtscp() noexcept {
  unsigned aux;
  return __builtin_ia32_rdtscp(&aux);
}
// Ticks from `stamp` to now, 0 if the TSCs of the two cores disagree by more than that.
inline std::uint64_t since(std::uint64_t stamp) noexcept {
  const std::uint64_t now = rdtscp();
  return now > stamp ? now - stamp : 0;
}

// TSC ticks per ns, measured against steady_clock once.
double tsc_per_ns() {
  static const double ratio = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::uint64_t c1 = rdtsc();
    const auto t1 = std::chrono::steady_clock::now();
    return static_cast<double>(c1 - c0) /
           static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }();
  return ratio;
}

bool pin(int core) {
  if (core >= static_cast<int>(std::thread::hardware_concurrency()))
    return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(core), &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Restores the calling thread's CPU set when a two-thread bench is done with its pinning.
class KeepAffinity {
public:
  KeepAffinity() { pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  ~KeepAffinity() { pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  KeepAffinity(const KeepAffinity&) = delete;
  KeepAffinity& operator=(const KeepAffinity&) = delete;

private:
  cpu_set_t saved_{};
};

std::string segment_name() { return "fh-shm-bench-" + std::to_string(::getpid()); }

std::unique_ptr<Writer> make_writer(std::uint32_t depth, std::uint32_t journal = 1u << 16) {
  WriterOptions o;
  o.name = segment_name();
  o.max_instruments = 64;
  o.depth = depth;
  o.journal_capacity = journal;
  o.if_exists = IfExists::Replace;
  o.remove_on_close = true;
  auto created = Writer::create(o);
  if (auto* e = std::get_if<CreateError>(&created)) {
    std::fprintf(stderr, "%s\n", e->message.c_str());
    std::abort();
  }
  return std::make_unique<Writer>(std::move(std::get<Writer>(created)));
}

const std::vector<RealFrame>& frames() { return fh::shm::test::real_market().frames; }

// ---- publish cost -----------------------------------------------------------------------------

// Cycles through 16 consecutive real frames (source books hot in cache, as the book builder's
// are, and the same 16 sources as the memcpy baseline).
void BM_PublishBook(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  const bool stamp = state.range(1) != 0;
  auto w = make_writer(n);
  const RealFrame* f = frames().data() + 1000;
  std::size_t k = 0;
  for (auto _ : state) {
    const RealFrame& fr = f[k++ & 15];
    auto s = w->publish_book(3, fr.status, fr.bids.data(), fr.nb, fr.asks.data(), fr.na, fr.seq,
                             fr.exch_ts, fr.recv_ts, stamp ? 0 : fr.recv_ts + 1);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(stamp ? "writer stamps CLOCK_REALTIME" : "caller's publish_ts");
}
BENCHMARK(BM_PublishBook)->Args({10, 0})->Args({25, 0})->Args({10, 1})->Args({25, 1});

// Physical floor: copying the same bytes (head + 2N levels) into the slot with memcpy.
void BM_MemcpySlotBaseline(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  auto w = make_writer(n);
  auto* slot = const_cast<std::byte*>(static_cast<const std::byte*>(w->data())) +
               plan_layout(64, n, 1u << 16).slots.offset + 3 * slot_size_for(n);
  const std::size_t bytes = sizeof(SlotHead) + 2 * n * sizeof(Level);
  std::vector<std::byte> src(bytes * 16);
  for (std::size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<std::byte>(i * 31);
  std::size_t k = 0;
  for (auto _ : state) {
    std::memcpy(slot, src.data() + (k++ & 15) * bytes, bytes);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_MemcpySlotBaseline)->Arg(10)->Arg(25);

// ---- read cost -----------------------------------------------------------------------------

void BM_ReadTop(benchmark::State& state) {
  auto w = make_writer(10);
  const RealFrame& fr = frames()[100];
  (void)w->publish_book(3, fr.status, fr.bids.data(), fr.nb, fr.asks.data(), fr.na, fr.seq,
                        fr.exch_ts, fr.recv_ts);
  Reader r;
  if (r.attach(segment_name()) != AttachError::Ok)
    state.SkipWithError(r.error_message());
  Top top{};
  for (auto _ : state) {
    auto s = r.top(3, top);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(top);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadTop);

void BM_ReadDepth(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  auto w = make_writer(n);
  const RealFrame& fr = frames()[100];
  (void)w->publish_book(3, fr.status, fr.bids.data(), fr.nb, fr.asks.data(), fr.na, fr.seq,
                        fr.exch_ts, fr.recv_ts);
  Reader r;
  if (r.attach(segment_name()) != AttachError::Ok)
    state.SkipWithError(r.error_message());
  auto book = std::make_unique<Book>();
  for (auto _ : state) {
    auto s = r.depth(3, n, *book);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(book->asks[n - 1]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadDepth)->Arg(10)->Arg(25);

// ---- cross-thread latency -----------------------------------------------------------------

constexpr std::size_t kSamples = 100'000;
constexpr double kPaceNs = 2'000;

void report(benchmark::State& state, std::vector<std::uint64_t>& ticks, int writer_cpu,
            int reader_cpu) {
  if (ticks.empty()) {
    state.SkipWithError("no samples");
    return;
  }
  std::sort(ticks.begin(), ticks.end());
  const double per_ns = tsc_per_ns();
  const auto at = [&](double q) {
    return static_cast<double>(ticks[std::min(ticks.size() - 1,
                                              static_cast<std::size_t>(q * static_cast<double>(ticks.size())))]) /
           per_ns;
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p99.9_ns"] = at(0.999);
  state.counters["max_ns"] = static_cast<double>(ticks.back()) / per_ns;
  state.counters["writer_cpu"] = writer_cpu;
  state.counters["reader_cpu"] = reader_cpu;
}

void spin_until(std::uint64_t tsc) {
  while (rdtsc() < tsc) {
  }
}

// One-way latency harness. The sender sends record i only after the receiver acknowledged
// record i-1 (on a line of its own) and a further ~2 us, so every sample is one record into
// an idle, polling receiver: a receiver descheduled by the host costs one slow sample, not a
// backlog that inflates every later one. The ack is outside the measured interval.
template <class Send, class Receive>
void one_way(benchmark::State& state, Send&& send, Receive&& receive) {
  KeepAffinity keep;
  const auto pace = static_cast<std::uint64_t>(kPaceNs * tsc_per_ns());
  std::vector<std::uint64_t> lat;
  lat.reserve(kSamples);
  alignas(128) std::atomic<std::uint64_t> acked{0};
  std::atomic<bool> ready{false};
  int reader_cpu = -1;
  std::thread reader([&] {
    pin(1);
    reader_cpu = sched_getcpu();
    auto poll = receive();
    ready = true;
    while (lat.size() < kSamples)
      poll([&](std::uint64_t stamp) {
        lat.push_back(since(stamp));
        acked.store(lat.size(), std::memory_order_release);
      });
  });
  pin(0);
  const int writer_cpu = sched_getcpu();
  while (!ready) {
  }
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    while (acked.load(std::memory_order_acquire) != i) {
    }
    spin_until(rdtsc() + pace);
    send(i, rdtsc());
  }
  reader.join();
  report(state, lat, writer_cpu, reader_cpu);
}

// Journal: the receiver polls its own read-only mapping of the segment.
void BM_JournalLatency(benchmark::State& state) {
  auto w = make_writer(10, static_cast<std::uint32_t>(state.range(0)));
  Reader r;
  if (r.attach(segment_name()) != AttachError::Ok)
    state.SkipWithError(r.error_message());
  for (auto _ : state) {
    JournalRecord rec{};
    rec.type = static_cast<std::uint8_t>(RecordType::BookLevel);
    one_way(
        state,
        [&](std::uint64_t i, std::uint64_t stamp) {
          rec.payload.level.price = static_cast<std::int64_t>(i);
          rec.publish_ts_ns = static_cast<std::int64_t>(stamp);
          (void)w->append_journal(rec);
        },
        [&] {
          return [j = r.journal(JournalStart::Now)](auto&& on_stamp) mutable {
            (void)j.poll(16, [&](const JournalRecord& got, std::uint64_t) {
              on_stamp(static_cast<std::uint64_t>(got.publish_ts_ns));
            });
          };
        });
  }
}
BENCHMARK(BM_JournalLatency)->Arg(1 << 16)->Arg(1 << 10)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same records through moodycamel::ConcurrentQueue (tokens, one producer, one consumer).
void BM_ConcurrentQueueLatency(benchmark::State& state) {
  for (auto _ : state) {
    moodycamel::ConcurrentQueue<JournalRecord> q(4096);
    moodycamel::ProducerToken producer(q);
    JournalRecord rec{};
    rec.type = static_cast<std::uint8_t>(RecordType::BookLevel);
    one_way(
        state,
        [&](std::uint64_t i, std::uint64_t stamp) {
          rec.payload.level.price = static_cast<std::int64_t>(i);
          rec.publish_ts_ns = static_cast<std::int64_t>(stamp);
          (void)q.enqueue(producer, rec);
        },
        [&] {
          return [&q, token = std::make_shared<moodycamel::ConsumerToken>(q)](auto&& on_stamp) {
            JournalRecord got{};
            if (q.try_dequeue(*token, got))
              on_stamp(static_cast<std::uint64_t>(got.publish_ts_ns));
          };
        });
  }
}
BENCHMARK(BM_ConcurrentQueueLatency)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// Physical limit: a cache line bounced between the same two cores. Reported as the round
// trip and as half of it (the one-way transfer a reader pays for a freshly written line).
void BM_CacheLineRoundTrip(benchmark::State& state) {
  KeepAffinity keep;
  for (auto _ : state) {
    alignas(128) std::atomic<std::uint64_t> line{0};
    std::vector<std::uint64_t> rtt;
    rtt.reserve(kSamples);
    int reader_cpu = -1, writer_cpu = -1;
    std::thread echo([&] {
      pin(1);
      reader_cpu = sched_getcpu();
      for (std::uint64_t i = 0; i < kSamples; ++i) {
        while (line.load(std::memory_order_acquire) != 2 * i + 1) {
        }
        line.store(2 * i + 2, std::memory_order_release);
      }
    });
    pin(0);
    writer_cpu = sched_getcpu();
    for (std::uint64_t i = 0; i < kSamples; ++i) {
      const std::uint64_t t = rdtsc();
      line.store(2 * i + 1, std::memory_order_release);
      while (line.load(std::memory_order_acquire) != 2 * i + 2) {
      }
      rtt.push_back(rdtsc() - t);
    }
    echo.join();
    report(state, rtt, writer_cpu, reader_cpu);
    std::sort(rtt.begin(), rtt.end());
    state.counters["one_way_p50_ns"] =
        static_cast<double>(rtt[rtt.size() / 2]) / tsc_per_ns() / 2.0;
  }
}
BENCHMARK(BM_CacheLineRoundTrip)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- throughput ---------------------------------------------------------------------------

constexpr std::uint64_t kBurst = 1u << 20;

// The journal never waits for its reader: a reader slower than the writer is lapped, so this
// reports records delivered and lost next to the rate.
void BM_JournalThroughput(benchmark::State& state) {
  KeepAffinity keep;
  auto w = make_writer(10, 1u << 16);
  Reader r;
  if (r.attach(segment_name()) != AttachError::Ok)
    state.SkipWithError(r.error_message());
  std::uint64_t delivered = 0, lost = 0;
  for (auto _ : state) {
    std::atomic<bool> ready{false}, done{false};
    std::thread reader([&] {
      pin(1);
      JournalReader j = r.journal(JournalStart::Now);
      ready = true;
      std::uint64_t sum = 0;
      for (;;) {
        const bool finished = done.load(std::memory_order_acquire);
        const PollResult p = j.poll(256, [&](const JournalRecord& rec, std::uint64_t) {
          sum += static_cast<std::uint64_t>(rec.payload.level.price);
        });
        delivered += p.delivered;
        lost += p.lost;
        if (finished && p.delivered == 0 && p.lost == 0)
          break;
      }
      benchmark::DoNotOptimize(sum);
    });
    pin(0);
    while (!ready) {
    }
    JournalRecord rec{};
    rec.publish_ts_ns = 1;
    for (std::uint64_t i = 0; i < kBurst; ++i) {
      rec.payload.level.price = static_cast<std::int64_t>(i);
      (void)w->append_journal(rec);
    }
    done = true;
    reader.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBurst));
  state.counters["delivered"] = static_cast<double>(delivered);
  state.counters["lost"] = static_cast<double>(lost);
}
BENCHMARK(BM_JournalThroughput)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ConcurrentQueueThroughput(benchmark::State& state) {
  KeepAffinity keep;
  for (auto _ : state) {
    moodycamel::ConcurrentQueue<JournalRecord> q(1u << 16);
    std::atomic<bool> ready{false};
    std::thread consumer([&] {
      pin(1);
      moodycamel::ConsumerToken token(q);
      ready = true;
      JournalRecord rec{};
      std::uint64_t got = 0, sum = 0;
      while (got < kBurst)
        if (q.try_dequeue(token, rec)) {
          sum += static_cast<std::uint64_t>(rec.payload.level.price);
          ++got;
        }
      benchmark::DoNotOptimize(sum);
    });
    pin(0);
    moodycamel::ProducerToken token(q);
    while (!ready) {
    }
    JournalRecord rec{};
    for (std::uint64_t i = 0; i < kBurst; ++i) {
      rec.payload.level.price = static_cast<std::int64_t>(i);
      (void)q.enqueue(token, rec);
    }
    consumer.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBurst));
}
BENCHMARK(BM_ConcurrentQueueThroughput)->UseRealTime()->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
