// KuCoin spot symbol metadata (control path): REST /api/v1/symbols and the instrument assumed
// for a symbol seen without metadata. Allocation is fine here; errors are reported by what was
// (not) registered, never thrown (simdjson error codes only).
//
// Names. KuCoin's symbol keeps old currency codes (BCHSV-USDT, WAX-BTC, LOKI-ETH) while
// baseCurrency/quoteCurrency give today's names (BSV, WAXP, OXEN), the ones its "name" field and
// cryptofeed's configuration use: canonical = BASE-QUOTE from those, upper-cased (LYXe -> LYXE).
//
// Scales. Prices are on priceIncrement (every price in the 2021-04-25 capture is). Sizes are not
// on baseIncrement: resting levels are finer (CAPP-BTC, baseIncrement 0.01, has sizes with 8
// decimals; BCHSV-USDT, baseIncrement 0.00000001, a level of "0.00019434546", 11 decimals). As
// for OKX spot (okx_metadata.cpp), a level is assumed to hold at most 10^8 minimum orders
// (baseMinSize * 10^8); the integer digits that needs are kept and every other digit of an int64
// (18) goes to decimals, never fewer than baseIncrement's. BCHSV-USDT (baseMinSize 0.001) gets
// 12, DAPPT-BTC (baseMinSize 10) 8: every level of the capture fits (tested).
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/kucoin.hpp"

namespace fh::venues {
namespace {

constexpr int kInt64Digits = 18;       // decimal digits an int64 mantissa always holds
constexpr int kMinOrdersPerLevel = 8;  // log10 of the largest level, in minimum orders
constexpr std::uint8_t kDefaultDecimals = 10;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Decimals for sizes: see the comment at the top.
int size_decimals(std::string_view base_min, int increment_decimals) noexcept {
  const int min_dp = decimals_of(base_min);
  book::ParsedDecimal d{};
  int dp = kInt64Digits - kMinOrdersPerLevel; // a minimum order of 1 unit
  if (book::parse_decimal(base_min, static_cast<std::uint8_t>(min_dp), d) ==
          book::DecimalError::Ok &&
      d.mantissa > 0) {
    int digits = 0; // of baseMinSize's mantissa
    for (std::int64_t m = d.mantissa; m != 0; m /= 10)
      ++digits;
    dp = kInt64Digits - (digits - min_dp + kMinOrdersPerLevel);
  }
  dp = std::min(dp, kInt64Digits);
  return std::max(dp, increment_decimals);
}

// A step text at `decimals` -> mantissa (> 0), or 0 when it is not one.
std::int64_t step_mantissa(std::string_view text, int decimals) noexcept {
  book::ParsedDecimal d{};
  if (book::parse_decimal(text, static_cast<std::uint8_t>(decimals), d) != book::DecimalError::Ok)
    return 0;
  return d.mantissa > 0 ? d.mantissa : 0;
}

} // namespace

Instrument kucoin_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.kind = InstrumentKind::Spot;
  inst.native = std::string(native);
  inst.canonical = inst.native;
  const std::size_t dash = native.find('-');
  if (dash != std::string_view::npos && dash != 0 && dash + 1 < native.size() &&
      native.find('-', dash + 1) == std::string_view::npos) {
    inst.base = upper(native.substr(0, dash));
    inst.quote = upper(native.substr(dash + 1));
    inst.canonical = inst.base + "-" + inst.quote;
  }
  inst.price_decimals = kDefaultDecimals;
  inst.qty_decimals = kDefaultDecimals;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_kucoin_symbols(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  std::string_view code;
  if (root["code"].get_string().get(code) || code != "200000")
    return 0;
  simdjson::dom::array data;
  if (root["data"].get_array().get(data))
    return 0;
  std::size_t added = 0;
  for (const simdjson::dom::element item : data) {
    std::string_view symbol, base, quote, price_inc, base_inc, base_min;
    if (item["symbol"].get_string().get(symbol) || symbol.empty() ||
        item["baseCurrency"].get_string().get(base) || base.empty() ||
        item["quoteCurrency"].get_string().get(quote) || quote.empty() ||
        item["priceIncrement"].get_string().get(price_inc) ||
        item["baseIncrement"].get_string().get(base_inc) ||
        item["baseMinSize"].get_string().get(base_min))
      continue;
    const int px_dp = decimals_of(price_inc);
    const int qty_dp = size_decimals(base_min, decimals_of(base_inc));
    if (px_dp > kInt64Digits)
      continue;
    Instrument inst;
    inst.venue = Venue::Kucoin;
    inst.kind = InstrumentKind::Spot;
    inst.native = std::string(symbol);
    inst.base = upper(base);
    inst.quote = upper(quote);
    inst.canonical = inst.base + "-" + inst.quote;
    inst.price_decimals = static_cast<std::uint8_t>(px_dp);
    inst.qty_decimals = static_cast<std::uint8_t>(qty_dp);
    inst.tick = step_mantissa(price_inc, px_dp);
    inst.lot = step_mantissa(base_inc, qty_dp);
    inst.min_qty = step_mantissa(base_min, qty_dp);
    if (inst.tick == 0 || inst.lot == 0)
      continue;
    inst.from_metadata = true;
    if (registry.add(std::move(inst)) == kNoInstrument)
      break;
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Kucoin);
  return added;
}

} // namespace fh::venues
