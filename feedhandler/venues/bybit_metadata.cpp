// Bybit instrument metadata (control path): the legacy REST v2 /public/symbols response and the
// names assumed for a symbol seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered, never thrown (simdjson error codes only).
//
// Bybit v5's /v5/market/instruments-info has no recording in the corpus, so there is no loader
// for it here: v5 symbols without metadata get bybit_default_instrument.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "book/decimal.hpp"
#include "feedhandler/venues/bybit.hpp"
// The token readers of the frame parsers (scalar text, walk); this file needs only some of them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "feedhandler/venues/json_tokens.hpp"
#pragma GCC diagnostic pop

namespace fh::venues {
namespace {

// The legacy linear feed writes sizes as JSON floats, and not always at qty_step: BCHUSDT
// (qty_step 0.01) sends "size":10.969999 in our 2021-04-17 capture, and sizes there have up to
// 7 decimals. A scale taken from qty_step would reject real levels; 8 decimals keep every
// size exactly as written and leave 10 integer digits (inverse sizes are whole USD contracts).
constexpr std::uint8_t kQtyDecimals = 8;

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty())
    return false;
  for (const char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// Futures month codes: F Jan, G Feb, H Mar, J Apr, K May, M Jun, N Jul, Q Aug, U Sep, V Oct,
// X Nov, Z Dec. 0 for anything else.
int month_of_code(char c) noexcept {
  constexpr std::string_view kCodes = "FGHJKMNQUVXZ";
  const std::size_t i = kCodes.find(c);
  return i == std::string_view::npos ? 0 : static_cast<int>(i) + 1;
}

int two_digits(std::string_view s) noexcept {
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// Step text -> mantissa at `decimals` ("0.05" at 2 -> 5). False unless positive and exact.
bool step_mantissa(std::string_view text, std::uint8_t decimals, std::int64_t &out) noexcept {
  book::ParsedDecimal d{};
  if (book::parse_decimal(text, decimals, d) != book::DecimalError::Ok || d.mantissa <= 0)
    return false;
  out = d.mantissa;
  return true;
}

// The fields of one `result` element the loader uses, as text.
struct SymbolFields {
  std::string_view name, alias, base, quote, price_scale, tick_size, qty_step, min_qty;
};

// Reads the fields of a nested filter object ("price_filter", "lot_size_filter").
template <class OnField> bool read_object(od::value &v, OnField on_field) {
  od::object o;
  if (v.get_object().get(o))
    return false;
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field))
      return false;
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    if (!on_field(key, field.value()))
      return false;
  }
  return true;
}

bool read_symbol(od::value &item, SymbolFields &f) {
  return read_object(item, [&](std::string_view key, od::value &v) {
    if (key == "name")
      return string_text(v, f.name);
    if (key == "alias")
      return string_text(v, f.alias);
    if (key == "base_currency")
      return string_text(v, f.base);
    if (key == "quote_currency")
      return string_text(v, f.quote);
    if (key == "price_scale") {
      f.price_scale = scalar_text(v);
      return true;
    }
    if (key == "price_filter")
      return read_object(v, [&](std::string_view k, od::value &fv) {
        if (k == "tick_size")
          f.tick_size = scalar_text(fv);
        return walk(fv, kWalkDepth);
      });
    if (key == "lot_size_filter")
      return read_object(v, [&](std::string_view k, od::value &fv) {
        if (k == "qty_step")
          f.qty_step = scalar_text(fv);
        else if (k == "min_trading_qty")
          f.min_qty = scalar_text(fv);
        return walk(fv, kWalkDepth);
      });
    return walk(v, kWalkDepth);
  });
}

// Kind, contract, venue, expiry and canonical name from name/alias/base/quote:
//   BTCUSDT  (quote USDT)                      BybitLinear   BTC-USDT-PERP
//   BTCUSD   (quote USD)                       BybitInverse  BTC-USD-PERP
//   BTCUSDU21, alias BTCUSD0924 (quote USD)    BybitInverse  BTC-USD-20210924 (future)
// The month code of the name must agree with the alias's month. Anything else: false.
bool name_symbol(const SymbolFields &f, Instrument &inst) {
  const std::string pair = std::string(f.base) + std::string(f.quote);
  inst.base = std::string(f.base);
  inst.quote = std::string(f.quote);
  const std::string prefix = inst.base + "-" + inst.quote;
  if (f.quote == "USDT" && f.name == pair) {
    inst.venue = Venue::BybitLinear;
    inst.kind = InstrumentKind::Perpetual;
    inst.contract = ContractType::Linear;
    inst.canonical = prefix + "-PERP";
    return true;
  }
  if (f.quote != "USD")
    return false;
  inst.venue = Venue::BybitInverse;
  inst.contract = ContractType::Inverse;
  if (f.name == pair) {
    inst.kind = InstrumentKind::Perpetual;
    inst.canonical = prefix + "-PERP";
    return true;
  }
  // Dated future: name = pair + month code + YY, alias = pair + MMDD.
  const std::string_view code = f.name.substr(std::min(pair.size(), f.name.size()));
  const std::string_view mmdd = f.alias.substr(std::min(pair.size(), f.alias.size()));
  if (f.name.substr(0, pair.size()) != pair || f.alias.substr(0, pair.size()) != pair ||
      code.size() != 3 || !all_digits(code.substr(1)) || mmdd.size() != 4 || !all_digits(mmdd))
    return false;
  const int month = two_digits(mmdd);
  const int day = two_digits(mmdd.substr(2));
  if (month_of_code(code[0]) != month || day < 1 || day > 31)
    return false;
  const int year = 2000 + two_digits(code.substr(1));
  inst.kind = InstrumentKind::Future;
  inst.expiry = static_cast<std::uint32_t>(year * 10000 + month * 100 + day);
  inst.canonical = prefix + "-" + std::to_string(inst.expiry);
  return true;
}

