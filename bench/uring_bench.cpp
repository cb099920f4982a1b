// io_uring reactor receive vs a plain recv loop over loopback TCP, measured in one binary on the
// same input: the raw bytes of a real capture (data/binance/hftbacktest/spot_btcusdt_20240809.gz;
// the reactor only moves bytes, so the gzip file is sent as it is on disk).
//  * Throughput: a sender thread streams the file in 16 KB writes; one iteration = the whole
//    file received. Baseline: blocking ::recv into a 16 KB buffer.
//  * One-way latency: the sender writes a 200-byte message (its 8-byte CLOCK_MONOTONIC send time,
//    then 192 bytes of the capture) and waits until the receiver has taken it before sending the
//    next, so nothing queues: a sample is send() -> receiver has all 200 bytes. p50/p99/p99.9/max
//    are counters (ns). Baselines: blocking recv and recv(MSG_DONTWAIT) spinning; reactor: blocking
//    wait and busy poll (io_uring_submit_and_get_events spinning).
// Cores: two threads (receiver pinned to core 0, sender to core 1 when the process may use 2;
// the label says what happened). Hypervisor stalls show in p99.9/max: compare within one run.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "feedhandler/affinity.hpp"
#include "net/uring_reactor.hpp"

namespace {

using namespace std::chrono_literals;
using fh::net::ConnId;
using fh::net::RecvBuffer;

const std::vector<std::byte> &capture() {
  static const std::vector<std::byte> bytes = [] {
    std::ifstream in(std::string(FH_DATA_DIR) + "/binance/hftbacktest/spot_btcusdt_20240809.gz",
                     std::ios::binary);
    std::vector<char> c{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<std::byte> out(c.size());
    if (!c.empty())
      std::memcpy(out.data(), c.data(), c.size());
    return out;
  }();
  return bytes;
}

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The process's cores, read before any thread is pinned: a thread inherits its creator's mask,
// so every benchmark first gives the main thread all of them back, starts the sender (which pins
// itself to core 1), then pins the receiver to core 0.
struct Cores {
  cpu_set_t all{};
  int count = 0;
  Cores() {
    CPU_ZERO(&all);
    (void)::sched_getaffinity(0, sizeof(all), &all);
    count = fh::usable_cores();
  }
};
const Cores g_cores;

void unpin() {
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof(g_cores.all), &g_cores.all);
}

std::string pin(int core) {
  if (g_cores.count < 2)
    return "1 core shared";
  const std::string why = fh::pin_current_thread(core);
  return why.empty() ? "core " + std::to_string(core) : "unpinned (" + why + ")";
}

class Listener {
public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    (void)::bind(fd_, reinterpret_cast<sockaddr *>(&a), len);
    (void)::listen(fd_, 4);
    (void)::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    endpoint_ = *fh::net::parse_endpoint("127.0.0.1", ntohs(a.sin_port));
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener &) = delete;
  Listener &operator=(const Listener &) = delete;
  [[nodiscard]] int accept() const {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
  }
  [[nodiscard]] const fh::net::Endpoint &endpoint() const { return endpoint_; }

private:
  int fd_ = -1;
  fh::net::Endpoint endpoint_;
};

int connect_plain(const fh::net::Endpoint &e) {
  const fh::net::SocketOpen s = fh::net::open_tcp_socket(AF_INET, {});
  if (s.fd >= 0 && ::connect(s.fd, reinterpret_cast<const sockaddr *>(&e.addr), e.len) != 0) {
    ::close(s.fd);
    return -1;
  }
  return s.fd;
}

// Sender side. Streaming: the file over and over in 16 KB writes until the receiver goes away.
// Ping: one 200-byte message at a time, the next only once the receiver acknowledged.
class Sender {
public:
  enum class Mode { Stream, Ping };
  Sender(const Listener &l, Mode mode) : thread_([this, &l, mode] { run(l, mode); }) {}
  ~Sender() {
    stop_ = true;
    thread_.join();
  }
  Sender(const Sender &) = delete;
  Sender &operator=(const Sender &) = delete;
  void ack() { acked_.fetch_add(1, std::memory_order_release); }
  std::string pin_note;

