#pragma once
// Packet captures (classic pcap and pcapng, gzip-compressed or plain), read through libpcap.
//
// Why this shape: libpcap already reads both file formats (pcapng with its per-interface link
// types and timestamp resolutions included), so no file format is parsed by hand here. It
// reads from a FILE*, so a capture is inflated once into memory (zlib's gzread passes plain
// files through unchanged) and handed to libpcap through fmemopen: one pass over the file,
// no temporary file, and the decompressed bytes stay owned by the reader.
// Timestamps come back in ns whatever the file's resolution (libpcap scales them).
// Control path only: open() reports failures as one line naming the path; next() hands out
// one record at a time as a view into libpcap's buffer, valid until the following next().
// What is inside a record (Ethernet, IPv4, UDP) is net/udp_packet.hpp's business.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

struct pcap; // libpcap's handle (pcap_t), kept out of this header

namespace fh::net {

// libpcap link-layer header types (LINKTYPE_*) the packet path understands.
inline constexpr int kLinkEthernet = 1;

struct PcapPacket {
  const std::uint8_t* data = nullptr; // caplen bytes
  std::uint32_t caplen = 0;           // bytes present in the file
  std::uint32_t wire_len = 0;         // bytes the frame had on the wire (> caplen: snapped)
  std::int64_t ts_ns = 0;             // capture time, ns since the epoch
};

enum class PcapNext : std::uint8_t { Packet, End, Error };

class PcapReader {
public:
  // Reads and (if gzip) inflates the whole file, then opens it with libpcap.
  static std::variant<std::unique_ptr<PcapReader>, std::string> open(const std::string& path);
  // The same over bytes already in memory (a capture file's content, not compressed).
  static std::variant<std::unique_ptr<PcapReader>, std::string>
  open_bytes(std::vector<std::uint8_t> bytes, const std::string& name);

  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // The next record; End after the last one; Error (see error()) for a damaged file.
  PcapNext next(PcapPacket& out) noexcept;

  int link_type() const noexcept { return link_type_; }
  bool compressed() const noexcept { return compressed_; }
  std::size_t file_bytes() const noexcept { return bytes_.size(); } // after inflating
  std::uint64_t records() const noexcept { return records_; }       // next() == Packet so far
  // After next() returned Error: what libpcap said, naming the file.
  std::string error() const;
  // After next() returned Error: the damage is a last record cut short by the end of the file
  // (its header promised more bytes than the file has), the usual end of a capture whose
  // writer was stopped or whose file was truncated. That record is not delivered.
  bool truncated_record() const noexcept { return truncated_; }

private:
  PcapReader() = default;

  std::vector<std::uint8_t> bytes_; // the capture file's content; libpcap reads it via fmemopen
  pcap* handle_ = nullptr;
  int link_type_ = 0;
  bool compressed_ = false;
  std::uint64_t records_ = 0;
  bool failed_ = false;
  bool truncated_ = false;
  std::string name_;
};

} // namespace fh::net
