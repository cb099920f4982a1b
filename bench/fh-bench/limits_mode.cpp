#include "bench/fh-bench/limits_mode.hpp"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define FH_LIMITS_HAVE_RDTSC 1
#endif

#include <simdjson.h>

#include "bench/loopback/kernel_oneway.hpp"
#include "bench/loopback/latency_stats.hpp"
#include "feedhandler/affinity.hpp"

namespace fh::bench {
namespace {

using Percentiles = loopback::Percentiles;

std::int64_t clock_ns(clockid_t id) noexcept {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
std::int64_t mono_ns() noexcept {
  return clock_ns(CLOCK_MONOTONIC);
}

// Keeps a computed value (or a written buffer) from being optimised away.
template <class T> void keep(const T &v) noexcept {
  __asm__ __volatile__("" : : "g"(&v) : "memory");
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The cores this process may run on, in order.
std::vector<int> allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(static_cast<std::size_t>(c), &set))
      out.push_back(c);
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string json_escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out;
}

// ---- clock cost ---------------------------------------------------------------------------

struct ClockCost {
  double rdtsc_ns = 0, monotonic_ns = 0, realtime_ns = 0;
  double tsc_ghz = 0;     // TSC ticks per ns against CLOCK_MONOTONIC_RAW
  double tsc_step_ns = 0; // median non-zero difference of two back-to-back reads
};

// ns per call of `read`, median of 5 passes of n calls.
template <class F> double per_call_ns(std::size_t n, F &&read) {
  std::vector<double> passes;
  for (int p = 0; p < 5; ++p) {
    std::uint64_t sink = 0;
    const std::int64_t t0 = mono_ns();
    for (std::size_t i = 0; i < n; ++i)
      sink += read();
    const std::int64_t t1 = mono_ns();
    keep(sink);
    passes.push_back(static_cast<double>(t1 - t0) / static_cast<double>(n));
  }
  return median(passes);
}

ClockCost measure_clocks(bool quick) {
  const std::size_t n = quick ? 500'000 : 2'000'000;
  ClockCost c;
  c.monotonic_ns =
      per_call_ns(n, [] { return static_cast<std::uint64_t>(clock_ns(CLOCK_MONOTONIC)); });
  c.realtime_ns =
      per_call_ns(n, [] { return static_cast<std::uint64_t>(clock_ns(CLOCK_REALTIME)); });
#ifdef FH_LIMITS_HAVE_RDTSC
  c.rdtsc_ns = per_call_ns(n, [] { return static_cast<std::uint64_t>(__rdtsc()); });
  const std::int64_t w0 = clock_ns(CLOCK_MONOTONIC_RAW);
  const std::uint64_t r0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(quick ? 50 : 200));
  const std::uint64_t r1 = __rdtsc();
  const std::int64_t w1 = clock_ns(CLOCK_MONOTONIC_RAW);
  c.tsc_ghz = static_cast<double>(r1 - r0) / static_cast<double>(w1 - w0);
  // The median, not the minimum: a vCPU moved between two reads can show a one-tick step once.
  std::vector<double> steps;
  steps.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t a = __rdtsc(), b = __rdtsc();
    if (b > a)
      steps.push_back(static_cast<double>(b - a));
  }
  if (!steps.empty() && c.tsc_ghz > 0)
    c.tsc_step_ns = median(steps) / c.tsc_ghz;
#endif
  return c;
}

// ---- cache-line round trip ------------------------------------------------------------------

struct alignas(64) Line {
  std::atomic<std::uint64_t> value{0};
};

struct CacheLineResult {
  bool ran = false;
  std::string skipped; // why it did not run
  Percentiles rtt;     // ns per round trip, each sample the mean of kBatch round trips
};

