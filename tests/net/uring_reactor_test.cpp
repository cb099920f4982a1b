// labels: unit net
// io_uring reactor over loopback TCP. The bytes streamed are the raw bytes of real recorded
// capture files from data/ (gzip files sent as they are on disk: the reactor only moves bytes);
// the expected length and CRC-32 come from reading the same file here with zlib, independently of
// the reactor. Every receive mode is exercised: multishot recv + buffer ring where the kernel
// has it, and the forced single-shot own-buffer fallback.
#include <gtest/gtest.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "net/uring_reactor.hpp"

#include "tests/support/counting_new.hpp"

using fh::test::g_allocations;

namespace fh::net {
namespace {

using namespace std::chrono_literals;

const std::string kData = FH_DATA_DIR;
// 1.7 MB: a long single stream. 122 KB: one per connection in the many-connection test.
const std::string kBigCapture = kData + "/binance/hftbacktest/spot_btcusdt_20240809.gz";
const std::string kSmallCapture = kData + "/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";

std::vector<std::byte> read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> out(chars.size());
  if (!chars.empty())
    std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

std::uint32_t crc_of(const std::byte *p, std::size_t n, std::uint32_t crc) {
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef *>(p), n));
}
std::uint32_t crc_of(const std::vector<std::byte> &v) {
  return crc_of(v.data(), v.size(), static_cast<std::uint32_t>(crc32_z(0, nullptr, 0)));
}

std::int64_t realtime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A plain-socket listener on 127.0.0.1, port chosen by the kernel.
class Listener {
public:
  explicit Listener(int backlog = 64) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr *>(&a), len) != 0 || ::listen(fd_, backlog) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
      ADD_FAILURE() << "listener setup: " << errno_text(errno);
    }
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener &) = delete;
  Listener &operator=(const Listener &) = delete;
  [[nodiscard]] Endpoint endpoint() const { return *parse_endpoint("127.0.0.1", port_); }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Accepts `clients` connections, then writes `payload` to every one of them in random-size
