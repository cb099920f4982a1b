// Kraken pair metadata (control path): REST /0/public/AssetPairs and the names assumed for a
// pair seen without metadata. Allocation is fine here; simdjson error codes only.
#include <array>
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/kraken.hpp"

namespace fh::venues {
namespace {

// Kraken's own codes for assets that everyone else spells differently.
std::string_view alias(std::string_view code) noexcept {
  if (code == "XBT")
    return "BTC";
  if (code == "XDG")
    return "DOGE";
  return code;
}

// The legacy codes carry an asset-class prefix (X crypto, Z fiat). Only these few: a newer
// 4-letter asset starting with X or Z keeps its name.
constexpr std::array<std::string_view, 20> kLegacyCodes = {
    "XETC", "XETH", "XLTC", "XMLN", "XREP", "XXBT", "XXDG", "XXLM", "XXMR", "XXRP",
    "XZEC", "XICN", "XNMC", "XXVN", "ZAUD", "ZCAD", "ZEUR", "ZGBP", "ZJPY", "ZUSD"};

// Fills base/quote/canonical from a wsname "XBT/CHF". False if it is not BASE/QUOTE.
bool name_from_wsname(Instrument &inst, std::string_view wsname) {
  const std::size_t slash = wsname.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= wsname.size() ||
      wsname.find('/', slash + 1) != std::string_view::npos)
    return false;
  inst.kind = InstrumentKind::Spot;
  inst.base = std::string(kraken_common_asset(wsname.substr(0, slash)));
  inst.quote = std::string(kraken_common_asset(wsname.substr(slash + 1)));
  inst.canonical = inst.base + "-" + inst.quote;
  return true;
}

bool get_decimals(const simdjson::dom::element &pair, const char *key, std::uint8_t &out) {
  std::uint64_t v = 0;
  if (pair[key].get_uint64().get(v) || v > static_cast<std::uint64_t>(book::kMaxDecimals))
    return false;
  out = static_cast<std::uint8_t>(v);
  return true;
}

} // namespace

std::string_view kraken_common_asset(std::string_view code) noexcept {
  for (const std::string_view legacy : kLegacyCodes) {
    if (code == legacy) {
      code.remove_prefix(1);
      break;
    }
  }
  return alias(code);
}

Instrument kraken_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  if (!name_from_wsname(inst, native))
    inst.canonical = inst.native;
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_kraken_asset_pairs(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  simdjson::dom::array errors;
  if (root["error"].get_array().get(errors) || errors.size() != 0)
    return 0;
  simdjson::dom::object result;
  if (root["result"].get_object().get(result))
    return 0;

  std::size_t added = 0;
  for (const auto [key, pair] : result) {
    std::string_view wsname;
    if (pair["wsname"].get_string().get(wsname))
      continue; // dark-pool ".d" pairs: REST only
    Instrument inst;
    inst.venue = Venue::Kraken;
    inst.native = std::string(wsname);
    if (!name_from_wsname(inst, wsname) ||
        !get_decimals(pair, "pair_decimals", inst.price_decimals) ||
        !get_decimals(pair, "lot_decimals", inst.qty_decimals))
      continue;
    // Newer responses give the tick size explicitly; 2021 ones imply one unit of the last
    // decimal.
    std::string_view tick_size;
    book::ParsedDecimal tick{};
    if (!pair["tick_size"].get_string().get(tick_size) &&
        book::parse_decimal(tick_size, inst.price_decimals, tick) == book::DecimalError::Ok &&
        tick.mantissa > 0)
      inst.tick = tick.mantissa;
    inst.lot = 1;
    std::string_view ordermin;
    book::ParsedDecimal min_qty{};
    if (!pair["ordermin"].get_string().get(ordermin) &&
        book::parse_decimal(ordermin, inst.qty_decimals, min_qty) == book::DecimalError::Ok)
      inst.min_qty = min_qty.mantissa;
    inst.from_metadata = true;
    registry.add(std::move(inst));
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Kraken);
  return added;
}

} // namespace fh::venues
