// labels: unit replay
// Exact decimal parsing/formatting over real wire strings. Every number here is pulled out of
// a real capture in data/ by a mechanical scan; expected values come from an independent
// oracle computed in this file from the digits (std::from_chars on the integer and fraction
// parts, 128-bit arithmetic), with long double only as a magnitude cross-check. Malformed
// inputs are real strings corrupted mechanically (byte flips, appended/prepended digits,
// truncation, concatenation).
#include "book/decimal.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fh::book {
namespace {

std::string read_gz(const std::string &rel) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr)
    return {};
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return all;
}

bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (const char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// A plain decimal string as venues write it: -?digits(.digits)?
bool is_plain_number(std::string_view s) {
  if (!s.empty() && s.front() == '-')
    s.remove_prefix(1);
  const auto dot = s.find('.');
  if (dot == std::string_view::npos)
    return all_digits(s);
  return all_digits(s.substr(0, dot)) && all_digits(s.substr(dot + 1));
}

// Every distinct "..." token in the capture that is a plain number (prices, sizes, and the
// other numeric strings venues send).
std::vector<std::string> quoted_numbers(const std::string &text) {
  std::set<std::string> seen;
  std::size_t i = 0;
  while ((i = text.find('"', i)) != std::string::npos) {
    const std::size_t j = text.find('"', i + 1);
    if (j == std::string::npos)
      break;
    const std::string_view tok(text.data() + i + 1, j - i - 1);
    if (is_plain_number(tok) && tok.size() <= 40)
      seen.emplace(tok);
    i = j + 1;
  }
  return {seen.begin(), seen.end()};
}

// Raw (unquoted) JSON number tokens in the capture, e.g. Bitfinex amounts.
std::vector<std::string> raw_json_numbers(const std::string &text) {
  std::set<std::string> seen;
  auto is_num_char = [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char prev = text[i];
    if (prev != '[' && prev != ',' && prev != ':')
      continue;
    std::size_t j = i + 1;
    while (j < text.size() && is_num_char(text[j]))
      ++j;
    if (j < text.size() && (text[j] == ',' || text[j] == ']' || text[j] == '}') && j > i + 1)
      seen.emplace(text.substr(i + 1, j - i - 1));
  }
  return {seen.begin(), seen.end()};
}

// ---- independent oracle ------------------------------------------------------------------

struct Expected {
  DecimalError error;
  std::int64_t mantissa;
  int text_decimals;
};

std::uint64_t chars_to_u64(std::string_view s, bool &ok) {
  std::uint64_t v = 0;
  if (s.empty())
    return 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  ok = ok && r.ec == std::errc() && r.ptr == s.data() + s.size();
  return v;
}

// 128-bit headroom for the oracle's arithmetic (__extension__: GNU type under -Wpedantic).
__extension__ typedef unsigned __int128 U128;

// value = sign * digits(int_part . frac_part) * 10^exponent, at `decimals`.
Expected oracle(std::string_view text, int decimals) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  int exponent = 0;
  if (const auto e = text.find_first_of("eE"); e != std::string_view::npos) {
    std::string_view exp_text = text.substr(e + 1);
    if (!exp_text.empty() && exp_text.front() == '+')
      exp_text.remove_prefix(1);
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
    text = text.substr(0, e);
  }
  const auto dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  const int text_decimals = std::max(0, static_cast<int>(frac_part.size()) - exponent);
  // Move the decimal point by `exponent` on the digit string.
  std::string digits = std::string(int_part) + std::string(frac_part);
  int point = static_cast<int>(int_part.size()) + exponent; // digits before the point
  while (point < 0) {
    digits.insert(digits.begin(), '0');
    ++point;
  }
  while (point > static_cast<int>(digits.size()))
    digits.push_back('0');
  std::string ip = digits.substr(0, static_cast<std::size_t>(point));
  std::string fp = digits.substr(static_cast<std::size_t>(point));
  while (!fp.empty() && fp.back() == '0')
    fp.pop_back();
  while (ip.size() > 1 && ip.front() == '0')
    ip.erase(ip.begin());
  if (static_cast<int>(fp.size()) > decimals || text_decimals > kMaxTextDecimals)
    return {DecimalError::TooManyDecimals, 0, 0};
  bool ok = true;
  const std::uint64_t iv = chars_to_u64(ip.empty() ? "0" : ip, ok);
  const std::uint64_t fv = chars_to_u64(fp, ok);
  if (!ok)
    return {DecimalError::Overflow, 0, 0};
  const U128 scale = static_cast<U128>(kPow10[decimals]);
  const U128 magnitude =
      static_cast<U128>(iv) * scale +
      static_cast<U128>(fv) * static_cast<U128>(kPow10[decimals - static_cast<int>(fp.size())]);
  const U128 limit =
      static_cast<U128>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1U : 0U);
  if (magnitude > limit)
    return {DecimalError::Overflow, 0, 0};
  const auto m = static_cast<std::uint64_t>(magnitude);
  return {DecimalError::Ok, static_cast<std::int64_t>(negative ? 0U - m : m), text_decimals};
}

