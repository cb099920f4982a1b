// Blocking TLS over a socket with net::TlsSession's memory BIOs (see tls_stream.hpp).
#include "tools/fh-venue/tls_stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace fh::venue_tool {

TlsStream::~TlsStream() {
  if (fd_ >= 0) ::close(fd_);
}

bool TlsStream::flush() {
  char buf[16384];
  while (session_.pending_ciphertext() > 0) {
    const std::size_t n = session_.take_ciphertext(buf, sizeof buf);
    std::size_t off = 0;
    while (off < n) {
      const ssize_t w = ::send(fd_, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        error_ = "send failed";
        return false;
      }
      off += static_cast<std::size_t>(w);
    }
  }
  return true;
}

int TlsStream::pump(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, timeout_ms);
  if (r == 0) return 0;
  if (r < 0) return errno == EINTR ? 0 : -1;
  char buf[16384];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    session_.feed_eof();
    return -1;
  }
  return session_.feed_ciphertext(buf, static_cast<std::size_t>(n)) == net::TlsStatus::Ok ? 1 : -1;
}

bool TlsStream::handshake(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const net::TlsStatus s = session_.step();
    if (!flush()) return false;
    if (s == net::TlsStatus::Ok) return true;
    if (s != net::TlsStatus::WantMore) {
      error_ = session_.last_error();
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error_ = "handshake timed out";
      return false;
    }
    if (pump(static_cast<int>(left.count())) < 0) {
      error_ = "peer closed during handshake";
      return false;
    }
  }
}

long TlsStream::read(char *out, std::size_t cap, int timeout_ms) {
  bool waited = false;
  for (;;) {
    const net::TlsRead r = session_.read_plaintext(out, cap);
    if (!flush()) return -1;
    if (r.status == net::TlsStatus::Ok) return static_cast<long>(r.bytes);
    if (r.status != net::TlsStatus::WantMore) return -1;
    if (waited) return 0;
    const int p = pump(timeout_ms);
    if (p < 0) {
      // Whatever plaintext came before EOF is still returned by the next read.
      const net::TlsRead last = session_.read_plaintext(out, cap);
      return last.status == net::TlsStatus::Ok ? static_cast<long>(last.bytes) : -1;
    }
    if (p == 0) waited = true; // timed out: one more read attempt, then report 0
  }
}

bool TlsStream::write_all(std::string_view data) {
  if (session_.write_plaintext(data.data(), data.size()) != net::TlsStatus::Ok) {
    error_ = session_.last_error();
    return false;
  }
  return flush();
}

void TlsStream::close_gracefully() {
  if (fd_ < 0) return;
  if (session_.handshake_done() && session_.close() != net::TlsStatus::Error) (void)flush();
  ::shutdown(fd_, SHUT_WR);
  ::close(fd_);
  fd_ = -1;
}

void TlsStream::abort() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

} // namespace fh::venue_tool
