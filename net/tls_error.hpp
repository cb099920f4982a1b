#pragma once
// Control-path errors of the TLS layer (DESIGN.md section 4, "Errors"). Creating a context or a
// session, and a failed handshake, produce one line of text: what we were doing, then OpenSSL's
// own reason (its thread-local error queue, drained here so the next call starts clean) and,
// for certificate problems, X509_verify_cert_error_string. The data path never formats text:
// TlsSession's I/O calls return a TlsStatus code and keep the text for last_error(), built only
// when something has already failed. Nothing here throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace fh::net {

struct TlsError {
  std::string message; // one line, no trailing newline
};

// A value or the reason it could not be made (same shape as fh::capture's open()).
template <class T> using TlsResult = std::variant<T, TlsError>;

// Outcome of one TlsSession call on the data path.
enum class TlsStatus : std::uint8_t {
  Ok = 0,   // done (handshake complete / plaintext returned / plaintext queued as ciphertext)
  WantMore, // needs more ciphertext from the peer; send pending_ciphertext() first if any
  Closed,   // the peer sent close_notify: no more plaintext will arrive
  Error,    // the call failed: TlsSession::last_error() says why, failed() if it was fatal
};

inline constexpr const char *to_cstring(TlsStatus s) noexcept {
  switch (s) {
  case TlsStatus::Ok:
    return "ok";
  case TlsStatus::WantMore:
    return "want_more";
  case TlsStatus::Closed:
    return "closed";
  case TlsStatus::Error:
    return "error";
  }
  return "?";
}

// Drains the calling thread's OpenSSL error queue into "<context>: <reason>; <reason>..."
// (reasons in the order they were raised, with any data OpenSSL attached such as a path).
// Cold path: allocates.
[[nodiscard]] std::string tls_error_text(std::string_view context);

} // namespace fh::net
