#pragma once
// UDP datagrams out of Ethernet frames: Ethernet II, 802.1Q / 802.1ad VLAN tags, IPv4, UDP.
//
// Why this shape: one call per frame, the unit every packet source hands out: a pcap record
// (net/pcap_reader.hpp) today, a DPDK mbuf (rte_pktmbuf_mtod + data_len) in an rx burst loop
// later. parse() is noexcept, allocates nothing and returns a view into the frame, so a burst
// loop calls it per packet with no copy. Every reason a frame is not delivered has its own
// counter (a code, never a log line); callers count nothing themselves.
//
// Checks, in wire order: frame long enough for each header; IPv4 version 4, IHL >= 5, total
// length inside the frame (a snapped or cut frame is Truncated, never half-delivered); header
// checksum; no fragments (market-data feeds never fragment; reassembly is not done here); UDP
// length consistent with IPv4's; UDP checksum when the field is non-zero (RFC 768: zero = none
// sent); then the destination filter (multicast only, optional group and port).
//
// Transmit checksum offload: a capture taken on the sending host sees the placeholder the
// kernel leaves for the NIC (Linux CHECKSUM_PARTIAL: the folded pseudo-header sum, not
// complemented), never the real checksum. Both captures in data/ are like that in every packet.
// UdpChecksumPolicy::AcceptOffloadPlaceholder accepts exactly that value and counts the
// datagram as unverified; Strict (the default, for frames off the wire, where a placeholder
// means a broken sender) rejects it like any other mismatch.
#include <array>
#include <cstddef>
#include <cstdint>

namespace fh::net {

enum class FrameError : std::uint8_t {
  None = 0,
  ShortFrame,   // shorter than the Ethernet (+VLAN) + minimal IPv4 header
  NotIpv4,      // EtherType after the VLAN tags is not IPv4 (ARP, IPv6, LLDP, ...)
  BadIpHeader,  // version != 4 or IHL < 5 or options past the frame
  Truncated,    // IPv4 total length runs past the bytes present (snapped or cut frame)
  IpChecksum,   // IPv4 header checksum mismatch
  Fragment,     // MF set or fragment offset != 0
  NotUdp,       // IPv4 protocol is not 17
  BadUdpLength, // UDP length < 8 or different from IPv4's payload length
  UdpChecksum,  // non-zero UDP checksum that does not verify (and is not accepted, see policy)
  Filtered,     // well-formed, but not to a selected destination
  kCount
};

const char* to_cstring(FrameError e) noexcept;

enum class UdpChecksumPolicy : std::uint8_t { Strict, AcceptOffloadPlaceholder };

// Which datagrams are delivered. Addresses and ports in host byte order; 0 = any.
struct UdpFilter {
  bool multicast_only = true; // destination in 224.0.0.0/4
  std::uint32_t group = 0;
  std::uint16_t port = 0;
};

struct UdpDatagram {
  const std::uint8_t* payload = nullptr; // into the frame
  std::uint32_t length = 0;
  std::uint32_t src_ip = 0; // host byte order
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t vlan = 0;             // outermost VLAN id, 0 when untagged
  bool checksum_verified = false;     // false: field was zero or the offload placeholder
};

struct UdpCounters {
  std::uint64_t frames = 0;
  std::uint64_t delivered = 0;
  std::uint64_t checksum_verified = 0;   // UDP checksum present and correct
  std::uint64_t checksum_absent = 0;     // field zero (allowed over IPv4)
  std::uint64_t checksum_placeholder = 0; // offload placeholder accepted by the policy
  std::array<std::uint64_t, static_cast<std::size_t>(FrameError::kCount)> errors{};

  std::uint64_t error(FrameError e) const noexcept {
    return errors[static_cast<std::size_t>(e)];
  }
};

class UdpFrameParser {
public:
  explicit UdpFrameParser(UdpFilter filter = {},
                          UdpChecksumPolicy policy = UdpChecksumPolicy::Strict) noexcept
      : filter_(filter), policy_(policy) {}

  // One Ethernet frame of `len` bytes. On None, `out` describes the datagram.
  [[nodiscard]] FrameError parse(const std::uint8_t* frame, std::size_t len,
                                 UdpDatagram& out) noexcept;

  const UdpCounters& counters() const noexcept { return counters_; }
  void reset_counters() noexcept { counters_ = {}; }

private:
  FrameError fail(FrameError e) noexcept {
    ++counters_.errors[static_cast<std::size_t>(e)];
    return e;
  }

  UdpFilter filter_;
  UdpChecksumPolicy policy_;
  UdpCounters counters_;
};

// RFC 1071 ones' complement sum of `len` bytes (big-endian 16-bit words, odd byte padded),
// folded to 16 bits and not complemented. `initial` chains partial sums.
std::uint16_t ones_complement_sum(const std::uint8_t* data, std::size_t len,
                                  std::uint32_t initial = 0) noexcept;

} // namespace fh::net