// writes (1..max_chunk bytes, seeded), interleaved round-robin, then closes them (or, when
// `silent`, sends nothing and keeps them open until destroyed).
class Server {
public:
  Server(Listener &l, int clients, const std::vector<std::byte> &payload, std::size_t max_chunk,
         bool silent = false)
      : thread_([this, &l, clients, &payload, max_chunk, silent] {
          run(l, clients, payload, max_chunk, silent);
        }) {}
  ~Server() {
    stop_ = true;
    thread_.join();
    for (const int fd : fds_)
      ::close(fd);
  }
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;
  [[nodiscard]] bool done() const { return done_; }

private:
  void run(Listener &l, int clients, const std::vector<std::byte> &payload, std::size_t max_chunk,
           bool silent) {
    fds_.reserve(static_cast<std::size_t>(clients));
    for (int i = 0; i < clients; ++i) {
      const int fd = ::accept4(l.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      fds_.push_back(fd);
    }
    if (silent) {
      while (!stop_)
        std::this_thread::sleep_for(5ms);
      return;
    }
    std::mt19937_64 rng(20240809);
    std::uniform_int_distribution<std::size_t> size(1, max_chunk);
    std::vector<std::size_t> sent(fds_.size(), 0);
    bool any = true;
    while (any && !stop_) {
      any = false;
      for (std::size_t i = 0; i < fds_.size(); ++i) {
        if (sent[i] == payload.size())
          continue;
        any = true;
        const std::size_t n = std::min(size(rng), payload.size() - sent[i]);
        const ssize_t w = ::send(fds_[i], payload.data() + sent[i], n, MSG_NOSIGNAL);
        if (w <= 0)
          return;
        sent[i] += static_cast<std::size_t>(w);
      }
    }
    for (const int fd : fds_)
      ::shutdown(fd, SHUT_WR);
    done_ = true;
  }

  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct Stream {
  std::uint32_t crc = static_cast<std::uint32_t>(crc32_z(0, nullptr, 0));
  std::uint64_t bytes = 0;
  bool connected = false;
  bool closed = false;
  CloseReason reason = CloseReason::Requested;
  int error = 0;
  int no_data = 0;
};

// The handler run_once() dispatches to: folds every buffer into a per-connection CRC and either
// recycles it at once or holds it (slow consumer).
class Collector {
public:
  Collector(UringReactor &r, std::size_t slots) : r_(r), streams_(slots) { held_.reserve(1 << 16); }

  void on_connected(ConnId c) { streams_[c.slot].connected = true; }
  void on_data(ConnId c, RecvBuffer b, std::int64_t recv_ns) {
    Stream &s = streams_[c.slot];
    s.crc = crc_of(b.data.data(), b.data.size(), s.crc);
    s.bytes += b.data.size();
    stamp_lo_ = std::min(stamp_lo_, recv_ns);
    stamp_hi_ = std::max(stamp_hi_, recv_ns);
    if (hold_) {
      held_.push_back(b.id);
    } else {
      r_.recycle(b.id);
    }
  }
  void on_no_data(ConnId c) { ++streams_[c.slot].no_data; }
  void on_closed(ConnId c, CloseReason reason, int error) {
    Stream &s = streams_[c.slot];
    s.closed = true;
    s.reason = reason;
    s.error = error;
    ++closed_;
  }
  void on_timer(TimerId, std::uint64_t tag) { fired_.push_back(tag); }

  void release_held() {
    for (const BufferId id : held_)
      r_.recycle(id);
    held_.clear();
  }

  // Runs the reactor until `done()` or `limit`; checks every receive stamp of each batch lies
  // between clock reads taken just before and after that batch's poll.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit, std::chrono::nanoseconds wait = 10ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      stamp_lo_ = INT64_MAX;
      stamp_hi_ = INT64_MIN;
      const std::int64_t before = realtime_now();
      r_.run_once(*this, wait);
      const std::int64_t after = realtime_now();
      if (stamp_hi_ != INT64_MIN && (stamp_lo_ < before || stamp_hi_ > after))
        ++bad_stamps_;
      if (after_poll_)
        after_poll_();
    }
    return true;
  }

  Stream &stream(ConnId c) { return streams_[c.slot]; }
  bool hold_ = false;
  std::size_t closed_ = 0;
  std::size_t bad_stamps_ = 0;
  std::vector<std::uint64_t> fired_;
  std::function<void()> after_poll_;
  std::vector<BufferId> held_;

private:
  UringReactor &r_;
  std::vector<Stream> streams_;
  std::int64_t stamp_lo_ = INT64_MAX;
  std::int64_t stamp_hi_ = INT64_MIN;
};

std::unique_ptr<UringReactor> make_reactor(UringConfig cfg) {
  auto r = UringReactor::create(cfg);
  if (auto *e = std::get_if<NetError>(&r)) {
    ADD_FAILURE() << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<UringReactor>>(r));
}

class UringReactorTest : public ::testing::TestWithParam<RecvMode> {
protected:
  UringConfig config() const {
    UringConfig c;
    c.recv_mode = GetParam();
    return c;
  }
};

std::string mode_name(const ::testing::TestParamInfo<RecvMode> &info) {
  switch (info.param) {
  case RecvMode::MultishotBufferRing:
    return "MultishotBufferRing";
  case RecvMode::SingleShotBufferRing:
    return "SingleShotBufferRing";
  case RecvMode::OwnBuffers:
    return "ForcedOwnBufferFallback";
  }
  return "?";
}

