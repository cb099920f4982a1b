#pragma once
// Exact decimal text <-> int64 mantissa at a fixed number of decimals.
//
// Why this shape: venues send prices and sizes as decimal text ("61800.20") or as raw JSON
// number tokens ("9.9E-7"). A double cannot hold most of them exactly, and a checksum (OKX,
// Kraken) is computed over the exact text, so we parse straight to an integer mantissa and
// remember how many fractional digits the text had (`text_decimals`) so the wire string can
// be rebuilt byte for byte. Nothing is ever rounded: a digit that does not fit the scale is
// an error (TooManyDecimals), not a silent loss.
//
// The common case ([-]digits[.digits], at most 19 significant digits) is parsed inline in
// one pass. Anything unusual (exponent, long runs of leading zeros, overflow candidates)
// goes to one out-of-line general routine, which is also the reference the fuzzer checks
// the fast path against.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "book/types.hpp"

namespace fh::book {

enum class DecimalError : std::uint8_t { Ok = 0, Empty, Garbage, TooManyDecimals, Overflow };

struct ParsedDecimal {
  std::int64_t mantissa;      // value = mantissa * 10^-decimals
  std::uint8_t text_decimals; // fractional digits as written (effective ones for exponent forms)
};

// Longest fractional part we keep text for. Bounds format_decimal's output to 48 chars:
// sign + 19 integer digits + '.' + 26 = 47. Longer fractions are refused (TooManyDecimals).
inline constexpr int kMaxTextDecimals = 26;
// Buffer size format_decimal needs.
inline constexpr std::size_t kDecimalBufferSize = 48;

inline constexpr const char *to_cstring(DecimalError e) noexcept {
  switch (e) {
  case DecimalError::Ok:
    return "ok";
  case DecimalError::Empty:
    return "empty";
  case DecimalError::Garbage:
    return "garbage";
  case DecimalError::TooManyDecimals:
    return "too_many_decimals";
  case DecimalError::Overflow:
    return "overflow";
  }
  return "?";
}

namespace detail {
// The general parser: any syntax, exponent, leading zeros; exact overflow checks. Errors are
// decided in a fixed order: Empty/Garbage (syntax), then TooManyDecimals, then Overflow.
[[nodiscard]] DecimalError parse_decimal_general(std::string_view text, std::uint8_t decimals,
                                                 ParsedDecimal &out) noexcept;

inline constexpr char kDigitPairs[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546"
    "4748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293"
    "949596979899";

inline constexpr bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10U;
}
inline constexpr std::uint64_t digit_of(char c) noexcept {
  return static_cast<std::uint64_t>(static_cast<unsigned char>(c - '0'));
}
} // namespace detail

// Parses venue text ("61800.20", "0.00000000", "-1.5", "5", "1e-8", "2.5E+3") into a
// mantissa at `decimals` (<= 18; larger -> Overflow) fractional digits. Digits beyond
// `decimals` must be zeros (else TooManyDecimals). A leading '+', a bare '.', "1." and
// anything else that is not a JSON-style number is Garbage; "" is Empty.
[[nodiscard]] inline DecimalError parse_decimal(std::string_view text, std::uint8_t decimals,
                                                ParsedDecimal &out) noexcept {
  const char *p = text.data();
  const char *const end = p + text.size();
  if (p == end) [[unlikely]]
    return DecimalError::Empty;
  if (decimals > kMaxDecimals) [[unlikely]]
    return DecimalError::Overflow;
  const bool negative = *p == '-';
  p += negative ? 1 : 0;

  // Integer part. Unsigned arithmetic: wrap-around is harmless because more than 19 digits
  // sends us to the general path before the value is used.
  std::uint64_t acc = 0;
  const char *const int_begin = p;
  while (p != end && detail::is_digit(*p)) {
    acc = acc * 10U + detail::digit_of(*p);
    ++p;
  }
  const auto int_len = static_cast<std::size_t>(p - int_begin);
  if (int_len == 0 || int_len > 19) [[unlikely]]
    return detail::parse_decimal_general(text, decimals, out);

  // Fraction: keep up to `decimals` digits, the rest must be zeros.
  std::size_t kept = 0;
  std::size_t frac_len = 0;
  bool dropped_nonzero = false;
  if (p != end && *p == '.') {
    ++p;
    const char *const frac_begin = p;
    while (p != end && kept < decimals && detail::is_digit(*p)) {
      acc = acc * 10U + detail::digit_of(*p);
      ++p;
      ++kept;
    }
    while (p != end && detail::is_digit(*p)) {
      dropped_nonzero |= *p != '0';
      ++p;
    }
    frac_len = static_cast<std::size_t>(p - frac_begin);
    if (frac_len == 0) [[unlikely]]
      return DecimalError::Garbage; // "1."
  }
  if (p != end) [[unlikely]] {
    if (*p == 'e' || *p == 'E')
      return detail::parse_decimal_general(text, decimals, out);
    return DecimalError::Garbage;
  }
  if (dropped_nonzero || frac_len > static_cast<std::size_t>(kMaxTextDecimals)) [[unlikely]]
    return DecimalError::TooManyDecimals;
  if (int_len + kept > 19) [[unlikely]]
    return detail::parse_decimal_general(text, decimals, out);

  // acc < 10^19 here: scale to `decimals` and range-check against int64.
  std::uint64_t magnitude = 0;
  const auto scale = static_cast<std::uint64_t>(kPow10[decimals - kept]);
  if (__builtin_mul_overflow(acc, scale, &magnitude)) [[unlikely]]
    return DecimalError::Overflow;
  const std::uint64_t limit = negative ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1U;
  if (magnitude > limit) [[unlikely]]
    return DecimalError::Overflow;
  // Two's complement negate in unsigned, then convert: exact for INT64_MIN too.
  out.mantissa = static_cast<std::int64_t>(negative ? 0U - magnitude : magnitude);
  out.text_decimals = static_cast<std::uint8_t>(frac_len);
  return DecimalError::Ok;
}

// Writes `mantissa` (at `decimals`) with exactly `text_decimals` fractional digits, no '.'
// when 0: (6180020, 2, 8) -> "61800.20000000", (500000000, 8, 0) -> "5". Digits dropped when
// text_decimals < decimals must be zeros (precondition). `out` must hold kDecimalBufferSize
// chars; text_decimals <= kMaxTextDecimals. Returns the number of chars written.
inline std::size_t format_decimal(std::int64_t mantissa, std::uint8_t decimals,
                                  std::uint8_t text_decimals, char *out) noexcept {
  std::uint64_t magnitude = mantissa < 0 ? 0U - static_cast<std::uint64_t>(mantissa)
                                         : static_cast<std::uint64_t>(mantissa);
  const std::size_t dp = decimals > kMaxDecimals ? std::size_t{kMaxDecimals} : decimals;
  const std::size_t td =
      text_decimals > kMaxTextDecimals ? std::size_t{kMaxTextDecimals} : text_decimals;
  // Digits below the text's last one are zeros (precondition): drop them up front.
  std::size_t scale = dp;
  if (td < dp) {
    magnitude /= static_cast<std::uint64_t>(kPow10[dp - td]);
    scale = td;
  }
  // Digits right to left, two at a time (half the divisions).
  char digits[24];
  char *const digits_end = digits + sizeof digits;
  char *p = digits_end;
  while (magnitude >= 100) {
    const std::uint64_t r = magnitude % 100U;
    magnitude /= 100U;
    p -= 2;
    std::memcpy(p, detail::kDigitPairs + 2 * r, 2);
  }
  if (magnitude >= 10) {
    p -= 2;
    std::memcpy(p, detail::kDigitPairs + 2 * magnitude, 2);
  } else {
    *--p = static_cast<char>('0' + magnitude);
  }
  while (static_cast<std::size_t>(digits_end - p) < scale + 1)
    *--p = '0';
  const auto n = static_cast<std::size_t>(digits_end - p);
  const std::size_t int_len = n - scale;
  char *o = out;
  if (mantissa < 0)
    *o++ = '-';
  // Short runs (<= 20 bytes): plain loops beat library calls here.
  for (std::size_t i = 0; i < int_len; ++i)
    *o++ = p[i];
  if (td != 0) {
    *o++ = '.';
    for (std::size_t i = 0; i < scale; ++i)
      *o++ = p[int_len + i];
    for (std::size_t i = scale; i < td; ++i)
      *o++ = '0';
  }
  return static_cast<std::size_t>(o - out);
}

// Shortest exact text, trailing fractional zeros stripped: (6180020, 2) -> "61800.2",
// (100, 2) -> "1". For JSON output and display (allocates; not for the hot path).
std::string to_string(std::int64_t mantissa, std::uint8_t decimals);

} // namespace fh::book
