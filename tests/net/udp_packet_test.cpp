// labels: unit replay
// UdpFrameParser over real frames of the two captures in data/pcap. Expected counts come from
// PROVENANCE.md (packets, multicast groups, the one truncated IEX packet) or are computed here
// independently (RFC 791 / RFC 768 checksums written out in this file). Malformed inputs are
// real frames changed mechanically, each test says how.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "net/udp_packet.hpp"
#include "tests/support/pcap_frames.hpp"

namespace fh::test {
namespace {

using net::FrameError;
using net::UdpChecksumPolicy;
using net::UdpDatagram;
using net::UdpFilter;
using net::UdpFrameParser;

constexpr std::uint32_t kIexGroup = (224u << 24) | (2u << 16) | (3u << 8) | 10u; // 224.2.3.10
constexpr std::uint16_t kIexPort = 16648;

// Independent RFC 1071 sum: 16-bit big-endian words, end-around carry.
std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
  for (std::size_t i = 0; i < n; i += 2) {
    s += static_cast<std::uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
    s = (s & 0xffff) + (s >> 16);
  }
  return s;
}

// Frame offsets of an untagged IPv4 frame.
std::size_t ip_at(const std::vector<std::uint8_t>&) { return 14; }
std::size_t udp_at(const std::vector<std::uint8_t>& f) { return 14 + std::size_t{f[14] & 0xfu} * 4; }
std::size_t udp_len(const std::vector<std::uint8_t>& f) {
  return std::size_t{f[udp_at(f) + 4]} << 8 | f[udp_at(f) + 5];
}

std::uint32_t pseudo_sum(const std::vector<std::uint8_t>& f) {
  std::uint32_t s = sum16(&f[ip_at(f) + 12], 8); // source + destination
  s += 17 + static_cast<std::uint32_t>(udp_len(f));
  return (s & 0xffff) + (s >> 16);
}

// The UDP checksum the sending NIC would have written (RFC 768), computed with the field zero.
std::uint16_t real_udp_checksum(std::vector<std::uint8_t> f) {
  const std::size_t u = udp_at(f);
  f[u + 6] = f[u + 7] = 0;
  const std::uint32_t s = sum16(&f[u], udp_len(f), pseudo_sum(f));
  const auto c = static_cast<std::uint16_t>(~s & 0xffff);
  return c == 0 ? 0xffff : c;
}

bool udp_checksum_verifies(const std::vector<std::uint8_t>& f) {
  return sum16(&f[udp_at(f)], udp_len(f), pseudo_sum(f)) == 0xffff;
}

void set_udp_checksum(std::vector<std::uint8_t>& f, std::uint16_t c) {
  f[udp_at(f) + 6] = static_cast<std::uint8_t>(c >> 8);
  f[udp_at(f) + 7] = static_cast<std::uint8_t>(c & 0xff);
}

void fix_ip_checksum(std::vector<std::uint8_t>& f) {
  const std::size_t ip = ip_at(f), ihl = std::size_t{f[ip] & 0xfu} * 4;
  f[ip + 10] = f[ip + 11] = 0;
  const auto c = static_cast<std::uint16_t>(~sum16(&f[ip], ihl) & 0xffff);
  f[ip + 10] = static_cast<std::uint8_t>(c >> 8);
  f[ip + 11] = static_cast<std::uint8_t>(c & 0xff);
}

bool ip_total_fits(const std::vector<std::uint8_t>& f) {
  return (std::size_t{f[16]} << 8 | f[17]) + 14 <= f.size();
}

class UdpPacketTest : public ::testing::Test {
protected:
  const std::vector<CapturedFrame>& frames = iex_frames();
};

TEST_F(UdpPacketTest, DeliversEveryIexDatagramAndRefusesTheTruncatedOne) {
  // PROVENANCE.md: 121,315 packets, 1 truncated/odd: the file ends inside the last record.
  ASSERT_TRUE(iex_walk().cut_tail);
  ASSERT_EQ(frames.size() + 1, 121315u);
  // Independent expectation: frames whose UDP checksum really verifies (the rest carry the
  // transmit-offload placeholder).
  std::size_t verifying = 0;
  for (const auto& f : frames) {
    ASSERT_TRUE(ip_total_fits(f.bytes));
    if (udp_checksum_verifies(f.bytes)) ++verifying;
  }

  UdpFrameParser p(UdpFilter{true, kIexGroup, kIexPort}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  for (const auto& f : frames) {
    ASSERT_EQ(p.parse(f.bytes.data(), f.bytes.size(), d), FrameError::None);
    EXPECT_EQ(d.dst_ip, kIexGroup);
    EXPECT_EQ(d.dst_port, kIexPort);
    EXPECT_EQ(d.payload, f.bytes.data() + 42);
    EXPECT_EQ(d.length, udp_len(f.bytes) - 8);
  }
  // The cut record, as far as the file has it: IPv4 says more bytes than are there.
  const std::vector<std::uint8_t>& cut = iex_walk().tail;
  EXPECT_FALSE(ip_total_fits(cut));
  EXPECT_EQ(p.parse(cut.data(), cut.size(), d), FrameError::Truncated);

  const net::UdpCounters& c = p.counters();
  EXPECT_EQ(c.frames, frames.size() + 1);
  EXPECT_EQ(c.delivered, frames.size());
  EXPECT_EQ(c.error(FrameError::Truncated), 1u);
  EXPECT_EQ(c.checksum_verified, verifying);
  EXPECT_EQ(c.checksum_placeholder, frames.size() - verifying);
  EXPECT_EQ(c.checksum_absent, 0u);
  EXPECT_EQ(c.error(FrameError::IpChecksum), 0u);
  EXPECT_EQ(c.error(FrameError::UdpChecksum), 0u);
}

TEST_F(UdpPacketTest, StrictPolicyRefusesTheOffloadPlaceholder) {
  UdpFrameParser p; // strict, any multicast group
  UdpDatagram d;
  std::size_t verifying = 0;
  for (const auto& f : frames) {
    if (udp_checksum_verifies(f.bytes)) ++verifying;
    (void)p.parse(f.bytes.data(), f.bytes.size(), d);
  }
  EXPECT_EQ(p.counters().delivered, verifying);
  EXPECT_EQ(p.counters().error(FrameError::UdpChecksum), frames.size() - verifying);
  EXPECT_LT(verifying, 10u); // the capture was taken on the sending host
}

TEST_F(UdpPacketTest, PcapngDeribitFramesGoToTwentyNineMulticastChannels) {
  const auto deribit = load_frames(kDeribitCapture);
  ASSERT_EQ(deribit.size(), 5066u); // PROVENANCE.md
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  std::set<std::pair<std::uint32_t, std::uint16_t>> channels;
  for (const auto& f : deribit) {
    ASSERT_EQ(p.parse(f.bytes.data(), f.bytes.size(), d), FrameError::None);
    EXPECT_EQ(d.dst_ip >> 8, (239u << 16) | (111u << 8) | 111u); // 239.111.111.x
    channels.insert({d.dst_ip, d.dst_port});
  }
  // PROVENANCE.md: "29 multicast groups 239.111.111.x:6100". The 29 are group:port channels:
  // 22 addresses, each on port 6100 and/or 6101 (8 channels on 6100, 21 on 6101).
  EXPECT_EQ(channels.size(), 29u);
  std::set<std::uint32_t> addresses;
  for (const auto& [ip, port] : channels) {
    EXPECT_TRUE(port == 6100 || port == 6101) << port;
    addresses.insert(ip);
  }
  EXPECT_EQ(addresses.size(), 22u);
  EXPECT_EQ(p.counters().delivered, 5066u);
  EXPECT_EQ(p.counters().checksum_placeholder, 5066u); // captured on the sending host as well
}

TEST_F(UdpPacketTest, FlippedIpHeaderBytesAreCountedAndSkipped) {
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  std::size_t flipped = 0;
  for (std::size_t i = 0; i < 500; ++i) {
    std::vector<std::uint8_t> f = frames[i * 200].bytes;
    // Mechanically flip one bit of the TTL, the identification or the checksum itself.
    const std::size_t at = ip_at(f) + std::array<std::size_t, 3>{8, 4, 10}[i % 3];
    f[at] ^= 0x01;
    EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::IpChecksum) << "frame " << i * 200;
    ++flipped;
  }
  EXPECT_EQ(p.counters().error(FrameError::IpChecksum), flipped);
  EXPECT_EQ(p.counters().delivered, 0u);
}

TEST_F(UdpPacketTest, FlippedPayloadByteFailsTheUdpChecksumTheNicWouldHaveWritten) {
  UdpFrameParser p; // strict
  UdpDatagram d;
  for (std::size_t i = 0; i < 300; ++i) {
    std::vector<std::uint8_t> f = frames[i * 400 + 1].bytes;
    ASSERT_TRUE(ip_total_fits(f));
    // Mechanically: write the real RFC 768 checksum (computed in this test) where the capture
    // has the offload placeholder; the frame is then exactly what went on the wire.
    set_udp_checksum(f, real_udp_checksum(f));
    ASSERT_EQ(p.parse(f.data(), f.size(), d), FrameError::None) << "frame " << i * 400 + 1;
    EXPECT_TRUE(d.checksum_verified);
    // Then flip one payload bit (a different position per frame).
    const std::size_t at = 42 + (i * 7) % (f.size() - 42);
    f[at] ^= 0x10;
    EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::UdpChecksum) << "frame " << i * 400 + 1;
  }
  EXPECT_EQ(p.counters().delivered, 300u);
  EXPECT_EQ(p.counters().checksum_verified, 300u);
  EXPECT_EQ(p.counters().error(FrameError::UdpChecksum), 300u);
}

