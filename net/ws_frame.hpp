#pragma once
// WebSocket framing (RFC 6455 section 5), client side, no I/O: a parser for the frames a server
// sends and an encoder for the frames a client sends.
//
// Why shaped so: the transport appends decrypted bytes to one contiguous buffer that the caller
// owns; next() looks at the unconsumed part of it and returns one event plus how many bytes it
// used, so the caller drops them (or compacts) when it likes. Server frames are never masked,
// so a message that arrives as a single frame -- nearly every market-data message -- is
// delivered as a view into the caller's buffer without a copy. Only fragmented messages are
// copied, into a reassembly buffer allocated once at construction with the message size limit,
// so the hot path never allocates. A frame is handed out only when it is complete in the
// buffer: the caller's buffer must hold max_frame_bytes(); NeedMore says how many bytes are
// needed, and a header announcing more than the limit fails at once (close code 1009) instead
// of waiting for the bytes. Every protocol violation has its own code and the close code the
// client must send (RFC 6455 7.4.1); an error is final for the connection, as the RFC says
// ("_Fail the WebSocket Connection_"). Control frames may arrive between the fragments of a
// message; the message being reassembled is kept. No text is formatted and nothing throws.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace fh::net {

enum class WsOpcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// RFC 6455 7.4.1 status codes used here.
inline constexpr std::uint16_t kWsCloseNormal = 1000;
inline constexpr std::uint16_t kWsCloseGoingAway = 1001;
inline constexpr std::uint16_t kWsCloseProtocolError = 1002;
inline constexpr std::uint16_t kWsCloseNoStatus = 1005; // never sent; "close had no payload"
inline constexpr std::uint16_t kWsCloseInvalidData = 1007;
inline constexpr std::uint16_t kWsCloseTooBig = 1009;

enum class WsFrameError : std::uint8_t {
  None = 0,
  MaskedServerFrame,      // a server must not mask (5.1)                        -> 1002
  ReservedBits,           // RSV2/RSV3, or RSV1 without permessage-deflate         -> 1002
  ReservedOpcode,         // opcodes 3-7, 0xB-0xF                                  -> 1002
  ControlTooLong,         // control payload > 125 bytes (5.5)                     -> 1002
  ControlFragmented,      // control frame without FIN (5.5)                       -> 1002
  UnexpectedContinuation, // continuation with no message in progress (5.4)        -> 1002
  ExpectedContinuation,   // new text/binary while a fragmented one is open (5.4)  -> 1002
  NonMinimalLength,       // length not in the shortest form (5.2)                 -> 1002
  LengthTooLarge,         // 64-bit length with the top bit set (5.2)              -> 1002
  MessageTooBig,          // message longer than max_message_size                  -> 1009
  BadClosePayload,        // close payload of 1 byte (5.5.1)                       -> 1002
  BadCloseCode,           // close code that must not be sent (7.4)                -> 1002
  InvalidUtf8,            // text message or close reason not UTF-8 (8.1)          -> 1007
  kCount
};

[[nodiscard]] const char *to_cstring(WsFrameError e) noexcept;
// The status code a client sends when it fails the connection for `e`.
[[nodiscard]] std::uint16_t ws_close_code_for(WsFrameError e) noexcept;
// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool ws_valid_utf8(std::span<const std::uint8_t> s) noexcept;

enum class WsEventType : std::uint8_t {
  NeedMore, // no complete frame yet; `need` = bytes from the start of `in` that are needed
  Text,     // a whole message; payload = the message (deflated if `compressed`)
  Binary,
  Ping,  // reply with a pong carrying `payload`
  Pong,  // payload = what the server echoed
  Close, // close_code (1005 when empty) + close_reason; reply with a close
  Error, // error + close_code to send; final
};