int fraction_digits(std::string_view s) {
  const auto dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

int integer_digits(std::string_view s) {
  if (!s.empty() && s.front() == '-')
    s.remove_prefix(1);
  return static_cast<int>(s.find('.') == std::string_view::npos ? s.size() : s.find('.'));
}

class DecimalTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    okx_ = new std::vector<std::string>(
        quoted_numbers(read_gz("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz")));
    kraken_ = new std::vector<std::string>(
        quoted_numbers(read_gz("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz")));
    binance_ = new std::vector<std::string>(
        quoted_numbers(read_gz("binance/cryptofeed/usdm_2021-07-22_ws.txt.gz")));
    bitfinex_ = new std::vector<std::string>(
        raw_json_numbers(read_gz("bitfinex/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz")));
  }
  static void TearDownTestSuite() {
    delete okx_;
    delete kraken_;
    delete binance_;
    delete bitfinex_;
  }
  static std::vector<std::string> wire_strings() {
    std::vector<std::string> all(*okx_);
    all.insert(all.end(), kraken_->begin(), kraken_->end());
    all.insert(all.end(), binance_->begin(), binance_->end());
    return all;
  }
  static std::vector<std::string> bitfinex_plain() {
    std::vector<std::string> out;
    for (const auto &s : *bitfinex_)
      if (is_plain_number(s))
        out.push_back(s);
    return out;
  }
  static std::vector<std::string> bitfinex_exponent() {
    std::vector<std::string> out;
    for (const auto &s : *bitfinex_)
      if (s.find_first_of("eE") != std::string::npos)
        out.push_back(s);
    return out;
  }

  static void expect_matches_oracle(const std::string &s, int decimals) {
    ParsedDecimal got{};
    const DecimalError err = parse_decimal(s, static_cast<std::uint8_t>(decimals), got);
    const Expected want = oracle(s, decimals);
    ASSERT_EQ(err, want.error) << s << " at " << decimals << ": " << to_cstring(err);
    if (want.error == DecimalError::Ok) {
      ASSERT_EQ(got.mantissa, want.mantissa) << s << " at " << decimals;
      ASSERT_EQ(got.text_decimals, want.text_decimals) << s << " at " << decimals;
      // Magnitude cross-check through long double (display-grade only).
      const long double approx = std::strtold(s.c_str(), nullptr);
      const long double ours =
          static_cast<long double>(got.mantissa) / static_cast<long double>(kPow10[decimals]);
      ASSERT_LE(std::fabs(approx - ours), std::fabs(approx) * 1e-15L + 1e-30L) << s;
    }
  }

  static inline std::vector<std::string> *okx_ = nullptr;
  static inline std::vector<std::string> *kraken_ = nullptr;
  static inline std::vector<std::string> *binance_ = nullptr;
  static inline std::vector<std::string> *bitfinex_ = nullptr;
};

TEST_F(DecimalTest, CapturesYieldEnoughWireStrings) {
  EXPECT_GT(okx_->size(), 1000U);
  EXPECT_GT(kraken_->size(), 1000U);
  EXPECT_GT(binance_->size(), 1000U);
  EXPECT_GT(bitfinex_plain().size(), 100U);
  EXPECT_GT(bitfinex_exponent().size(), 3U);
}

TEST_F(DecimalTest, ParsesEveryWireStringExactlyAtEveryScale) {
  std::size_t checked = 0;
  for (const auto &s : wire_strings()) {
    for (int d = 0; d <= kMaxDecimals; ++d) {
      expect_matches_oracle(s, d);
      if (HasFatalFailure())
        return;
      ++checked;
    }
  }
  EXPECT_GT(checked, 50000U);
}

TEST_F(DecimalTest, ParsesNegativeAndExponentJsonNumbersFromBitfinex) {
  std::size_t negatives = 0;
  for (const auto &s : bitfinex_plain()) {
    negatives += s.front() == '-' ? 1U : 0U;
    for (int d = 0; d <= kMaxDecimals; ++d) {
      expect_matches_oracle(s, d);
      if (HasFatalFailure())
        return;
    }
  }
  EXPECT_GT(negatives, 50U);
  for (const auto &s : bitfinex_exponent()) {
    for (int d = 0; d <= kMaxDecimals; ++d) {
      expect_matches_oracle(s, d);
      if (HasFatalFailure())
        return;
    }
  }
}

