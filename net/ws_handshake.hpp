#pragma once
// WebSocket opening handshake, client side (RFC 6455 section 4.1, RFC 7692 section 5), with no
// I/O: the request is written into a caller buffer and the response is parsed from the bytes the
// transport has decrypted so far.
//
// Why shaped so: the handshake runs once per connection, but it runs on the ingest core next to
// hot connections, so it still allocates nothing: the request goes into the caller's buffer, the
// error text into a fixed array inside WsHandshake. parse_response() says how many bytes the
// response took, because a server may put its first frames in the same TCP segment as the 101
// and those bytes belong to the frame parser. Every way the response can be refused has its own
// code; the text names what was seen (the status line of a non-101, the bad accept value).
// permessage-deflate is offered as "permessage-deflate; client_max_window_bits" (we never
// compress what we send, so the client_* parameters the server picks cost nothing); the
// server's answer is validated strictly, because inflating with the wrong context-takeover
// rule corrupts every later message.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace fh::net {

// RFC 6455 section 1.3.
inline constexpr std::string_view kWsGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// 16 random bytes; base64 of them is the Sec-WebSocket-Key.
using WsNonce = std::array<std::uint8_t, 16>;

// Fills `nonce` from OpenSSL's CSPRNG (RAND_bytes). False if OpenSSL could not.
[[nodiscard]] bool ws_random_nonce(WsNonce &nonce) noexcept;

// base64(nonce): 24 characters, written to `out`.
void ws_key_from_nonce(const WsNonce &nonce, std::array<char, 24> &out) noexcept;

// base64(SHA-1(key + kWsGuid)): the Sec-WebSocket-Accept a server must answer for `key`;
// 28 characters. False if `key` is longer than 64 bytes or OpenSSL's digest failed.
[[nodiscard]] bool ws_accept_for_key(std::string_view key, std::array<char, 28> &out) noexcept;

struct WsHeader {
  std::string_view name;
  std::string_view value;
};

struct WsRequest {
  std::string_view host;       // Host header value, with ":port" when not the default port
  std::string_view path = "/"; // request target, with query
  bool offer_deflate = false;  // offer permessage-deflate (RFC 7692)
  // Ask the server not to keep its compression context between messages: costs ratio, but a
  // message can then be inflated without the ones before it.
  bool request_server_no_context_takeover = false;
  std::string_view protocols; // Sec-WebSocket-Protocol offer ("a, b"), <= 255 bytes; "" = none
  std::span<const WsHeader> extra_headers; // e.g. Origin, User-Agent; sent verbatim
};

// What the server agreed to for permessage-deflate.
struct WsDeflateParams {
  bool enabled = false;
  bool server_no_context_takeover = false; // server resets its compressor after each message
  bool client_no_context_takeover = false; // applies to what we send (we send uncompressed)
  std::uint8_t server_max_window_bits = 15;
  std::uint8_t client_max_window_bits = 15;
};

enum class WsHandshakeStatus : std::uint8_t { Done, NeedMore, Error };

enum class WsHandshakeError : std::uint8_t {
  None = 0,
  BufferTooSmall,       // request does not fit the output buffer
  BadRequestField,      // host/path/header contains CR, LF or is empty where it must not be
  HeaderTooLarge,       // no end of headers within max_header_bytes
  MalformedStatusLine,  // not "HTTP/1.1 NNN ..."
  NotSwitching,         // status is not 101; the text holds the status line
  MalformedHeader,      // a header line without ':' or with a space before it, obs-fold
  MissingUpgrade,       // no "Upgrade: websocket"
  MissingConnection,    // no "upgrade" token in Connection
  MissingAccept,        // no Sec-WebSocket-Accept
  AcceptMismatch,       // Sec-WebSocket-Accept is not base64(SHA-1(key + GUID))
  UnsupportedExtension, // an extension we did not offer (or deflate when not offered)
  BadExtensionParam,    // unknown, repeated or out-of-range permessage-deflate parameter
  UnexpectedProtocol,   // Sec-WebSocket-Protocol not among the ones offered
  NotStarted,           // parse_response() before build_request()
  kCount
};

[[nodiscard]] const char *to_cstring(WsHandshakeError e) noexcept;

struct WsHandshakeResult {
  WsHandshakeStatus status;
  WsHandshakeError error;
  std::size_t consumed; // Done: bytes of the response, frames may follow; else 0
};

class WsHandshake {
public:
  static constexpr std::size_t kDefaultMaxHeaderBytes = 16 * 1024;

  explicit WsHandshake(std::size_t max_header_bytes = kDefaultMaxHeaderBytes) noexcept
      : max_header_bytes_(max_header_bytes) {}

  // Writes the upgrade request for `req` with the key made from `nonce` into `out`. Sets
  // `written` to the request's length. Remembers the key and the offer for parse_response().
  [[nodiscard]] WsHandshakeError build_request(const WsRequest &req, const WsNonce &nonce,
                                               std::span<char> out, std::size_t &written) noexcept;

  // Parses the server's response from the start of `in` (all bytes received so far).
  // NeedMore until the blank line that ends the headers has arrived. Error is final.
  [[nodiscard]] WsHandshakeResult parse_response(std::string_view in) noexcept;

  [[nodiscard]] std::string_view key() const noexcept { return {key_.data(), key_.size()}; }
  [[nodiscard]] const WsDeflateParams &deflate() const noexcept { return deflate_; }
  // Sec-WebSocket-Protocol chosen by the server, empty if none. Points into parse_response's
  // input, so valid as long as that buffer is.
  [[nodiscard]] std::string_view protocol() const noexcept { return protocol_; }
  // One line saying why the last call failed (empty when it did not).
  [[nodiscard]] std::string_view error_text() const noexcept { return {text_.data(), text_len_}; }

private:
  WsHandshakeResult fail(WsHandshakeError e, std::string_view detail) noexcept;
  WsHandshakeError parse_extensions(std::string_view value) noexcept;

  std::size_t max_header_bytes_;
  std::array<char, 24> key_{};
  bool started_ = false;
  bool offered_deflate_ = false;
  bool requested_snct_ = false; // asked for server_no_context_takeover
  std::array<char, 256> protocols_{}; // copy of WsRequest::protocols (the caller's may go away)
  std::size_t protocols_len_ = 0;
  WsDeflateParams deflate_{};
  std::string_view protocol_;
  std::array<char, 256> text_{};
  std::size_t text_len_ = 0;
};

} // namespace fh::net
