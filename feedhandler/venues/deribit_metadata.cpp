// Deribit instrument metadata (control path): REST public/get_instruments responses and the
// names assumed for an instrument seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered, never thrown (simdjson error codes only).
//
// Deribit writes tick_size, min_trade_amount and strike as JSON numbers ("0.0005", "10.0",
// "1e-05"): they are read from the raw tokens with the exact decimal parser, never as doubles,
// which is why this uses simdjson's on-demand API rather than the DOM.
#include <array>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "book/decimal.hpp"
#include "feedhandler/venues/deribit.hpp"
// The token helpers are file-local by design (json_tokens.hpp); this loader uses the text and
// walk helpers but not the per-instrument price/qty readers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "feedhandler/venues/json_tokens.hpp"
#pragma GCC diagnostic pop

namespace fh::venues {
namespace {

// Smallest number of decimals that holds `text` exactly, and the mantissa at it:
// "0.0005" -> (4, 5), "10.0" -> (0, 10), "1e-05" -> (5, 1). False for text that is not a
// positive decimal.
bool exact_decimal(std::string_view text, std::uint8_t &decimals, std::int64_t &mantissa) noexcept {
  for (int dp = 0; dp <= book::kMaxDecimals; ++dp) {
    book::ParsedDecimal d{};
    const book::DecimalError err = book::parse_decimal(text, static_cast<std::uint8_t>(dp), d);
    if (err == book::DecimalError::TooManyDecimals)
      continue;
    if (err != book::DecimalError::Ok || d.mantissa <= 0)
      return false;
    decimals = static_cast<std::uint8_t>(dp);
    mantissa = d.mantissa;
    return true;
  }
  return false;
}

// Unix milliseconds -> YYYYMMDD of that UTC day.
std::uint32_t utc_yyyymmdd(std::uint64_t ms) {
  using namespace std::chrono;
  const auto day = floor<days>(sys_time<milliseconds>(milliseconds(static_cast<std::int64_t>(ms))));
  const year_month_day ymd(day);
  return static_cast<std::uint32_t>(static_cast<int>(ymd.year()) * 10000 +
                                    static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
                                    static_cast<int>(static_cast<unsigned>(ymd.day())));
}

// Deribit's expiry in names: D or DD, a three-letter month, YY ("6AUG21", "24SEP21").
bool parse_name_date(std::string_view s, std::uint32_t &yyyymmdd) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  if (s.size() != 6 && s.size() != 7)
    return false;
  const std::size_t day_digits = s.size() - 5;
  std::uint64_t day = 0;
  std::uint64_t year = 0;
  if (!parse_u64(s.substr(0, day_digits), day) || !parse_u64(s.substr(day_digits + 3), year) ||
      day == 0 || day > 31)
    return false;
  const std::string_view month = s.substr(day_digits, 3);
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (kMonths[m] == month) {
      yyyymmdd = static_cast<std::uint32_t>((2000 + year) * 10000 + (m + 1) * 100 + day);
      return true;
    }
  }
  return false;
}

std::string canonical_name(const Instrument &inst) {
  std::string name = inst.base + "-" + inst.quote;
  switch (inst.kind) {
  case InstrumentKind::Spot:
    break;
  case InstrumentKind::Perpetual:
    name += "-PERP";
    break;
  case InstrumentKind::Future:
    name += "-" + std::to_string(inst.expiry);
    break;
  case InstrumentKind::Option:
    name += "-" + std::to_string(inst.expiry) + "-" + inst.strike + "-" + inst.option_right;
    break;
  }
  return name;
}

bool is_stablecoin(std::string_view currency) noexcept {
  return currency == "USDC" || currency == "USDT";
}

// "BTC" -> (BTC, USD, inverse); "BTC_USDC" -> (BTC, USDC, linear).
void name_currencies(Instrument &inst, std::string_view currencies) {
  const std::size_t us = currencies.find('_');
  if (us == std::string_view::npos) {
    inst.base = std::string(currencies);
    inst.quote = "USD";
    inst.contract = ContractType::Inverse;
  } else {
    inst.base = std::string(currencies.substr(0, us));
    inst.quote = std::string(currencies.substr(us + 1));
    inst.contract = ContractType::Linear;
  }
}

// The fields of one get_instruments element that we use, as text.
struct Item {
  std::string_view name, kind, tick, min_amount, base, quote, counter, period, future_type,
      instrument_type, strike, option_type, expiration;
};

// Fills `item` from one result element; false if it is not an object of strings and numbers
// where we expect them.
bool read_item(od::value &element, Item &item) noexcept {
  od::object object;
  if (element.get_object().get(object))
    return false;
  for (auto field_result : object) {
    od::field field;
    if (std::move(field_result).get(field))
      return false;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "instrument_name")
      ok = string_text(v, item.name);
    else if (key == "kind")
      ok = string_text(v, item.kind);
    else if (key == "base_currency")
      ok = string_text(v, item.base);
    else if (key == "quote_currency")
      ok = string_text(v, item.quote);
    else if (key == "counter_currency")
      ok = string_text(v, item.counter);
    else if (key == "settlement_period")
      ok = string_text(v, item.period);
    else if (key == "future_type")
      ok = string_text(v, item.future_type);
    else if (key == "instrument_type")
      ok = string_text(v, item.instrument_type);
    else if (key == "option_type")
      ok = string_text(v, item.option_type);
    else if (key == "tick_size")
      item.tick = scalar_text(v);
    else if (key == "min_trade_amount")
      item.min_amount = scalar_text(v);
    else if (key == "strike")
      item.strike = scalar_text(v);
    else if (key == "expiration_timestamp")
      item.expiration = scalar_text(v);
    else
      ok = walk(v, kWalkDepth);
    if (!ok)
      return false;
  }
  return true;
}

