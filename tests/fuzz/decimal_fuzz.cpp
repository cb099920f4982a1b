// Fuzz target for book/decimal.hpp. Checks, for the whole input and for every piece of it
// between JSON punctuation (the corpus driver feeds whole real messages), at several scales:
//  - the inline fast path and the general parser agree exactly (result, mantissa, text dp);
//  - an Ok parse formats to text that re-parses to the same mantissa and text decimals;
//  - to_string() re-parses to the same mantissa;
//  - nothing crashes or reads out of bounds (ASan/UBSan in the asan/fuzz presets).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "book/decimal.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
    "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
    "bitfinex/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz", // raw numbers, 1.1e-7 forms
    "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz", nullptr};

namespace {

using fh::book::DecimalError;
using fh::book::ParsedDecimal;

void require(bool ok) {
  if (!ok)
    std::abort();
}

void check_piece(std::string_view s) {
  static constexpr std::uint8_t kScales[] = {0, 1, 2, 3, 6, 8, 10, 12, 18};
  for (const std::uint8_t d : kScales) {
    ParsedDecimal fast{};
    ParsedDecimal general{};
    const DecimalError e1 = fh::book::parse_decimal(s, d, fast);
    const DecimalError e2 = fh::book::detail::parse_decimal_general(s, d, general);
    require(e1 == e2);
    if (e1 != DecimalError::Ok)
      continue;
    require(fast.mantissa == general.mantissa && fast.text_decimals == general.text_decimals);
    char buf[fh::book::kDecimalBufferSize];
    const std::size_t n = fh::book::format_decimal(fast.mantissa, d, fast.text_decimals, buf);
    require(n <= sizeof buf);
    ParsedDecimal again{};
    require(fh::book::parse_decimal(std::string_view(buf, n), d, again) == DecimalError::Ok);
    require(again.mantissa == fast.mantissa && again.text_decimals == fast.text_decimals);
    const std::string shortest = fh::book::to_string(fast.mantissa, d);
    require(fh::book::parse_decimal(shortest, d, again) == DecimalError::Ok);
    require(again.mantissa == fast.mantissa);
  }
}

bool is_separator(char c) {
  return c == '"' || c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == ':';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  check_piece(input);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i == size || is_separator(input[i])) {
      if (i > start)
        check_piece(input.substr(start, i - start));
      start = i + 1;
    }
  }
  return 0;
}
