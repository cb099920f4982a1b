// GzipInflater: one gzip member per call into a preallocated, padded buffer (see huobi.hpp).
//
// zlib allocates its inflate state at inflateInit2 and its 32 KiB window lazily, on the first
// inflate() that returns with output produced and the stream unfinished (a complete member
// inflated in one call never needs it; a truncated one does). The constructor forces both by
// inflating a small member it deflated itself, minus its 8-byte trailer, so no later frame --
// complete, truncated or corrupt -- makes zlib allocate. inflateReset keeps both.
#include <zlib.h>

#include <new>
#include <utility>

#include "feedhandler/venues/huobi.hpp"

namespace fh::venues {
namespace {

// zlib's allocator hooks, routed through operator new/delete (nothrow: zlib reports failure
// by nullptr) so a test replacing operator new counts them.
voidpf z_alloc(voidpf, uInt items, uInt size) {
  return ::operator new(static_cast<std::size_t>(items) * size, std::nothrow);
}
void z_free(voidpf, voidpf p) {
  ::operator delete(p);
}

constexpr int kGzipOnly = 16 + MAX_WBITS; // gzip header and trailer, largest window

// Deflates `text` into one gzip member (constructor only).
bool make_member(const char *text, unsigned char *out, std::size_t cap, std::size_t &len) {
  z_stream d{};
  d.zalloc = z_alloc;
  d.zfree = z_free;
  if (deflateInit2(&d, Z_BEST_SPEED, Z_DEFLATED, kGzipOnly, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  const std::string_view in(text);
  d.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  d.avail_in = static_cast<uInt>(in.size());
  d.next_out = out;
  d.avail_out = static_cast<uInt>(cap);
  const int rc = deflate(&d, Z_FINISH);
  len = cap - d.avail_out;
  deflateEnd(&d);
  return rc == Z_STREAM_END;
}

} // namespace

void GzipInflater::StreamDeleter::operator()(z_stream_s *s) const noexcept {
  inflateEnd(s); // harmless on a stream whose init failed (state is null)
  delete s;
}

GzipInflater::GzipInflater(std::size_t capacity)
    : stream_(new z_stream_s{}),
      buffer_(std::make_unique<char[]>(capacity + simdjson::SIMDJSON_PADDING)),
      capacity_(capacity) {
  z_stream_s &z = *stream_;
  z.zalloc = z_alloc;
  z.zfree = z_free;
  z.opaque = Z_NULL;
  if (inflateInit2(&z, kGzipOnly) != Z_OK)
    return;
  ready_ = true;
  // Prime the window (see the top of this file).
  unsigned char member[128];
  std::size_t len = 0;
  if (!make_member("{\"ping\":0}", member, sizeof(member), len))
    return;
  constexpr std::size_t kTrailer = 8; // CRC32 + ISIZE: withheld so the stream stays unfinished
  if (len <= kTrailer)
    return;
  z.next_in = member;
  z.avail_in = static_cast<uInt>(len - kTrailer);
  z.next_out = reinterpret_cast<Bytef *>(buffer_.get());
  z.avail_out = static_cast<uInt>(capacity_ < 64 ? capacity_ : 64);
  (void)::inflate(&z, Z_NO_FLUSH);
  inflateReset(&z);
}

GzipInflater::~GzipInflater() = default;
GzipInflater::GzipInflater(GzipInflater &&) noexcept = default;
GzipInflater &GzipInflater::operator=(GzipInflater &&) noexcept = default;

GzipInflater::Result GzipInflater::inflate(std::string_view gzip, std::string_view &out) noexcept {
  if (!ready_ || gzip.size() > 0xffffffffu) [[unlikely]]
    return Result::Corrupt;
  z_stream_s &z = *stream_;
  if (inflateReset(&z) != Z_OK) [[unlikely]]
    return Result::Corrupt;
  // zlib's next_in is not const-qualified (ZLIB_CONST is not set) but inflate never writes it.
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(gzip.data()));
  z.avail_in = static_cast<uInt>(gzip.size());
  z.next_out = reinterpret_cast<Bytef *>(buffer_.get());
  z.avail_out = static_cast<uInt>(capacity_);
  const int rc = ::inflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END) {
    // Z_BUF_ERROR with no output room left: the member is larger than the buffer. Any other
    // outcome (data error, bad CRC or length, input ended early) is a broken frame.
    return rc == Z_BUF_ERROR && z.avail_out == 0 && z.avail_in != 0 ? Result::TooLarge
                                                                    : Result::Corrupt;
  }
  if (z.avail_in != 0)
    return Result::Corrupt; // bytes after the member: not one frame's payload
  out = std::string_view(buffer_.get(), capacity_ - z.avail_out);
  return Result::Ok;
}

} // namespace fh::venues
