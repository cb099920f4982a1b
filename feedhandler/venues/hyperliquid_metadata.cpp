// Hyperliquid instrument metadata (control path): REST info {"type":"meta"} responses and the
// names assumed for a coin seen without metadata. Allocation is fine here; simdjson error codes
// only. The meta response has no decimal numbers (szDecimals is an integer), so the DOM API
// reads it without any value passing through double.
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/venues/hyperliquid.hpp"

namespace fh::venues {
namespace {

// Hyperliquid's MAX_DECIMALS for perpetual prices: a price has at most 6 - szDecimals decimals.
constexpr std::int64_t kPerpMaxDecimals = 6;

void name_perp(Instrument &inst, std::string_view coin) {
  inst.kind = InstrumentKind::Perpetual;
  inst.contract = ContractType::Linear;
  inst.base = std::string(coin);
  inst.quote = "USDC";
  inst.canonical = inst.base + "-USDC-PERP";
}

} // namespace

Instrument hyperliquid_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  const std::size_t slash = native.find('/');
  if (!native.empty() && native.front() == '@') { // spot index: needs spotMeta to be named
    inst.kind = InstrumentKind::Spot;
    inst.canonical = inst.native;
  } else if (slash != std::string_view::npos && slash != 0 && slash + 1 < native.size()) {
    inst.kind = InstrumentKind::Spot;
    inst.base = std::string(native.substr(0, slash));
    inst.quote = std::string(native.substr(slash + 1));
    inst.canonical = inst.base + "-" + inst.quote;
  } else {
    name_perp(inst, native);
  }
  return inst;
}

std::size_t load_hyperliquid_meta(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array universe;
  if (parser.parse(body.data(), body.size()).get(root) ||
      root["universe"].get_array().get(universe))
    return 0;
  std::vector<Instrument> found;
  for (const simdjson::dom::element asset : universe) {
    std::string_view name;
    std::int64_t sz_decimals = 0;
    if (asset["name"].get_string().get(name) || name.empty() ||
        asset["szDecimals"].get_int64().get(sz_decimals) || sz_decimals < 0 ||
        sz_decimals > kPerpMaxDecimals)
      return 0; // not the meta shape: register nothing rather than part of it
    Instrument inst;
    inst.venue = Venue::Hyperliquid;
    inst.native = std::string(name);
    name_perp(inst, name);
    inst.qty_decimals = static_cast<std::uint8_t>(sz_decimals);
    inst.price_decimals = static_cast<std::uint8_t>(kPerpMaxDecimals - sz_decimals);
    inst.tick = 1;
    inst.lot = 1;
    inst.from_metadata = true;
    found.push_back(std::move(inst));
  }
  for (Instrument &inst : found)
    registry.add(std::move(inst));
  if (!found.empty())
    registry.mark_metadata_loaded(Venue::Hyperliquid);
  return found.size();
}

} // namespace fh::venues
