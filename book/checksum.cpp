// Checksum text builders. See checksum.hpp.
#include "book/checksum.hpp"

#include <zlib.h>

#include <cstddef>

#include "book/decimal.hpp"

namespace fh::book {

namespace {

constexpr std::size_t kOkxLevels = 25;
constexpr std::size_t kKrakenLevels = 10;
// 25 levels x 2 sides x (price + size), each at most kDecimalBufferSize - 1 chars plus ':'.
constexpr std::size_t kOkxBufferSize = kOkxLevels * 4 * kDecimalBufferSize;
constexpr std::size_t kKrakenBufferSize = kKrakenLevels * 4 * kDecimalBufferSize;

std::uint32_t crc32_of(const char *data, std::size_t len) noexcept {
  const uLong crc = ::crc32(0L, Z_NULL, 0);
  return static_cast<std::uint32_t>(
      ::crc32(crc, reinterpret_cast<const Bytef *>(data), static_cast<uInt>(len)));
}

// Appends "px:sz" of `level` (with a leading ':' unless first) to `out`.
char *append_okx_level(char *out, bool first, const Level &level, std::uint8_t price_dp,
                       std::uint8_t qty_dp) noexcept {
  if (!first)
    *out++ = ':';
  out += format_decimal(level.price, price_dp, level.price_text_dp, out);
  *out++ = ':';
  out += format_decimal(level.qty, qty_dp, level.qty_text_dp, out);
  return out;
}

// Appends the text of a number with '.' removed and leading zeros stripped.
char *append_kraken_number(char *out, std::int64_t mantissa, std::uint8_t decimals,
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
    *out++ = c;
  }
  return out;
}

} // namespace

std::uint32_t okx_checksum(const L2Book &book) noexcept {
  char buf[kOkxBufferSize];
  char *o = buf;
  const std::size_t bids = book.depth(Side::Bid) < kOkxLevels ? book.depth(Side::Bid) : kOkxLevels;
  const std::size_t asks = book.depth(Side::Ask) < kOkxLevels ? book.depth(Side::Ask) : kOkxLevels;
  const std::size_t rows = bids > asks ? bids : asks;
  const std::uint8_t pdp = book.price_decimals();
  const std::uint8_t qdp = book.qty_decimals();
  for (std::size_t i = 0; i < rows; ++i) {
    if (i < bids)
      o = append_okx_level(o, o == buf, book.at(Side::Bid, i), pdp, qdp);
    if (i < asks)
      o = append_okx_level(o, o == buf, book.at(Side::Ask, i), pdp, qdp);
  }
  return crc32_of(buf, static_cast<std::size_t>(o - buf));
}

std::uint32_t kraken_checksum(const L2Book &book) noexcept {
  char buf[kKrakenBufferSize];
  char *o = buf;
  const std::uint8_t pdp = book.price_decimals();
  const std::uint8_t qdp = book.qty_decimals();
  for (const Side side : {Side::Ask, Side::Bid}) {
    const std::size_t n = book.depth(side) < kKrakenLevels ? book.depth(side) : kKrakenLevels;
    for (std::size_t i = 0; i < n; ++i) {
      const Level &level = book.at(side, i);
      o = append_kraken_number(o, level.price, pdp, level.price_text_dp);
      o = append_kraken_number(o, level.qty, qdp, level.qty_text_dp);
    }
  }
  return crc32_of(buf, static_cast<std::size_t>(o - buf));
}

} // namespace fh::book
