#pragma once
// Decompression of WebSocket payloads: permessage-deflate (RFC 7692) messages, and the
// gzip / raw-deflate binary frames some venues send inside ordinary messages (Huobi/HTX gzip,
// OKX's old v3 API raw deflate).
//
// Why shaped so: a compressed message is inflated into one buffer allocated at construction
// with the size limit, and zlib's own allocations (inflate state and 32 KiB window) come from
// an arena inside the object, also allocated at construction, so inflating never calls malloc.
// The output buffer is one byte larger than the limit: "the limit plus one byte came out" is
// how an oversized message is detected without a second pass. permessage-deflate payloads lack
// the 00 00 ff ff tail of the sync flush that ended them (RFC 7692 7.2.2); instead of copying
// the payload to append it, the tail is fed to zlib as a second input. Context takeover is the
// default: the inflate window carries over between messages, unless the server said
// server_no_context_takeover, in which case the stream is reset before each message.
// The zlib stream lives behind a pointer because zlib's state points back at it, which keeps
// these objects movable. Nothing throws after construction; errors are codes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace fh::net {

enum class WsInflateStatus : std::uint8_t {
  Ok = 0,
  TooLarge,  // output would exceed max_output              (close with 1009)
  Corrupt,   // not valid deflate / gzip data (CRC, header)  (close with 1007)
  Truncated, // gzip stream ends before its trailer
  NoMemory,  // zlib init failed (arena too small: a bug, never expected)
  kCount
};

[[nodiscard]] const char *to_cstring(WsInflateStatus s) noexcept;

struct ZStreamBox; // z_stream + allocation arena, defined in ws_deflate.cpp

class WsInflater {
public:
  // `server_no_context_takeover` as negotiated (WsDeflateParams).
  WsInflater(std::size_t max_output, bool server_no_context_takeover);
  WsInflater(WsInflater &&) noexcept;
  WsInflater &operator=(WsInflater &&) noexcept;
  ~WsInflater();

  // False if zlib could not be initialised; every inflate then returns NoMemory.
  [[nodiscard]] bool ok() const noexcept;

  // Inflates one whole message (the payload of an RSV1 text/binary message, all fragments
  // joined). `out` views the internal buffer until the next call. After an error other than
  // TooLarge with context takeover the window is unusable: fail the connection.
  [[nodiscard]] WsInflateStatus inflate(std::span<const std::uint8_t> in,
                                        std::span<const std::uint8_t> &out) noexcept;

  // New connection (or new negotiation): drop the window.
  void reset(bool server_no_context_takeover) noexcept;
  [[nodiscard]] std::size_t max_output() const noexcept { return max_output_; }

private:
  std::unique_ptr<ZStreamBox> z_;
  std::unique_ptr<std::uint8_t[]> out_; // max_output_ + 1 bytes
  std::size_t max_output_;
  bool no_context_takeover_;
};

enum class PayloadCodec : std::uint8_t {
  Gzip,       // RFC 1952, zlib windowBits 15 + 16 (Huobi/HTX binary frames)
  RawDeflate, // RFC 1951 without header, windowBits -15 (OKX v3); a stream ending in a sync
              // flush rather than a final block is accepted, raw deflate has no trailer
};

// One-shot inflate of a whole compressed payload, each call independent of the previous one.
class PayloadInflater {
public:
  explicit PayloadInflater(std::size_t max_output);
  PayloadInflater(PayloadInflater &&) noexcept;
  PayloadInflater &operator=(PayloadInflater &&) noexcept;
  ~PayloadInflater();

  [[nodiscard]] bool ok() const noexcept;
  // `out` views the internal buffer until the next call. Gzip: trailing bytes after the
  // member, a bad CRC or length, or a missing trailer are errors.
  [[nodiscard]] WsInflateStatus inflate(PayloadCodec codec, std::span<const std::uint8_t> in,
                                        std::span<const std::uint8_t> &out) noexcept;

private:
  std::unique_ptr<ZStreamBox> gzip_;
  std::unique_ptr<ZStreamBox> raw_;
  std::unique_ptr<std::uint8_t[]> out_; // max_output_ + 1 bytes
  std::size_t max_output_;
};

} // namespace fh::net
