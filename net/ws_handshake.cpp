// WebSocket client handshake: request builder and response parser (see ws_handshake.hpp).
#include "net/ws_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace fh::net {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64 with '=' padding; out must hold 4 * ceil(n / 3) chars.
void base64(const std::uint8_t *in, std::size_t n, char *out) noexcept {
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) |
                            std::uint32_t{in[i + 2]};
    out[o++] = kB64[(v >> 18) & 63];
    out[o++] = kB64[(v >> 12) & 63];
    out[o++] = kB64[(v >> 6) & 63];
    out[o++] = kB64[v & 63];
  }
  if (i < n) {
    const bool two = i + 1 < n;
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (two ? std::uint32_t{in[i + 1]} << 8 : 0U);
    out[o++] = kB64[(v >> 18) & 63];
    out[o++] = kB64[(v >> 12) & 63];
    out[o++] = two ? kB64[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool ci_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `list` at the first `sep` outside a quoted string; returns the part before it (trimmed)
// and leaves the rest in `list` (empty when there is no separator).
std::string_view next_item(std::string_view &list, char sep) noexcept {
  bool quoted = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (c == '"') quoted = !quoted;
    else if (c == '\\' && quoted) ++i;
    else if (c == sep && !quoted) {
      const std::string_view item = list.substr(0, i);
      list.remove_prefix(i + 1);
      return trim(item);
    }
  }
  const std::string_view item = list;
  list = {};
  return trim(item);
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty())
    if (ci_equal(next_item(list, ','), token)) return true;
  return false;
}

// Field contents that must not break the request's framing.
bool clean_field(std::string_view s) noexcept {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

bool header_name_ok(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c > 32 && c < 127 && c != ':' && c != '"' && c != '(' && c != ')' && c != ',' &&
           c != '/' && c != ';' && c != '<' && c != '=' && c != '>' && c != '?' && c != '@' &&
           c != '[' && c != '\\' && c != ']' && c != '{' && c != '}';
  });
}

class Writer {
public:
  explicit Writer(std::span<char> out) noexcept : out_(out) {}
  Writer &operator<<(std::string_view s) noexcept {
    if (s.empty()) return *this; // an empty view may carry a null pointer
    if (s.size() > out_.size() - n_) {
      overflow_ = true;
      return *this;
    }
    std::memcpy(out_.data() + n_, s.data(), s.size());
    n_ += s.size();
    return *this;
  }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

private:
  std::span<char> out_;
  std::size_t n_ = 0;
  bool overflow_ = false;
};

// "8".."15" (RFC 7692 8.1.2.1: 1*DIGIT without leading zero), optionally as a quoted string.
bool parse_window_bits(std::string_view v, std::uint8_t &bits) noexcept {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2 || v[0] == '0') return false;
  unsigned n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < 8 || n > 15) return false;
  bits = static_cast<std::uint8_t>(n);
  return true;
}

} // namespace

bool ws_random_nonce(WsNonce &nonce) noexcept {
  return RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) == 1;
}

void ws_key_from_nonce(const WsNonce &nonce, std::array<char, 24> &out) noexcept {
  base64(nonce.data(), nonce.size(), out.data());
}

bool ws_accept_for_key(std::string_view key, std::array<char, 28> &out) noexcept {
  std::array<char, 64 + kWsGuid.size()> joined{};
  if (key.size() > 64) return false;
  if (!key.empty()) std::memcpy(joined.data(), key.data(), key.size());
  std::memcpy(joined.data() + key.size(), kWsGuid.data(), kWsGuid.size());
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned len = 0;
  if (EVP_Digest(joined.data(), key.size() + kWsGuid.size(), digest.data(), &len, EVP_sha1(),
                 nullptr) != 1 ||
      len != 20)
    return false;
  base64(digest.data(), 20, out.data());
  return true;
}

