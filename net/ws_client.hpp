#pragma once
// WebSocket client connection state machine over byte buffers: Handshaking -> Open -> Closing
// -> Closed. It joins WsHandshake, WsFrameParser and WsInflater and answers the protocol's
// obligations itself (pong for ping, close reply, close with the right code on a protocol
// error) by queueing frames in its output buffer; the transport sends output() and calls
// consume_output(). No I/O, no TLS: the reactor feeds decrypted bytes in and encrypts out.
//
// Why shaped so: the same pull shape as WsFrameParser (next(in) returns one event and the bytes
// it used), so the transport keeps one receive buffer per connection and handshake bytes and
// the first frames may share a read. All buffers (reassembly, inflate output, zlib window,
// output) are sized at construction; next() and the send functions are noexcept and never
// allocate. After sending a close we keep reading until the server's close (RFC 6455 7.1.2)
// but send nothing more; data messages that arrive meanwhile are still delivered.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "net/ws_deflate.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_handshake.hpp"

namespace fh::net {

enum class WsState : std::uint8_t { Idle, Handshaking, Open, Closing, Closed };

enum class WsClientEventType : std::uint8_t {
  NeedMore, // feed more bytes (keep the unconsumed ones)
  Opened,   // handshake done; consumed = the response's bytes
  Text,     // payload = whole message, inflated if it was compressed
  Binary,
  Ping,     // a pong with the same payload was queued (not when Closing)
  Pong,
  PeerClose, // server sent close (close_code/close_reason); our reply is queued; now Closed
  Closed,    // server answered our close; state Closed. Also returned for input after Closed
  Error,     // connection failed; a close with close_code is queued when allowed; now Closed
};

enum class WsClientError : std::uint8_t {
  None,
  NotStarted, // next() before start()
  Handshake,  // handshake().error_text() says why
  Frame,      // frame_error
  Inflate,    // inflate_status
  OutputFull, // no room to queue a pong/close: the transport is not draining output()
};

struct WsClientEvent {
  WsClientEventType type = WsClientEventType::NeedMore;
  WsClientError error = WsClientError::None;
  WsFrameError frame_error = WsFrameError::None;
  WsInflateStatus inflate_status = WsInflateStatus::Ok;
  std::uint16_t close_code = 0; // PeerClose/Closed: received; Error: sent
  std::size_t consumed = 0;
  std::span<const std::uint8_t> payload; // valid until the next call or the bytes change
  std::string_view close_reason;

  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char *>(payload.data()), payload.size()};
  }
};

struct WsClientConfig {
  std::size_t max_message_size = 1 << 20;  // wire payload per message (compressed size)
  std::size_t max_inflated_size = 4 << 20; // after permessage-deflate
  std::size_t output_capacity = 16 * 1024; // request + queued client frames
  std::size_t max_header_bytes = WsHandshake::kDefaultMaxHeaderBytes;
  bool validate_utf8 = false;  // see WsFrameConfig
  std::uint64_t mask_seed = 0; // 0 = WsMaskSource::random_seed()
};

class WsClient {
public:
  explicit WsClient(const WsClientConfig &config)
      : handshake_(config.max_header_bytes),
        parser_(WsFrameConfig{config.max_message_size, false, config.validate_utf8}),
        inflater_(config.max_inflated_size, false),
        masks_(config.mask_seed != 0 ? config.mask_seed : WsMaskSource::random_seed()),
        out_(std::make_unique<std::uint8_t[]>(config.output_capacity)),
        out_cap_(config.output_capacity), validate_utf8_(config.validate_utf8) {}

  // Queues the upgrade request; state Handshaking. A connection may be restarted from any state.
  [[nodiscard]] WsHandshakeError start(const WsRequest &req, const WsNonce &nonce) noexcept {
    out_len_ = 0;
    parser_.reset();
    std::size_t written = 0;
    const WsHandshakeError e = handshake_.build_request(
        req, nonce, std::span<char>(reinterpret_cast<char *>(out_.get()), out_cap_), written);
    if (e != WsHandshakeError::None) {
      state_ = WsState::Idle;
      return e;
    }
    out_len_ = written;
    state_ = WsState::Handshaking;
    return e;
  }

