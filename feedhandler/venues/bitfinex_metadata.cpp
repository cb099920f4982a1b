// Bitfinex pair metadata (control path): REST conf pair lists and the names assumed for a
// symbol seen without metadata. Allocation is fine here; simdjson error codes only.
#include <string>
#include <utility>

#include "feedhandler/venues/bitfinex.hpp"

namespace fh::venues {
namespace {

struct Alias {
  std::string_view code;
  std::string_view common;
};

// Bitfinex's short currency codes that the rest of the market spells differently. The venue
// publishes the mapping as conf pub:map:currency:sym (not in our corpus; ccxt's bitfinex2
// adapter quotes it: DSH DASH, IOT IOTA, STJ STORJ, TSD TUSD, UDC USDC, UST USDt, XCH XCHF,
// YYW YOYOW), and ccxt's commonCurrencies adds the other three-letter codes listed here. DOG
// is MDOGE: one million DOGE (DOGUSD traded near 280,000 in April 2021). Codes whose meaning
// changed over time (BCHABC, LUNA, TERRAUST) are left as the venue writes them.
constexpr Alias kAliases[] = {
    {"ALG", "ALGO"},  {"AMP", "AMPL"}, {"ATO", "ATOM"}, {"BCHN", "BCH"},  {"DAT", "DATA"},
    {"DOG", "MDOGE"}, {"DSH", "DASH"}, {"EUS", "EURS"}, {"EUT", "EURT"},  {"IOT", "IOTA"},
    {"MNA", "MANA"},  {"QSH", "QASH"}, {"QTM", "QTUM"}, {"SNG", "SNGLS"}, {"STJ", "STORJ"},
    {"TSD", "TUSD"},  {"UDC", "USDC"}, {"UST", "USDT"}, {"XCH", "XCHF"},  {"YYW", "YOYOW"},
};

// "BTCUSD" -> BTC / USD (six letters split 3 + 3); "AAVE:USD" -> AAVE / USD.
bool split_pair(std::string_view pair, std::string_view &base, std::string_view &quote) {
  const std::size_t colon = pair.find(':');
  if (colon != std::string_view::npos) {
    if (colon == 0 || colon + 1 >= pair.size() ||
        pair.find(':', colon + 1) != std::string_view::npos)
      return false;
    base = pair.substr(0, colon);
    quote = pair.substr(colon + 1);
    return true;
  }
  if (pair.size() != 6)
    return false;
  base = pair.substr(0, 3);
  quote = pair.substr(3);
  return true;
}

bool ends_with_f0(std::string_view code) {
  return code.size() > 2 && code.substr(code.size() - 2) == "F0";
}

// Fills kind, names and scales of a pair ("BTCUSD", "BTCF0:USTF0"). Derivatives (both codes
// with the F0 suffix: Bitfinex's perpetuals, margined in the quote) become BASE-QUOTE-PERP.
bool name_pair(Instrument &inst, std::string_view pair) {
  std::string_view base;
  std::string_view quote;
  if (!split_pair(pair, base, quote))
    return false;
  const bool perpetual = ends_with_f0(base) && ends_with_f0(quote);
  if (perpetual) {
    base.remove_suffix(2);
    quote.remove_suffix(2);
  }
  inst.kind = perpetual ? InstrumentKind::Perpetual : InstrumentKind::Spot;
  inst.contract = perpetual ? ContractType::Linear : ContractType::None;
  inst.base = std::string(bitfinex_common_currency(base));
  inst.quote = std::string(bitfinex_common_currency(quote));
  inst.canonical = inst.base + "-" + inst.quote + (perpetual ? "-PERP" : "");
  // Bitfinex: amounts have at most 8 decimals, prices 5 significant digits and at most 8
  // decimals; the lists give no tick or lot, so one unit of the 8th decimal stands for both.
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.tick = 1;
  inst.lot = 1;
  return true;
}

} // namespace

std::string_view bitfinex_common_currency(std::string_view code) noexcept {
  for (const Alias &a : kAliases)
    if (a.code == code)
      return a.common;
  return code;
}

Instrument bitfinex_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  std::string_view pair = native;
  if (!pair.empty() && pair.front() == 't')
    pair.remove_prefix(1);
  if (!name_pair(inst, pair)) {
    inst.canonical = inst.native;
    inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
    inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  }
  inst.from_metadata = false;
  return inst;
}

std::size_t load_bitfinex_pairs(std::string_view body, InstrumentKind kind,
                                InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  simdjson::dom::array outer;
  simdjson::dom::array pairs;
  if (root.get_array().get(outer) || outer.size() != 1 || outer.at(0).get_array().get(pairs))
    return 0;
  std::size_t added = 0;
  for (const simdjson::dom::element e : pairs) {
    std::string_view pair;
    if (e.get_string().get(pair))
      continue;
    Instrument inst;
    inst.venue = Venue::Bitfinex;
    inst.native = "t" + std::string(pair);
    if (!name_pair(inst, pair) || inst.kind != kind)
      continue; // not BASE:QUOTE / 3+3, or a list entry of the other kind
    inst.from_metadata = true;
    if (registry.add(std::move(inst)) != kNoInstrument)
      ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Bitfinex);
  return added;
}

} // namespace fh::venues