bool build_instrument(const SymbolFields &f, Instrument &inst) {
  if (f.name.empty() || f.base.empty() || f.quote.empty() || !name_symbol(f, inst))
    return false;
  inst.native = std::string(f.name);
  // Prices are written with price_scale decimals ("1054.30"); the tick can need as many.
  std::uint64_t scale = 0;
  if (!parse_u64(f.price_scale, scale) || scale > 12)
    return false;
  const std::uint8_t tick_dp = decimals_of(f.tick_size);
  inst.price_decimals = static_cast<std::uint8_t>(scale > tick_dp ? scale : tick_dp);
  const std::uint8_t step_dp = decimals_of(f.qty_step);
  inst.qty_decimals = step_dp > kQtyDecimals ? step_dp : kQtyDecimals;
  if (!step_mantissa(f.tick_size, inst.price_decimals, inst.tick) ||
      !step_mantissa(f.qty_step, inst.qty_decimals, inst.lot) ||
      !step_mantissa(f.min_qty, inst.qty_decimals, inst.min_qty))
    return false;
  inst.from_metadata = true;
  return true;
}

// Spot quote currencies, longest first where one is a suffix of another.
constexpr std::array<std::string_view, 8> kSpotQuotes = {"USDT", "USDC", "USDE", "EUR",
                                                         "BRL",  "BTC",  "ETH",  "DAI"};

} // namespace

Instrument bybit_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  inst.canonical = std::string(native);
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  const auto pair = [&](std::string_view base, std::string_view quote, std::string_view suffix) {
    inst.base = std::string(base);
    inst.quote = std::string(quote);
    inst.canonical = inst.base + "-" + inst.quote + std::string(suffix);
  };
  switch (venue) {
  case Venue::BybitSpot:
    inst.kind = InstrumentKind::Spot;
    for (const std::string_view q : kSpotQuotes) {
      if (ends_with(native, q)) {
        pair(native.substr(0, native.size() - q.size()), q, "");
        break;
      }
    }
    break;
  case Venue::BybitLinear:
    inst.contract = ContractType::Linear;
    inst.kind = native.find('-') == std::string_view::npos ? InstrumentKind::Perpetual
                                                           : InstrumentKind::Future;
    if (ends_with(native, "USDT"))
      pair(native.substr(0, native.size() - 4), "USDT", "-PERP");
    else if (ends_with(native, "PERP")) // USDC perpetuals: BTCPERP
      pair(native.substr(0, native.size() - 4), "USDC", "-PERP");
    break;
  case Venue::BybitInverse:
    inst.contract = ContractType::Inverse;
    inst.kind = InstrumentKind::Future; // BTCUSDH25: the symbol does not say the day
    if (ends_with(native, "USD")) {
      inst.kind = InstrumentKind::Perpetual;
      pair(native.substr(0, native.size() - 3), "USD", "-PERP");
    }
    break;
  default:
    break;
  }
  return inst;
}

std::size_t load_bybit_legacy_symbols(std::string_view body, InstrumentRegistry &registry) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root))
    return 0;
  bool ok = false;
  std::vector<Instrument> found;
  for (auto field_result : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key))
      return 0;
    if (key == "ret_code") {
      ok = scalar_text(field.value()) == "0";
    } else if (key == "result") {
      od::array result;
      if (field.value().get_array().get(result))
        return 0;
      for (auto item_result : result) {
        od::value item;
        SymbolFields f;
        if (item_result.get(item) || !read_symbol(item, f))
          return 0;
        Instrument inst;
        if (build_instrument(f, inst))
          found.push_back(std::move(inst));
      }
    } else if (!walk(field.value(), kWalkDepth)) {
      return 0;
    }
  }
  if (!ok)
    return 0;
  std::size_t added = 0;
  for (Instrument &inst : found) {
    const Venue v = inst.venue;
    if (registry.add(std::move(inst)) == kNoInstrument)
      continue;
    registry.mark_metadata_loaded(v);
    ++added;
  }
  return added;
}

} // namespace fh::venues
