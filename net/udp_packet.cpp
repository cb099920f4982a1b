// Ethernet/VLAN/IPv4/UDP frame parsing (see udp_packet.hpp for the checks and why).
#include "net/udp_packet.hpp"

namespace fh::net {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kMaxVlanTags = 2; // 802.1ad outer + 802.1Q inner
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88a8;
constexpr std::uint16_t kEtherQinQOld = 0x9100;
constexpr std::uint8_t kProtoUdp = 17;

inline std::uint16_t be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline std::uint16_t fold(std::uint64_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

} // namespace

const char* to_cstring(FrameError e) noexcept {
  switch (e) {
  case FrameError::None: return "none";
  case FrameError::ShortFrame: return "short_frame";
  case FrameError::NotIpv4: return "not_ipv4";
  case FrameError::BadIpHeader: return "bad_ip_header";
  case FrameError::Truncated: return "truncated";
  case FrameError::IpChecksum: return "ip_checksum";
  case FrameError::Fragment: return "fragment";
  case FrameError::NotUdp: return "not_udp";
  case FrameError::BadUdpLength: return "bad_udp_length";
  case FrameError::UdpChecksum: return "udp_checksum";
  case FrameError::Filtered: return "filtered";
  case FrameError::kCount: break;
  }
  return "?";
}

std::uint16_t ones_complement_sum(const std::uint8_t* data, std::size_t len,
                                  std::uint32_t initial) noexcept {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < len; i += 2) sum += be16(data + i);
  if (i < len) sum += std::uint64_t{data[i]} << 8; // odd length: pad with a zero byte
  return fold(sum);
}

FrameError UdpFrameParser::parse(const std::uint8_t* frame, std::size_t len,
                                 UdpDatagram& out) noexcept {
  ++counters_.frames;
  if (len < kEthernetHeader + kIpv4MinHeader) [[unlikely]]
    return fail(FrameError::ShortFrame);

  std::size_t at = 12;
  std::uint16_t ether = be16(frame + at);
  std::uint16_t vlan = 0;
  for (std::size_t tags = 0;
       tags < kMaxVlanTags && (ether == kEtherVlan || ether == kEtherQinQ || ether == kEtherQinQOld);
       ++tags) {
    if (len < at + kVlanTag + 2 + kIpv4MinHeader) return fail(FrameError::ShortFrame);
    if (tags == 0) vlan = be16(frame + at + 2) & 0x0fff;
    at += kVlanTag;
    ether = be16(frame + at);
  }
  if (ether != kEtherIpv4) return fail(FrameError::NotIpv4);

  const std::uint8_t* ip = frame + at + 2;
  const std::size_t ip_avail = len - (at + 2);
  const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIpv4MinHeader || ihl > ip_avail) [[unlikely]]
    return fail(FrameError::BadIpHeader);
  const std::size_t total = be16(ip + 2);
  if (total < ihl) [[unlikely]]
    return fail(FrameError::BadIpHeader);
  if (total > ip_avail) [[unlikely]]
    return fail(FrameError::Truncated); // bytes past ip_avail are Ethernet padding otherwise
  if (ones_complement_sum(ip, ihl) != 0xffff) [[unlikely]]
    return fail(FrameError::IpChecksum);
  if ((be16(ip + 6) & 0x3fff) != 0) [[unlikely]]
    return fail(FrameError::Fragment);
  if (ip[9] != kProtoUdp) return fail(FrameError::NotUdp);

  const std::uint8_t* udp = ip + ihl;
  const std::size_t udp_avail = total - ihl;
  if (udp_avail < kUdpHeader) [[unlikely]]
    return fail(FrameError::BadUdpLength);
  const std::size_t udp_len = be16(udp + 4);
  if (udp_len != udp_avail) [[unlikely]]
    return fail(FrameError::BadUdpLength);

  // Checksum counters are bumped only for delivered datagrams, so they add up to `delivered`.
  const std::uint16_t field = be16(udp + 6);
  enum class Sum : std::uint8_t { Absent, Verified, Placeholder } sum = Sum::Absent;
  if (field != 0) {
    // Pseudo-header: source, destination, zero, protocol, UDP length.
    const std::uint64_t pseudo = std::uint64_t{be16(ip + 12)} + be16(ip + 14) + be16(ip + 16) +
                                 be16(ip + 18) + kProtoUdp + udp_len;
    if (ones_complement_sum(udp, udp_len, fold(pseudo)) == 0xffff)
      sum = Sum::Verified;
    else if (policy_ == UdpChecksumPolicy::AcceptOffloadPlaceholder && field == fold(pseudo))
      sum = Sum::Placeholder;
    else
      return fail(FrameError::UdpChecksum);
  }

  const std::uint32_t dst = be32(ip + 16);
  const std::uint16_t dst_port = be16(udp + 2);
  if ((filter_.multicast_only && (dst >> 28) != 0xe) ||
      (filter_.group != 0 && dst != filter_.group) || (filter_.port != 0 && dst_port != filter_.port))
    return fail(FrameError::Filtered);

  switch (sum) {
  case Sum::Absent: ++counters_.checksum_absent; break;
  case Sum::Verified: ++counters_.checksum_verified; break;
  case Sum::Placeholder: ++counters_.checksum_placeholder; break;
  }
  out.payload = udp + kUdpHeader;
  out.length = static_cast<std::uint32_t>(udp_len - kUdpHeader);
  out.src_ip = be32(ip + 12);
  out.dst_ip = dst;
  out.src_port = be16(udp);
  out.dst_port = dst_port;
  out.vlan = vlan;
  out.checksum_verified = sum == Sum::Verified;
  ++counters_.delivered;
  return FrameError::None;
}

} // namespace fh::net