struct WsFrameEvent {
  WsEventType type = WsEventType::NeedMore;
  bool compressed = false; // RSV1 message: inflate the payload (ws_deflate.hpp)
  WsFrameError error = WsFrameError::None;
  std::uint16_t close_code = 0;
  std::size_t consumed = 0; // bytes of `in` used, including fragments swallowed before NeedMore
  std::size_t need = 0;     // NeedMore only
  // View into the caller's buffer (single-frame messages and control frames) or into the
  // parser's reassembly buffer (fragmented messages): valid until the caller changes those bytes
  // or the next call to next(), whichever comes first.
  std::span<const std::uint8_t> payload;
  std::string_view close_reason;

  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char *>(payload.data()), payload.size()};
  }
};

struct WsFrameConfig {
  std::size_t max_message_size = 1 << 20; // payload bytes per message (compressed if RSV1)
  bool allow_rsv1 = false;                // permessage-deflate negotiated
  // Check text messages (uncompressed ones here; inflated ones are the caller's) for UTF-8.
  // Off by default: the JSON parser downstream (simdjson) validates UTF-8 anyway.
  bool validate_utf8 = false;
};

class WsFrameParser {
public:
  static constexpr std::size_t kMaxHeader = 14; // 2 + 8 (64-bit length) + 4 (mask key)

  explicit WsFrameParser(const WsFrameConfig &config);

  // Parses from the start of `in`, the bytes received and not yet consumed. Returns the first
  // event; non-final fragments are absorbed on the way (their bytes counted in `consumed`).
  [[nodiscard]] WsFrameEvent next(std::span<const std::uint8_t> in) noexcept;

  // Forgets any half-reassembled message and a previous error (new connection).
  void reset() noexcept;
  void set_allow_rsv1(bool allow) noexcept { config_.allow_rsv1 = allow; }

  // The caller's receive buffer must be able to hold this many bytes (one whole frame).
  [[nodiscard]] std::size_t max_frame_bytes() const noexcept {
    return config_.max_message_size + kMaxHeader;
  }
  [[nodiscard]] bool in_fragmented_message() const noexcept { return fragmenting_; }
  [[nodiscard]] const WsFrameConfig &config() const noexcept { return config_; }

private:
  WsFrameEvent fail(WsFrameError e, std::size_t consumed) noexcept;
  WsFrameEvent close_event(std::span<const std::uint8_t> p, std::size_t consumed) noexcept;

  WsFrameConfig config_;
  std::unique_ptr<std::uint8_t[]> reassembly_; // max_message_size bytes
  std::size_t frag_len_ = 0;
  bool fragmenting_ = false;
  bool frag_compressed_ = false;
  WsOpcode frag_opcode_ = WsOpcode::Text;
  WsFrameError failed_ = WsFrameError::None;
};

using WsMaskKey = std::array<std::uint8_t, 4>;

// Masking keys for client frames (RFC 6455 5.3 wants them unpredictable): splitmix64 seeded
// from OpenSSL's CSPRNG, so a key costs a few instructions rather than a RAND_bytes call.
class WsMaskSource {
public:
  explicit WsMaskSource(std::uint64_t seed) noexcept : state_(seed) {}
  // A seed from RAND_bytes (the steady clock if OpenSSL fails: masking is not secrecy).
  [[nodiscard]] static std::uint64_t random_seed() noexcept;
  [[nodiscard]] WsMaskKey next() noexcept;

private:
  std::uint64_t state_;
};

// Encodes one client frame (always masked with `mask`) into `out`. Returns the frame's size,
// or 0 when `out` is too small, or the frame would be invalid (control payload > 125 bytes or
// a control frame without FIN, continuation/unknown opcode as the first frame is allowed: the
// caller fragments). Needs at most payload.size() + kMaxHeader bytes. No allocation.
[[nodiscard]] std::size_t ws_encode_client_frame(WsOpcode op, bool fin,
                                                 std::span<const std::uint8_t> payload,
                                                 const WsMaskKey &mask,
                                                 std::span<std::uint8_t> out) noexcept;

// Close frame with `code` and `reason` (<= 123 bytes). code 0 = no payload at all.
[[nodiscard]] std::size_t ws_encode_close(std::uint16_t code, std::string_view reason,
                                          const WsMaskKey &mask,
                                          std::span<std::uint8_t> out) noexcept;

} // namespace fh::net
