// labels: unit replay
// IEX-TP segment parsing and continuity over the real DEEP capture (data/pcap). Expected values
// come from PROVENANCE.md (packets, heartbeats, 11 sequence/offset gaps, 1 truncated packet,
// protocol 0x8004) and from the continuity rule of VENUE_RULES.md applied in this file to the raw
// header bytes. Faults are real segments dropped, repeated, truncated or with a byte flipped.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "feedhandler/iex/iex_tp.hpp"
#include "tests/support/pcap_frames.hpp"

namespace fh::test {
namespace {

using iex::SeqVerdict;
using iex::TpError;
using iex::TpHeader;

std::uint64_t raw_le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

struct Segment {
  const std::uint8_t* data;
  std::size_t len;
};

// UDP payloads of the frames whose IPv4 total length fits the captured bytes (all untagged
// IPv4 with a 20-byte header in this capture: checked here).
std::vector<Segment> intact_segments(std::size_t* truncated = nullptr) {
  std::vector<Segment> out;
  for (const auto& f : iex_frames()) {
    const auto& b = f.bytes;
    EXPECT_EQ(b[14], 0x45);
    const std::size_t total = std::size_t{b[16]} << 8 | b[17];
    if (total + 14 > b.size()) {
      if (truncated) ++*truncated;
      continue;
    }
    out.push_back({b.data() + 42, total - 28});
  }
  return out;
}

class IexTpTest : public ::testing::Test {
protected:
  std::size_t truncated = 0;
  std::vector<Segment> segs = intact_segments(&truncated);
};

TEST_F(IexTpTest, ParsesEveryIntactSegmentOfTheCapture) {
  // PROVENANCE.md: 121,315 packets, the last one cut by the end of the file (not delivered).
  EXPECT_EQ(truncated, 0u);
  EXPECT_EQ(segs.size() + 1, 121315u);
  ASSERT_TRUE(iex_walk().cut_tail);
  TpHeader h;
  std::size_t heartbeats = 0;
  std::uint64_t messages = 0;
  std::uint32_t session = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    ASSERT_EQ(iex::parse_segment(segs[i].data, segs[i].len, h), TpError::None) << "segment " << i;
    EXPECT_EQ(h.protocol, iex::kProtocolDeep10); // PROVENANCE.md: protocol 0x8004
    EXPECT_EQ(h.version, 1);
    if (i == 0) session = h.session;
    EXPECT_EQ(h.session, session);
    // Header fields against the raw little-endian bytes.
    EXPECT_EQ(h.first_seq, raw_le(segs[i].data + 24, 8));
    EXPECT_EQ(h.stream_offset, raw_le(segs[i].data + 16, 8));
    EXPECT_EQ(h.payload_length, segs[i].len - 40);
    if (h.message_count == 0) ++heartbeats;
    messages += h.message_count;
    iex::TpBlocks blocks(segs[i].data, segs[i].len);
    const std::uint8_t* m = nullptr;
    std::uint16_t n = 0;
    std::uint32_t count = 0;
    while (blocks.next(m, n)) ++count;
    EXPECT_EQ(count, h.message_count);
  }
  EXPECT_EQ(heartbeats, 7937u); // PROVENANCE.md: 7,937 heartbeats
  // PROVENANCE.md's 392,043 messages include the 44 the truncated packet's header declares.
  const auto& cut = iex_walk().tail;
  const std::uint64_t declared_by_truncated = raw_le(cut.data() + 42 + 14, 2);
  EXPECT_EQ(messages + declared_by_truncated, 392043u);
}

TEST_F(IexTpTest, ReportsExactlyTheElevenContinuityBreaksProvenanceLists) {
  // Oracle: VENUE_RULES.md's rule on the raw header bytes.
  std::vector<std::size_t> expected;
  for (std::size_t i = 1; i < segs.size(); ++i) {
    const std::uint64_t prev_seq = raw_le(segs[i - 1].data + 24, 8);
    const std::uint64_t prev_count = raw_le(segs[i - 1].data + 14, 2);
    const std::uint64_t prev_off = raw_le(segs[i - 1].data + 16, 8);
    const std::uint64_t prev_len = raw_le(segs[i - 1].data + 12, 2);
    if (raw_le(segs[i].data + 24, 8) != prev_seq + prev_count ||
        raw_le(segs[i].data + 16, 8) != prev_off + prev_len)
      expected.push_back(i);
  }
  EXPECT_EQ(expected.size(), 11u); // PROVENANCE.md: 11 sequence/offset gaps

  iex::TpSequencer seq;
  TpHeader h;
  std::vector<std::size_t> breaks;
  std::size_t restarts = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    ASSERT_EQ(iex::parse_segment(segs[i].data, segs[i].len, h), TpError::None);
    const SeqVerdict v = seq.on_segment(h);
    if (i == 0) {
      EXPECT_EQ(v, SeqVerdict::First);
      EXPECT_TRUE(seq.starts_session(h)); // the capture starts at sequence 1, offset 0
      continue;
    }
    if (v == SeqVerdict::Gap || v == SeqVerdict::Restart) breaks.push_back(i);
    if (v == SeqVerdict::Restart) {
      ++restarts;
      EXPECT_EQ(h.first_seq, 1u);
      EXPECT_EQ(h.stream_offset, 0u);
    }
    EXPECT_NE(v, SeqVerdict::Duplicate) << i;
    EXPECT_NE(v, SeqVerdict::Overlap) << i;
  }
  EXPECT_EQ(breaks, expected);
  // What the eleven are: every one goes back to sequence 1 / offset 0 with a later send time
  // (the publisher started over), none skips ahead: no message is lost.
  EXPECT_EQ(restarts, 11u);
}