TEST_P(UringReactorTest, DeliversRealCaptureByteExactFromRandomSizeWrites) {
  const std::vector<std::byte> file = read_file(kBigCapture);
  ASSERT_GT(file.size(), 1'000'000u);
  auto r = make_reactor(config());
  ASSERT_TRUE(r);
  std::cout << "[ setup    ] " << r->setup_notes() << '\n';
  if (GetParam() == RecvMode::OwnBuffers) {
    EXPECT_EQ(r->recv_mode(), RecvMode::OwnBuffers); // the fallback can always be forced
  } else if (GetParam() == RecvMode::SingleShotBufferRing) {
    EXPECT_NE(r->recv_mode(), RecvMode::MultishotBufferRing); // never upgrades
  }
  Listener l;
  Server server(l, 1, file, 64 * 1024);
  Collector h(*r, 64);
  const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
  ASSERT_TRUE(c) << errno_text(c.error);
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == 1; }, 30s));
  const Stream &s = h.stream(c.id);
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.reason, CloseReason::PeerClosed) << describe(s.reason, s.error);
  EXPECT_EQ(s.bytes, file.size());
  EXPECT_EQ(s.crc, crc_of(file));
  EXPECT_EQ(h.bad_stamps_, 0u);
  EXPECT_EQ(r->stats().recv_bytes, file.size());
  EXPECT_EQ(r->open_connections(), 0u);
  std::cout << "[ stats    ] mode " << to_cstring(r->recv_mode()) << ", "
            << r->stats().recv_completions << " recv CQEs in " << r->stats().batches << " batches, "
            << r->stats().recv_arms << " recv SQEs\n";
}

TEST_P(UringReactorTest, ServesThirtyTwoConnectionsOnOneReactor) {
  const std::vector<std::byte> file = read_file(kSmallCapture);
  ASSERT_GT(file.size(), 100'000u);
  constexpr int kConns = 32;
  auto r = make_reactor(config());
  ASSERT_TRUE(r);
  Listener l;
  Server server(l, kConns, file, 8 * 1024);
  Collector h(*r, 64);
  std::vector<ConnId> ids;
  for (int i = 0; i < kConns; ++i) {
    const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
    ASSERT_TRUE(c) << errno_text(c.error);
    ids.push_back(c.id);
  }
  EXPECT_EQ(r->open_connections(), static_cast<std::size_t>(kConns));
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == kConns; }, 60s));
  const std::uint32_t want = crc_of(file);
  for (const ConnId id : ids) {
    const Stream &s = h.stream(id);
    EXPECT_EQ(s.reason, CloseReason::PeerClosed) << describe(s.reason, s.error);
    EXPECT_EQ(s.bytes, file.size());
    EXPECT_EQ(s.crc, want);
  }
  EXPECT_EQ(r->stats().recv_bytes, file.size() * kConns);
  EXPECT_EQ(h.bad_stamps_, 0u);
}

// A tiny ring and a consumer that holds every buffer for a while: the kernel runs out of
// buffers (ENOBUFS ends the recv), the reactor re-arms once buffers come back, and no byte is
// lost or reordered.
TEST_P(UringReactorTest, CountsBufferExhaustionAndStillDeliversEveryByteInOrder) {
  const std::vector<std::byte> file = read_file(kSmallCapture);
  UringConfig cfg = config();
  cfg.ring_buffers = 4;
  cfg.own_buffers_per_connection = 2;
  cfg.buffer_size = 2048;
  auto r = make_reactor(cfg);
  ASSERT_TRUE(r);
  Listener l;
  Server server(l, 1, file, 16 * 1024);
  Collector h(*r, 64);
  h.hold_ = true;
  int polls = 0;
  h.after_poll_ = [&] {
    if (++polls % 4 == 0) { // slow consumer: hands buffers back every 4th poll only
      std::this_thread::sleep_for(1ms);
      h.release_held();
    }
  };
  const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
  ASSERT_TRUE(c);
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == 1; }, 60s));
  h.release_held();
  const Stream &s = h.stream(c.id);
  EXPECT_EQ(s.reason, CloseReason::PeerClosed) << describe(s.reason, s.error);
  EXPECT_EQ(s.bytes, file.size());
  EXPECT_EQ(s.crc, crc_of(file));
  // Multishot keeps a recv armed, so the kernel itself hits the empty ring (ENOBUFS); the
  // single-shot modes see the shortage first and leave the recv unarmed until a buffer returns.
  if (r->recv_mode() == RecvMode::MultishotBufferRing) {
    EXPECT_GT(r->stats().enobufs, 0u);
  } else {
    EXPECT_GT(r->stats().recv_starved, 0u);
  }
  if (r->recv_mode() != RecvMode::OwnBuffers) {
    EXPECT_EQ(r->ring_buffers_available(), 4u); // every buffer is back with the kernel
  }
  std::cout << "[ stats    ] enobufs " << r->stats().enobufs << ", starved "
            << r->stats().recv_starved << ", recv SQEs " << r->stats().recv_arms << '\n';
}