  static constexpr std::size_t kMsg = 200;

private:
  void run(const Listener &l, Mode mode) {
    pin_note = pin(1); // receiver threads report their own pinning in the label
    const int fd = l.accept();
    const std::vector<std::byte> &file = capture();
    if (mode == Mode::Stream) {
      std::size_t off = 0;
      while (!stop_) {
        const std::size_t n = std::min<std::size_t>(16384, file.size() - off);
        if (::send(fd, file.data() + off, n, MSG_NOSIGNAL) <= 0)
          break;
        off = (off + n) % file.size();
      }
    } else {
      std::byte msg[kMsg];
      std::size_t off = 0;
      for (std::uint64_t i = 0; !stop_; ++i) {
        std::memcpy(msg + 8, file.data() + off, kMsg - 8);
        off = (off + kMsg - 8) % (file.size() - kMsg);
        const std::int64_t t = mono_ns();
        std::memcpy(msg, &t, 8);
        if (::send(fd, msg, kMsg, MSG_NOSIGNAL) != static_cast<ssize_t>(kMsg))
          break;
        while (acked_.load(std::memory_order_acquire) <= i && !stop_) {
        }
      }
    }
    ::close(fd);
  }
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> acked_{0};
  std::thread thread_;
};

void report_latency(benchmark::State &state, std::vector<std::int64_t> &lat,
                    const std::string &note) {
  if (lat.empty())
    return;
  std::sort(lat.begin(), lat.end());
  auto at = [&](double q) {
    return static_cast<double>(lat[std::min(
        lat.size() - 1, static_cast<std::size_t>(q * static_cast<double>(lat.size())))]);
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p999_ns"] = at(0.999);
  state.counters["max_ns"] = static_cast<double>(lat.back());
  state.SetLabel(note);
}

// ---- throughput ---------------------------------------------------------------------------

void BM_Throughput_BlockingRecv(benchmark::State &state) {
  unpin();
  Listener l;
  Sender s(l, Sender::Mode::Stream);
  const std::string note = pin(0);
  const int fd = connect_plain(l.endpoint());
  std::vector<std::byte> buf(16384);
  const std::size_t size = capture().size();
  for (auto _ : state) {
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        state.SkipWithError("recv failed");
        break;
      }
      got += static_cast<std::size_t>(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetLabel("receiver " + note);
  ::close(fd);
}

struct Counter {
  fh::net::UringReactor *r = nullptr;
  std::uint64_t bytes = 0;
  bool connected = false;
  bool closed = false;
  std::vector<std::byte> *msg = nullptr; // ping mode: where the current message accumulates
  void on_connected(ConnId) { connected = true; }
  void on_data(ConnId, RecvBuffer b, std::int64_t) {
    if (msg != nullptr)
      msg->insert(msg->end(), b.data.begin(), b.data.end());
    bytes += b.data.size();
    r->recycle(b.id);
  }
  void on_no_data(ConnId) {}
  void on_closed(ConnId, fh::net::CloseReason, int) { closed = true; }
  void on_timer(fh::net::TimerId, std::uint64_t) {}
};

std::unique_ptr<fh::net::UringReactor> reactor(bool busy_poll) {
  fh::net::UringConfig cfg;
  cfg.busy_poll = busy_poll;
  auto r = fh::net::UringReactor::create(cfg);
  if (std::holds_alternative<fh::net::NetError>(r))
    return nullptr;
  return std::move(std::get<std::unique_ptr<fh::net::UringReactor>>(r));
}

void BM_Throughput_Reactor(benchmark::State &state) {
  unpin();
  Listener l;
  Sender s(l, Sender::Mode::Stream);
  const std::string note = pin(0);
  auto r = reactor(state.range(0) != 0); // made on the thread that runs it (SINGLE_ISSUER)
  if (!r) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  Counter h;
  h.r = r.get();
  (void)r->connect(l.endpoint(), {});
  while (!h.connected && !h.closed)
    r->run_once(h, 100ms);
  const std::size_t size = capture().size();
  for (auto _ : state) {
    const std::uint64_t target = h.bytes + size;
    while (h.bytes < target && !h.closed)
      r->run_once(h, 100ms);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetLabel("receiver " + note + ", " + fh::net::to_cstring(r->recv_mode()) +
                 (r->defer_taskrun_active() ? ", defer_taskrun" : ""));
  r.reset(); // closes the socket: the sender's next send fails and it exits
}

// ---- one-way latency ----------------------------------------------------------------------

constexpr int kPings = 20000;

void BM_Latency_Recv(benchmark::State &state) {
  const bool spin = state.range(0) != 0;
  if (spin && g_cores.count < 2) {
    state.SkipWithError("spinning receiver and sender need 2 cores");
    return;
  }
  unpin();
  Listener l;
  Sender s(l, Sender::Mode::Ping);
  const std::string note = pin(0);
  const int fd = connect_plain(l.endpoint());
  std::vector<std::int64_t> lat;
  lat.reserve(kPings);
  std::byte msg[Sender::kMsg];
  for (auto _ : state) {
    std::size_t got = 0;
    while (got < Sender::kMsg) {
      const ssize_t n = ::recv(fd, msg + got, Sender::kMsg - got, spin ? MSG_DONTWAIT : 0);
      if (n > 0)
        got += static_cast<std::size_t>(n);
      if (n == 0 || (n < 0 && errno != EAGAIN))
        break;
    }
    const std::int64_t now = mono_ns();
    std::int64_t sent = 0;
    std::memcpy(&sent, msg, 8);
    lat.push_back(now - sent);
    s.ack();
  }
  ::close(fd);
  report_latency(state, lat,
                 std::string(spin ? "recv spin" : "recv blocking") + ", receiver " + note);
}

void BM_Latency_Reactor(benchmark::State &state) {
  const bool busy = state.range(0) != 0;
  if (busy && g_cores.count < 2) {
    state.SkipWithError("spinning receiver and sender need 2 cores");
    return;
  }
  unpin();
  Listener l;
  Sender s(l, Sender::Mode::Ping);
  const std::string note = pin(0);
  auto r = reactor(busy);
  if (!r) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  std::vector<std::byte> pending;
  pending.reserve(1 << 16);
  Counter h;
  h.r = r.get();
  h.msg = &pending;
  (void)r->connect(l.endpoint(), {});
  while (!h.connected && !h.closed)
    r->run_once(h, 100ms);
  std::vector<std::int64_t> lat;
  lat.reserve(kPings);
  for (auto _ : state) {
    while (pending.size() < Sender::kMsg && !h.closed)
      r->run_once(h, 100ms);
    const std::int64_t now = mono_ns();
    std::int64_t sent = 0;
    std::memcpy(&sent, pending.data(), 8);
    lat.push_back(now - sent);
    pending.erase(pending.begin(), pending.begin() + Sender::kMsg);
    s.ack();
  }
  const std::string mode = std::string(busy ? "reactor busy-poll" : "reactor blocking") +
                           (r->defer_taskrun_active() ? " defer_taskrun" : "");
  r.reset();
  report_latency(state, lat, mode + ", receiver " + note);
}

BENCHMARK(BM_Throughput_BlockingRecv)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Throughput_Reactor)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Latency_Recv)->Arg(0)->Arg(1)->Iterations(kPings)->UseRealTime();
BENCHMARK(BM_Latency_Reactor)->Arg(0)->Arg(1)->Iterations(kPings)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