// Thread A writes `ping`, thread B sees it and writes `pong`, A sees that: one round trip moves
// each line across once. Timing a batch of round trips keeps the clock's own cost (26 ns on a
// VM) out of a figure that can be 50 ns.
CacheLineResult measure_cache_line(int core_a, int core_b, bool quick) {
  CacheLineResult r;
  if (core_b < 0) {
    r.skipped = "one core available: needs two";
    return r;
  }
  constexpr std::uint64_t kBatch = 64;
  const std::size_t samples = quick ? 3000 : 20000;
  auto ping = std::make_unique<Line>();
  auto pong = std::make_unique<Line>();
  std::atomic<bool> ready{false};
  std::string pin_b;
  std::thread peer([&] {
    pin_b = pin_current_thread(core_b);
    ready.store(true, std::memory_order_release);
    const std::uint64_t total = kBatch * samples;
    for (std::uint64_t i = 1; i <= total; ++i) {
      while (ping->value.load(std::memory_order_acquire) != i) {
      }
      pong->value.store(i, std::memory_order_release);
    }
  });
  const std::string pin_a = pin_current_thread(core_a);
  while (!ready.load(std::memory_order_acquire)) {
  }
  std::vector<std::int64_t> rtt;
  rtt.reserve(samples);
  std::uint64_t i = 0;
  for (std::size_t s = 0; s < samples; ++s) {
    const std::int64_t t0 = mono_ns();
    for (std::uint64_t k = 0; k < kBatch; ++k) {
      ++i;
      ping->value.store(i, std::memory_order_release);
      while (pong->value.load(std::memory_order_acquire) != i) {
      }
    }
    rtt.push_back((mono_ns() - t0) / static_cast<std::int64_t>(kBatch));
  }
  peer.join();
  if (!pin_a.empty() || !pin_b.empty()) {
    r.skipped = "pinning failed: " + pin_a + " " + pin_b;
    return r;
  }
  r.ran = true;
  r.rtt = loopback::summarize(rtt);
  return r;
}

// ---- memcpy bandwidth ---------------------------------------------------------------------

// GB/s (1e9 bytes) copying a `bytes` buffer into another, median of 5 passes that each move
// about `per_pass` bytes. Both buffers are touched first, so page faults are not counted.
double memcpy_gbps(std::size_t bytes, std::size_t per_pass) {
  std::vector<unsigned char> src(bytes, 1), dst(bytes, 0);
  const std::size_t reps = std::max<std::size_t>(1, per_pass / bytes);
  std::vector<double> passes;
  for (int p = 0; p < 5; ++p) {
    const std::int64_t t0 = mono_ns();
    for (std::size_t r = 0; r < reps; ++r) {
      src[r % bytes] = static_cast<unsigned char>(r);
      std::memcpy(dst.data(), src.data(), bytes);
      keep(dst);
    }
    const std::int64_t t1 = mono_ns();
    passes.push_back(static_cast<double>(reps * bytes) / static_cast<double>(t1 - t0));
  }
  return median(passes);
}

// ---- scheduling noise ---------------------------------------------------------------------

struct NoiseBucket {
  std::int64_t upto_ns; // gaps in (previous bound, upto_ns]
  std::uint64_t count = 0;
  std::int64_t lost_ns = 0;
  std::uint64_t on_cpu = 0; // of them, gaps the guest kernel counted as the thread running
  std::int64_t on_cpu_lost_ns = 0;
};

struct NoiseResult {
  std::string pin_error;
  double seconds = 0;
  std::uint64_t reads = 0, gaps = 0;
  std::int64_t lost_ns = 0, max_gap_ns = 0, p50_gap_ns = 0, p99_gap_ns = 0;
  std::uint64_t on_cpu_gaps = 0; // the guest thinks the thread ran: hypervisor or interrupts
  std::int64_t on_cpu_lost_ns = 0;
  double thread_cpu_pct = 0; // of wall time the guest kernel had the thread on a CPU
  double steal_pct = -1;     // the core's steal time (/proc/stat) over the run; -1 unknown
  std::vector<NoiseBucket> buckets;
};

constexpr std::int64_t kGapNs = 1000;

// /proc/stat steal ticks of one CPU (USER_HZ), or -1.
long long steal_ticks(int core) {
  std::ifstream in("/proc/stat");
  const std::string want = "cpu" + std::to_string(core) + " ";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(want, 0) != 0)
      continue;
    std::istringstream f(line.substr(want.size()));
    long long v[8] = {};
    for (auto &x : v)
      f >> x;
    return f ? v[7] : -1;
  }
  return -1;
}

