// TlsSession: SSL object wired to two memory BIOs; status mapping; cold error formatting.
#include "net/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <utility>

#include "net/tls_context_state.hpp"

namespace fh::net {
namespace {

// SSL_get_error() is only reliable when the thread's error queue was empty before the call.
// Our own failures always drain it (tls_error_text), so it is normally empty already; this
// guards against other OpenSSL users on the same thread (e.g. hashing in the WebSocket layer).
inline void clear_stale_errors() noexcept {
  if (ERR_peek_error() != 0)
    ERR_clear_error();
}

// "[::1]" -> "::1"; anything inet_pton accepts is an IP literal.
bool is_ip_literal(const std::string &host, std::string &bare) {
  bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  unsigned char buf[16];
  return inet_pton(AF_INET, bare.c_str(), buf) == 1 || inet_pton(AF_INET6, bare.c_str(), buf) == 1;
}

struct NewSsl {
  SSL *ssl;
  BIO *in;
  BIO *out;
};

TlsResult<NewSsl> new_ssl(const TlsContext &ctx, std::string_view role) {
  ERR_clear_error();
  SSL *ssl = SSL_new(ctx.native_handle());
  if (ssl == nullptr)
    return TlsError{tls_error_text("tls " + std::string(role) + ": SSL_new")};
  BIO *in = BIO_new(BIO_s_mem());
  BIO *out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl);
    return TlsError{tls_error_text("tls " + std::string(role) + ": memory BIO")};
  }
  // An empty BIO means "no bytes yet" (retry), not EOF, until feed_eof().
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out); // ssl owns both from here
  return NewSsl{ssl, in, out};
}

} // namespace

int tls_on_new_session(SSL *ssl, SSL_SESSION *session) noexcept {
  auto *self = static_cast<TlsSession *>(SSL_get_app_data(ssl));
  TlsContextState *state = tls_context_state(SSL_get_SSL_CTX(ssl));
  if (self == nullptr || state == nullptr || !state->session_cache)
    return 0;
  try {
    state->session_cache->put(self->host(), session);
    return 1; // the cache holds the reference OpenSSL handed us
  } catch (...) {
    return 0; // out of memory: not cached, OpenSSL keeps its reference
  }
}

TlsResult<TlsSession> TlsSession::client(const TlsContext &ctx, std::string_view host) {
  if (ctx.is_server())
    return TlsError{"tls client: given a server context"};
  if (host.empty() || host.find('\0') != std::string_view::npos)
    return TlsError{"tls client: host name must be non-empty text"};
  auto made = new_ssl(ctx, "client");
  if (auto *err = std::get_if<TlsError>(&made))
    return std::move(*err);
  const NewSsl n = std::get<NewSsl>(made);
  TlsSession s(n.ssl, n.in, n.out, false);
  SSL_set_connect_state(n.ssl);
  s.host_.assign(host);

  std::string bare;
  if (is_ip_literal(s.host_, bare)) {
    // No SNI for addresses (RFC 6066 section 3); the certificate must list the IP.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n.ssl), bare.c_str()) != 1)
      return TlsError{tls_error_text("tls client: expected IP address '" + s.host_ + "'")};
  } else {
    // SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.
    if (SSL_ctrl(n.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char *>(s.host_.c_str())) != 1)
      return TlsError{tls_error_text("tls client: SNI '" + s.host_ + "'")};
    SSL_set_hostflags(n.ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(n.ssl, s.host_.c_str()) != 1)
      return TlsError{tls_error_text("tls client: expected host name '" + s.host_ + "'")};
  }

  const TlsContextState *state = tls_context_state(SSL_get_SSL_CTX(n.ssl));
  if (state != nullptr && state->session_cache) {
    if (SSL_SESSION *cached = state->session_cache->get(s.host_)) {
      const int ok = SSL_set_session(n.ssl, cached); // takes its own reference
      SSL_SESSION_free(cached);
      if (ok != 1)
        return TlsError{tls_error_text("tls client: resuming session")};
    }
  }
  return s;
}

