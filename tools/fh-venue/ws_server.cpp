// RFC 6455 server side (see ws_server.hpp).
#include "tools/fh-venue/ws_server.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace fh::venue_tool {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxMessage = 1U << 20; // a subscribe list is a few KB

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A comma-separated header value contains `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  const std::string v = lower(value), t = lower(token);
  std::string_view rest = v;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (trim(rest.substr(0, comma)) == t) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 6455 4.1: the key is base64 of 16 bytes, i.e. 22 base64 characters and "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
  });
}

std::string bad_request(std::string_view why) {
  const std::string body = std::string(why) + "\n";
  return "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

std::string HttpRequest::header(const std::string &lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<HttpRequest> parse_request(std::string_view head) {
  HttpRequest req;
  auto eol = head.find("\r\n");
  if (eol == std::string_view::npos) return std::nullopt;
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1 || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0)
    return std::nullopt;
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (req.target.empty() || req.target.front() != '/') return std::nullopt;
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string_view h = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (h.empty()) break;
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    req.headers[lower(h.substr(0, colon))] = std::string(trim(h.substr(colon + 1)));
  }
  return req;
}

bool is_websocket_upgrade(const HttpRequest &req) {
  return has_token(req.header("upgrade"), "websocket");
}

std::string websocket_accept(std::string_view key) {
  const std::string input = std::string(key) + std::string(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char *>(input.data()), input.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char *>(out), static_cast<std::size_t>(n));
}

std::string websocket_handshake_response(const HttpRequest &req, bool &accepted) {
  accepted = false;
  if (req.method != "GET") return bad_request("websocket handshake must be GET");
  if (!has_token(req.header("connection"), "upgrade"))
    return bad_request("missing Connection: Upgrade");
  if (req.header("sec-websocket-version") != "13")
    return bad_request("Sec-WebSocket-Version must be 13");
  const std::string key = req.header("sec-websocket-key");
  if (!valid_key(key)) return bad_request("bad or missing Sec-WebSocket-Key");
  accepted = true;
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         websocket_accept(key) + "\r\n\r\n";
}

std::string encode_server_frame(WsOpcode op, std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 10);
  f.push_back(static_cast<char>(0x80U | static_cast<unsigned>(op)));
  const std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(126));
    f.push_back(static_cast<char>((n >> 8) & 0xffU));
    f.push_back(static_cast<char>(n & 0xffU));
  } else {
    f.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xffU));
  }
  f.append(payload);
  return f;
}

std::string encode_close_frame(std::uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xffU));
  p.append(reason.substr(0, 123));
  return encode_server_frame(WsOpcode::Close, p);
}

ClientFrameParser::Status ClientFrameParser::next(ClientMessage &out) {
  for (;;) {
    if (buf_.size() < 2) return Status::NeedMore;
    const auto b0 = static_cast<unsigned char>(buf_[0]);
    const auto b1 = static_cast<unsigned char>(buf_[1]);
    const bool fin = (b0 & 0x80U) != 0;
    const unsigned opcode = b0 & 0x0fU;
    if ((b0 & 0x70U) != 0) return error_ = "reserved bits set", Status::Error;
    if ((b1 & 0x80U) == 0) return error_ = "client frame not masked", Status::Error;
    if (opcode != 0 && opcode != 1 && opcode != 2 && opcode != 8 && opcode != 9 && opcode != 10)
      return error_ = "unknown opcode", Status::Error;
    const bool control = opcode >= 8;
    std::size_t pos = 2;
    std::uint64_t len = b1 & 0x7fU;
    if (len == 126) {
      if (buf_.size() < 4) return Status::NeedMore;
      len = (static_cast<std::uint64_t>(static_cast<unsigned char>(buf_[2])) << 8) |
            static_cast<unsigned char>(buf_[3]);
      pos = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return Status::NeedMore;
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(buf_[i]);
      pos = 10;
    }
    if (control && (len > 125 || !fin)) return error_ = "bad control frame", Status::Error;
    if (len + partial_.size() > kMaxMessage) return error_ = "message too large", Status::Error;
    if (buf_.size() < pos + 4 + len) return Status::NeedMore;
    const std::size_t n = static_cast<std::size_t>(len);
    std::string payload = buf_.substr(pos + 4, n);
    for (std::size_t i = 0; i < n; ++i)
      payload[i] = static_cast<char>(static_cast<unsigned char>(payload[i]) ^
                                     static_cast<unsigned char>(buf_[pos + (i & 3U)]));
    buf_.erase(0, pos + 4 + n);
    if (control) {
      out.opcode = static_cast<WsOpcode>(opcode);
      out.payload = std::move(payload);
      return Status::Message;
    }
    if (opcode == 0) {
      if (!partial_op_) return error_ = "continuation without a start", Status::Error;
    } else {
      if (partial_op_) return error_ = "new message inside a fragmented one", Status::Error;
      partial_op_ = static_cast<WsOpcode>(opcode);
    }
    partial_ += payload;
    if (!fin) continue;
    out.opcode = *partial_op_;
    out.payload = std::move(partial_);
    partial_.clear();
    partial_op_.reset();
    return Status::Message;
  }
}

} // namespace fh::venue_tool
