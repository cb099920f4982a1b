// Capture files through libpcap over an in-memory copy (see pcap_reader.hpp for why).
#include "net/pcap_reader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <pcap/pcap.h>
#include <zlib.h>

namespace fh::net {
namespace {

// Inflates (or copies, for a plain file) the whole file. gzread reports a gzip stream cut
// short as a plain end of file; gzclose_r says so.
bool read_whole(const std::string& path, std::vector<std::uint8_t>& out, bool& compressed,
                std::string& error) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  gzbuffer(gz, 1u << 17);
  out.clear();
  std::size_t used = 0;
  for (;;) {
    if (out.size() - used < (1u << 20)) out.resize(out.size() + (std::size_t{4} << 20));
    const auto want = static_cast<unsigned>(out.size() - used);
    const int n = gzread(gz, out.data() + used, want);
    if (n < 0) {
      int code = 0;
      error = path + ": read failed: " + gzerror(gz, &code);
      gzclose_r(gz);
      return false;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  compressed = gzdirect(gz) == 0;
  if (gzclose_r(gz) != Z_OK) {
    error = path + ": gzip stream is damaged or truncated";
    return false;
  }
  out.resize(used);
  return true;
}

} // namespace

std::variant<std::unique_ptr<PcapReader>, std::string> PcapReader::open(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  bool compressed = false;
  std::string error;
  if (!read_whole(path, bytes, compressed, error)) return error;
  auto opened = open_bytes(std::move(bytes), path);
  if (auto* r = std::get_if<std::unique_ptr<PcapReader>>(&opened)) (*r)->compressed_ = compressed;
  return opened;
}

std::variant<std::unique_ptr<PcapReader>, std::string>
PcapReader::open_bytes(std::vector<std::uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) return name + ": empty file, not a capture";
  std::unique_ptr<PcapReader> r(new PcapReader());
  r->bytes_ = std::move(bytes);
  r->name_ = name;
  FILE* fp = fmemopen(r->bytes_.data(), r->bytes_.size(), "rb");
  if (fp == nullptr) return name + ": fmemopen failed: " + std::strerror(errno);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // On success libpcap owns fp (pcap_close closes it); on failure it is still ours.
  r->handle_ = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (r->handle_ == nullptr) {
    std::fclose(fp);
    return name + ": not a pcap/pcapng capture: " + errbuf;
  }
  r->link_type_ = pcap_datalink(r->handle_);
  return r;
}

PcapReader::~PcapReader() {
  if (handle_ != nullptr) pcap_close(handle_);
}

PcapNext PcapReader::next(PcapPacket& out) noexcept {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 1) {
    out.data = data;
    out.caplen = hdr->caplen;
    out.wire_len = hdr->len;
    // Opened with nanosecond precision: tv_usec carries ns.
    out.ts_ns = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000'000 +
                static_cast<std::int64_t>(hdr->ts.tv_usec);
    ++records_;
    return PcapNext::Packet;
  }
  if (rc == PCAP_ERROR_BREAK) return PcapNext::End;
  failed_ = true; // the message is built by error(), off this noexcept path
  // libpcap's wording for a record header or body cut by the end of the file ("truncated dump
  // file; ..." for classic pcap, "truncated pcapng dump file; ..." for pcapng).
  static constexpr char kCut[] = "truncated ";
  truncated_ = std::strncmp(pcap_geterr(handle_), kCut, sizeof kCut - 1) == 0;
  return PcapNext::Error;
}

std::string PcapReader::error() const {
  return failed_ ? name_ + ": " + pcap_geterr(handle_) : std::string();
}

} // namespace fh::net
