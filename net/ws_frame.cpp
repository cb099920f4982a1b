// WebSocket frame parser and client frame encoder (see ws_frame.hpp).
#include "net/ws_frame.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstring>

namespace fh::net {

namespace {

bool is_control(std::uint8_t op) noexcept { return (op & 0x8) != 0; }

bool known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// RFC 6455 7.4.1/7.4.2 and the IANA registry: codes a peer may put in a close frame.
bool valid_close_code(std::uint16_t c) noexcept {
  if (c >= 3000 && c <= 4999) return true;
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014);
}

std::string_view as_text(std::span<const std::uint8_t> s) noexcept {
  return {reinterpret_cast<const char *>(s.data()), s.size()};
}

} // namespace

const char *to_cstring(WsFrameError e) noexcept {
  switch (e) {
  case WsFrameError::None: return "none";
  case WsFrameError::MaskedServerFrame: return "masked server frame";
  case WsFrameError::ReservedBits: return "reserved bits set";
  case WsFrameError::ReservedOpcode: return "reserved opcode";
  case WsFrameError::ControlTooLong: return "control frame longer than 125 bytes";
  case WsFrameError::ControlFragmented: return "fragmented control frame";
  case WsFrameError::UnexpectedContinuation: return "continuation without a message";
  case WsFrameError::ExpectedContinuation: return "new message inside a fragmented one";
  case WsFrameError::NonMinimalLength: return "length not minimally encoded";
  case WsFrameError::LengthTooLarge: return "64-bit length with top bit set";
  case WsFrameError::MessageTooBig: return "message too big";
  case WsFrameError::BadClosePayload: return "close payload of one byte";
  case WsFrameError::BadCloseCode: return "invalid close code";
  case WsFrameError::InvalidUtf8: return "invalid UTF-8";
  case WsFrameError::kCount: break;
  }
  return "?";
}

std::uint16_t ws_close_code_for(WsFrameError e) noexcept {
  switch (e) {
  case WsFrameError::None: return kWsCloseNormal;
  case WsFrameError::MessageTooBig: return kWsCloseTooBig;
  case WsFrameError::InvalidUtf8: return kWsCloseInvalidData;
  default: return kWsCloseProtocolError;
  }
}

bool ws_valid_utf8(std::span<const std::uint8_t> s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const std::uint8_t cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3FU);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

WsFrameParser::WsFrameParser(const WsFrameConfig &config)
    : config_(config), reassembly_(new std::uint8_t[config.max_message_size]) {}

void WsFrameParser::reset() noexcept {
  frag_len_ = 0;
  fragmenting_ = false;
  frag_compressed_ = false;
  failed_ = WsFrameError::None;
}

WsFrameEvent WsFrameParser::fail(WsFrameError e, std::size_t consumed) noexcept {
  failed_ = e;
  WsFrameEvent ev;
  ev.type = WsEventType::Error;
  ev.error = e;
  ev.close_code = ws_close_code_for(e);
  ev.consumed = consumed;
  return ev;
}

WsFrameEvent WsFrameParser::close_event(std::span<const std::uint8_t> p,
                                        std::size_t consumed) noexcept {
  WsFrameEvent ev;
  ev.type = WsEventType::Close;
  ev.consumed = consumed;
  ev.payload = p;
  if (p.empty()) {
    ev.close_code = kWsCloseNoStatus;
    return ev;
  }
  if (p.size() == 1) return fail(WsFrameError::BadClosePayload, consumed);
  const auto code = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  if (!valid_close_code(code)) return fail(WsFrameError::BadCloseCode, consumed);
  if (!ws_valid_utf8(p.subspan(2))) return fail(WsFrameError::InvalidUtf8, consumed);
  ev.close_code = code;
  ev.close_reason = as_text(p.subspan(2));
  return ev;
}

