#pragma once
// One TLS connection (client or server) over a pair of OpenSSL memory BIOs.
//
// Why shaped so: the io_uring reactor owns the socket and completes reads and writes
// asynchronously, so TLS must never touch a file descriptor. The session only moves bytes
// between four places the caller drives:
//
//   socket recv ──feed_ciphertext──▶ [in BIO] ─SSL_read──▶ read_plaintext ──▶ WebSocket
//   socket send ◀─take_ciphertext─── [out BIO] ◀SSL_write─ write_plaintext ◀── WebSocket
//
// After any call (feed, step, read, write, close) the caller sends pending_ciphertext():
// handshake flights, TLS 1.3 key updates and close_notify appear there, not only data.
// There are no syscalls here (getrandom during the handshake aside, inside OpenSSL) and no
// callbacks into the reactor: completion-based I/O stays in the reactor.
//
// Allocation: none of ours after creation except formatting last_error(). OpenSSL allocates
// its record buffers on first use and keeps them (SSL_MODE_RELEASE_BUFFERS is not set), and a
// memory BIO grows to the largest backlog it has held and then reuses that buffer (it compacts
// with memmove on write, never shrinks). What remains per record in OpenSSL 3.0 is small
// scratch: its WPACKET builder mallocs and frees a 40-byte sub-packet header per use, 3 times
// per record written (record header, AEAD additional data) and once per record read (AAD).
// Nothing grows or is kept; tests/net/tls_session_test.cpp counts every OpenSSL allocation
// and holds it to exactly that. Removing those would need a process-wide allocator hook
// (CRYPTO_set_mem_functions with a per-thread free list), set before OpenSSL's first use.
//
// A session is bound to one thread at a time (OpenSSL's error queue is thread-local) and is
// movable (the SSL keeps a back pointer, re-pointed on move), so it can sit in a slot array.
#include <openssl/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "net/tls_context.hpp"
#include "net/tls_error.hpp"

namespace fh::net {

struct TlsRead {
  TlsStatus status; // Ok: `bytes` > 0 of plaintext were written to the caller's buffer
  std::size_t bytes;
};

class TlsSession {
public:
  // Client: SNI and host-name verification for `host` (a DNS name, or an IPv4/IPv6 literal,
  // which is checked against the certificate's IP SANs and sent without SNI, RFC 6066 s3).
  // Resumes the cached session for `host` when the context keeps a cache.
  [[nodiscard]] static TlsResult<TlsSession> client(const TlsContext &ctx, std::string_view host);
  // Server (accept side) for a context made by TlsContext::server.
  [[nodiscard]] static TlsResult<TlsSession> server(const TlsContext &ctx);

  TlsSession(TlsSession &&other) noexcept;
  TlsSession &operator=(TlsSession &&other) noexcept;
  TlsSession(const TlsSession &) = delete;
  TlsSession &operator=(const TlsSession &) = delete;
  ~TlsSession();

  // ---- ciphertext from the socket ----
  // Appends bytes received from the peer (any split: a record may arrive one byte at a time).
  // Error only if OpenSSL cannot grow the buffer.
  [[nodiscard]] TlsStatus feed_ciphertext(const void *data, std::size_t len) noexcept;
  // The socket reached EOF. Without the peer's close_notify first, the next read is an Error
  // ("unexpected eof while reading": the stream may have been truncated).
  void feed_eof() noexcept;

  // ---- handshake ----
  // Drives the handshake as far as the fed ciphertext allows. Ok once complete (and on every
  // later call); WantMore: send pending_ciphertext() and feed the peer's answer. A client's
  // first step() produces the ClientHello. read_plaintext/write_plaintext also drive it.
  [[nodiscard]] TlsStatus step() noexcept;
  // True once the handshake has completed; stays true after a later error or close.
  [[nodiscard]] bool handshake_done() const noexcept;

  // ---- plaintext ----
  // Up to `cap` (> 0) bytes (at most one TLS record's worth per call; loop until WantMore).
  // Closed: the peer's close_notify was read (all data before it has been returned).
  [[nodiscard]] TlsRead read_plaintext(void *out, std::size_t cap) noexcept;
  // Encrypts all `len` bytes into pending ciphertext (Ok), or nothing: WantMore while the
  // handshake is still running (call again with the same bytes later), Error after our
  // close() (session intact: the peer's data can still be read) or a fatal error.
  [[nodiscard]] TlsStatus write_plaintext(const void *data, std::size_t len) noexcept;

  // ---- ciphertext to the socket ----
  [[nodiscard]] std::size_t pending_ciphertext() const noexcept;
  // Moves up to `cap` pending bytes into `out`; returns how many.
  [[nodiscard]] std::size_t take_ciphertext(void *out, std::size_t cap) noexcept;

  // ---- close ----
  // Queues our close_notify (send it, then close or keep reading for the peer's). Ok also when
  // the peer's close_notify already arrived; WantMore when called again before it arrives.
  // Error if the handshake is unfinished or failed.
  // Only a session closed this way keeps its ticket resumable: OpenSSL invalidates the
  // session of a connection dropped without our close_notify.
  [[nodiscard]] TlsStatus close() noexcept;
  [[nodiscard]] bool close_sent() const noexcept;
  [[nodiscard]] bool close_received() const noexcept;

  // ---- control-path information ----
  // Error means the call failed; failed() says whether the session is dead (a fatal TLS error)
  // or the call was merely made in the wrong state (e.g. write after close) and nothing broke.
  // Why the last Error happened, one line (handshake failures name the certificate problem,
  // e.g. "... certificate verify failed (X509: hostname mismatch)"). Empty if none.
  const std::string &last_error() const noexcept { return error_; }
  bool failed() const noexcept { return failed_; }
  bool is_server() const noexcept { return server_; }
  // Client: the host given at creation. Server: the SNI the client sent ("" if none).
  std::string_view host() const noexcept;
  std::string_view alpn() const noexcept;     // negotiated protocol, "" if none
  std::string_view protocol() const noexcept; // "TLSv1.3", "TLSv1.2"
  std::string_view cipher() const noexcept;   // e.g. "TLS_AES_256_GCM_SHA384"
  bool resumed() const noexcept;              // the handshake resumed a cached session
  // The OpenSSL handle, for knobs not wrapped here. The session keeps ownership.
  SSL *native_handle() const noexcept { return ssl_; }

private:
  TlsSession(SSL *ssl, BIO *in, BIO *out, bool server) noexcept;
  [[nodiscard]] TlsStatus on_io_result(int ret, std::string_view what) noexcept;
  [[gnu::cold]] TlsStatus fail(int ssl_error, std::string_view what) noexcept; // sets failed_
  [[gnu::cold]] TlsStatus misuse(std::string_view what) noexcept; // wrong call, session intact

  SSL *ssl_ = nullptr; // owns in_ and out_ (SSL_set_bio)
  BIO *in_ = nullptr;  // ciphertext from the peer, read by OpenSSL
  BIO *out_ = nullptr; // ciphertext for the peer, written by OpenSSL
  bool server_ = false;
  bool failed_ = false;
  bool established_ = false; // the handshake completed (OpenSSL forgets after a fatal error)
  std::string host_;         // client: verification and cache key
  std::string error_;        // last_error()
};

} // namespace fh::net
