// The general (cold) decimal parser and the allocating helpers. See decimal.hpp.
#include "book/decimal.hpp"

namespace fh::book {
namespace detail {

namespace {
// Exponents are clamped here while they are read: far beyond anything that can matter for
// an int64 at <= 18 decimals, and small enough that arithmetic on them cannot overflow.
constexpr std::int64_t kExponentClamp = 100000;
} // namespace

DecimalError parse_decimal_general(std::string_view text, std::uint8_t decimals,
                                   ParsedDecimal &out) noexcept {
  if (text.empty())
    return DecimalError::Empty;
  if (decimals > kMaxDecimals)
    return DecimalError::Overflow;
  std::size_t i = 0;
  const std::size_t n = text.size();
  const bool negative = text[0] == '-';
  if (negative)
    ++i;

  // Syntax: digits+ ('.' digits+)? ([eE] [+-]? digits+)?
  const std::size_t int_begin = i;
  while (i < n && is_digit(text[i]))
    ++i;
  const std::size_t int_end = i;
  if (int_end == int_begin)
    return DecimalError::Garbage;
  std::size_t frac_begin = i;
  std::size_t frac_end = i;
  if (i < n && text[i] == '.') {
    frac_begin = ++i;
    while (i < n && is_digit(text[i]))
      ++i;
    frac_end = i;
    if (frac_end == frac_begin)
      return DecimalError::Garbage;
  }
  std::int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    const std::size_t exp_begin = i;
    while (i < n && is_digit(text[i])) {
      if (exponent < kExponentClamp)
        exponent = exponent * 10 + static_cast<std::int64_t>(digit_of(text[i]));
      ++i;
    }
    if (i == exp_begin)
      return DecimalError::Garbage;
    if (exp_negative)
      exponent = -exponent;
  }
  if (i != n)
    return DecimalError::Garbage;

  // Digit string D = int digits followed by fraction digits; value = D * 10^(exponent -
  // frac_len), so mantissa = D * 10^shift with shift = decimals + exponent - frac_len.
  const auto frac_len = static_cast<std::int64_t>(frac_end - frac_begin);
  const std::int64_t text_decimals = frac_len - exponent > 0 ? frac_len - exponent : 0;
  const std::int64_t shift = static_cast<std::int64_t>(decimals) + exponent - frac_len;
  const std::size_t total = (int_end - int_begin) + (frac_end - frac_begin);
  auto digit_at = [&](std::size_t k) noexcept {
    const std::size_t int_len = int_end - int_begin;
    return k < int_len ? text[int_begin + k] : text[frac_begin + (k - int_len)];
  };

  // Digits below the scale must be zeros.
  std::size_t keep = total;
  if (shift < 0) {
    const auto drop = static_cast<std::uint64_t>(-shift);
    keep = drop >= total ? 0 : total - static_cast<std::size_t>(drop);
    for (std::size_t k = keep; k < total; ++k)
      if (digit_at(k) != '0')
        return DecimalError::TooManyDecimals;
  }
  if (text_decimals > kMaxTextDecimals)
    return DecimalError::TooManyDecimals;

  std::uint64_t acc = 0;
  for (std::size_t k = 0; k < keep; ++k) {
    if (__builtin_mul_overflow(acc, std::uint64_t{10}, &acc) ||
        __builtin_add_overflow(acc, digit_of(digit_at(k)), &acc))
      return DecimalError::Overflow;
  }
  if (shift > 0 && acc != 0) {
    if (shift > kMaxDecimals)
      return DecimalError::Overflow;
    if (__builtin_mul_overflow(acc, static_cast<std::uint64_t>(kPow10[shift]), &acc))
      return DecimalError::Overflow;
  }
  const std::uint64_t limit = negative ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1U;
  if (acc > limit)
    return DecimalError::Overflow;
  out.mantissa = static_cast<std::int64_t>(negative ? 0U - acc : acc);
  out.text_decimals = static_cast<std::uint8_t>(text_decimals);
  return DecimalError::Ok;
}

} // namespace detail

std::string to_string(std::int64_t mantissa, std::uint8_t decimals) {
  char buf[kDecimalBufferSize];
  const std::uint8_t dp = decimals > kMaxDecimals ? std::uint8_t{kMaxDecimals} : decimals;
  std::size_t len = format_decimal(mantissa, dp, dp, buf);
  if (dp != 0) {
    while (buf[len - 1] == '0')
      --len;
    if (buf[len - 1] == '.')
      --len;
  }
  return std::string(buf, len);
}

} // namespace fh::book
