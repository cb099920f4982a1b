#include "bench/loopback/kernel_oneway.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "net/uring_reactor.hpp"
#include "shm/segment_file.hpp"

namespace fh::bench::loopback {
namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void set_nodelay(int fd) {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Listening socket on 127.0.0.1, any port.
std::variant<int, std::string> listen_loopback(sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_text("socket");
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string e = errno_text("bind/listen");
    ::close(fd);
    return e;
  }
  return fd;
}

// Sends options.messages messages on `fd`, one every interval; each starts with its send time.
void send_messages(int fd, const OnewayOptions& o, std::atomic<bool>& failed) {
  std::vector<char> msg(o.bytes, 'x');
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  const std::int64_t t0 = static_cast<std::int64_t>(start.tv_sec) * 1'000'000'000 + start.tv_nsec;
  const std::int64_t step = std::chrono::nanoseconds(o.interval).count();
  for (std::size_t i = 0; i < o.messages; ++i) {
    const std::int64_t at =
        t0 + (o.schedule_ns.empty() ? static_cast<std::int64_t>(i + 1) * step : o.schedule_ns[i]);
    const timespec next{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    const std::int64_t now = shm::realtime_ns();
    std::memcpy(msg.data(), &now, sizeof now);
    std::size_t off = 0;
    while (off < msg.size()) {
      const ssize_t n = ::send(fd, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        failed = true;
        return;
      }
      off += static_cast<std::size_t>(n);
    }
  }
}

// Cuts the received byte stream into messages and stamps each.
struct Collector {
  const OnewayOptions* o;
  std::vector<std::int64_t>* out;
  std::vector<char> partial;
  std::size_t have = 0;
  void feed(const char* p, std::size_t n, std::int64_t recv_ns) {
    while (n > 0) {
      const std::size_t take = std::min(n, o->bytes - have);
      std::memcpy(partial.data() + have, p, take);
      have += take;
      p += take;
      n -= take;
      if (have == o->bytes) {
        std::int64_t sent = 0;
        std::memcpy(&sent, partial.data(), sizeof sent);
        if (out->size() < out->capacity()) out->push_back(recv_ns - sent);
        have = 0;
      }
    }
  }
};

std::variant<std::vector<std::int64_t>, std::string> blocking(const OnewayOptions& o, int listen_fd,
                                                              const sockaddr_in& addr) {
  Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (client.fd < 0 || ::connect(client.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return errno_text("connect");
  Fd server(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (server.fd < 0) return errno_text("accept");
  set_nodelay(client.fd);
  set_nodelay(server.fd);
  std::vector<std::int64_t> lat;
  lat.reserve(o.messages);
  Collector c{&o, &lat, std::vector<char>(o.bytes), 0};
  std::atomic<bool> failed{false};
  std::thread sender([&] { send_messages(server.fd, o, failed); });
  std::vector<char> buf(64 * 1024);
  while (lat.size() < o.messages) {
    const ssize_t n = ::recv(client.fd, buf.data(), buf.size(), 0);
    const std::int64_t now = shm::realtime_ns();
    if (n <= 0) break;
    c.feed(buf.data(), static_cast<std::size_t>(n), now);
  }
  sender.join();
  if (failed || lat.size() != o.messages) return std::string("kernel one-way: connection failed early");
  return lat;
}

struct UringSide {
  net::UringReactor* reactor;
  Collector* c;
  bool connected = false, closed = false;
  void on_connected(net::ConnId) { connected = true; }
  void on_data(net::ConnId, net::RecvBuffer b, std::int64_t ns) {
    c->feed(reinterpret_cast<const char*>(b.data.data()), b.data.size(), ns);
    reactor->recycle(b.id);
  }
  void on_no_data(net::ConnId) {}
  void on_closed(net::ConnId, net::CloseReason, int) { closed = true; }
  void on_timer(net::TimerId, std::uint64_t) {}
};

std::variant<std::vector<std::int64_t>, std::string> uring(const OnewayOptions& o, int listen_fd,
                                                           const sockaddr_in& addr) {
  auto created = net::UringReactor::create({});
  if (auto* e = std::get_if<net::NetError>(&created)) return e->message;
  net::UringReactor& reactor = *std::get<std::unique_ptr<net::UringReactor>>(created);
  net::Endpoint ep;
  std::memcpy(&ep.addr, &addr, sizeof addr);
  ep.len = sizeof addr;
  const net::ConnectResult r = reactor.connect(ep, net::ConnectOptions{});
  if (!r) return std::string("uring connect: ") + std::strerror(r.error);
  reactor.flush();
  Fd server(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (server.fd < 0) return errno_text("accept");
  set_nodelay(server.fd);
  std::vector<std::int64_t> lat;
  lat.reserve(o.messages);
  Collector c{&o, &lat, std::vector<char>(o.bytes), 0};
  UringSide side{&reactor, &c};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!side.connected && !side.closed && std::chrono::steady_clock::now() < deadline)
    reactor.run_once(side, std::chrono::milliseconds(50));
  if (!side.connected) return std::string("uring connect did not complete");
  std::atomic<bool> failed{false};
  std::thread sender([&] { send_messages(server.fd, o, failed); });
  const auto length = o.schedule_ns.empty() ? std::chrono::nanoseconds(o.interval * o.messages)
                                            : std::chrono::nanoseconds(o.schedule_ns.back());
  const auto end = std::chrono::steady_clock::now() + length + std::chrono::seconds(10);
  while (lat.size() < o.messages && !side.closed && std::chrono::steady_clock::now() < end)
    reactor.run_once(side, std::chrono::milliseconds(50));
  sender.join();
  reactor.close(r.id);
  for (int i = 0; i < 20 && !side.closed; ++i) reactor.run_once(side, std::chrono::milliseconds(50));
  if (failed || lat.size() != o.messages) return std::string("uring one-way: connection failed early");
  return lat;
}

} // namespace

std::variant<std::vector<std::int64_t>, std::string> tcp_oneway(const OnewayOptions& given,
                                                                 OnewayReceiver receiver) {
  OnewayOptions options = given;
  if (!options.schedule_ns.empty()) options.messages = options.schedule_ns.size();
  sockaddr_in addr{};
  auto l = listen_loopback(addr);
  if (auto* e = std::get_if<std::string>(&l)) return *e;
  Fd listener(std::get<int>(l));
  return receiver == OnewayReceiver::BlockingRecv ? blocking(options, listener.fd, addr)
                                                  : uring(options, listener.fd, addr);
}

} // namespace fh::bench::loopback