TEST_F(DecimalTest, FormatReproducesTheExactWireText) {
  std::size_t round_trips = 0;
  std::vector<std::string> all = wire_strings();
  const std::vector<std::string> bfx = bitfinex_plain();
  all.insert(all.end(), bfx.begin(), bfx.end());
  for (const auto &s : all) {
    const int fd = fraction_digits(s);
    const int id = integer_digits(s);
    // At the text's own scale, and at every larger scale the value still fits in int64.
    for (int d = fd; d <= kMaxDecimals && id + d <= 18; ++d) {
      ParsedDecimal p{};
      ASSERT_EQ(parse_decimal(s, static_cast<std::uint8_t>(d), p), DecimalError::Ok) << s;
      char buf[kDecimalBufferSize];
      const std::size_t n =
          format_decimal(p.mantissa, static_cast<std::uint8_t>(d), p.text_decimals, buf);
      ASSERT_EQ(std::string_view(buf, n), s) << "at decimals " << d;
      ++round_trips;
    }
  }
  EXPECT_GT(round_trips, 50000U);
}

TEST_F(DecimalTest, FormatsAtFewerDecimalsThanTheTextWhenTheDroppedDigitsAreZeros) {
  // "5.00000000" at 0 decimals, re-emitted with its 8 text decimals.
  std::size_t checked = 0;
  for (const auto &s : wire_strings()) {
    std::string trimmed = s;
    if (fraction_digits(s) > 0) {
      while (trimmed.back() == '0')
        trimmed.pop_back();
      if (trimmed.back() == '.')
        trimmed.pop_back();
    }
    const int min_dp = fraction_digits(trimmed);
    ParsedDecimal p{};
    ASSERT_EQ(parse_decimal(s, static_cast<std::uint8_t>(min_dp), p), DecimalError::Ok) << s;
    char buf[kDecimalBufferSize];
    const std::size_t n =
        format_decimal(p.mantissa, static_cast<std::uint8_t>(min_dp), p.text_decimals, buf);
    ASSERT_EQ(std::string_view(buf, n), s);
    ++checked;
  }
  EXPECT_GT(checked, 1000U);
}

TEST_F(DecimalTest, ToStringIsTheShortestExactText) {
  for (const auto &s : wire_strings()) {
    // Oracle: the wire text with trailing fractional zeros (and a bare '.') removed, and
    // leading zeros of the integer part collapsed.
    std::string want = s;
    if (fraction_digits(s) > 0) {
      while (want.back() == '0')
        want.pop_back();
      if (want.back() == '.')
        want.pop_back();
    }
    const int fd = fraction_digits(s);
    const int id = integer_digits(s);
    if (id + fd > 18)
      continue;
    ParsedDecimal p{};
    ASSERT_EQ(parse_decimal(s, static_cast<std::uint8_t>(fd), p), DecimalError::Ok);
    ASSERT_EQ(to_string(p.mantissa, static_cast<std::uint8_t>(fd)), want) << s;
  }
}

TEST_F(DecimalTest, RejectsWireStringsWithAByteFlippedToALetter) {
  // Mechanical corruption: every byte position of each real string replaced by 'x'.
  std::size_t checked = 0;
  for (const auto &s : *okx_) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      std::string bad = s;
      bad[i] = 'x';
      ParsedDecimal p{};
      ASSERT_EQ(parse_decimal(bad, 8, p), DecimalError::Garbage) << bad;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000U);
}

TEST_F(DecimalTest, RejectsANonzeroDigitBeyondTheScale) {
  // Mechanical corruption: a '7' appended after the last fractional digit, parsed at the
  // text's own scale. Never rounded.
  std::size_t checked = 0;
  for (const auto &s : wire_strings()) {
    const int fd = fraction_digits(s);
    if (fd == 0 || fd >= kMaxDecimals)
      continue;
    ParsedDecimal p{};
    ASSERT_EQ(parse_decimal(s + "7", static_cast<std::uint8_t>(fd), p),
              DecimalError::TooManyDecimals)
        << s;
    // One more decimal of scale makes it exact again.
    ASSERT_EQ(parse_decimal(s + "7", static_cast<std::uint8_t>(fd + 1), p), DecimalError::Ok) << s;
    ++checked;
  }
  EXPECT_GT(checked, 1000U);
}

TEST_F(DecimalTest, ReportsOverflowWhenNineteenDigitsArePrepended) {
  std::size_t checked = 0;
  for (const auto &s : wire_strings()) {
    const int fd = fraction_digits(s);
    std::string big = s;
    big.insert(s.front() == '-' ? 1U : 0U, std::string(19, '9'));
    ParsedDecimal p{};
    ASSERT_EQ(parse_decimal(big, static_cast<std::uint8_t>(fd), p), DecimalError::Overflow) << big;
    ++checked;
  }
  EXPECT_GT(checked, 1000U);
}

