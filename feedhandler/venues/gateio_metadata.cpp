// Gate.io spot currency-pair metadata (control path): REST /api/v4/spot/currency_pairs and the
// instrument assumed for a pair seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered, never thrown (simdjson error codes only).
//
// Book scales. `precision` and `amount_precision` are what a NEW order may use; resting levels
// are finer. The 2021-04-22 capture has ZKS_ETH (precision 6) and NEO_BTC (precision 7) levels
// priced with 8 decimals, and OMG_USDT (amount_precision 3) levels of "152.9783789102" (10
// decimals). Gate's trades channel writes prices and amounts at its internal scale, 10 decimals
// ("price":"121.5800000000", "amount":"0.2010000000"), so the book keeps 10 decimals for both:
//  - prices: 10 decimals (precision when a pair has more) leave 8 integer digits, 9.2e8 quote
//    units, beyond any spot price;
//  - amounts: 10 decimals leave 8 integer digits (9.2e8 units per level). A pair quoted with
//    many decimals is a cheap token whose levels hold more units, so a pair gets at least
//    precision + 1 integer digits: 17 - precision decimals when that is fewer than 10 (no
//    level in the capture needs more than these scales; the metadata test checks every pair).
//    Never fewer than amount_precision.
#include <algorithm>
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/gateio.hpp"

namespace fh::venues {
namespace {

constexpr int kGateScale = 10;          // decimals of Gate's own price and amount texts
constexpr int kInt64Digits = 18;        // decimal digits an int64 mantissa always holds
constexpr int kMinAmountIntDigits = 8;  // integer digits every amount scale leaves

std::int64_t pow10(int n) noexcept {
  std::int64_t v = 1;
  while (n-- > 0)
    v *= 10;
  return v;
}

int amount_decimals(int precision, int amount_precision) noexcept {
  const int int_digits = std::max(kMinAmountIntDigits, precision + 1);
  const int dp = std::min(kGateScale, kInt64Digits - int_digits);
  return std::max(dp, amount_precision);
}

// "BTC_USDT" -> {"BTC", "USDT"}; false when there is no single '_' between two names.
bool split_pair(std::string_view native, std::string_view &base, std::string_view &quote) noexcept {
  const std::size_t sep = native.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep + 1 >= native.size() ||
      native.find('_', sep + 1) != std::string_view::npos)
    return false;
  base = native.substr(0, sep);
  quote = native.substr(sep + 1);
  return true;
}

} // namespace

Instrument gateio_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.kind = InstrumentKind::Spot;
  inst.native = std::string(native);
  std::string_view base, quote;
  if (split_pair(native, base, quote)) {
    inst.base = std::string(base);
    inst.quote = std::string(quote);
    inst.canonical = inst.base + "-" + inst.quote;
  } else {
    inst.canonical = inst.native;
  }
  inst.price_decimals = static_cast<std::uint8_t>(kGateScale);
  inst.qty_decimals = static_cast<std::uint8_t>(kGateScale);
  inst.from_metadata = false;
  return inst;
}

std::size_t load_gateio_currency_pairs(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  simdjson::dom::array pairs;
  if (root.get_array().get(pairs))
    return 0;
  std::size_t added = 0;
  for (const simdjson::dom::element item : pairs) {
    std::string_view id, base, quote;
    std::int64_t precision = 0;
    std::int64_t amount_precision = 0;
    if (item["id"].get_string().get(id) || id.empty() || item["base"].get_string().get(base) ||
        base.empty() || item["quote"].get_string().get(quote) || quote.empty() ||
        item["precision"].get_int64().get(precision) ||
        item["amount_precision"].get_int64().get(amount_precision))
      continue;
    if (precision < 0 || precision > kInt64Digits || amount_precision < 0 ||
        amount_precision > kInt64Digits)
      continue;
    const int px_dp = std::max(static_cast<int>(precision), kGateScale);
    const int qty_dp =
        amount_decimals(static_cast<int>(precision), static_cast<int>(amount_precision));
    Instrument inst;
    inst.venue = Venue::GateIo;
    inst.kind = InstrumentKind::Spot;
    inst.native = std::string(id);
    inst.base = std::string(base);
    inst.quote = std::string(quote);
    inst.canonical = inst.base + "-" + inst.quote;
    inst.price_decimals = static_cast<std::uint8_t>(px_dp);
    inst.qty_decimals = static_cast<std::uint8_t>(qty_dp);
    inst.tick = pow10(px_dp - static_cast<int>(precision));
    inst.lot = pow10(qty_dp - static_cast<int>(amount_precision));
    // min_base_amount is a base amount (given for few pairs); min_quote_amount is in the quote
    // currency and says nothing about the size without a price, so it is not a min_qty.
    std::string_view min_base;
    if (!item["min_base_amount"].get_string().get(min_base)) {
      book::ParsedDecimal d{};
      if (book::parse_decimal(min_base, inst.qty_decimals, d) == book::DecimalError::Ok &&
          d.mantissa > 0)
        inst.min_qty = d.mantissa;
    }
    inst.from_metadata = true;
    if (registry.add(std::move(inst)) == kNoInstrument)
      break;
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::GateIo);
  return added;
}

} // namespace fh::venues