TEST_P(UringReactorTest, NoHeapAllocationDuringSteadyStateReceive) {
  const std::vector<std::byte> file = read_file(kBigCapture);
  UringConfig cfg = config();
  cfg.ring_buffers = 16; // small buffers, so the measured part runs many batches and recycles
  cfg.buffer_size = 2048;
  auto r = make_reactor(cfg);
  ASSERT_TRUE(r);
  Listener l;
  Server server(l, 1, file, 4096);
  Collector h(*r, 64);
  const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
  ASSERT_TRUE(c);
  // Warm up: connected and the first 64 KB received.
  ASSERT_TRUE(h.run_until([&] { return h.stream(c.id).bytes > 64 * 1024; }, 30s));
  const std::size_t before = g_allocations.load();
  const std::uint64_t bytes_before = h.stream(c.id).bytes;
  const std::uint64_t batches_before = r->stats().batches;
  ASSERT_TRUE(h.run_until([&] { return h.stream(c.id).bytes == file.size(); }, 30s));
  const std::size_t during = g_allocations.load() - before;
  EXPECT_GT(h.stream(c.id).bytes - bytes_before, file.size() / 2);
  EXPECT_GT(r->stats().batches - batches_before, 20u);
  EXPECT_EQ(during, 0u) << "allocations while receiving " << file.size() - bytes_before << " bytes";
  EXPECT_EQ(h.stream(c.id).crc, crc_of(file));
}

TEST_P(UringReactorTest, SendsQueuedBytesInOrderAndRefusesWhatDoesNotFit) {
  const std::vector<std::byte> file = read_file(kSmallCapture);
  UringConfig cfg = config();
  cfg.send_buffer_size = 8 * 1024;
  auto r = make_reactor(cfg);
  ASSERT_TRUE(r);
  Listener l;
  std::vector<std::byte> got;
  std::thread reader([&] {
    const int fd = ::accept4(l.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    std::byte buf[4096];
    while (got.size() < file.size()) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      got.insert(got.end(), buf, buf + n);
    }
    ::close(fd);
  });
  Collector h(*r, 64);
  const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
  ASSERT_TRUE(c);
  // More than the send buffer holds is refused whole.
  EXPECT_EQ(r->send(c.id, std::span(file).first(cfg.send_buffer_size + 1)), SendStatus::NoSpace);
  EXPECT_EQ(r->send_queued(c.id), 0u);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::size_t> size(1, 3000);
  std::size_t queued = 0;
  ASSERT_TRUE(h.run_until(
      [&] {
        while (queued < file.size()) {
          const std::size_t n = std::min(size(rng), file.size() - queued);
          if (r->send(c.id, std::span(file).subspan(queued, n)) != SendStatus::Queued)
            break;
          queued += n;
        }
        return queued == file.size() && r->send_queued(c.id) == 0;
      },
      30s, 1ms));
  reader.join();
  EXPECT_EQ(got.size(), file.size());
  EXPECT_EQ(crc_of(got), crc_of(file));
  EXPECT_EQ(r->stats().send_bytes, file.size());
  r->close(c.id);
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == 1; }, 5s));
  EXPECT_EQ(h.stream(c.id).reason, CloseReason::Requested);
}

INSTANTIATE_TEST_SUITE_P(RecvModes, UringReactorTest,
                         ::testing::Values(RecvMode::MultishotBufferRing,
                                           RecvMode::SingleShotBufferRing, RecvMode::OwnBuffers),
                         mode_name);

class UringReactorErrorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    r_ = make_reactor(UringConfig{});
    ASSERT_TRUE(r_);
    h_ = std::make_unique<Collector>(*r_, 64);
  }
  // A listener whose accept queue is full: further SYNs are dropped, so connects hang.
  static void fill_backlog(Listener &l, std::vector<int> &fillers) {
    for (int i = 0; i < 4; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const Endpoint e = l.endpoint();
      (void)::connect(fd, reinterpret_cast<const sockaddr *>(&e.addr), e.len);
      fillers.push_back(fd);
    }
    std::this_thread::sleep_for(100ms);
  }
  std::unique_ptr<UringReactor> r_;
  std::unique_ptr<Collector> h_;
};

TEST_F(UringReactorErrorsTest, ReportsConnectionRefusedWithErrnoText) {
  std::uint16_t port = 0;
  {
    Listener gone; // bound, then closed: nothing listens on this port any more
    port = gone.port();
  }
  const ConnectResult c = r_->connect(*parse_endpoint("127.0.0.1", port), ConnectOptions{});
  ASSERT_TRUE(c);
  ASSERT_TRUE(h_->run_until([&] { return h_->closed_ == 1; }, 5s));
  const Stream &s = h_->stream(c.id);
  EXPECT_FALSE(s.connected);
  EXPECT_EQ(s.reason, CloseReason::ConnectFailed);
  EXPECT_EQ(s.error, ECONNREFUSED);
  EXPECT_EQ(describe(s.reason, s.error), "connect failed: Connection refused");
}

