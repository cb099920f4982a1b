#pragma once
// One wss:// connection on an io_uring reactor: TCP (net/uring_reactor) -> TLS over memory BIOs
// (net/tls_session) -> WebSocket client (net/ws_client) -> text messages to a Handler.
//
// The reactor owns the socket and hands receive buffers over; they are decrypted into a
// plaintext buffer sized for the largest WebSocket frame, where single-frame messages are
// delivered as views without a copy. Handler (a template, no virtual call per message) gets
//   on_open(), on_text(std::string_view, std::int64_t recv_ns), on_binary(...), on_closed(const char* why)
// Control-path work (resolve, TLS session creation) happens in start(); the data path
// allocates nothing. Venue logic (subscribe, keep-alive, reconnect) lives above this.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "net/tls_session.hpp"
#include "net/uring_reactor.hpp"
#include "net/ws_client.hpp"

namespace fh {

struct WssTarget {
  std::string host;
  std::uint16_t port = 443;
  std::string path = "/";
};

// "wss://host[:port][/path?query]" (also ws:// is refused: market data goes over TLS).
std::optional<WssTarget> parse_wss_url(std::string_view url);

enum class WssState : std::uint8_t { Idle, Connecting, Tls, WebSocket, Open, Closed };

template <class Handler> class WssConnection {
public:
  static constexpr std::size_t kPlainCapacity = 2u << 20; // > max WebSocket frame (1 MiB)
  // Readable bytes after any message in the buffer, so parsers may read past its end
  // (simdjson's SIMDJSON_PADDING, 64).
  static constexpr std::size_t kPadding = 64;

  WssConnection(net::UringReactor& reactor, const net::TlsContext& tls_ctx, Handler& handler,
                WssTarget target, net::WsClientConfig ws_config = {})
      : reactor_(&reactor), tls_ctx_(&tls_ctx), handler_(&handler), target_(std::move(target)),
        ws_(ws_config), plain_(std::make_unique<std::uint8_t[]>(kPlainCapacity + kPadding)) {
    host_header_ = target_.port == 443 ? target_.host : target_.host + ":" + std::to_string(target_.port);
  }

  // Control path: resolves, creates the TLS session, starts the TCP connect.
  bool start(std::string& error) {
    auto addrs = net::resolve_tcp(target_.host, target_.port);
    if (auto* e = std::get_if<net::NetError>(&addrs)) {
      error = e->message;
      return false;
    }
    auto tls = net::TlsSession::client(*tls_ctx_, target_.host);
    if (auto* e = std::get_if<net::TlsError>(&tls)) {
      error = e->message;
      return false;
    }
    tls_.emplace(std::move(std::get<net::TlsSession>(tls)));
    net::ConnectOptions co;
    const net::ConnectResult r = reactor_->connect(std::get<std::vector<net::Endpoint>>(addrs).front(), co);
    if (!r) {
      error = std::string("connect: ") + std::strerror(r.error);
      return false;
    }
    conn_ = r.id;
    plain_len_ = 0;
    error_.clear();
    state_ = WssState::Connecting;
    return true;
  }

  bool send_text(std::string_view text) noexcept {
    if (state_ != WssState::Open || !ws_.send_text(text)) return false;
    return pump_ws_output();
  }
  void close() noexcept {
    if (state_ == WssState::Closed || state_ == WssState::Idle) return;
    reactor_->close(conn_);
  }

  WssState state() const noexcept { return state_; }
  net::ConnId conn() const noexcept { return conn_; }
  const std::string& last_error() const noexcept { return error_; }

  // ---- reactor events for this connection ----
  void on_connected(net::ConnId) noexcept {
    state_ = WssState::Tls;
    (void)tls_->step(); // ClientHello
    flush_tls();
  }

  void on_data(net::ConnId, net::RecvBuffer buf, std::int64_t recv_ns) noexcept {
    const net::TlsStatus fed = tls_->feed_ciphertext(buf.data.data(), buf.data.size());
    reactor_->recycle(buf.id);
    if (fed == net::TlsStatus::Error) return fail("tls: " + tls_->last_error());
    if (state_ == WssState::Tls) {
      const net::TlsStatus st = tls_->step();
      flush_tls();
      if (st == net::TlsStatus::Error) return fail("tls: " + tls_->last_error());
      if (!tls_->handshake_done()) return;
      state_ = WssState::WebSocket;
      net::WsNonce nonce{};
      (void)net::ws_random_nonce(nonce);
      net::WsRequest req;
      req.host = host_header_;
      req.path = target_.path;
      if (ws_.start(req, nonce) != net::WsHandshakeError::None) return fail("ws: request");
      if (!pump_ws_output()) return;
    }
    // Decrypt everything available, then hand whole WebSocket events to the handler.
    for (;;) {
      if (plain_len_ == kPlainCapacity) return fail("ws: frame larger than the plaintext buffer");
      const net::TlsRead r = tls_->read_plaintext(plain_.get() + plain_len_, kPlainCapacity - plain_len_);
      if (r.status == net::TlsStatus::Ok) {
        plain_len_ += r.bytes;
        continue;
      }
      if (r.status == net::TlsStatus::Error) return fail("tls: " + tls_->last_error());
      break; // WantMore / Closed
    }
    std::size_t at = 0;
    while (at < plain_len_ && state_ != WssState::Closed) {
      const net::WsClientEvent ev = ws_.next({plain_.get() + at, plain_len_ - at});
      if (ev.type == net::WsClientEventType::NeedMore) break;
      at += ev.consumed;
      switch (ev.type) {
      case net::WsClientEventType::Opened:
        state_ = WssState::Open;
        handler_->on_open();
        break;
      case net::WsClientEventType::Text: handler_->on_text(ev.text(), recv_ns); break;
      case net::WsClientEventType::Binary: handler_->on_binary(ev.payload, recv_ns); break;
      case net::WsClientEventType::PeerClose:
      case net::WsClientEventType::Closed:
        pump_ws_output();
        fail("ws: closed by the venue");
        break;
      case net::WsClientEventType::Error:
        pump_ws_output();
        fail("ws: " + (ev.error == net::WsClientError::Handshake
                           ? std::string(ws_.handshake().error_text())
                           : std::string("protocol error")));
        break;
      default: break; // Ping (pong queued), Pong
      }
    }
    if (at != 0) {
      std::memmove(plain_.get(), plain_.get() + at, plain_len_ - at);
      plain_len_ -= at;
    }
    pump_ws_output(); // pongs
  }

  void on_closed(net::ConnId, net::CloseReason reason, int err) noexcept {
    const bool was_open = state_ != WssState::Closed;
    state_ = WssState::Closed;
    if (error_.empty()) error_ = net::describe(reason, err);
    if (was_open) handler_->on_closed(error_.c_str());
  }

private:
  void fail(std::string why) noexcept {
    if (error_.empty()) error_ = std::move(why);
    reactor_->close(conn_);
  }
  void flush_tls() noexcept {
    std::byte buf[16384];
    while (tls_->pending_ciphertext() != 0) {
      const std::size_t n = tls_->take_ciphertext(buf, sizeof buf);
      if (reactor_->send(conn_, {buf, n}) != net::SendStatus::Queued) return fail("send buffer full");
    }
  }
  bool pump_ws_output() noexcept {
    const auto out = ws_.output();
    if (out.empty()) return true;
    if (tls_->write_plaintext(out.data(), out.size()) != net::TlsStatus::Ok) {
      fail("tls: write refused");
      return false;
    }
    ws_.consume_output(out.size());
    flush_tls();
    return true;
  }

  net::UringReactor* reactor_;
  const net::TlsContext* tls_ctx_;
  Handler* handler_;
  WssTarget target_;
  std::string host_header_;
  std::optional<net::TlsSession> tls_;
  net::WsClient ws_;
  std::unique_ptr<std::uint8_t[]> plain_;
  std::size_t plain_len_ = 0;
  net::ConnId conn_{};
  WssState state_ = WssState::Idle;
  std::string error_;
};

} // namespace fh
