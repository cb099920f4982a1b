#pragma once
// A blocking TLS stream over one accepted socket, for fh-venue's thread-per-connection server.
//
// Why shaped so: net/TlsSession never touches a file descriptor (the feed handler's reactor
// owns the socket), so a server built on it must move the ciphertext itself. A test tool can
// afford blocking sends and poll() with a timeout for reads; the timeout lets a connection
// thread interleave reading the client (subscribe, ping, close) with sending paced frames.
#include <cstddef>
#include <string>
#include <string_view>

#include "net/tls_session.hpp"

namespace fh::venue_tool {

class TlsStream {
public:
  TlsStream(int fd, net::TlsSession session) : fd_(fd), session_(std::move(session)) {}
  TlsStream(const TlsStream &) = delete;
  TlsStream &operator=(const TlsStream &) = delete;
  ~TlsStream();

  // Completes the server handshake within `timeout_ms`. False: error() says why.
  bool handshake(int timeout_ms);
  // Plaintext into `out`: > 0 bytes read, 0 nothing within timeout_ms, -1 closed or failed.
  long read(char *out, std::size_t cap, int timeout_ms);
  // Encrypts and sends all of `data`. False if the peer is gone.
  bool write_all(std::string_view data);
  // Sends close_notify (best effort), then closes the socket.
  void close_gracefully();
  // Closes the socket with no close_notify: what a dropped connection looks like.
  void abort();
  const std::string &error() const noexcept { return error_; }

private:
  bool flush();
  // Waits up to timeout_ms for ciphertext and feeds it: 1 fed, 0 timeout, -1 EOF/error.
  int pump(int timeout_ms);

  int fd_;
  net::TlsSession session_;
  std::string error_;
};

} // namespace fh::venue_tool