  // One event from the start of `in` (received, not yet consumed bytes). Drop `consumed`.
  [[nodiscard]] WsClientEvent next(std::span<const std::uint8_t> in) noexcept {
    WsClientEvent ev;
    switch (state_) {
    case WsState::Idle:
      ev.type = WsClientEventType::Error;
      ev.error = WsClientError::NotStarted;
      return ev;
    case WsState::Closed:
      ev.type = WsClientEventType::Closed;
      ev.consumed = in.size(); // nothing may follow a close; drop it
      return ev;
    case WsState::Handshaking: return on_handshake(in);
    case WsState::Open:
    case WsState::Closing: break;
    }
    const WsFrameEvent f = parser_.next(in);
    ev.consumed = f.consumed;
    switch (f.type) {
    case WsEventType::NeedMore: return ev;
    case WsEventType::Text:
    case WsEventType::Binary:
      ev.type = f.type == WsEventType::Text ? WsClientEventType::Text : WsClientEventType::Binary;
      ev.payload = f.payload;
      if (f.compressed) {
        ev.inflate_status = inflater_.inflate(f.payload, ev.payload);
        if (ev.inflate_status != WsInflateStatus::Ok)
          return fail(ev, WsClientError::Inflate,
                      ev.inflate_status == WsInflateStatus::TooLarge ? kWsCloseTooBig
                                                                     : kWsCloseInvalidData);
        if (validate_utf8_ && f.type == WsEventType::Text && !ws_valid_utf8(ev.payload)) {
          ev.frame_error = WsFrameError::InvalidUtf8;
          return fail(ev, WsClientError::Frame, kWsCloseInvalidData);
        }
      }
      return ev;
    case WsEventType::Ping:
      ev.type = WsClientEventType::Ping;
      ev.payload = f.payload;
      if (state_ == WsState::Open &&
          !queue(ws_encode_client_frame(WsOpcode::Pong, true, f.payload, masks_.next(),
                                        free_out())))
        return fail(ev, WsClientError::OutputFull, 0);
      return ev;
    case WsEventType::Pong:
      ev.type = WsClientEventType::Pong;
      ev.payload = f.payload;
      return ev;
    case WsEventType::Close:
      ev.close_code = f.close_code;
      ev.close_reason = f.close_reason;
      ev.payload = f.payload;
      if (state_ == WsState::Closing) {
        ev.type = WsClientEventType::Closed;
      } else {
        ev.type = WsClientEventType::PeerClose;
        // Echo the status code (RFC 6455 5.5.1); an empty close is answered with an empty one.
        const std::uint16_t reply = f.close_code == kWsCloseNoStatus ? 0 : f.close_code;
        if (!queue(ws_encode_close(reply, {}, masks_.next(), free_out()))) {
          state_ = WsState::Closed;
          return fail(ev, WsClientError::OutputFull, 0);
        }
      }
      state_ = WsState::Closed;
      return ev;
    case WsEventType::Error:
      ev.frame_error = f.error;
      return fail(ev, WsClientError::Frame, f.close_code);
    }
    return ev;
  }

  [[nodiscard]] bool send_text(std::string_view text) noexcept {
    return send(WsOpcode::Text,
                {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()});
  }
  [[nodiscard]] bool send_binary(std::span<const std::uint8_t> data) noexcept {
    return send(WsOpcode::Binary, data);
  }
  [[nodiscard]] bool send_ping(std::span<const std::uint8_t> data) noexcept {
    return send(WsOpcode::Ping, data);
  }
  // Starts the closing handshake: queues close(code, reason), state Closing.
  [[nodiscard]] bool close(std::uint16_t code, std::string_view reason) noexcept {
    if (state_ != WsState::Open) return false;
    if (!queue(ws_encode_close(code, reason, masks_.next(), free_out()))) return false;
    state_ = WsState::Closing;
    return true;
  }

  // Bytes to send, in order. consume_output(n) after the transport took n of them.
  [[nodiscard]] std::span<const std::uint8_t> output() const noexcept {
    return {out_.get(), out_len_};
  }
  void consume_output(std::size_t n) noexcept {
    n = n < out_len_ ? n : out_len_;
    std::memmove(out_.get(), out_.get() + n, out_len_ - n);
    out_len_ -= n;
  }

  [[nodiscard]] WsState state() const noexcept { return state_; }
  [[nodiscard]] const WsHandshake &handshake() const noexcept { return handshake_; }
  [[nodiscard]] const WsFrameParser &parser() const noexcept { return parser_; }

private:
  WsClientEvent on_handshake(std::span<const std::uint8_t> in) noexcept {
    WsClientEvent ev;
    const WsHandshakeResult r = handshake_.parse_response(
        {reinterpret_cast<const char *>(in.data()), in.size()});
    if (r.status == WsHandshakeStatus::NeedMore) return ev;
    if (r.status == WsHandshakeStatus::Error) {
      state_ = WsState::Closed; // no WebSocket yet, so no close frame: drop the connection
      ev.type = WsClientEventType::Error;
      ev.error = WsClientError::Handshake;
      return ev;
    }
    const WsDeflateParams &d = handshake_.deflate();
    parser_.set_allow_rsv1(d.enabled);
    inflater_.reset(d.server_no_context_takeover);
    state_ = WsState::Open;
    ev.type = WsClientEventType::Opened;
    ev.consumed = r.consumed;
    return ev;
  }

  // Fails the connection: queue close(code) unless we already sent one (or code is 0).
  WsClientEvent fail(WsClientEvent ev, WsClientError error, std::uint16_t code) noexcept {
    const bool may_send = state_ == WsState::Open && code != 0;
    ev.type = WsClientEventType::Error;
    ev.error = error;
    ev.payload = {};
    ev.close_code = code;
    if (may_send) (void)queue(ws_encode_close(code, {}, masks_.next(), free_out()));
    state_ = WsState::Closed;
    return ev;
  }

  bool send(WsOpcode op, std::span<const std::uint8_t> data) noexcept {
    if (state_ != WsState::Open) return false;
    return queue(ws_encode_client_frame(op, true, data, masks_.next(), free_out()));
  }
  std::span<std::uint8_t> free_out() noexcept {
    return {out_.get() + out_len_, out_cap_ - out_len_};
  }
  bool queue(std::size_t encoded) noexcept {
    out_len_ += encoded;
    return encoded != 0;
  }

  WsHandshake handshake_;
  WsFrameParser parser_;
  WsInflater inflater_;
  WsMaskSource masks_;
  std::unique_ptr<std::uint8_t[]> out_;
  std::size_t out_cap_;
  std::size_t out_len_ = 0;
  WsState state_ = WsState::Idle;
  bool validate_utf8_;
};

} // namespace fh::net
