#pragma once
// TCP endpoints and sockets for the io_uring reactor: the control-path half of a connection.
//
// Why shaped so: DNS (getaddrinfo) blocks and allocates, so it runs on the control thread and
// hands the ingest thread an Endpoint (a sockaddr, trivially copyable, no heap). Socket options
// are set here, before connect, so the ingest thread never makes a setsockopt call. Options
// that need privilege (SO_BUSY_POLL above net.core.busy_read needs CAP_NET_ADMIN) are tried and
// reported as not applied, never fatal: the feed works without them.
// The socket stays in blocking mode on purpose: io_uring issues every request non-blocking
// itself and arms its internal poll on EAGAIN/EINPROGRESS; an O_NONBLOCK file would instead make
// some kernels hand -EINPROGRESS/-EAGAIN back to us.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace fh::net {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};
static_assert(std::is_trivially_copyable_v<Endpoint>);

// One line of text for the control path (same shape as TlsError).
struct NetError {
  std::string message;
};
template <class T> using NetResult = std::variant<T, NetError>;

// Blocking getaddrinfo (control path only): every TCP address of host:port in the resolver's
// preferred order. Literal IPv4/IPv6 addresses resolve without DNS.
[[nodiscard]] NetResult<std::vector<Endpoint>> resolve_tcp(const std::string &host,
                                                           std::uint16_t port);

// A literal IPv4 or IPv6 address (no DNS, no allocation); nullopt if `ip` is not one.
[[nodiscard]] std::optional<Endpoint> parse_endpoint(std::string_view ip,
                                                     std::uint16_t port) noexcept;

// "127.0.0.1:8443" or "[::1]:8443" (control path: allocates).
[[nodiscard]] std::string to_string(const Endpoint &endpoint);

struct SocketOptions {
  bool tcp_nodelay = true; // venue messages are small and latency-bound: no Nagle
  int busy_poll_us = 0;    // SO_BUSY_POLL; 0 = leave the system default
  int recv_buffer = 0;     // SO_RCVBUF bytes; 0 = kernel autotuning
};

struct SocketOpen {
  int fd = -1;   // >= 0 on success
  int error = 0; // errno of the failed socket()/setsockopt that matters
  bool busy_poll_applied = false;
};

// A TCP socket for `family` (AF_INET/AF_INET6) with `options` applied. TCP_NODELAY failing is
// an error (it is never refused on TCP); SO_BUSY_POLL/SO_RCVBUF failing is reported, not fatal.
[[nodiscard]] SocketOpen open_tcp_socket(int family, const SocketOptions &options) noexcept;

// Human text for an errno value: static storage, no allocation, thread-safe (strerrordesc_np,
// unlike strerror which may format into a shared buffer).
[[nodiscard]] const char *errno_text(int error) noexcept;

} // namespace fh::net
