#pragma once
// Internal to fh_net_tls: what a TlsContext keeps inside its SSL_CTX (ex-data), so that it
// lives exactly as long as the SSL_CTX, which sessions keep alive by reference count.
// - the client session cache: host -> last SSL_SESSION, LRU. Touched once per connection
//   (lookup when a session is created, store when the server issues a ticket), so a mutex is
//   fine: it is never taken per record.
// - the server's ALPN list in wire format, read by the ALPN selection callback.
#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fh::net {

class TlsSessionCache {
public:
  explicit TlsSessionCache(std::size_t capacity);
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache &) = delete;
  TlsSessionCache &operator=(const TlsSessionCache &) = delete;

  // Takes over the caller's reference to `session` (also when it is dropped).
  void put(std::string_view host, SSL_SESSION *session);
  // A new reference to the stored session for `host`, or nullptr.
  [[nodiscard]] SSL_SESSION *get(std::string_view host);

private:
  struct Entry {
    std::string host;
    SSL_SESSION *session;
    std::uint64_t last_used;
  };
  std::mutex mutex_;
  std::vector<Entry> entries_;
  std::size_t capacity_;
  std::uint64_t clock_ = 0;
};

struct TlsContextState {
  std::unique_ptr<TlsSessionCache> session_cache; // client with session_cache_size > 0
  std::string alpn_wire;                          // server: accepted protocols, wire format
};

// The state attached to `ctx`, or nullptr if it was not made by TlsContext.
TlsContextState *tls_context_state(const SSL_CTX *ctx) noexcept;

// SSL_CTX_sess_set_new_cb callback for client contexts with a session cache; defined in
// tls_session.cpp because it needs the session's host name.
int tls_on_new_session(SSL *ssl, SSL_SESSION *session) noexcept;

} // namespace fh::net