const char *to_cstring(WsHandshakeError e) noexcept {
  switch (e) {
  case WsHandshakeError::None: return "none";
  case WsHandshakeError::BufferTooSmall: return "buffer too small";
  case WsHandshakeError::BadRequestField: return "bad request field";
  case WsHandshakeError::HeaderTooLarge: return "response header too large";
  case WsHandshakeError::MalformedStatusLine: return "malformed status line";
  case WsHandshakeError::NotSwitching: return "status is not 101";
  case WsHandshakeError::MalformedHeader: return "malformed header";
  case WsHandshakeError::MissingUpgrade: return "missing Upgrade: websocket";
  case WsHandshakeError::MissingConnection: return "missing Connection: upgrade";
  case WsHandshakeError::MissingAccept: return "missing Sec-WebSocket-Accept";
  case WsHandshakeError::AcceptMismatch: return "Sec-WebSocket-Accept mismatch";
  case WsHandshakeError::UnsupportedExtension: return "unsupported extension";
  case WsHandshakeError::BadExtensionParam: return "bad permessage-deflate parameter";
  case WsHandshakeError::UnexpectedProtocol: return "unexpected Sec-WebSocket-Protocol";
  case WsHandshakeError::NotStarted: return "handshake not started";
  case WsHandshakeError::kCount: break;
  }
  return "?";
}

WsHandshakeResult WsHandshake::fail(WsHandshakeError e, std::string_view detail) noexcept {
  // Cold path; bounded text so nothing allocates. Detail is cut at 160 bytes.
  const int n = std::snprintf(text_.data(), text_.size(), "websocket handshake: %s%s%.*s",
                              to_cstring(e), detail.empty() ? "" : ": ",
                              static_cast<int>(std::min<std::size_t>(detail.size(), 160)),
                              detail.empty() ? "" : detail.data()); // never a null %s
  text_len_ = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), text_.size() - 1);
  return {WsHandshakeStatus::Error, e, 0};
}

WsHandshakeError WsHandshake::build_request(const WsRequest &req, const WsNonce &nonce,
                                            std::span<char> out, std::size_t &written) noexcept {
  written = 0;
  text_len_ = 0;
  started_ = false;
  if (req.host.empty() || req.path.empty() || req.path.front() != '/' ||
      !clean_field(req.host) || !clean_field(req.path) || !clean_field(req.protocols) ||
      req.protocols.size() >= protocols_.size() ||
      std::any_of(req.path.begin(), req.path.end(), [](char c) { return c == ' '; })) {
    (void)fail(WsHandshakeError::BadRequestField, "host, path or protocols");
    return WsHandshakeError::BadRequestField;
  }
  for (const WsHeader &h : req.extra_headers)
    if (!header_name_ok(h.name) || !clean_field(h.value)) {
      (void)fail(WsHandshakeError::BadRequestField, h.name);
      return WsHandshakeError::BadRequestField;
    }
  ws_key_from_nonce(nonce, key_);
  Writer w(out);
  w << "GET " << req.path << " HTTP/1.1\r\nHost: " << req.host
    << "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " << key()
    << "\r\nSec-WebSocket-Version: 13\r\n";
  if (req.offer_deflate) {
    w << "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";
    if (req.request_server_no_context_takeover) w << "; server_no_context_takeover";
    w << "\r\n";
  }
  if (!req.protocols.empty()) w << "Sec-WebSocket-Protocol: " << req.protocols << "\r\n";
  for (const WsHeader &h : req.extra_headers) w << h.name << ": " << h.value << "\r\n";
  w << "\r\n";
  if (w.overflow()) {
    (void)fail(WsHandshakeError::BufferTooSmall, {});
    return WsHandshakeError::BufferTooSmall;
  }
  written = w.size();
  started_ = true;
  offered_deflate_ = req.offer_deflate;
  requested_snct_ = req.request_server_no_context_takeover;
  if (!req.protocols.empty()) // an empty view may carry a null pointer
    std::memcpy(protocols_.data(), req.protocols.data(), req.protocols.size());
  protocols_len_ = req.protocols.size();
  deflate_ = {};
  protocol_ = {};
  return WsHandshakeError::None;
}

