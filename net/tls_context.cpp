// TlsContext: builds the SSL_CTX for each role and attaches TlsContextState to it.
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "net/tls_context_state.hpp"

namespace fh::net {
namespace {

void free_state(void * /*parent*/, void *ptr, CRYPTO_EX_DATA * /*ad*/, int /*idx*/, long /*argl*/,
                void * /*argp*/) {
  delete static_cast<TlsContextState *>(ptr);
}

// One ex-data slot per process for our state; its free callback runs inside SSL_CTX_free.
int state_index() noexcept {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_state);
  return index;
}

int to_openssl(TlsVersion v) noexcept {
  return v == TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

using CtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

TlsError error_from_queue(std::string_view context) {
  return TlsError{tls_error_text(context)};
}

// Common to both roles: protocol range, no renegotiation (a mid-stream handshake would make a
// read need a write and the reverse), state slot attached.
TlsResult<CtxPtr> new_ctx(const SSL_METHOD *method, TlsVersion min, TlsVersion max,
                          std::string_view role) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(method), &SSL_CTX_free);
  if (!ctx)
    return error_from_queue(std::string("tls ") + std::string(role) + " context");
  if (to_openssl(min) > to_openssl(max))
    return TlsError{"tls " + std::string(role) + " context: min_version above max_version"};
  if (SSL_CTX_set_min_proto_version(ctx.get(), to_openssl(min)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), to_openssl(max)) != 1)
    return error_from_queue("tls " + std::string(role) + " context: protocol version range");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  auto state = std::make_unique<TlsContextState>();
  if (state_index() < 0 || SSL_CTX_set_ex_data(ctx.get(), state_index(), state.get()) != 1)
    return error_from_queue("tls " + std::string(role) + " context: ex-data slot");
  state.release(); // now owned by the SSL_CTX (free_state)
  return ctx;
}

// ALPN wire format: each protocol as <length byte><bytes>.
TlsResult<std::string> alpn_wire(const std::vector<std::string> &protocols) {
  std::string wire;
  for (const auto &p : protocols) {
    if (p.empty() || p.size() > 255)
      return TlsError{"tls: ALPN protocol name must be 1..255 bytes, got " +
                      std::to_string(p.size())};
    wire += static_cast<char>(static_cast<unsigned char>(p.size()));
    wire += p;
  }
  return wire;
}

const unsigned char *as_bytes(const std::string &s) noexcept {
  return reinterpret_cast<const unsigned char *>(s.data());
}

int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                unsigned int inlen, void * /*arg*/) {
  const TlsContextState *state = tls_context_state(SSL_get_SSL_CTX(ssl));
  if (state == nullptr || state->alpn_wire.empty())
    return SSL_TLSEXT_ERR_NOACK;
  unsigned char *chosen = nullptr;
  // Server preference order; SSL_select_next_proto does not write through its inputs.
  const int r =
      SSL_select_next_proto(&chosen, outlen, as_bytes(state->alpn_wire),
                            static_cast<unsigned int>(state->alpn_wire.size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

bool is_directory(const std::string &path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

} // namespace

TlsContextState *tls_context_state(const SSL_CTX *ctx) noexcept {
  if (ctx == nullptr || state_index() < 0)
    return nullptr;
  return static_cast<TlsContextState *>(SSL_CTX_get_ex_data(ctx, state_index()));
}

// ---- TlsSessionCache -------------------------------------------------------------------

TlsSessionCache::TlsSessionCache(std::size_t capacity) : capacity_(capacity) {
  entries_.reserve(capacity);
}

TlsSessionCache::~TlsSessionCache() {
  for (auto &e : entries_)
    SSL_SESSION_free(e.session);
}

void TlsSessionCache::put(std::string_view host, SSL_SESSION *session) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry &e) { return e.host == host; });
  if (it == entries_.end() && entries_.size() >= capacity_) {
    it = std::min_element(entries_.begin(), entries_.end(),
                          [](const Entry &a, const Entry &b) { return a.last_used < b.last_used; });
  }
  if (it == entries_.end()) {
    if (capacity_ == 0) {
      SSL_SESSION_free(session);
      return;
    }
    entries_.push_back(Entry{std::string(host), session, ++clock_});
    return;
  }
  it->host.assign(host); // may throw: the old entry is still intact then
  SSL_SESSION_free(it->session);
  it->session = session;
  it->last_used = ++clock_;
}

