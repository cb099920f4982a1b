// IEX-TP segment header, message blocks and continuity (see iex_tp.hpp).
#include "feedhandler/iex/iex_tp.hpp"

namespace fh::iex {

const char* to_cstring(TpError e) noexcept {
  switch (e) {
  case TpError::None: return "none";
  case TpError::ShortSegment: return "short_segment";
  case TpError::BadVersion: return "bad_version";
  case TpError::PayloadLength: return "payload_length";
  case TpError::BlockOverrun: return "block_overrun";
  case TpError::CountMismatch: return "count_mismatch";
  case TpError::kCount: break;
  }
  return "?";
}

const char* to_cstring(SeqVerdict v) noexcept {
  switch (v) {
  case SeqVerdict::First: return "first";
  case SeqVerdict::InOrder: return "in_order";
  case SeqVerdict::Duplicate: return "duplicate";
  case SeqVerdict::Overlap: return "overlap";
  case SeqVerdict::Gap: return "gap";
  case SeqVerdict::Restart: return "restart";
  }
  return "?";
}

TpError parse_segment(const std::uint8_t* data, std::size_t len, TpHeader& out) noexcept {
  if (len < kTpHeaderSize) return TpError::ShortSegment;
  out.version = data[0];
  // data[1] is reserved
  out.protocol = le16(data + 2);
  out.channel = le32(data + 4);
  out.session = le32(data + 8);
  out.payload_length = le16(data + 12);
  out.message_count = le16(data + 14);
  out.stream_offset = le64(data + 16);
  out.first_seq = le64(data + 24);
  out.send_time_ns = static_cast<std::int64_t>(le64(data + 32));
  if (out.version != kTpVersion) return TpError::BadVersion;
  if (out.payload_length != len - kTpHeaderSize) return TpError::PayloadLength;
  // The blocks must tile the payload exactly: decoders then never bounds-check a block again.
  std::size_t at = kTpHeaderSize;
  std::uint32_t blocks = 0;
  while (at < len) {
    if (len - at < 2) return TpError::BlockOverrun;
    const std::size_t n = le16(data + at);
    if (n == 0 || len - at - 2 < n) return TpError::BlockOverrun;
    at += 2 + n;
    ++blocks;
  }
  if (blocks != out.message_count) return TpError::CountMismatch;
  return TpError::None;
}

bool TpBlocks::next(const std::uint8_t*& msg, std::uint16_t& len) noexcept {
  if (end_ - at_ < 2) return false;
  len = le16(at_);
  msg = at_ + 2;
  at_ += 2 + len;
  return true;
}

SeqVerdict TpSequencer::on_segment(const TpHeader& h) noexcept {
  lost_ = 0;
  skip_ = 0;
  const std::uint64_t end_seq = h.first_seq + h.message_count;
  const std::uint64_t end_offset = h.stream_offset + h.payload_length;
  auto advance = [&](SeqVerdict v) noexcept {
    next_seq_ = end_seq;
    next_offset_ = end_offset;
    if (h.send_time_ns > last_send_ns_) last_send_ns_ = h.send_time_ns;
    return v;
  };
  if (!have_) {
    have_ = true;
    session_ = h.session;
    return advance(SeqVerdict::First);
  }
  // A new session id, or the session's first position sent after everything seen so far (an
  // A/B copy of the start carries the original, earlier send time and is a Duplicate below).
  const bool at_start = next_seq_ == 1 && next_offset_ == 0;
  if (h.session != session_ ||
      (starts_session(h) && !at_start && h.send_time_ns > last_send_ns_)) {
    session_ = h.session;
    last_send_ns_ = h.send_time_ns;
    return advance(SeqVerdict::Restart);
  }
  if (h.first_seq == next_seq_ && h.stream_offset == next_offset_) return advance(SeqVerdict::InOrder);
  if (end_seq <= next_seq_ && end_offset <= next_offset_) return SeqVerdict::Duplicate;
  if (h.first_seq < next_seq_ && h.stream_offset < next_offset_ && end_offset > next_offset_) {
    skip_ = next_seq_ - h.first_seq;
    return advance(SeqVerdict::Overlap);
  }
  lost_ = h.first_seq > next_seq_ ? h.first_seq - next_seq_ : 0;
  return advance(SeqVerdict::Gap);
}

} // namespace fh::iex
