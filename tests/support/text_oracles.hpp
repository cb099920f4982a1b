#pragma once
// Independent oracles shared by the venue parser and metadata tests: decimal text converted
// without the production parser (string surgery and std::from_chars, not book::parse_decimal),
// and simdjson DOM accessors that fail the test instead of throwing. Expected values computed
// with these never come from the code under test.
#include <gtest/gtest.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <simdjson.h>

namespace fh::test {

// Text -> mantissa without the production parser: integer and fraction digits, the fraction
// padded or cut to `decimals` (cut digits must be zeros), read with std::from_chars.
inline std::optional<std::int64_t> ref_mantissa(std::string_view s, int decimals) {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  const std::size_t dot = s.find('.');
  std::string digits(s.substr(0, dot));
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  while (static_cast<int>(frac.size()) > decimals) {
    if (frac.back() != '0')
      return std::nullopt;
    frac.pop_back();
  }
  frac.append(static_cast<std::size_t>(decimals) - frac.size(), '0');
  digits += frac;
  std::int64_t v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
    return std::nullopt;
  return negative ? -v : v;
}

// Decimals as written on the wire ("61800.20" -> 2).
inline int wire_decimals(std::string_view s) {
  const std::size_t dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

// Decimals without trailing zeros ("61800.20" -> 1).
inline int significant_decimals(std::string_view s) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos)
    return 0;
  std::size_t end = s.size();
  while (end > dot + 1 && s[end - 1] == '0')
    --end;
  return static_cast<int>(end - dot - 1);
}

using DomResult = simdjson::simdjson_result<simdjson::dom::element>;
inline std::string_view dom_str(simdjson::dom::element e) {
  std::string_view s;
  EXPECT_EQ(e.get_string().get(s), simdjson::SUCCESS);
  return s;
}
inline std::string_view dom_str(DomResult r) {
  std::string_view s;
  EXPECT_EQ(r.get_string().get(s), simdjson::SUCCESS);
  return s;
}
inline simdjson::dom::array dom_arr(simdjson::dom::element e) {
  simdjson::dom::array a;
  EXPECT_EQ(e.get_array().get(a), simdjson::SUCCESS);
  return a;
}
inline simdjson::dom::array dom_arr(DomResult r) {
  simdjson::dom::array a;
  EXPECT_EQ(r.get_array().get(a), simdjson::SUCCESS);
  return a;
}

} // namespace fh::test
