#pragma once
// TLS configuration shared by many connections: one OpenSSL SSL_CTX per role.
//
// Why shaped so: a context is built once on the control thread (files read, CA store loaded,
// ALPN encoded) and every TlsSession made from it only references it, so opening a connection
// does no file I/O. Client contexts verify the peer by default (system store, or the CA
// file/dir given); turning that off needs `insecure_skip_verify = true`, which the caller is
// expected to log. TLS 1.2 is the floor. Server contexts exist for fh-venue (recorded data
// served over wss/https) and for tests that run both ends in one process.
//
// Lifetime: the SSL_CTX is reference counted by OpenSSL; each session holds its own reference,
// and the session-resumption cache and ALPN list live in the SSL_CTX's ex-data, so a session
// may outlive the TlsContext object it was made from.
// Errors come back as TlsError (one line, OpenSSL's reason included); nothing throws except
// std::bad_alloc from building that text.
#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/tls_error.hpp"

namespace fh::net {

enum class TlsVersion : std::uint8_t { Tls12, Tls13 };

struct TlsClientConfig {
  // Trust anchors. Both empty: the system store (SSL_CTX_set_default_verify_paths). Otherwise
  // only these: a PEM bundle and/or a hashed directory (`openssl rehash`).
  std::string ca_file;
  std::string ca_dir;
  // Accept any certificate and any host name. Must be set on purpose; log it.
  bool insecure_skip_verify = false;
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  // ALPN protocols offered, most preferred first (e.g. {"http/1.1"}); empty = no ALPN.
  std::vector<std::string> alpn;
  // Hosts whose last session is kept for resumption (LRU); 0 = no resumption.
  std::size_t session_cache_size = 0;
};

struct TlsServerConfig {
  std::string cert_chain_file;  // PEM: leaf first, then intermediates
  std::string private_key_file; // PEM, unencrypted
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  // ALPN protocols accepted, most preferred first; empty = ALPN ignored. A client offering
  // none of them gets no ALPN answer (not an alert), like most public servers.
  std::vector<std::string> alpn;
};

class TlsContext {
public:
  [[nodiscard]] static TlsResult<TlsContext> client(const TlsClientConfig &config);
  [[nodiscard]] static TlsResult<TlsContext> server(const TlsServerConfig &config);

  TlsContext(TlsContext &&other) noexcept;
  TlsContext &operator=(TlsContext &&other) noexcept;
  TlsContext(const TlsContext &) = delete;
  TlsContext &operator=(const TlsContext &) = delete;
  ~TlsContext();

  bool is_server() const noexcept { return server_; }
  // False only for a client built with insecure_skip_verify.
  bool verifies_peer() const noexcept { return verify_peer_; }
  // For code that needs an OpenSSL knob not wrapped here; the context keeps ownership.
  SSL_CTX *native_handle() const noexcept { return ctx_; }

private:
  TlsContext(SSL_CTX *ctx, bool server, bool verify_peer) noexcept
      : ctx_(ctx), server_(server), verify_peer_(verify_peer) {}

  SSL_CTX *ctx_ = nullptr;
  bool server_ = false;
  bool verify_peer_ = true;
};

} // namespace fh::net
