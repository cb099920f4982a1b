#include "net/uring_socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fh::net {

NetResult<std::vector<Endpoint>> resolve_tcp(const std::string &host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  addrinfo *list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(rc);
    return NetError{"resolve " + host + ":" + service + " failed: " + why};
  }
  std::vector<Endpoint> out;
  for (const addrinfo *a = list; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    Endpoint e;
    std::memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    e.len = a->ai_addrlen;
    out.push_back(e);
  }
  ::freeaddrinfo(list);
  if (out.empty())
    return NetError{"resolve " + host + ":" + service + ": no TCP address"};
  return out;
}

std::optional<Endpoint> parse_endpoint(std::string_view ip, std::uint16_t port) noexcept {
  char text[INET6_ADDRSTRLEN + 1];
  if (ip.size() >= sizeof(text))
    return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  Endpoint e;
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&e.addr, &v4, sizeof(v4));
    e.len = sizeof(v4);
    return e;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&e.addr, &v6, sizeof(v6));
    e.len = sizeof(v6);
    return e;
  }
  return std::nullopt;
}

std::string to_string(const Endpoint &endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  if (endpoint.addr.ss_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &endpoint.addr, sizeof(v4));
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  if (endpoint.addr.ss_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &endpoint.addr, sizeof(v6));
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6.sin6_port));
  }
  return "<unknown address family " + std::to_string(endpoint.addr.ss_family) + ">";
}

SocketOpen open_tcp_socket(int family, const SocketOptions &options) noexcept {
  SocketOpen out;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    out.error = errno;
    return out;
  }
  if (options.tcp_nodelay) {
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      out.error = errno;
      ::close(fd);
      return out;
    }
  }
  if (options.busy_poll_us > 0) {
    out.busy_poll_applied = ::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &options.busy_poll_us,
                                         sizeof(options.busy_poll_us)) == 0;
  }
  if (options.recv_buffer > 0) {
    // Best effort: the kernel clamps it to net.core.rmem_max anyway.
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.recv_buffer,
                       sizeof(options.recv_buffer));
  }
  out.fd = fd;
  return out;
}

const char *errno_text(int error) noexcept {
  const char *text = ::strerrordesc_np(error);
  return text != nullptr ? text : "unknown error";
}

} // namespace fh::net
