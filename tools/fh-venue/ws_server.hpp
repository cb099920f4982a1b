#pragma once
// The server side of RFC 6455 for fh-venue: the opening handshake answer, unmasked server
// frames and a parser for masked client frames. No I/O here: the connection code moves the
// bytes (through TLS), so this is testable on plain strings.
//
// Why separate from net/ws_*: those are the feed handler's client side (hot path, no
// allocation); a venue needs the mirror image (validate the key, reject unmasked frames) and
// may allocate freely.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fh::venue_tool {

struct HttpRequest {
  std::string method;
  std::string target;                        // path?query as sent
  std::map<std::string, std::string> headers; // names lower-cased, values trimmed
  std::string header(const std::string &lower_name) const;
};

// Parses a request head (everything up to and including the blank line). nullopt: malformed.
std::optional<HttpRequest> parse_request(std::string_view head);

// True when the request asks for a WebSocket upgrade (Upgrade: websocket).
bool is_websocket_upgrade(const HttpRequest &req);

// RFC 6455 4.2.1: the answer to a handshake, either "101 Switching Protocols" with
// Sec-WebSocket-Accept, or a "400 Bad Request" naming what is wrong (bad or missing key,
// version other than 13, not GET).
std::string websocket_handshake_response(const HttpRequest &req, bool &accepted);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept(std::string_view key);

enum class WsOpcode : std::uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

// One unmasked server frame (FIN set).
std::string encode_server_frame(WsOpcode op, std::string_view payload);
// A close frame with a status code and reason.
std::string encode_close_frame(std::uint16_t code, std::string_view reason);

struct ClientMessage {
  WsOpcode opcode; // Text, Binary, Close, Ping, Pong (fragments are joined)
  std::string payload;
};

// Incremental parser for client frames. Client frames must be masked (RFC 6455 5.1); an
// unmasked frame, a reserved bit, an unknown opcode or a control frame longer than 125 bytes
// or fragmented is a protocol error (close code 1002).
class ClientFrameParser {
public:
  enum class Status : std::uint8_t { NeedMore, Message, Error };
  void feed(const char *data, std::size_t len) { buf_.append(data, len); }
  Status next(ClientMessage &out);
  const std::string &error() const noexcept { return error_; }

private:
  std::string buf_;
  std::string partial_; // text/binary fragments so far
  std::optional<WsOpcode> partial_op_;
  std::string error_;
};

} // namespace fh::venue_tool