TEST_F(UdpPacketTest, PlaceholderPolicyStillRefusesAnyOtherChecksumValue) {
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  std::size_t tested = 0;
  for (std::size_t i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> f = frames[i * 100 + 2].bytes;
    if (!ip_total_fits(f) || udp_checksum_verifies(f)) continue;
    // Mechanically flip one bit of the UDP checksum field (placeholder -> something else).
    f[udp_at(f) + 7] ^= 0x04;
    if (udp_checksum_verifies(f)) continue; // flipped into the real value: not a corruption
    EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::UdpChecksum);
    ++tested;
  }
  EXPECT_GT(tested, 990u);
  EXPECT_EQ(p.counters().error(FrameError::UdpChecksum), tested);
}

TEST_F(UdpPacketTest, TruncatedFramesAreCountedNeverDelivered) {
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  std::size_t cuts = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    const std::vector<std::uint8_t>& f = frames[i * 3000 + 5].bytes;
    // Mechanically cut the frame at every length short of its end.
    for (std::size_t len = 0; len < f.size(); ++len) {
      const FrameError e = p.parse(f.data(), len, d);
      EXPECT_TRUE(e == FrameError::ShortFrame || e == FrameError::Truncated)
          << net::to_cstring(e) << " frame " << i * 3000 + 5 << " len " << len;
      ++cuts;
    }
  }
  EXPECT_EQ(p.counters().delivered, 0u);
  EXPECT_EQ(p.counters().error(FrameError::ShortFrame) + p.counters().error(FrameError::Truncated),
            cuts);
}

