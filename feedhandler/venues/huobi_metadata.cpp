// Huobi instrument metadata (control path): REST /v1/common/symbols and the names assumed for
// a symbol seen without metadata. Allocation is fine here; errors are reported by what was
// (not) registered (simdjson error codes only). The numbers (min-order-amt 0.0001,
// max-order-amt 425556.0206) are JSON numbers: read with the on-demand API from their raw
// tokens, never through double.
#include <cctype>
#include <cstdint>
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/huobi.hpp"

namespace fh::venues {
namespace {

// The text of a scalar token: a string without its quotes, a number as written.
std::string_view scalar_text(simdjson::ondemand::value &v) noexcept {
  std::string_view t = v.raw_json_token();
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
    t.remove_suffix(1);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"')
    return t.substr(1, t.size() - 2);
  return t;
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char &c : u)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// An integer field (price-precision 0..18).
bool small_int(std::string_view t, std::uint8_t &out) noexcept {
  if (t.empty() || t.size() > 2)
    return false;
  unsigned v = 0;
  for (const char c : t) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10U + static_cast<unsigned>(c - '0');
  }
  if (v > static_cast<unsigned>(book::kMaxDecimals))
    return false;
  out = static_cast<std::uint8_t>(v);
  return true;
}

// The most decimals d (<= 18) at which `max_amount` still fits an int64 mantissa, never fewer
// than amount-precision. Book amounts are doubles printed with up to 17 significant digits;
// every decimal int64 leaves room for keeps more of them exact.
std::uint8_t qty_decimals(std::string_view max_amount, std::uint8_t amount_precision) noexcept {
  const std::uint8_t own = decimals_of(max_amount);
  book::ParsedDecimal m{};
  if (own > book::kMaxDecimals ||
      book::parse_decimal(max_amount, own, m) != book::DecimalError::Ok || m.mantissa <= 0)
    return amount_precision;
  // m.mantissa * 10^(d - own) <= INT64_MAX
  int d = own;
  const std::int64_t limit = INT64_MAX;
  std::int64_t scaled = m.mantissa;
  while (d < book::kMaxDecimals && scaled <= limit / 10) {
    scaled *= 10;
    ++d;
  }
  return static_cast<std::uint8_t>(d > amount_precision ? d : amount_precision);
}

struct SymbolText {
  std::string_view symbol, base, quote, price_precision, amount_precision, min_amt, max_amt;
};

bool make_instrument(const SymbolText &t, Instrument &inst) {
  std::uint8_t px_dp = 0;
  std::uint8_t amt_dp = 0;
  if (t.symbol.empty() || t.base.empty() || t.quote.empty() ||
      !small_int(t.price_precision, px_dp) || !small_int(t.amount_precision, amt_dp))
    return false;
  inst.venue = Venue::Huobi;
  inst.kind = InstrumentKind::Spot;
  inst.native = std::string(t.symbol);
  inst.base = upper(t.base);
  inst.quote = upper(t.quote);
  inst.canonical = inst.base + "-" + inst.quote;
  inst.price_decimals = px_dp;
  inst.tick = 1;
  inst.qty_decimals = t.max_amt.empty() ? amt_dp : qty_decimals(t.max_amt, amt_dp);
  inst.lot = book::kPow10[inst.qty_decimals - amt_dp];
  book::ParsedDecimal min{};
  if (!t.min_amt.empty() &&
      book::parse_decimal(t.min_amt, inst.qty_decimals, min) == book::DecimalError::Ok &&
      min.mantissa > 0)
    inst.min_qty = min.mantissa;
  inst.from_metadata = true;
  return true;
}

} // namespace

Instrument huobi_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.kind = InstrumentKind::Spot;
  inst.native = std::string(native);
  inst.canonical = upper(native);
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_huobi_symbols(std::string_view body, InstrumentRegistry &registry) {
  const simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc))
    return 0;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root))
    return 0;
  bool ok = false;
  std::size_t added = 0;
  for (auto root_field : root) {
    simdjson::ondemand::field field;
    if (std::move(root_field).get(field))
      return added;
    const auto key = field.key();
    if (key == "status") {
      std::string_view status;
      ok = !field.value().get_string().get(status) && status == "ok";
      continue;
    }
    if (key != "data" || !ok) // Huobi writes "status" first
      continue;
    simdjson::ondemand::array data;
    if (field.value().get_array().get(data))
      return added;
    for (auto item_result : data) {
      simdjson::ondemand::object item;
      if (item_result.get_object().get(item))
        return added;
      SymbolText t{};
      for (auto item_field : item) {
        simdjson::ondemand::field f;
        if (std::move(item_field).get(f))
          return added;
        const auto k = f.key();
        simdjson::ondemand::value &v = f.value();
        if (k == "symbol")
          t.symbol = scalar_text(v);
        else if (k == "base-currency")
          t.base = scalar_text(v);
        else if (k == "quote-currency")
          t.quote = scalar_text(v);
        else if (k == "price-precision")
          t.price_precision = scalar_text(v);
        else if (k == "amount-precision")
          t.amount_precision = scalar_text(v);
        else if (k == "min-order-amt")
          t.min_amt = scalar_text(v);
        else if (k == "max-order-amt")
          t.max_amt = scalar_text(v);
      }
      Instrument inst;
      if (make_instrument(t, inst) && registry.add(std::move(inst)) != kNoInstrument)
        ++added;
    }
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Huobi);
  return added;
}

} // namespace fh::venues