TEST_F(UringReactorErrorsTest, ReportsConnectTimeoutWhenPeerNeverAnswers) {
  Listener l(0);
  std::vector<int> fillers;
  fill_backlog(l, fillers);
  ConnectOptions o;
  o.connect_timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const ConnectResult c = r_->connect(l.endpoint(), o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(h_->run_until([&] { return h_->closed_ == 1; }, 5s));
  const auto took = std::chrono::steady_clock::now() - start;
  const Stream &s = h_->stream(c.id);
  EXPECT_EQ(s.reason, CloseReason::ConnectTimeout) << describe(s.reason, s.error);
  EXPECT_EQ(s.error, ETIMEDOUT);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
  for (const int fd : fillers)
    ::close(fd);
}

TEST_F(UringReactorErrorsTest, CancelsAPendingConnect) {
  Listener l(0);
  std::vector<int> fillers;
  fill_backlog(l, fillers);
  ConnectOptions o;
  o.connect_timeout = 30s;
  const ConnectResult c = r_->connect(l.endpoint(), o);
  ASSERT_TRUE(c);
  (void)r_->poll(0ns); // the connect is in the kernel now
  EXPECT_TRUE(r_->is_open(c.id));
  r_->close(c.id);
  ASSERT_TRUE(h_->run_until([&] { return h_->closed_ == 1; }, 2s));
  EXPECT_EQ(h_->stream(c.id).reason, CloseReason::Cancelled);
  EXPECT_FALSE(r_->is_open(c.id));
  EXPECT_EQ(r_->open_connections(), 0u);
  for (const int fd : fillers)
    ::close(fd);
}

TEST_F(UringReactorErrorsTest, ReportsNoDataOnSilentConnectionAndClosesOnRequest) {
  Listener l;
  const std::vector<std::byte> nothing;
  Server server(l, 1, nothing, 1, /*silent=*/true);
  ConnectOptions o;
  o.no_data_timeout = 100ms;
  const ConnectResult c = r_->connect(l.endpoint(), o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(h_->run_until([&] { return h_->stream(c.id).no_data > 0; }, 5s));
  EXPECT_TRUE(h_->stream(c.id).connected);
  EXPECT_FALSE(h_->stream(c.id).closed);
  r_->close(c.id);
  ASSERT_TRUE(h_->run_until([&] { return h_->closed_ == 1; }, 2s));
  EXPECT_EQ(h_->stream(c.id).reason, CloseReason::Requested);
}

TEST_F(UringReactorErrorsTest, NoDataStaysQuietWhileDataFlows) {
  const std::vector<std::byte> file = read_file(kBigCapture);
  Listener l;
  Server server(l, 1, file, 64 * 1024);
  ConnectOptions o;
  o.no_data_timeout = 2s; // the whole file arrives well within one period
  const ConnectResult c = r_->connect(l.endpoint(), o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(h_->run_until([&] { return h_->closed_ == 1; }, 30s));
  EXPECT_EQ(h_->stream(c.id).no_data, 0);
  EXPECT_EQ(h_->stream(c.id).bytes, file.size());
}

TEST_F(UringReactorErrorsTest, FiresTimersAndNeverACancelledOne) {
  const TimerId a = r_->add_timer(50ms, 1);
  const TimerId b = r_->add_timer(80ms, 2);
  const TimerId c = r_->add_timer(20ms, 3);
  ASSERT_TRUE(a.valid() && b.valid() && c.valid());
  EXPECT_TRUE(r_->cancel_timer(b));
  EXPECT_FALSE(r_->cancel_timer(b)); // already cancelled
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(h_->run_until([&] { return h_->fired_.size() == 2; }, 2s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(h_->fired_, (std::vector<std::uint64_t>{3, 1}));
  (void)h_->run_until([] { return false; }, 150ms); // b's deadline passes: still nothing
  EXPECT_EQ(h_->fired_.size(), 2u);
  EXPECT_FALSE(r_->cancel_timer(a)); // fired already
}

TEST_F(UringReactorErrorsTest, ResolvesLocalhostAndRejectsGarbage) {
  auto ok = resolve_tcp("localhost", 443);
  ASSERT_TRUE(std::holds_alternative<std::vector<Endpoint>>(ok)) << std::get<NetError>(ok).message;
  const auto &list = std::get<std::vector<Endpoint>>(ok);
  ASSERT_FALSE(list.empty());
  const std::string text = to_string(list.front());
  EXPECT_TRUE(text == "127.0.0.1:443" || text == "[::1]:443") << text;
  EXPECT_FALSE(parse_endpoint("not-an-ip", 1).has_value());
  EXPECT_EQ(to_string(*parse_endpoint("::1", 8443)), "[::1]:8443");
  auto bad = resolve_tcp("no-such-host.invalid", 80);
  EXPECT_TRUE(std::holds_alternative<NetError>(bad));
}

TEST_F(UringReactorErrorsTest, FallsBackFromSqpollOrUsesIt) {
  UringConfig cfg;
  cfg.sqpoll = true;
  cfg.sqpoll_idle_ms = 10;
  auto r = make_reactor(cfg);
  ASSERT_TRUE(r);
  std::cout << "[ setup    ] " << r->setup_notes() << '\n';
  // Either way the reactor works: one real stream through it.
  const std::vector<std::byte> file = read_file(kSmallCapture);
  Listener l;
  Server server(l, 1, file, 4096);
  Collector h(*r, 64);
  const ConnectResult c = r->connect(l.endpoint(), ConnectOptions{});
  ASSERT_TRUE(c);
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == 1; }, 30s));
  EXPECT_EQ(h.stream(c.id).crc, crc_of(file));
}

TEST_F(UringReactorErrorsTest, BusyPollModeDeliversTheSameBytes) {
  UringConfig cfg;
  cfg.busy_poll = true;
  auto r = make_reactor(cfg);
  ASSERT_TRUE(r);
  const std::vector<std::byte> file = read_file(kSmallCapture);
  Listener l;
  Server server(l, 1, file, 4096);
  Collector h(*r, 64);
  ConnectOptions o;
  o.socket.busy_poll_us = 50; // refused without CAP_NET_ADMIN: counted, not fatal
  const ConnectResult c = r->connect(l.endpoint(), o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(h.run_until([&] { return h.closed_ == 1; }, 30s));
  EXPECT_EQ(h.stream(c.id).crc, crc_of(file));
  EXPECT_EQ(h.stream(c.id).bytes, file.size());
  std::cout << "[ stats    ] SO_BUSY_POLL refused " << r->stats().busy_poll_refused << '\n';
}

} // namespace
} // namespace fh::net
