#include "feedhandler/capture_fhrec.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include <zstd.h>

#include "feedhandler/recording_format.hpp"

namespace fh::capture::detail {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

} // namespace

bool is_zstd_file(const std::string& path) noexcept {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return false;
  unsigned char magic[4] = {};
  return std::fread(magic, 1, 4, f.get()) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
         magic[2] == 0x2f && magic[3] == 0xfd;
}

bool read_zstd_file(const std::string& path, std::size_t pad, std::unique_ptr<char[]>& buf,
                    std::size_t& size, bool& truncated, std::string& error) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(),
                                                                  &ZSTD_freeDStream);
  if (!ds) {
    error = path + ": zstd context allocation failed";
    return false;
  }
  std::vector<char> in(ZSTD_DStreamInSize());
  std::size_t capacity = 1u << 20, used = 0;
  buf.reset(new (std::nothrow) char[capacity + pad]);
  std::size_t last = 0; // ZSTD_decompressStream's last return: 0 = a frame ended there
  for (;;) {
    const std::size_t n = std::fread(in.data(), 1, in.size(), f.get());
    if (n == 0) break;
    ZSTD_inBuffer ib{in.data(), n, 0};
    while (ib.pos < ib.size) {
      if (capacity - used < ZSTD_DStreamOutSize()) {
        capacity *= 2;
        std::unique_ptr<char[]> bigger(new (std::nothrow) char[capacity + pad]);
        if (!bigger || !buf) {
          error = path + ": out of memory decompressing";
          return false;
        }
        std::memcpy(bigger.get(), buf.get(), used);
        buf = std::move(bigger);
      }
      ZSTD_outBuffer ob{buf.get() + used, capacity - used, 0};
      last = ZSTD_decompressStream(ds.get(), &ob, &ib);
      if (ZSTD_isError(last)) {
        error = path + ": zstd: " + ZSTD_getErrorName(last);
        return false;
      }
      used += ob.pos;
    }
  }
  if (std::ferror(f.get())) {
    error = path + ": read failed";
    return false;
  }
  truncated = last != 0;
  std::memset(buf.get() + used, 0, pad);
  size = used;
  return true;
}

FhrecResult load_fhrec(std::string_view text, std::uint32_t file_index) {
  FhrecResult r;
  using recording::RecordHeader;
  std::size_t pos = recording::kMagicLine.size();
  const std::size_t nl = text.find('\n', pos);
  if (nl == std::string_view::npos) {
    r.error = "fhrec header line is missing";
    return r;
  }
  const std::string_view header = text.substr(pos, nl - pos);
  if (header.find(R"("format":"fhrec")") == std::string_view::npos ||
      header.find(R"("version":1,)") == std::string_view::npos) {
    r.error = "fhrec header is not version 1: " + std::string(header.substr(0, 120));
    return r;
  }
  constexpr std::string_view kVenueKey = R"("venue":")";
  if (const std::size_t at = header.find(kVenueKey); at != std::string_view::npos) {
    const std::size_t start = at + kVenueKey.size();
    const std::size_t end = header.find('"', start);
    if (end != std::string_view::npos) r.venue = std::string(header.substr(start, end - start));
  }
  pos = nl + 1;
  std::uint32_t index = 0;
  while (pos < text.size()) {
    ++index;
    RecordHeader h{};
    const bool header_fits = text.size() - pos >= sizeof h;
    if (header_fits) std::memcpy(&h, text.data() + pos, sizeof h);
    const std::size_t body = std::size_t{h.url_size} + h.payload_size;
    if (!header_fits || h.kind > static_cast<std::uint8_t>(recording::Kind::WsClosed) ||
        text.size() - pos - sizeof h < body) {
      // Cut off (killed recorder) or damaged: nothing after this point can be trusted.
      ++r.skipped;
      r.first_skipped = index;
      break;
    }
    pos += sizeof h;
    Record rec{static_cast<RecordKind>(h.kind), h.recv_ts_ns, text.substr(pos, h.url_size),
               text.substr(pos + h.url_size, h.payload_size), file_index, index, h.conn_id};
    r.records.push_back(rec);
    pos += body;
  }
  return r;
}

} // namespace fh::capture::detail
