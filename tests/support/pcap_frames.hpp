#pragma once
// Shared by the pcap/UDP/IEX tests: every record of a real capture in data/pcap, loaded once
// into memory (frame bytes + capture time), so tests can replay, drop, repeat, truncate or
// flip bytes of real packets. The reader itself is checked against an independent walk of
// the file format in tests/net/pcap_reader_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <zlib.h>

#include "net/pcap_reader.hpp"

namespace fh::test {

inline const std::string kIexCapture = std::string(FH_DATA_DIR) + "/pcap/iex_DEEP10_sample.pcap.gz";
inline const std::string kDeribitCapture =
    std::string(FH_DATA_DIR) + "/pcap/deribit_multicast_sbe_sample_v1_6.pcapng";

struct CapturedFrame {
  std::vector<std::uint8_t> bytes;
  std::int64_t ts_ns = 0;
};

inline std::vector<CapturedFrame> load_frames(const std::string& path) {
  std::vector<CapturedFrame> frames;
  auto opened = net::PcapReader::open(path);
  if (auto* err = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << *err;
    return frames;
  }
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  net::PcapPacket p;
  while (reader.next(p) == net::PcapNext::Packet)
    frames.push_back({std::vector<std::uint8_t>(p.data, p.data + p.caplen), p.ts_ns});
  return frames;
}

// A file's bytes, gunzipped if it is gzip (zlib's gzread copies plain files as they are).
inline std::vector<std::uint8_t> inflate_file(const std::string& path) {
  std::vector<std::uint8_t> out;
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return out;
  std::vector<std::uint8_t> buf(1 << 16);
  int n;
  while ((n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  gzclose(gz);
  return out;
}

inline std::uint32_t file_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

// A classic little-endian microsecond pcap (magic a1b2c3d4) walked by hand, independently of
// libpcap: 24-byte file header, then 16-byte record headers (ts_sec, ts_usec, caplen, len).
struct RawRecord {
  std::size_t offset; // of the record's data in the file
  std::uint32_t caplen;
  std::uint32_t wire_len;
  std::int64_t ts_ns;
};
struct ClassicWalk {
  std::vector<RawRecord> whole;
  bool cut_tail = false;            // a last record whose header promises more than the file has
  std::vector<std::uint8_t> tail;   // that record's bytes as far as the file goes
  std::uint32_t tail_caplen = 0;    // what its header promised
};
inline ClassicWalk walk_classic(const std::vector<std::uint8_t>& f) {
  ClassicWalk w;
  if (f.size() < 24 || file_le32(f.data()) != 0xa1b2c3d4u) return w;
  std::size_t at = 24;
  while (at + 16 <= f.size()) {
    const std::uint32_t caplen = file_le32(&f[at + 8]);
    if (at + 16 + caplen > f.size()) {
      w.cut_tail = true;
      w.tail.assign(f.begin() + static_cast<std::ptrdiff_t>(at + 16), f.end());
      w.tail_caplen = caplen;
      return w;
    }
    w.whole.push_back({at + 16, caplen, file_le32(&f[at + 12]),
                       std::int64_t{file_le32(&f[at])} * 1'000'000'000 +
                           std::int64_t{file_le32(&f[at + 4])} * 1000});
    at += 16 + caplen;
  }
  w.cut_tail = at != f.size();
  return w;
}

// The IEX capture, loaded once per test binary (121,314 whole frames, ~20 MB; PROVENANCE.md's
// 121,315 packets include a last record cut short by the end of the file: iex_cut_record()).
inline const std::vector<CapturedFrame>& iex_frames() {
  static const std::vector<CapturedFrame> frames = load_frames(kIexCapture);
  return frames;
}

// The bytes of the IEX capture's last record, cut by the end of the file (the "truncated/odd
// packet" of PROVENANCE.md), found by the independent walk above.
inline const ClassicWalk& iex_walk() {
  static const ClassicWalk w = walk_classic(inflate_file(kIexCapture));
  return w;
}

} // namespace fh::test
