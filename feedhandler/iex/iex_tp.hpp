#pragma once
// IEX Transport Protocol (IEX-TP v1): the 40-byte segment header every IEX multicast datagram
// starts with, its message blocks, and the per-stream continuity check.
//
// Why this shape: a segment is one UDP payload; its header says which stream (protocol,
// channel, session), where the payload sits in that stream (byte offset) and the sequence
// number of its first message. Continuity (VENUE_RULES.md, IEX-TP): the next segment's first
// sequence == previous first + previous message count, and its offset == previous offset +
// previous payload length; heartbeats carry count 0. TpSequencer is that rule and nothing
// else: it classifies each segment and the caller decides what a break means for the books.
// Everything is little endian, read with memcpy (no alignment assumed), noexcept, no
// allocation.
#include <cstddef>
#include <cstdint>

namespace fh::iex {

inline constexpr std::size_t kTpHeaderSize = 40;
inline constexpr std::uint8_t kTpVersion = 1;
inline constexpr std::uint16_t kProtocolTops15 = 0x8002;
inline constexpr std::uint16_t kProtocolTops16 = 0x8003;
inline constexpr std::uint16_t kProtocolDeep10 = 0x8004;

struct TpHeader {
  std::uint8_t version = 0;
  std::uint16_t protocol = 0;      // message protocol id (0x8003 TOPS 1.6, 0x8004 DEEP 1.0)
  std::uint32_t channel = 0;
  std::uint32_t session = 0;
  std::uint16_t payload_length = 0; // bytes after the header
  std::uint16_t message_count = 0;  // 0 = heartbeat
  std::uint64_t stream_offset = 0;  // byte offset of the payload in the stream
  std::uint64_t first_seq = 0;      // sequence number of the first message
  std::int64_t send_time_ns = 0;    // ns since the epoch
};

enum class TpError : std::uint8_t {
  None = 0,
  ShortSegment,   // fewer than 40 bytes
  BadVersion,     // version != 1
  PayloadLength,  // payload_length != bytes after the header
  BlockOverrun,   // a message block is empty or its length runs past the payload
  CountMismatch,  // blocks found != message_count, or bytes left after the last block
  kCount
};

const char* to_cstring(TpError e) noexcept;

// Header plus structural checks of the blocks (each block is a 2-byte length + message).
// On None the segment's blocks are exactly message_count and fill the payload.
[[nodiscard]] TpError parse_segment(const std::uint8_t* data, std::size_t len,
                                    TpHeader& out) noexcept;

// Walks the message blocks of a segment parse_segment() accepted.
class TpBlocks {
public:
  TpBlocks(const std::uint8_t* data, std::size_t len) noexcept
      : at_(data + kTpHeaderSize), end_(data + len) {}
  // Next message (type byte first) and its length; false after the last one.
  bool next(const std::uint8_t*& msg, std::uint16_t& len) noexcept;

private:
  const std::uint8_t* at_;
  const std::uint8_t* end_;
};

// What a segment is relative to the stream so far.
enum class SeqVerdict : std::uint8_t {
  First,     // first segment seen (starts_session() says whether it is the session's start)
  InOrder,   // exactly where the previous one ended
  Duplicate, // wholly before the expected sequence: already seen (A/B feeds), drop it
  Overlap,   // starts before the expected sequence, ends after: skip its first messages
  Gap,       // starts after the expected sequence or offset: messages were lost
  Restart,   // back to sequence 1 / offset 0 (or a new session id): the stream started over
};

const char* to_cstring(SeqVerdict v) noexcept;

class TpSequencer {
public:
  // Classifies `h` and advances the expected position past it (except for Duplicate).
  [[nodiscard]] SeqVerdict on_segment(const TpHeader& h) noexcept;

  // The verdict's details for the last segment.
  std::uint64_t expected_seq() const noexcept { return next_seq_; }
  std::uint64_t lost_messages() const noexcept { return lost_; }    // Gap: how many skipped
  std::uint64_t skip_messages() const noexcept { return skip_; }    // Overlap: already seen
  bool starts_session(const TpHeader& h) const noexcept {
    return h.first_seq == 1 && h.stream_offset == 0;
  }

private:
  bool have_ = false;
  std::uint32_t session_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_offset_ = 0;
  std::int64_t last_send_ns_ = 0; // latest send time in the current session
  std::uint64_t lost_ = 0;
  std::uint64_t skip_ = 0;
};

// Little-endian field readers shared by the IEX message decoders.
inline std::uint16_t le16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
inline std::uint64_t le64(const std::uint8_t* p) noexcept {
  return std::uint64_t{le32(p)} | (std::uint64_t{le32(p + 4)} << 32);
}

} // namespace fh::iex