WsFrameEvent WsFrameParser::next(std::span<const std::uint8_t> in) noexcept {
  if (failed_ != WsFrameError::None) return fail(failed_, 0);
  std::size_t pos = 0;
  for (;;) {
    const std::size_t avail = in.size() - pos;
    WsFrameEvent more;
    more.consumed = pos;
    if (avail < 2) {
      more.need = pos + 2;
      return more;
    }
    const std::uint8_t *h = in.data() + pos;
    const bool fin = (h[0] & 0x80) != 0;
    const bool rsv1 = (h[0] & 0x40) != 0;
    const auto op = static_cast<std::uint8_t>(h[0] & 0x0F);
    const std::uint8_t len7 = h[1] & 0x7F;

    // Everything decidable from the first two bytes fails before waiting for more.
    if ((h[1] & 0x80) != 0) return fail(WsFrameError::MaskedServerFrame, pos);
    if ((h[0] & 0x30) != 0) return fail(WsFrameError::ReservedBits, pos);
    if (!known_opcode(op)) return fail(WsFrameError::ReservedOpcode, pos);
    const bool control = is_control(op);
    if (control) {
      if (!fin) return fail(WsFrameError::ControlFragmented, pos);
      if (len7 > 125) return fail(WsFrameError::ControlTooLong, pos);
      if (rsv1) return fail(WsFrameError::ReservedBits, pos);
    } else if (op == 0) {
      if (!fragmenting_) return fail(WsFrameError::UnexpectedContinuation, pos);
      if (rsv1) return fail(WsFrameError::ReservedBits, pos); // RFC 7692 6.1: first frame only
    } else {
      if (fragmenting_) return fail(WsFrameError::ExpectedContinuation, pos);
      if (rsv1 && !config_.allow_rsv1) return fail(WsFrameError::ReservedBits, pos);
    }

    std::size_t header = 2;
    std::uint64_t len = len7;
    if (len7 == 126) {
      header = 4;
      if (avail < header) {
        more.need = pos + header;
        return more;
      }
      len = (std::uint64_t{h[2]} << 8) | h[3];
      if (len < 126) return fail(WsFrameError::NonMinimalLength, pos);
    } else if (len7 == 127) {
      header = 10;
      if (avail < header) {
        more.need = pos + header;
        return more;
      }
      len = 0;
      for (std::size_t k = 2; k < 10; ++k) len = (len << 8) | h[k];
      if ((len >> 63) != 0) return fail(WsFrameError::LengthTooLarge, pos);
      if (len <= 0xFFFF) return fail(WsFrameError::NonMinimalLength, pos);
    }
    const std::size_t already = (op == 0) ? frag_len_ : 0;
    if (!control && len > config_.max_message_size - already)
      return fail(WsFrameError::MessageTooBig, pos);
    const auto plen = static_cast<std::size_t>(len);
    if (avail - header < plen) {
      more.need = pos + header + plen;
      return more;
    }
    const std::span<const std::uint8_t> payload = in.subspan(pos + header, plen);
    pos += header + plen;

    if (control) {
      if (op == 0x8) return close_event(payload, pos);
      WsFrameEvent ev;
      ev.type = op == 0x9 ? WsEventType::Ping : WsEventType::Pong;
      ev.consumed = pos;
      ev.payload = payload;
      return ev;
    }
    if (op != 0) {
      if (fin) { // the common case: one frame, one message, no copy
        WsFrameEvent ev;
        ev.type = op == 0x1 ? WsEventType::Text : WsEventType::Binary;
        ev.compressed = rsv1;
        ev.consumed = pos;
        ev.payload = payload;
        if (op == 0x1 && config_.validate_utf8 && !rsv1 && !ws_valid_utf8(payload))
          return fail(WsFrameError::InvalidUtf8, pos);
        return ev;
      }
      fragmenting_ = true;
      frag_opcode_ = static_cast<WsOpcode>(op);
      frag_compressed_ = rsv1;
      frag_len_ = 0;
    }
    if (plen != 0) std::memcpy(reassembly_.get() + frag_len_, payload.data(), plen);
    frag_len_ += plen;
    if (!fin) continue;
    fragmenting_ = false;
    WsFrameEvent ev;
    ev.type = frag_opcode_ == WsOpcode::Text ? WsEventType::Text : WsEventType::Binary;
    ev.compressed = frag_compressed_;
    ev.consumed = pos;
    ev.payload = {reassembly_.get(), frag_len_};
    if (ev.type == WsEventType::Text && config_.validate_utf8 && !ev.compressed &&
        !ws_valid_utf8(ev.payload))
      return fail(WsFrameError::InvalidUtf8, pos);
    return ev;
  }
}

std::uint64_t WsMaskSource::random_seed() noexcept {
  std::uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char *>(&seed), sizeof seed) != 1)
    seed = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count()); // still varies per run
  return seed;
}

WsMaskKey WsMaskSource::next() noexcept {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return {static_cast<std::uint8_t>(z), static_cast<std::uint8_t>(z >> 8),
          static_cast<std::uint8_t>(z >> 16), static_cast<std::uint8_t>(z >> 24)};
}

std::size_t ws_encode_client_frame(WsOpcode op, bool fin, std::span<const std::uint8_t> payload,
                                   const WsMaskKey &mask, std::span<std::uint8_t> out) noexcept {
  const auto code = static_cast<std::uint8_t>(op);
  if (!known_opcode(code)) return 0;
  if (is_control(code) && (!fin || payload.size() > 125)) return 0;
  const std::size_t n = payload.size();
  const std::size_t header = n < 126 ? 6 : (n <= 0xFFFF ? 8 : 14);
  if (out.size() < header || out.size() - header < n) return 0;
  std::uint8_t *o = out.data();
  o[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | code);
  std::size_t p = 2;
  if (n < 126) {
    o[1] = static_cast<std::uint8_t>(0x80 | n);
  } else if (n <= 0xFFFF) {
    o[1] = 0x80 | 126;
    o[2] = static_cast<std::uint8_t>(n >> 8);
    o[3] = static_cast<std::uint8_t>(n);
    p = 4;
  } else {
    o[1] = 0x80 | 127;
    for (std::size_t k = 0; k < 8; ++k)
      o[2 + k] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> (56 - 8 * k));
    p = 10;
  }
  std::memcpy(o + p, mask.data(), 4);
  p += 4;
  for (std::size_t i = 0; i < n; ++i) o[p + i] = payload[i] ^ mask[i & 3];
  return header + n;
}

std::size_t ws_encode_close(std::uint16_t code, std::string_view reason, const WsMaskKey &mask,
                            std::span<std::uint8_t> out) noexcept {
  if (code == 0) return ws_encode_client_frame(WsOpcode::Close, true, {}, mask, out);
  if (reason.size() > 123) return 0;
  std::array<std::uint8_t, 125> body{};
  body[0] = static_cast<std::uint8_t>(code >> 8);
  body[1] = static_cast<std::uint8_t>(code);
  if (!reason.empty()) std::memcpy(body.data() + 2, reason.data(), reason.size());
  return ws_encode_client_frame(WsOpcode::Close, true,
                                std::span<const std::uint8_t>(body.data(), 2 + reason.size()),
                                mask, out);
}

} // namespace fh::net