TlsResult<TlsSession> TlsSession::server(const TlsContext &ctx) {
  if (!ctx.is_server())
    return TlsError{"tls server: given a client context"};
  auto made = new_ssl(ctx, "server");
  if (auto *err = std::get_if<TlsError>(&made))
    return std::move(*err);
  const NewSsl n = std::get<NewSsl>(made);
  TlsSession s(n.ssl, n.in, n.out, true);
  SSL_set_accept_state(n.ssl);
  return s;
}

TlsSession::TlsSession(SSL *ssl, BIO *in, BIO *out, bool server) noexcept
    : ssl_(ssl), in_(in), out_(out), server_(server) {
  SSL_set_app_data(ssl_, this); // read back by tls_on_new_session
}

TlsSession::TlsSession(TlsSession &&other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)), in_(std::exchange(other.in_, nullptr)),
      out_(std::exchange(other.out_, nullptr)), server_(other.server_), failed_(other.failed_),
      established_(other.established_), host_(std::move(other.host_)),
      error_(std::move(other.error_)) {
  if (ssl_ != nullptr)
    SSL_set_app_data(ssl_, this);
}

TlsSession &TlsSession::operator=(TlsSession &&other) noexcept {
  if (this != &other) {
    SSL_free(ssl_);
    ssl_ = std::exchange(other.ssl_, nullptr);
    in_ = std::exchange(other.in_, nullptr);
    out_ = std::exchange(other.out_, nullptr);
    server_ = other.server_;
    failed_ = other.failed_;
    established_ = other.established_;
    host_ = std::move(other.host_);
    error_ = std::move(other.error_);
    if (ssl_ != nullptr)
      SSL_set_app_data(ssl_, this);
  }
  return *this;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
} // frees both BIOs too

// ---- data path -------------------------------------------------------------------------

TlsStatus TlsSession::feed_ciphertext(const void *data, std::size_t len) noexcept {
  const auto *p = static_cast<const unsigned char *>(data);
  while (len > 0) {
    std::size_t written = 0;
    // A memory BIO takes everything (up to INT_MAX per call); it fails only without memory.
    if (BIO_write_ex(in_, p, len, &written) != 1 || written == 0)
      return fail(SSL_ERROR_SSL, "feeding ciphertext");
    p += written;
    len -= written;
  }
  return TlsStatus::Ok;
}

void TlsSession::feed_eof() noexcept {
  BIO_set_mem_eof_return(in_, 0);
}

TlsStatus TlsSession::step() noexcept {
  if (failed_)
    return TlsStatus::Error;
  if (established_)
    return TlsStatus::Ok;
  clear_stale_errors();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    return TlsStatus::Ok;
  }
  return on_io_result(r, "handshake");
}

bool TlsSession::handshake_done() const noexcept {
  return established_ || (ssl_ != nullptr && SSL_is_init_finished(ssl_) == 1);
}

TlsRead TlsSession::read_plaintext(void *out, std::size_t cap) noexcept {
  if (failed_)
    return {TlsStatus::Error, 0};
  if (cap == 0)
    return {misuse("tls read_plaintext with a zero-sized buffer"), 0};
  clear_stale_errors();
  std::size_t n = 0;
  const int r = SSL_read_ex(ssl_, out, cap, &n);
  if (r == 1) {
    established_ = true; // application data only flows after the handshake
    return {TlsStatus::Ok, n};
  }
  return {on_io_result(r, "read"), 0};
}

TlsStatus TlsSession::write_plaintext(const void *data, std::size_t len) noexcept {
  if (failed_)
    return TlsStatus::Error;
  if (len == 0)
    return TlsStatus::Ok;
  if (close_sent())
    return misuse("tls write after our close_notify");
  clear_stale_errors();
  std::size_t n = 0;
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, success means all `len` bytes became records.
  const int r = SSL_write_ex(ssl_, data, len, &n);
  if (r == 1) {
    established_ = true;
    return TlsStatus::Ok;
  }
  // Writing after the peer's close_notify is allowed (half close), so Closed here would mean
  // OpenSSL refused; for a writer that is an error.
  const TlsStatus s = on_io_result(r, "write");
  return s == TlsStatus::Closed ? misuse("tls write refused after close") : s;
}