TEST_F(IexTpTest, ReportsGapWhenSequenceSkipsAhead) {
  iex::TpSequencer seq;
  TpHeader h;
  // Segments 99..199 with segment 150 dropped (a data segment: count > 0).
  std::size_t dropped = 150;
  while (raw_le(segs[dropped].data + 14, 2) == 0) ++dropped;
  const std::uint64_t lost = raw_le(segs[dropped].data + 14, 2);
  std::size_t gaps = 0;
  for (std::size_t i = 99; i < 200; ++i) {
    if (i == dropped) continue;
    ASSERT_EQ(iex::parse_segment(segs[i].data, segs[i].len, h), TpError::None);
    const SeqVerdict v = seq.on_segment(h);
    if (v == SeqVerdict::Gap) {
      ++gaps;
      EXPECT_EQ(i, dropped + 1);
      EXPECT_EQ(seq.lost_messages(), lost);
    } else if (i != 99) {
      EXPECT_EQ(v, SeqVerdict::InOrder) << i;
    }
  }
  EXPECT_EQ(gaps, 1u);
}

TEST_F(IexTpTest, DropsARepeatedSegmentAsDuplicate) {
  iex::TpSequencer seq;
  TpHeader h;
  for (std::size_t i = 0; i < 300; ++i) {
    ASSERT_EQ(iex::parse_segment(segs[i].data, segs[i].len, h), TpError::None);
    const SeqVerdict first = seq.on_segment(h);
    EXPECT_TRUE(first == SeqVerdict::InOrder || first == SeqVerdict::First);
    // The same segment again, as an A/B feed delivers it: includes the session's first data
    // segment (sequence 1), which must not read as a restart.
    if (h.message_count != 0) {
      EXPECT_EQ(seq.on_segment(h), SeqVerdict::Duplicate) << i;
    }
  }
}

TEST_F(IexTpTest, TruncatedSegmentsAreRefused) {
  TpHeader h;
  for (std::size_t i = 0; i < 60; ++i) {
    const Segment& s = segs[i * 2000 + 3];
    // Mechanically cut the segment at every length short of its end.
    for (std::size_t len = 0; len < s.len; ++len) {
      const TpError e = iex::parse_segment(s.data, len, h);
      EXPECT_TRUE(e == TpError::ShortSegment || e == TpError::PayloadLength)
          << iex::to_cstring(e) << " segment " << i * 2000 + 3 << " len " << len;
    }
  }
}

TEST_F(IexTpTest, CorruptedBlockLengthsAreRefused) {
  TpHeader h;
  std::size_t tested = 0;
  for (std::size_t i = 0; i < segs.size() && tested < 500; i += 97) {
    if (raw_le(segs[i].data + 14, 2) == 0) continue;
    std::vector<std::uint8_t> s(segs[i].data, segs[i].data + segs[i].len);
    // Mechanically flip a bit in the high byte of the first block's length.
    s[41] ^= 0x02;
    const TpError e = iex::parse_segment(s.data(), s.size(), h);
    EXPECT_TRUE(e == TpError::BlockOverrun || e == TpError::CountMismatch) << iex::to_cstring(e);
    // And a flipped message count (low bit): the blocks no longer match it.
    std::vector<std::uint8_t> c(segs[i].data, segs[i].data + segs[i].len);
    c[14] ^= 0x01;
    EXPECT_EQ(iex::parse_segment(c.data(), c.size(), h), TpError::CountMismatch);
    // And a version byte changed from 1 to 2.
    std::vector<std::uint8_t> v(segs[i].data, segs[i].data + segs[i].len);
    v[0] = 2;
    EXPECT_EQ(iex::parse_segment(v.data(), v.size(), h), TpError::BadVersion);
    ++tested;
  }
  EXPECT_GT(tested, 400u);
}

} // namespace
} // namespace fh::test
