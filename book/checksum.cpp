// Checksum text builders. See checksum.hpp.
#include "book/checksum.hpp"

#include <libdeflate.h>

#include <bit>
#include <cstddef>
#include <cstring>

#include "book/decimal.hpp"

namespace fh::book {

namespace {

static_assert(std::endian::native == std::endian::little,
              "digits8 lays digits out for a little-endian store");

constexpr std::size_t kOkxLevels = 25;
constexpr std::size_t kKrakenLevels = 10;
// Fixed-size stores reach up to kOverrun bytes past the end of the text (see store8).
constexpr std::size_t kOverrun = 48;
// Per number: sign + 20 integer digits + '.' + kMaxTextDecimals, plus a separator.
constexpr std::size_t kNumberMax = 1 + 20 + 1 + kMaxTextDecimals + 1;
constexpr std::size_t kOkxBufferSize = kOkxLevels * 4 * kNumberMax + kOverrun;
constexpr std::size_t kKrakenBufferSize = kKrakenLevels * 4 * kNumberMax + kOverrun;

constexpr std::uint64_t kAsciiZeros = 0x3030303030303030ULL;

// The 8 decimal digits of v < 10^8 (leading zeros included) as byte values 0..9, most
// significant first in memory (lowest byte). All eight are computed at once in one word:
// the 4-digit halves go to 32-bit lanes, their 2-digit halves to 16-bit lanes, single
// digits to bytes. Each step divides every lane by a constant with a multiply-shift that is
// exact in that range (checked for all 10^8 values when written; the venue checksum tests
// exercise it on every real level).
[[gnu::always_inline]] inline std::uint64_t digit_bytes8(std::uint64_t v) noexcept {
  const std::uint64_t hi = v / 10000U;
  std::uint64_t x = hi | ((v - hi * 10000U) << 32);
  std::uint64_t q = ((x * 10486U) >> 20) & 0x0000007F0000007FULL; // lane / 100, lane < 10^4
  x = q | ((x - q * 100U) << 16);
  q = ((x * 103U) >> 10) & 0x000F000F000F000FULL; // lane / 10, lane < 100
  return q | ((x - q * 10U) << 8);
}

[[gnu::always_inline]] inline std::uint64_t digits8(std::uint64_t v) noexcept {
  return digit_bytes8(v) + kAsciiZeros;
}

// Number of significant digits in a digit_bytes8 word (0 for zero): leading zero digits are
// the low zero bytes.
[[gnu::always_inline]] inline std::size_t significant8(std::uint64_t digit_bytes) noexcept {
  return 8 - static_cast<std::size_t>(std::countr_zero(digit_bytes) >> 3);
}

[[gnu::always_inline]] inline void store8(char *o, std::uint64_t x) noexcept {
  std::memcpy(o, &x, sizeof x);
}

std::uint64_t magnitude_of(std::int64_t v) noexcept {
  return v < 0 ? 0U - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// Text builders. Digits are computed in registers and written with fixed-size 8-byte stores;
// the write position then advances by the real length (later stores overwrite the excess).
// Only stores: loading back bytes just stored in pieces would stall on store-to-load
// forwarding. The digits are produced once at the book's scale `dp`; a text with fewer
// decimals just stops early (the dropped digits are zeros: format_decimal's precondition),
// so nothing divides by a power of ten that depends on dp or td.

// Anything the fast paths below do not cover (|m| >= 10^16, more decimals in the text than
// in the book, a wide number with a long fraction): format_decimal itself.
[[gnu::cold, gnu::noinline]] char *put_okx_number_slow(char *o, std::int64_t mantissa,
                                                       std::uint8_t decimals,
                                                       std::uint8_t text_dp) noexcept {
  o += format_decimal(mantissa, decimals, text_dp, o);
  *o++ = ':';
  return o;
}

// OKX: format_decimal's text (same output byte for byte), followed by ':'.
[[gnu::always_inline]] inline char *put_okx_number(char *o, std::int64_t mantissa, std::size_t dp,
                                                   std::uint8_t decimals,
                                                   std::uint8_t text_dp) noexcept {
  constexpr std::uint64_t k1e8 = 100000000U;
  constexpr std::uint64_t k1e16 = 10000000000000000U;
  const std::uint64_t m = magnitude_of(mantissa);
  const std::size_t td = text_dp;
  if (m >= k1e16 || td > dp) [[unlikely]]
    return put_okx_number_slow(o, mantissa, decimals, text_dp);
  char *p = o + (mantissa < 0 ? 1 : 0);
  *o = '-';
  if (m < k1e8) [[likely]] {
    const std::uint64_t raw = digit_bytes8(m);
    const std::size_t nd = significant8(raw);
    const std::uint64_t sig = nd == 0 ? 0U : (raw + kAsciiZeros) >> (8 * (8 - nd));
    if (nd > dp) {
      // int part = the first nd - dp significant digits, fraction = the rest.
      const std::size_t int_len = nd - dp;
      store8(p, sig);
      p += int_len;
      *p = '.'; // overwritten by the ':' below when td == 0
      store8(p + 1, int_len < 8 ? sig >> (8 * int_len) : 0U);
    } else {
      // "0." then dp - nd zeros then the digits (dp <= 18: three words of zeros cover it).
      store8(p, kAsciiZeros);
      store8(p + 8, kAsciiZeros);
      store8(p + 16, kAsciiZeros);
      p[1] = '.';
      store8(p + 2 + (dp - nd), sig);
      p += 1;
    }
  } else {
    // 10^8 <= m < 10^16: high and low words of 8 digits; fraction inside the low word.
    const std::uint64_t q = m / k1e8;
    const std::uint64_t high_raw = digit_bytes8(q); // q != 0
    const std::size_t nh = significant8(high_raw);
    const std::size_t nd = nh + 8;
    if (dp > 8) [[unlikely]]
      return put_okx_number_slow(o, mantissa, decimals, text_dp);
    const std::uint64_t low = digits8(m - q * k1e8);
    store8(p, (high_raw + kAsciiZeros) >> (8 * (8 - nh)));
    store8(p + nh, low);
    p += nd - dp;
    *p = '.';
    store8(p + 1, dp == 0 ? 0U : low >> (8 * (8 - dp)));
  }
  p += td + (td != 0 ? 1U : 0U);
  *p++ = ':';
  return p;
}

// Kraken: the text with '.' removed and leading zeros stripped. Cold path: the exact old
// construction (negative numbers, which Kraken never sends, keep '-' and stop the strip).
[[gnu::cold, gnu::noinline]] char *put_kraken_number_slow(char *o, std::int64_t mantissa,
                                                          std::uint8_t decimals,
                                                          std::uint8_t text_dp) noexcept {
  char tmp[kDecimalBufferSize];
  const std::size_t len = format_decimal(mantissa, decimals, text_dp, tmp);
  bool leading = true;
  for (std::size_t i = 0; i < len; ++i) {
    const char c = tmp[i];
    if (c == '.')
      continue;
    if (leading && c == '0')
      continue;
    leading = false;
    *o++ = c;
  }
  return o;
}

// For 0 <= m < 10^16 and td <= dp that text is the nd significant digits of the mantissa
// less its dp - td last (zero) ones; nothing at all for zero.
[[gnu::always_inline]] inline char *put_kraken_number(char *o, std::int64_t mantissa,
                                                      std::size_t dp, std::uint8_t decimals,
                                                      std::uint8_t text_dp) noexcept {
  constexpr std::uint64_t k1e8 = 100000000U;
  constexpr std::uint64_t k1e16 = 10000000000000000U;
  const std::size_t td = text_dp;
  const auto m = static_cast<std::uint64_t>(mantissa);
  if (m >= k1e16 || td > dp) [[unlikely]] // also mantissa < 0
    return put_kraken_number_slow(o, mantissa, decimals, text_dp);
  std::size_t nd = 0;
  if (m < k1e8) [[likely]] {
    const std::uint64_t raw = digit_bytes8(m);
    nd = significant8(raw);
    store8(o, nd == 0 ? 0U : (raw + kAsciiZeros) >> (8 * (8 - nd)));
  } else {
    const std::uint64_t q = m / k1e8;
    const std::uint64_t high_raw = digit_bytes8(q);
    const std::size_t nh = significant8(high_raw);
    store8(o, (high_raw + kAsciiZeros) >> (8 * (8 - nh)));
    store8(o + nh, digits8(m - q * k1e8));
    nd = nh + 8;
  }
  return o + (nd + td > dp ? nd + td - dp : 0);
}

std::size_t dp_of(const L2Book &book) noexcept {
  return book.price_decimals() > kMaxDecimals ? std::size_t{kMaxDecimals} : book.price_decimals();
}
std::size_t qp_of(const L2Book &book) noexcept {
  return book.qty_decimals() > kMaxDecimals ? std::size_t{kMaxDecimals} : book.qty_decimals();
}

std::uint32_t crc32_of(const char *data, std::size_t len) noexcept {
  // libdeflate picks a PCLMUL/AVX folding kernel at run time; same CRC-32 as zlib's.
  return libdeflate_crc32(0, data, len);
}

} // namespace

std::uint32_t okx_checksum(const L2Book &book) noexcept {
  Level bids[kOkxLevels];
  Level asks[kOkxLevels];
  const std::size_t nb = book.top(Side::Bid, kOkxLevels, bids);
  const std::size_t na = book.top(Side::Ask, kOkxLevels, asks);
  const std::size_t pdp = dp_of(book);
  const std::size_t qdp = qp_of(book);
  const std::uint8_t pd = book.price_decimals();
  const std::uint8_t qd = book.qty_decimals();
  char buf[kOkxBufferSize];
  char *o = buf;
  // Every number is followed by ':'; the last one is dropped below.
  const std::size_t both = nb < na ? nb : na;
  for (std::size_t i = 0; i < both; ++i) {
    o = put_okx_number(o, bids[i].price, pdp, pd, bids[i].price_text_dp);
    o = put_okx_number(o, bids[i].qty, qdp, qd, bids[i].qty_text_dp);
    o = put_okx_number(o, asks[i].price, pdp, pd, asks[i].price_text_dp);
    o = put_okx_number(o, asks[i].qty, qdp, qd, asks[i].qty_text_dp);
  }
  // One side ran out: the other keeps going.
  const Level *const rest = nb > na ? bids : asks;
  const std::size_t rows = nb > na ? nb : na;
  for (std::size_t i = both; i < rows; ++i) {
    o = put_okx_number(o, rest[i].price, pdp, pd, rest[i].price_text_dp);
    o = put_okx_number(o, rest[i].qty, qdp, qd, rest[i].qty_text_dp);
  }
  const auto len = static_cast<std::size_t>(o - buf);
  return crc32_of(buf, len == 0 ? 0 : len - 1);
}

std::uint32_t kraken_checksum(const L2Book &book) noexcept {
  Level levels[kKrakenLevels];
  const std::size_t pdp = dp_of(book);
  const std::size_t qdp = qp_of(book);
  char buf[kKrakenBufferSize];
  char *o = buf;
  for (const Side side : {Side::Ask, Side::Bid}) {
    const std::size_t n = book.top(side, kKrakenLevels, levels);
    for (std::size_t i = 0; i < n; ++i) {
      o = put_kraken_number(o, levels[i].price, pdp, book.price_decimals(),
                            levels[i].price_text_dp);
      o = put_kraken_number(o, levels[i].qty, qdp, book.qty_decimals(), levels[i].qty_text_dp);
    }
  }
  return crc32_of(buf, static_cast<std::size_t>(o - buf));
}

} // namespace fh::book