TEST_F(DecimalTest, TruncationYieldsEmptyGarbageOrTheOraclesValue) {
  // Every prefix of every real OKX string: "" is Empty, "61800." and "-" are Garbage, the
  // rest are shorter valid numbers that must match the oracle.
  for (const auto &s : *okx_) {
    for (std::size_t len = 0; len <= s.size(); ++len) {
      const std::string prefix = s.substr(0, len);
      ParsedDecimal p{};
      const DecimalError err = parse_decimal(prefix, 18, p);
      if (prefix.empty()) {
        ASSERT_EQ(err, DecimalError::Empty);
      } else if (prefix.back() == '.' || prefix == "-") {
        ASSERT_EQ(err, DecimalError::Garbage) << prefix;
      } else {
        expect_matches_oracle(prefix, 18);
        if (HasFatalFailure())
          return;
      }
    }
  }
}

TEST_F(DecimalTest, RejectsMechanicallyMangledSyntax) {
  // Built from real strings by concatenation and insertion; each is not a number.
  std::size_t checked = 0;
  for (const auto &s : *kraken_) {
    const auto dot = s.find('.');
    if (dot == std::string::npos)
      continue;
    const std::vector<std::string> mangled = {
        s + s,                // two dots: "0.0431300.043130"
        "-" + ("-" + s),      // "--0.043130"
        " " + s,              // leading space
        s + " ",              // trailing space
        "+" + s,              // leading '+'
        "+-" + s,             // sign soup
        s.substr(dot, 1),     // "."
        s.substr(0, dot + 1), // "0."
        s.substr(dot),        // ".043130" (no integer digit)
        s + "e",              // exponent without digits
        s + "e-",             //
    };
    for (const auto &m : mangled) {
      ParsedDecimal p{};
      ASSERT_EQ(parse_decimal(m, 8, p), DecimalError::Garbage) << "'" << m << "'";
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000U);
}

TEST_F(DecimalTest, AcceptsInt64BoundariesAndRejectsOneBeyond) {
  const std::string max = std::to_string(std::numeric_limits<std::int64_t>::max());
  const std::string min = std::to_string(std::numeric_limits<std::int64_t>::min());
  ParsedDecimal p{};
  ASSERT_EQ(parse_decimal(max, 0, p), DecimalError::Ok);
  EXPECT_EQ(p.mantissa, std::numeric_limits<std::int64_t>::max());
  ASSERT_EQ(parse_decimal(min, 0, p), DecimalError::Ok);
  EXPECT_EQ(p.mantissa, std::numeric_limits<std::int64_t>::min());
  // Same digits with the point moved: exact at every scale.
  for (int d = 1; d <= kMaxDecimals; ++d) {
    std::string smax = max;
    smax.insert(smax.size() - static_cast<std::size_t>(d), ".");
    std::string smin = min;
    smin.insert(smin.size() - static_cast<std::size_t>(d), ".");
    ASSERT_EQ(parse_decimal(smax, static_cast<std::uint8_t>(d), p), DecimalError::Ok) << smax;
    EXPECT_EQ(p.mantissa, std::numeric_limits<std::int64_t>::max());
    ASSERT_EQ(parse_decimal(smin, static_cast<std::uint8_t>(d), p), DecimalError::Ok) << smin;
    EXPECT_EQ(p.mantissa, std::numeric_limits<std::int64_t>::min());
    char buf[kDecimalBufferSize];
    EXPECT_EQ(std::string_view(buf, format_decimal(p.mantissa, static_cast<std::uint8_t>(d),
                                                   static_cast<std::uint8_t>(d), buf)),
              smin);
  }
  // One beyond each end: the last digit ('7' / '8') incremented.
  std::string over = max;
  over.back() = static_cast<char>(over.back() + 1);
  std::string under = min;
  under.back() = static_cast<char>(under.back() + 1);
  EXPECT_EQ(parse_decimal(over, 0, p), DecimalError::Overflow);
  EXPECT_EQ(parse_decimal(under, 0, p), DecimalError::Overflow);
  // Scaling pushes a fitting integer over the edge.
  EXPECT_EQ(parse_decimal(max, 1, p), DecimalError::Overflow);
}

TEST_F(DecimalTest, NamesEveryError) {
  EXPECT_STREQ(to_cstring(DecimalError::Ok), "ok");
  EXPECT_STREQ(to_cstring(DecimalError::Empty), "empty");
  EXPECT_STREQ(to_cstring(DecimalError::Garbage), "garbage");
  EXPECT_STREQ(to_cstring(DecimalError::TooManyDecimals), "too_many_decimals");
  EXPECT_STREQ(to_cstring(DecimalError::Overflow), "overflow");
}

} // namespace
} // namespace fh::book
