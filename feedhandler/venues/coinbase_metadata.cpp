// Coinbase product metadata (control path): REST GET /products of the Exchange API and the
// names assumed for a product seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered, never thrown (simdjson error codes only).
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/coinbase.hpp"

namespace fh::venues {
namespace {

// Sizes: Coinbase writes at most 8 decimals ("1.62300000"). base_increment only constrains new
// orders, so a resting size can be finer after an increment change; 8 decimals reads every
// size Coinbase can write. The integer digits must still fit: the largest level is taken as
// 1000 maximum orders (base_max_size x 10^3), and int64 holds 18 digits.
constexpr int kQtyDecimals = 8;
constexpr int kInt64Digits = 18;
constexpr int kLevelHeadroomDigits = 3;

int integer_digits(std::string_view text) noexcept {
  const std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  while (whole.size() > 1 && whole.front() == '0')
    whole.remove_prefix(1);
  return static_cast<int>(whole.size());
}

std::uint8_t qty_decimals(std::string_view base_increment, std::string_view base_min_size,
                          std::string_view base_max_size) noexcept {
  int dp = kQtyDecimals;
  if (!base_max_size.empty()) {
    const int room = kInt64Digits - integer_digits(base_max_size) - kLevelHeadroomDigits;
    if (room < dp)
      dp = room;
  }
  const int lot_dp = decimals_of(base_increment);
  const int min_dp = decimals_of(base_min_size);
  if (dp < lot_dp)
    dp = lot_dp;
  if (dp < min_dp)
    dp = min_dp;
  return static_cast<std::uint8_t>(dp < 0 ? 0 : dp);
}

// A positive step ("0.0001") as a mantissa at `decimals`.
bool parse_step(std::string_view text, std::uint8_t decimals, std::int64_t &out) noexcept {
  book::ParsedDecimal d{};
  if (book::parse_decimal(text, decimals, d) != book::DecimalError::Ok || d.mantissa <= 0)
    return false;
  out = d.mantissa;
  return true;
}

// "BTC-USD" -> BTC, USD; false for any other shape.
bool split_pair(std::string_view id, std::string_view &base, std::string_view &quote) noexcept {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= id.size() ||
      id.find('-', dash + 1) != std::string_view::npos)
    return false;
  base = id.substr(0, dash);
  quote = id.substr(dash + 1);
  return true;
}

std::string_view get_string(const simdjson::dom::element &item, const char *key) noexcept {
  std::string_view s;
  if (item[key].get_string().get(s))
    return {};
  return s;
}

} // namespace

Instrument coinbase_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  inst.canonical = inst.native;
  std::string_view base;
  std::string_view quote;
  if (split_pair(native, base, quote)) {
    inst.kind = InstrumentKind::Spot;
    inst.base = std::string(base);
    inst.quote = std::string(quote);
  }
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_coinbase_products(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  simdjson::dom::array products;
  if (root.get_array().get(products))
    return 0;

  std::size_t added = 0;
  for (const simdjson::dom::element item : products) {
    const std::string_view id = get_string(item, "id");
    const std::string_view base = get_string(item, "base_currency");
    const std::string_view quote = get_string(item, "quote_currency");
    const std::string_view quote_increment = get_string(item, "quote_increment");
    const std::string_view base_increment = get_string(item, "base_increment");
    const std::string_view base_min_size = get_string(item, "base_min_size");
    if (id.empty() || base.empty() || quote.empty() || quote_increment.empty() ||
        base_increment.empty())
      continue;
    Instrument inst;
    inst.venue = Venue::Coinbase;
    inst.kind = InstrumentKind::Spot;
    inst.native = std::string(id);
    inst.base = std::string(base);
    inst.quote = std::string(quote);
    inst.canonical = inst.base + "-" + inst.quote;
    inst.price_decimals = decimals_of(quote_increment);
    inst.qty_decimals =
        qty_decimals(base_increment, base_min_size, get_string(item, "base_max_size"));
    if (inst.price_decimals > book::kMaxDecimals || inst.qty_decimals > book::kMaxDecimals ||
        !parse_step(quote_increment, inst.price_decimals, inst.tick) ||
        !parse_step(base_increment, inst.qty_decimals, inst.lot))
      continue;
    book::ParsedDecimal min{};
    if (!base_min_size.empty() &&
        book::parse_decimal(base_min_size, inst.qty_decimals, min) == book::DecimalError::Ok &&
        min.mantissa > 0)
      inst.min_qty = min.mantissa;
    inst.from_metadata = true;
    registry.add(std::move(inst));
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Coinbase);
  return added;
}

} // namespace fh::venues
