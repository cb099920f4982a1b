// permessage-deflate and gzip/raw-deflate payload inflation (see ws_deflate.hpp).
#include "net/ws_deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>

namespace fh::net {

// A z_stream whose allocations come from a fixed arena. inflate needs its state (about 7 KiB)
// and one window (32 KiB for windowBits 15); both are made once and kept across inflateReset,
// so the arena is filled once and never freed piecemeal.
struct ZStreamBox {
  static constexpr std::size_t kArenaBytes = 64 * 1024;

  explicit ZStreamBox(int window_bits) noexcept {
    s.zalloc = &ZStreamBox::alloc;
    s.zfree = &ZStreamBox::release;
    s.opaque = this;
    ok = inflateInit2(&s, window_bits) == Z_OK;
  }
  ~ZStreamBox() {
    if (ok) inflateEnd(&s);
  }
  ZStreamBox(const ZStreamBox &) = delete;
  ZStreamBox &operator=(const ZStreamBox &) = delete;

  static voidpf alloc(voidpf opaque, uInt items, uInt size) noexcept {
    auto *self = static_cast<ZStreamBox *>(opaque);
    const std::size_t bytes = (std::size_t{items} * size + 15) & ~std::size_t{15};
    if (bytes > kArenaBytes - self->used) return Z_NULL;
    void *p = self->arena.data() + self->used;
    self->used += bytes;
    return p;
  }
  static void release(voidpf, voidpf) noexcept {} // freed with the box

  z_stream s{};
  bool ok = false;
  std::size_t used = 0;
  alignas(16) std::array<unsigned char, kArenaBytes> arena{};
};

namespace {

constexpr std::array<std::uint8_t, 4> kSyncTail = {0x00, 0x00, 0xff, 0xff};

std::size_t clamp_limit(std::size_t max_output) noexcept {
  return std::min<std::size_t>(max_output, UINT_MAX - 1); // zlib counts in uInt
}

// zlib's next_in is non-const only for historical reasons (ZLIB_CONST is not set by Debian).
Bytef *in_ptr(const std::uint8_t *p) noexcept { return const_cast<Bytef *>(p); }

} // namespace

const char *to_cstring(WsInflateStatus s) noexcept {
  switch (s) {
  case WsInflateStatus::Ok: return "ok";
  case WsInflateStatus::TooLarge: return "inflated size over limit";
  case WsInflateStatus::Corrupt: return "corrupt compressed data";
  case WsInflateStatus::Truncated: return "truncated compressed data";
  case WsInflateStatus::NoMemory: return "zlib init failed";
  case WsInflateStatus::kCount: break;
  }
  return "?";
}

WsInflater::WsInflater(std::size_t max_output, bool server_no_context_takeover)
    : z_(std::make_unique<ZStreamBox>(-MAX_WBITS)), max_output_(clamp_limit(max_output)),
      no_context_takeover_(server_no_context_takeover) {
  // A window of 15 bits inflates whatever server_max_window_bits the server chose (<= 15).
  out_ = std::make_unique<std::uint8_t[]>(max_output_ + 1);
}
WsInflater::WsInflater(WsInflater &&) noexcept = default;
WsInflater &WsInflater::operator=(WsInflater &&) noexcept = default;
WsInflater::~WsInflater() = default;

bool WsInflater::ok() const noexcept { return z_ && z_->ok; }

void WsInflater::reset(bool server_no_context_takeover) noexcept {
  no_context_takeover_ = server_no_context_takeover;
  if (ok()) (void)inflateReset(&z_->s);
}

WsInflateStatus WsInflater::inflate(std::span<const std::uint8_t> in,
                                    std::span<const std::uint8_t> &out) noexcept {
  out = {};
  if (!ok()) return WsInflateStatus::NoMemory;
  if (in.size() > UINT_MAX) return WsInflateStatus::TooLarge;
  z_stream &s = z_->s;
  if (no_context_takeover_) (void)inflateReset(&s);
  s.next_out = out_.get();
  s.avail_out = static_cast<uInt>(max_output_ + 1);
  bool ended = false;
  // Pass 1: the payload; pass 2: the sync-flush tail the sender stripped.
  for (const std::span<const std::uint8_t> part :
       {in, std::span<const std::uint8_t>(kSyncTail.data(), kSyncTail.size())}) {
    if (ended) break; // a final block (BFINAL) ended the stream; the tail is not needed
    s.next_in = in_ptr(part.data());
    s.avail_in = static_cast<uInt>(part.size());
    while (s.avail_in != 0) {
      const int rc = ::inflate(&s, Z_SYNC_FLUSH);
      if (rc == Z_STREAM_END) {
        ended = true;
        break;
      }
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
        (void)inflateReset(&s);
        return WsInflateStatus::Corrupt;
      }
      if (rc == Z_MEM_ERROR) return WsInflateStatus::NoMemory;
      if (s.avail_out == 0) { // the limit plus one byte came out
        (void)inflateReset(&s);
        return WsInflateStatus::TooLarge;
      }
      if (rc == Z_BUF_ERROR) break; // no progress possible: input exhausted mid-symbol
    }
  }
  const std::size_t produced = max_output_ + 1 - s.avail_out;
  if (produced > max_output_) {
    (void)inflateReset(&s);
    return WsInflateStatus::TooLarge;
  }
  // A stream ended with BFINAL starts afresh for the next message. Its window is lost, so a
  // server that both sets BFINAL and keeps context would fail the next message as Corrupt.
  if (ended) (void)inflateReset(&s);
  out = {out_.get(), produced};
  return WsInflateStatus::Ok;
}

PayloadInflater::PayloadInflater(std::size_t max_output)
    : gzip_(std::make_unique<ZStreamBox>(MAX_WBITS + 16)),
      raw_(std::make_unique<ZStreamBox>(-MAX_WBITS)), max_output_(clamp_limit(max_output)) {
  out_ = std::make_unique<std::uint8_t[]>(max_output_ + 1);
}
PayloadInflater::PayloadInflater(PayloadInflater &&) noexcept = default;
PayloadInflater &PayloadInflater::operator=(PayloadInflater &&) noexcept = default;
PayloadInflater::~PayloadInflater() = default;

bool PayloadInflater::ok() const noexcept { return gzip_ && gzip_->ok && raw_ && raw_->ok; }

WsInflateStatus PayloadInflater::inflate(PayloadCodec codec, std::span<const std::uint8_t> in,
                                         std::span<const std::uint8_t> &out) noexcept {
  out = {};
  if (!ok()) return WsInflateStatus::NoMemory;
  if (in.size() > UINT_MAX) return WsInflateStatus::TooLarge;
  z_stream &s = (codec == PayloadCodec::Gzip ? gzip_ : raw_)->s;
  (void)inflateReset(&s);
  s.next_in = in_ptr(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out_.get();
  s.avail_out = static_cast<uInt>(max_output_ + 1);
  const int rc = ::inflate(&s, Z_FINISH);
  const std::size_t produced = max_output_ + 1 - s.avail_out;
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
    return WsInflateStatus::Corrupt;
  if (rc == Z_MEM_ERROR) return WsInflateStatus::NoMemory;
  if (produced > max_output_) return WsInflateStatus::TooLarge;
  if (rc == Z_STREAM_END) {
    if (s.avail_in != 0) return WsInflateStatus::Corrupt; // bytes after the stream
  } else if (codec == PayloadCodec::Gzip || s.avail_in != 0) {
    // Z_BUF_ERROR with room left in the output: the input stopped early.
    return WsInflateStatus::Truncated;
  }
  out = {out_.get(), produced};
  return WsInflateStatus::Ok;
}

} // namespace fh::net