SSL_SESSION *TlsSessionCache::get(std::string_view host) {
  std::lock_guard lock(mutex_);
  for (auto &e : entries_) {
    if (e.host != host || SSL_SESSION_is_resumable(e.session) != 1)
      continue;
    e.last_used = ++clock_;
    SSL_SESSION_up_ref(e.session);
    return e.session;
  }
  return nullptr;
}

// ---- TlsContext ------------------------------------------------------------------------

TlsResult<TlsContext> TlsContext::client(const TlsClientConfig &config) {
  auto made = new_ctx(TLS_client_method(), config.min_version, config.max_version, "client");
  if (auto *err = std::get_if<TlsError>(&made))
    return std::move(*err);
  CtxPtr ctx = std::move(std::get<CtxPtr>(made));

  // Trust anchors are loaded even with insecure_skip_verify, so the verify result stays
  // meaningful for logging; only the decision to abort the handshake is skipped.
  if (config.ca_file.empty() && config.ca_dir.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
      return error_from_queue("tls client context: cannot load the system CA store");
  }
  if (!config.ca_file.empty() && SSL_CTX_load_verify_file(ctx.get(), config.ca_file.c_str()) != 1)
    return error_from_queue("tls client context: cannot load CA file '" + config.ca_file + "'");
  if (!config.ca_dir.empty()) {
    // OpenSSL only records the directory; check it here so a typo fails now, not per host.
    if (!is_directory(config.ca_dir))
      return TlsError{"tls client context: CA directory '" + config.ca_dir +
                      "' does not exist or is not a directory"};
    if (SSL_CTX_load_verify_dir(ctx.get(), config.ca_dir.c_str()) != 1)
      return error_from_queue("tls client context: cannot use CA directory '" + config.ca_dir +
                              "'");
  }
  SSL_CTX_set_verify(ctx.get(), config.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);

  if (!config.alpn.empty()) {
    auto wire = alpn_wire(config.alpn);
    if (auto *err = std::get_if<TlsError>(&wire))
      return std::move(*err);
    const auto &w = std::get<std::string>(wire);
    // Unlike most of OpenSSL, SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx.get(), as_bytes(w), static_cast<unsigned int>(w.size())) != 0)
      return error_from_queue("tls client context: ALPN");
  }

  if (config.session_cache_size > 0) {
    tls_context_state(ctx.get())->session_cache =
        std::make_unique<TlsSessionCache>(config.session_cache_size);
    // Clients never look sessions up by themselves: TlsSession::client asks the cache, and the
    // callback stores what the server issues (TLS 1.3 tickets arrive after the handshake).
    SSL_CTX_set_session_cache_mode(ctx.get(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx.get(), &tls_on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  }
  return TlsContext(ctx.release(), false, !config.insecure_skip_verify);
}

TlsResult<TlsContext> TlsContext::server(const TlsServerConfig &config) {
  auto made = new_ctx(TLS_server_method(), config.min_version, config.max_version, "server");
  if (auto *err = std::get_if<TlsError>(&made))
    return std::move(*err);
  CtxPtr ctx = std::move(std::get<CtxPtr>(made));

  if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.cert_chain_file.c_str()) != 1)
    return error_from_queue("tls server context: cannot load certificate chain '" +
                            config.cert_chain_file + "'");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.private_key_file.c_str(), SSL_FILETYPE_PEM) !=
      1)
    return error_from_queue("tls server context: cannot load private key '" +
                            config.private_key_file + "'");
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return error_from_queue("tls server context: private key '" + config.private_key_file +
                            "' does not match certificate '" + config.cert_chain_file + "'");
  // Needed by OpenSSL for server-side session-id resumption (TLS 1.2 clients).
  static constexpr unsigned char kSessionIdContext[] = {'f', 'h'};
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext);

  if (!config.alpn.empty()) {
    auto wire = alpn_wire(config.alpn);
    if (auto *err = std::get_if<TlsError>(&wire))
      return std::move(*err);
    tls_context_state(ctx.get())->alpn_wire = std::move(std::get<std::string>(wire));
    SSL_CTX_set_alpn_select_cb(ctx.get(), &select_alpn, nullptr);
  }
  return TlsContext(ctx.release(), true, false);
}

TlsContext::TlsContext(TlsContext &&other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), server_(other.server_),
      verify_peer_(other.verify_peer_) {}

TlsContext &TlsContext::operator=(TlsContext &&other) noexcept {
  if (this != &other) {
    SSL_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    server_ = other.server_;
    verify_peer_ = other.verify_peer_;
  }
  return *this;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

} // namespace fh::net