// Each gap is also classified by the thread's CPU time (read only at a gap, a syscall, whose
// own time is not counted as a gap): if the guest kernel charged at least half the gap to the
// thread, the guest did not take the core (no other task ran): the hypervisor did (or an
// interrupt did). Otherwise the guest scheduler ran something else: a loaded guest, not a VM.
NoiseResult measure_noise(int core, double seconds) {
  NoiseResult r;
  r.buckets = {{2'000},   {5'000},   {10'000},    {20'000},     {50'000},   {100'000},
               {200'000}, {500'000}, {1'000'000}, {10'000'000}, {INT64_MAX}};
  // Every gap is kept for exact percentiles; sized before the loop (at most one gap per us of
  // run, but a few per ms is what a loaded host shows), the loop only stores into it.
  std::vector<std::int64_t> gaps;
  gaps.reserve(static_cast<std::size_t>(seconds * 20'000) + 1024);
  std::thread spinner([&] {
    r.pin_error = pin_current_thread(core);
    const long long steal0 = steal_ticks(core);
    const std::int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    const std::int64_t start = mono_ns();
    const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
    std::int64_t prev = start, now = start;
    std::int64_t check_cpu = cpu0, check_mono = start; // thread CPU time at a known instant
    std::uint64_t reads = 0;
    while (now < end) {
      now = mono_ns();
      ++reads;
      const std::int64_t d = now - prev;
      if (d <= kGapNs) {
        prev = now;
        continue;
      }
      const std::int64_t cpu_now = clock_ns(CLOCK_THREAD_CPUTIME_ID);
      // CPU time since the last check, minus the spinning before this gap (all on CPU).
      const std::int64_t cpu_in_gap = (cpu_now - check_cpu) - (prev - check_mono);
      const bool on_cpu = 2 * cpu_in_gap >= d;
      prev = mono_ns(); // the syscall above is ours, not a gap
      check_cpu = cpu_now;
      check_mono = prev;
      if (gaps.size() < gaps.capacity())
        gaps.push_back(d);
      ++r.gaps;
      r.lost_ns += d;
      if (on_cpu) {
        ++r.on_cpu_gaps;
        r.on_cpu_lost_ns += d;
      }
      if (d > r.max_gap_ns)
        r.max_gap_ns = d;
      for (auto &b : r.buckets)
        if (d <= b.upto_ns) {
          ++b.count;
          b.lost_ns += d;
          b.on_cpu += on_cpu ? 1 : 0;
          b.on_cpu_lost_ns += on_cpu ? d : 0;
          break;
        }
    }
    const std::int64_t wall = now - start;
    const std::int64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    const long long steal1 = steal_ticks(core);
    r.seconds = static_cast<double>(wall) * 1e-9;
    r.reads = reads;
    r.thread_cpu_pct = 100.0 * static_cast<double>(cpu) / static_cast<double>(wall);
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (steal0 >= 0 && steal1 >= steal0 && hz > 0 && r.pin_error.empty())
      r.steal_pct =
          100.0 * static_cast<double>(steal1 - steal0) / static_cast<double>(hz) / r.seconds;
  });
  spinner.join();
  const Percentiles p = loopback::summarize(gaps); // of the first gaps.capacity() gaps
  r.p50_gap_ns = p.p50;
  r.p99_gap_ns = p.p99;
  return r;
}

// ---- host tuning state ----------------------------------------------------------------------

// scripts/tune-host.sh next to the binary's source tree (build/<dir>/bench/fh-bench/fh-bench ->
// ../../../../scripts) or in the source dir this was built from.
std::string find_tune_script() {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    for (int up = 0; up < 5 && !dir.empty(); ++up, dir = dir.parent_path())
      candidates.push_back(dir / "scripts" / "tune-host.sh");
  }
#ifdef FH_SOURCE_DIR
  candidates.emplace_back(std::filesystem::path(FH_SOURCE_DIR) / "scripts" / "tune-host.sh");
#endif
  for (const auto &c : candidates)
    if (std::filesystem::exists(c, ec))
      return c.string();
  return {};
}

// The script's JSON object (checked to parse), or why there is none.
struct HostState {
  bool ok = false;
  std::string text; // the JSON object, or the error
};

HostState host_state() {
  const std::string script = find_tune_script();
  if (script.empty())
    return {false, "scripts/tune-host.sh not found"};
  const std::string cmd = "bash '" + script + "' --check --json 2>/dev/null";
  FILE *p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return {false, "popen failed"};
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int rc = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  if (const auto nl = out.rfind('\n'); nl != std::string::npos)
    out.erase(0, nl + 1);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (rc != 0 || parser.parse(out).get(obj) != simdjson::SUCCESS)
    return {false, script + " --check --json gave no JSON object"};
  return {true, out};
}

// ---- report ----------------------------------------------------------------------------------

std::string percentiles_or_error(const std::variant<std::vector<std::int64_t>, std::string> &v,
                                 Percentiles *out) {
  if (const auto *e = std::get_if<std::string>(&v))
    return "{\"error\":\"" + json_escape(*e) + "\"}";
  auto samples = std::get<std::vector<std::int64_t>>(v);
  *out = loopback::summarize(samples);
  return loopback::to_json(*out);
}

} // namespace