// One element -> instrument; false when it is not one we register (combos, missing fields).
bool make_instrument(const Item &item, Instrument &inst) {
  if (item.name.empty() || item.base.empty() || item.quote.empty())
    return false;
  if (item.kind == "future")
    inst.kind = item.period == "perpetual" ? InstrumentKind::Perpetual : InstrumentKind::Future;
  else if (item.kind == "option")
    inst.kind = InstrumentKind::Option;
  else if (item.kind == "spot")
    inst.kind = InstrumentKind::Spot;
  else
    return false; // future_combo, option_combo: not books we keep

  inst.venue = Venue::Deribit;
  inst.native = std::string(item.name);
  inst.base = std::string(item.base);
  if (inst.kind == InstrumentKind::Spot) {
    inst.contract = ContractType::None;
    inst.quote = std::string(item.quote);
  } else {
    const std::string_view type =
        !item.future_type.empty() ? item.future_type : item.instrument_type;
    const bool linear = type == "linear" || (type != "reversed" && is_stablecoin(item.quote));
    inst.contract = linear ? ContractType::Linear : ContractType::Inverse;
    // Coin-settled contracts are on the coin's USD index (options quote premiums in the coin).
    inst.quote = linear
                     ? std::string(item.quote)
                     : std::string(item.counter.empty() ? std::string_view("USD") : item.counter);
  }

  if (!exact_decimal(item.tick, inst.price_decimals, inst.tick) ||
      !exact_decimal(item.min_amount, inst.qty_decimals, inst.lot))
    return false;
  inst.min_qty = inst.lot;

  if (inst.kind == InstrumentKind::Future || inst.kind == InstrumentKind::Option) {
    std::uint64_t ms = 0;
    if (!parse_u64(item.expiration, ms))
      return false;
    inst.expiry = utc_yyyymmdd(ms);
  }
  if (inst.kind == InstrumentKind::Option) {
    std::uint8_t strike_dp = 0;
    std::int64_t strike = 0;
    if (!exact_decimal(item.strike, strike_dp, strike))
      return false;
    inst.strike = book::to_string(strike, strike_dp);
    if (item.option_type == "call")
      inst.option_right = 'C';
    else if (item.option_type == "put")
      inst.option_right = 'P';
    else
      return false;
  }
  inst.canonical = canonical_name(inst);
  inst.from_metadata = true;
  return true;
}

} // namespace

Instrument deribit_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  inst.canonical = inst.native; // unless the name has one of the shapes below
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;

  std::array<std::string_view, 4> part{};
  std::size_t count = 0;
  for (std::size_t start = 0;;) {
    const std::size_t dash = native.find('-', start);
    if (count == part.size())
      return inst; // more parts than any shape we know (spreads, combos)
    part[count++] = native.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (dash == std::string_view::npos)
      break;
    start = dash + 1;
  }
  if (part[0].empty())
    return inst;
  Instrument named = inst;
  name_currencies(named, part[0]);
  bool ok = false;
  if (count == 1 && named.contract == ContractType::Linear) { // BTC_USDC spot pair
    named.kind = InstrumentKind::Spot;
    named.contract = ContractType::None;
    ok = true;
  } else if (count == 2 && part[1] == "PERPETUAL") {
    named.kind = InstrumentKind::Perpetual;
    ok = true;
  } else if (count == 2) {
    named.kind = InstrumentKind::Future;
    ok = parse_name_date(part[1], named.expiry);
  } else if (count == 4 && (part[3] == "C" || part[3] == "P") && !part[2].empty()) {
    named.kind = InstrumentKind::Option;
    named.option_right = part[3][0];
    named.strike = std::string(part[2]);
    for (char &c : named.strike)
      if (c == 'd')
        c = '.'; // XRP_USDC-30JUN23-0d625-C: strike 0.625
    ok = parse_name_date(part[1], named.expiry);
  }
  if (!ok)
    return inst;
  named.canonical = canonical_name(named);
  return named;
}

std::size_t load_deribit_instruments(std::string_view body, InstrumentRegistry &registry) {
  // All or nothing: instruments are registered only once the whole response has parsed, so a
  // damaged body never leaves a partial table marked as loaded.
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root))
    return 0;
  std::vector<Instrument> found;
  bool has_result = false;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return 0;
    if (field.key() != "result") {
      if (!walk(field.value(), kWalkDepth))
        return 0;
      continue;
    }
    od::array result;
    if (has_result || field.value().get_array().get(result))
      return 0; // an error response, or a result that is not a list of instruments
    has_result = true;
    for (auto element_result : result) {
      od::value element;
      Item item;
      if (element_result.get(element) || !read_item(element, item))
        return 0;
      Instrument inst;
      if (make_instrument(item, inst))
        found.push_back(std::move(inst));
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return 0; // something after the root object
  for (Instrument &inst : found)
    registry.add(std::move(inst));
  if (!found.empty())
    registry.mark_metadata_loaded(Venue::Deribit);
  return found.size();
}

} // namespace fh::venues