std::size_t TlsSession::pending_ciphertext() const noexcept {
  return BIO_ctrl_pending(out_);
}

std::size_t TlsSession::take_ciphertext(void *out, std::size_t cap) noexcept {
  if (cap == 0)
    return 0;
  std::size_t n = 0;
  if (BIO_read_ex(out_, out, cap, &n) != 1)
    return 0; // nothing pending
  return n;
}

TlsStatus TlsSession::close() noexcept {
  if (failed_)
    return TlsStatus::Error;
  // OpenSSL cannot send close_notify mid-handshake; the caller just drops the connection.
  if (!handshake_done())
    return misuse("tls close before the handshake completed");
  clear_stale_errors();
  // 0: our close_notify is queued, the peer's not yet seen; 1: both directions are closed.
  const int r = SSL_shutdown(ssl_);
  if (r >= 0)
    return TlsStatus::Ok;
  return on_io_result(r, "close");
}

bool TlsSession::close_sent() const noexcept {
  return (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
}

bool TlsSession::close_received() const noexcept {
  return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0;
}

TlsStatus TlsSession::on_io_result(int ret, std::string_view what) noexcept {
  // read/write may have completed the handshake before asking for more bytes.
  if (!established_)
    established_ = SSL_is_init_finished(ssl_) == 1;
  const int e = SSL_get_error(ssl_, ret);
  switch (e) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: // cannot happen with a memory BIO, which never refuses a write
    return TlsStatus::WantMore;
  case SSL_ERROR_ZERO_RETURN:
    return TlsStatus::Closed;
  default:
    return fail(e, what);
  }
}

TlsStatus TlsSession::fail(int ssl_error, std::string_view what) noexcept {
  failed_ = true;
  try {
    std::string context;
    if (!established_ && what != "feeding ciphertext") {
      context = server_ ? "tls handshake (server side) failed"
                        : "tls handshake with " + host_ + " failed";
    } else {
      context = "tls ";
      context += what;
      context += " failed";
    }
    std::string text;
    if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      text = context + ": unexpected eof (socket closed without close_notify)";
    } else {
      text = tls_error_text(context);
    }
    // Name the certificate problem; OpenSSL's queue only says "certificate verify failed".
    const long verify = server_ ? X509_V_OK : SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK && !established_) {
      text += " (X509: ";
      text += X509_verify_cert_error_string(verify);
      text += ')';
    }
    error_ = std::move(text);
  } catch (...) {
    ERR_clear_error();
    error_.clear();
  }
  return TlsStatus::Error;
}

TlsStatus TlsSession::misuse(std::string_view what) noexcept {
  try {
    error_.assign(what);
  } catch (...) {
    error_.clear();
  }
  return TlsStatus::Error;
}

// ---- information -----------------------------------------------------------------------

std::string_view TlsSession::host() const noexcept {
  if (!server_)
    return host_;
  const char *sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return sni != nullptr ? std::string_view(sni) : std::string_view();
}

std::string_view TlsSession::alpn() const noexcept {
  const unsigned char *data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data != nullptr ? std::string_view(reinterpret_cast<const char *>(data), len)
                         : std::string_view();
}

std::string_view TlsSession::protocol() const noexcept {
  return SSL_get_version(ssl_);
}

std::string_view TlsSession::cipher() const noexcept {
  const SSL_CIPHER *c = SSL_get_current_cipher(ssl_);
  return c != nullptr ? std::string_view(SSL_CIPHER_get_name(c)) : std::string_view();
}

bool TlsSession::resumed() const noexcept {
  return SSL_session_reused(ssl_) == 1;
}

} // namespace fh::net