int run_limits(const LimitsArgs &a) {
  const std::vector<int> cores = allowed_cores();
  const int core_a = a.core >= 0 ? a.core : (cores.empty() ? -1 : cores[0]);
  int core_b = a.peer_core;
  if (core_b < 0)
    for (int c : cores)
      if (c != core_a) {
        core_b = c;
        break;
      }
  const double noise_s = a.noise_seconds > 0 ? a.noise_seconds : (a.quick ? 3.0 : 20.0);
  const auto say = [&](const char *what) {
    if (!a.json)
      std::fprintf(stderr, "fh-bench limits: %s...\n", what);
  };

  say("clock cost");
  const ClockCost clocks = measure_clocks(a.quick);
  say("cache-line round trip");
  const CacheLineResult line = measure_cache_line(core_a, core_b, a.quick);
  say("loopback TCP one-way");
  loopback::OnewayOptions oo;
  oo.messages = a.quick ? 1000 : 5000;
  oo.interval = std::chrono::microseconds(1000);
  const auto blocking = loopback::tcp_oneway(oo, loopback::OnewayReceiver::BlockingRecv);
  const auto uring = loopback::tcp_oneway(oo, loopback::OnewayReceiver::Uring);
  Percentiles pb, pu;
  const std::string blocking_json = percentiles_or_error(blocking, &pb);
  const std::string uring_json = percentiles_or_error(uring, &pu);
  say("memcpy bandwidth");
  const std::size_t volume = std::size_t{a.quick ? 512u : 4096u} << 20;
  const double mc_small = memcpy_gbps(std::size_t{64} << 10, volume);
  const double mc_large = memcpy_gbps(std::size_t{64} << 20, volume / 4);
  say("scheduling noise (pinned clock spinner)");
  const NoiseResult noise = measure_noise(core_a, noise_s);
  const auto host = host_state();

  const int used = line.ran ? 2 : 1;
  const double lost_pct = 100.0 * static_cast<double>(noise.lost_ns) * 1e-9 / noise.seconds;
  const double on_cpu_pct =
      100.0 * static_cast<double>(noise.on_cpu_lost_ns) * 1e-9 / noise.seconds;
  if (!a.json) {
    std::printf("fh-bench limits: %s, %zu usable core%s, used %d (core %d%s)\n",
                cpu_model().c_str(), cores.size(), cores.size() == 1 ? "" : "s", used, core_a,
                line.ran ? (" and " + std::to_string(core_b)).c_str() : "");
    std::printf(
        "  clock read            rdtsc %.1f ns, CLOCK_MONOTONIC %.1f ns, CLOCK_REALTIME %.1f ns\n",
        clocks.rdtsc_ns, clocks.monotonic_ns, clocks.realtime_ns);
    std::printf("  TSC                   %.3f GHz, back-to-back reads differ by %.1f ns (median "
                "non-zero)\n",
                clocks.tsc_ghz, clocks.tsc_step_ns);
    if (line.ran)
      std::printf(
          "  cache-line round trip min %lld / p50 %lld / p99 %lld / max %lld ns (cores %d <-> %d, "
          "mean of 64 per sample)\n",
          static_cast<long long>(line.rtt.min), static_cast<long long>(line.rtt.p50),
          static_cast<long long>(line.rtt.p99), static_cast<long long>(line.rtt.max), core_a,
          core_b);
    else
      std::printf("  cache-line round trip skipped: %s\n", line.skipped.c_str());
    loopback::print_header();
    if (pb.n > 0)
      loopback::print_row("TCP one-way 300 B, blocking recv()", pb);
    if (pu.n > 0)
      loopback::print_row("TCP one-way 300 B, io_uring reactor", pu);
    std::printf("  memcpy                64 KiB %.1f GB/s, 64 MiB %.1f GB/s\n", mc_small, mc_large);
    std::printf(
        "  noise on core %d       %.1f s: %llu gaps > 1 us, %.3f ms lost (%.2f%%), max %.1f us, "
        "p50 gap %.1f us; thread on CPU %.1f%% of wall, steal %.2f%%\n",
        core_a, noise.seconds, static_cast<unsigned long long>(noise.gaps),
        static_cast<double>(noise.lost_ns) * 1e-6, lost_pct,
        static_cast<double>(noise.max_gap_ns) * 1e-3, static_cast<double>(noise.p50_gap_ns) * 1e-3,
        noise.thread_cpu_pct, noise.steal_pct);
    std::printf(
        "    of which the guest saw the thread running (hypervisor or interrupt): %llu gaps, "
        "%.3f ms (%.2f%%)\n",
        static_cast<unsigned long long>(noise.on_cpu_gaps),
        static_cast<double>(noise.on_cpu_lost_ns) * 1e-6, on_cpu_pct);
    std::printf("    %-15s %8s %12s %8s %12s\n", "gap (us)", "gaps", "lost ms", "on-CPU",
                "on-CPU ms");
    std::int64_t lo = kGapNs;
    for (const auto &b : noise.buckets) {
      if (b.count > 0) {
        char range[32];
        if (b.upto_ns == INT64_MAX)
          std::snprintf(range, sizeof range, "> %.0f", static_cast<double>(lo) * 1e-3);
        else
          std::snprintf(range, sizeof range, "%.0f-%.0f", static_cast<double>(lo) * 1e-3,
                        static_cast<double>(b.upto_ns) * 1e-3);
        std::printf("    %-15s %8llu %12.3f %8llu %12.3f\n", range,
                    static_cast<unsigned long long>(b.count), static_cast<double>(b.lost_ns) * 1e-6,
                    static_cast<unsigned long long>(b.on_cpu),
                    static_cast<double>(b.on_cpu_lost_ns) * 1e-6);
      }
      lo = b.upto_ns;
    }
    if (!host.ok)
      std::printf("  host tuning: %s\n", host.text.c_str());
    else
      std::printf("  host tuning: see \"host\" in the JSON (scripts/tune-host.sh --check)\n");
  }

  std::string hist = "[";
  for (const auto &b : noise.buckets) {
    if (hist.size() > 1)
      hist += ',';
    char buf[192];
    std::snprintf(
        buf, sizeof buf,
        "{\"le_ns\":%lld,\"count\":%llu,\"lost_ns\":%lld,\"on_cpu\":%llu,\"on_cpu_lost_ns\":%lld}",
        b.upto_ns == INT64_MAX ? -1LL : static_cast<long long>(b.upto_ns),
        static_cast<unsigned long long>(b.count), static_cast<long long>(b.lost_ns),
        static_cast<unsigned long long>(b.on_cpu), static_cast<long long>(b.on_cpu_lost_ns));
    hist += buf;
  }
  hist += ']';
  const std::string line_json = line.ran ? loopback::to_json(line.rtt)
                                         : "{\"skipped\":\"" + json_escape(line.skipped) + "\"}";
  const std::string host_json =
      host.ok ? host.text : "{\"error\":\"" + json_escape(host.text) + "\"}";
  std::printf(
      "{\"mode\":\"limits\",\"quick\":%s,\"cpu\":\"%s\",\"cores\":{\"host\":%zu,\"used\":%d,"
      "\"core\":%d,\"peer_core\":%d},"
      "\"clock_ns\":{\"rdtsc\":%.2f,\"monotonic\":%.2f,\"realtime\":%.2f,\"tsc_ghz\":%.4f,"
      "\"tsc_step\":%.2f},"
      "\"cache_line_rtt_ns\":%s,"
      "\"tcp_oneway_ns\":{\"bytes\":%zu,\"interval_us\":%lld,\"blocking_recv\":%s,\"uring\":%s},"
      "\"memcpy_gb_per_s\":{\"64KiB\":%.2f,\"64MiB\":%.2f},"
      "\"noise\":{\"core\":%d,\"pinned\":%s,\"seconds\":%.3f,\"gap_threshold_ns\":%lld,\"reads\":%"
      "llu,"
      "\"gaps\":%llu,\"lost_ns\":%lld,\"lost_pct\":%.3f,\"max_gap_ns\":%lld,\"p50_gap_ns\":%lld,"
      "\"p99_gap_ns\":%lld,\"on_cpu_gaps\":%llu,\"on_cpu_lost_ns\":%lld,\"on_cpu_lost_pct\":%.3f,"
      "\"thread_cpu_pct\":%.2f,\"steal_pct\":%.3f,\"histogram\":%s},"
      "\"host\":%s}\n",
      a.quick ? "true" : "false", json_escape(cpu_model()).c_str(), cores.size(), used, core_a,
      line.ran ? core_b : -1, clocks.rdtsc_ns, clocks.monotonic_ns, clocks.realtime_ns,
      clocks.tsc_ghz, clocks.tsc_step_ns, line_json.c_str(), oo.bytes,
      static_cast<long long>(oo.interval.count()), blocking_json.c_str(), uring_json.c_str(),
      mc_small, mc_large, core_a, noise.pin_error.empty() ? "true" : "false", noise.seconds,
      static_cast<long long>(kGapNs), static_cast<unsigned long long>(noise.reads),
      static_cast<unsigned long long>(noise.gaps), static_cast<long long>(noise.lost_ns), lost_pct,
      static_cast<long long>(noise.max_gap_ns), static_cast<long long>(noise.p50_gap_ns),
      static_cast<long long>(noise.p99_gap_ns), static_cast<unsigned long long>(noise.on_cpu_gaps),
      static_cast<long long>(noise.on_cpu_lost_ns), on_cpu_pct, noise.thread_cpu_pct,
      noise.steal_pct, hist.c_str(), host_json.c_str());
  const bool ok = pb.n > 0 && pu.n > 0;
  return ok ? 0 : 1;
}

int limits_main(int argc, char **argv) {
  LimitsArgs a;
  auto number = [&](int &i, const char *name) -> double {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "fh-bench limits: %s needs a value\n", name);
      std::exit(2);
    }
    const char *s = argv[++i];
    char *end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || *end != '\0') {
      std::fprintf(stderr, "fh-bench limits: %s needs a number, got '%s'\n", name, s);
      std::exit(2);
    }
    return v;
  };
  for (int i = 0; i < argc; ++i) {
    const std::string_view s = argv[i];
    if (s == "--quick")
      a.quick = true;
    else if (s == "--json")
      a.json = true;
    else if (s == "--core")
      a.core = static_cast<int>(number(i, "--core"));
    else if (s == "--peer-core")
      a.peer_core = static_cast<int>(number(i, "--peer-core"));
    else if (s == "--noise-seconds")
      a.noise_seconds = number(i, "--noise-seconds");
    else {
      std::fprintf(stderr, "usage: fh-bench limits [--quick] [--json] [--core C] [--peer-core C] "
                           "[--noise-seconds S]\n");
      return 2;
    }
  }
  return run_limits(a);
}

} // namespace fh::bench