TEST_F(UdpPacketTest, FilterDropsOtherGroupsAndPorts) {
  UdpFrameParser other_group(UdpFilter{true, kIexGroup + 1, 0},
                             UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpFrameParser other_port(UdpFilter{true, 0, kIexPort + 1},
                            UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  for (std::size_t i = 0; i < 1000; ++i) {
    const auto& f = frames[i].bytes;
    EXPECT_EQ(other_group.parse(f.data(), f.size(), d), FrameError::Filtered);
    EXPECT_EQ(other_port.parse(f.data(), f.size(), d), FrameError::Filtered);
  }
  EXPECT_EQ(other_group.counters().error(FrameError::Filtered), 1000u);
}

TEST_F(UdpPacketTest, FragmentsAndOtherProtocolsAreCountedAndSkipped) {
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  std::vector<std::uint8_t> f = frames[10].bytes;
  // Mechanically set the more-fragments bit and re-seal the IPv4 header checksum.
  f[ip_at(f) + 6] |= 0x20;
  fix_ip_checksum(f);
  EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::Fragment);
  // Mechanically change the protocol byte to TCP (6), re-sealed.
  f = frames[11].bytes;
  f[ip_at(f) + 9] = 6;
  fix_ip_checksum(f);
  EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::NotUdp);
  // Mechanically change the EtherType to IPv6.
  f = frames[12].bytes;
  f[12] = 0x86;
  f[13] = 0xdd;
  EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::NotIpv4);
  // Mechanically change the UDP length field (one more than the datagram).
  f = frames[13].bytes;
  f[udp_at(f) + 5] = static_cast<std::uint8_t>(f[udp_at(f) + 5] + 1);
  EXPECT_EQ(p.parse(f.data(), f.size(), d), FrameError::BadUdpLength);
  EXPECT_EQ(p.counters().delivered, 0u);
}

TEST_F(UdpPacketTest, VlanTaggedFrameIsDeliveredWithItsVlanId) {
  UdpFrameParser p(UdpFilter{}, UdpChecksumPolicy::AcceptOffloadPlaceholder);
  UdpDatagram d;
  const std::vector<std::uint8_t>& orig = frames[20].bytes;
  // Mechanically insert an 802.1Q tag (TPID 0x8100, VLAN 123) after the MAC addresses, as a
  // switch port in trunk mode would; the IPv4/UDP bytes are unchanged.
  std::vector<std::uint8_t> f(orig.begin(), orig.begin() + 12);
  for (const int b : {0x81, 0x00, 0x00, 123}) f.push_back(static_cast<std::uint8_t>(b));
  f.insert(f.end(), orig.begin() + 12, orig.end());
  ASSERT_EQ(p.parse(f.data(), f.size(), d), FrameError::None);
  EXPECT_EQ(d.vlan, 123);
  EXPECT_EQ(d.dst_ip, kIexGroup);
  EXPECT_EQ(std::memcmp(d.payload, orig.data() + 42, d.length), 0);
}

TEST_F(UdpPacketTest, OnesComplementSumMatchesTheIndependentSum) {
  for (std::size_t i = 0; i < 200; ++i) {
    const auto& f = frames[i * 600].bytes;
    const std::uint32_t theirs = sum16(f.data(), f.size());
    EXPECT_EQ(net::ones_complement_sum(f.data(), f.size()), theirs) << i;
    EXPECT_EQ(net::ones_complement_sum(f.data(), f.size() - 1), sum16(f.data(), f.size() - 1)) << i;
  }
}

} // namespace
} // namespace fh::test