WsHandshakeError WsHandshake::parse_extensions(std::string_view value) noexcept {
  while (!value.empty()) {
    std::string_view ext = next_item(value, ',');
    if (ext.empty()) continue; // "a, , b" is allowed by the list grammar
    const std::string_view name = next_item(ext, ';');
    if (!ci_equal(name, "permessage-deflate") || !offered_deflate_ || deflate_.enabled)
      return WsHandshakeError::UnsupportedExtension;
    deflate_.enabled = true;
    bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
    while (!ext.empty()) {
      std::string_view param = next_item(ext, ';');
      const std::size_t eq = param.find('=');
      const std::string_view pname = trim(param.substr(0, eq));
      const bool has_value = eq != std::string_view::npos;
      const std::string_view pvalue = has_value ? trim(param.substr(eq + 1)) : std::string_view{};
      bool *seen = nullptr;
      if (ci_equal(pname, "server_no_context_takeover") && !has_value) {
        seen = &seen_snct;
        deflate_.server_no_context_takeover = true;
      } else if (ci_equal(pname, "client_no_context_takeover") && !has_value) {
        seen = &seen_cnct;
        deflate_.client_no_context_takeover = true;
      } else if (ci_equal(pname, "server_max_window_bits") && has_value &&
                 parse_window_bits(pvalue, deflate_.server_max_window_bits)) {
        seen = &seen_smwb;
      } else if (ci_equal(pname, "client_max_window_bits") && has_value &&
                 parse_window_bits(pvalue, deflate_.client_max_window_bits)) {
        seen = &seen_cmwb; // allowed because our offer carries client_max_window_bits
      } else {
        return WsHandshakeError::BadExtensionParam;
      }
      if (*seen) return WsHandshakeError::BadExtensionParam; // RFC 7692 7: no repeats
      *seen = true;
    }
    if (requested_snct_ && !deflate_.server_no_context_takeover)
      return WsHandshakeError::BadExtensionParam; // RFC 7692 7.1.1.1: must be echoed
  }
  return WsHandshakeError::None;
}

WsHandshakeResult WsHandshake::parse_response(std::string_view in) noexcept {
  if (!started_) return fail(WsHandshakeError::NotStarted, {});
  const std::string_view window = in.substr(0, std::min(in.size(), max_header_bytes_));
  const std::size_t end = window.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() >= max_header_bytes_) return fail(WsHandshakeError::HeaderTooLarge, {});
    return {WsHandshakeStatus::NeedMore, WsHandshakeError::None, 0};
  }
  const std::size_t consumed = end + 4;
  std::string_view head = in.substr(0, end + 2); // every line ends with CRLF

  const std::size_t sl_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, sl_end);
  head.remove_prefix(sl_end + 2);
  constexpr std::string_view kVersion = "HTTP/1.1 ";
  if (status_line.size() < kVersion.size() + 3 || status_line.substr(0, 9) != kVersion ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return fail(WsHandshakeError::MalformedStatusLine, status_line);
  for (std::size_t i = 9; i < 12; ++i)
    if (status_line[i] < '0' || status_line[i] > '9')
      return fail(WsHandshakeError::MalformedStatusLine, status_line);
  if (status_line.substr(9, 3) != "101") return fail(WsHandshakeError::NotSwitching, status_line);

  deflate_ = {};
  protocol_ = {};
  bool upgrade = false, connection = false, accept_seen = false, protocol_seen = false;
  std::array<char, 28> expected{};
  if (!ws_accept_for_key(key(), expected)) return fail(WsHandshakeError::AcceptMismatch, "sha1");
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t' ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t')
      return fail(WsHandshakeError::MalformedHeader, line);
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (ci_equal(name, "Upgrade")) {
      upgrade = upgrade || ci_equal(value, "websocket");
    } else if (ci_equal(name, "Connection")) {
      connection = connection || has_token(value, "upgrade");
    } else if (ci_equal(name, "Sec-WebSocket-Accept")) {
      if (accept_seen) return fail(WsHandshakeError::MalformedHeader, "repeated accept");
      accept_seen = true;
      if (value != std::string_view(expected.data(), expected.size()))
        return fail(WsHandshakeError::AcceptMismatch, value);
    } else if (ci_equal(name, "Sec-WebSocket-Extensions")) {
      const WsHandshakeError e = parse_extensions(value);
      if (e != WsHandshakeError::None) return fail(e, value);
    } else if (ci_equal(name, "Sec-WebSocket-Protocol")) {
      if (protocol_seen || value.empty() ||
          !has_token(std::string_view(protocols_.data(), protocols_len_), value))
        return fail(WsHandshakeError::UnexpectedProtocol, value);
      protocol_seen = true;
      protocol_ = value;
    }
  }
  if (!upgrade) return fail(WsHandshakeError::MissingUpgrade, {});
  if (!connection) return fail(WsHandshakeError::MissingConnection, {});
  if (!accept_seen) return fail(WsHandshakeError::MissingAccept, {});
  text_len_ = 0;
  return {WsHandshakeStatus::Done, WsHandshakeError::None, consumed};
}

} // namespace fh::net
