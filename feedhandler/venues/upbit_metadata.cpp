// Upbit instrument metadata (control path): REST /v1/market/all, the names assumed for a
// market seen without metadata, and the KRW price-band tick rule. Allocation is fine here;
// errors are reported by what was (not) registered (simdjson error codes only).
#include <string>
#include <utility>

#include "feedhandler/venues/upbit.hpp"

namespace fh::venues {
namespace {

// Upbit writes prices and sizes with at most 8 decimals (KRW volumes, BTC-market prices).
constexpr std::uint8_t kDecimals = 8;
constexpr std::int64_t kE8 = 100'000'000;

// "KRW-BTC" (QUOTE-BASE) -> base BTC, quote KRW, canonical BTC-KRW. A code without exactly
// one dash keeps its native spelling as the canonical name.
Instrument make_instrument(std::string_view code) {
  Instrument inst;
  inst.venue = Venue::Upbit;
  inst.kind = InstrumentKind::Spot;
  inst.native = std::string(code);
  inst.canonical = inst.native;
  inst.price_decimals = kDecimals;
  inst.qty_decimals = kDecimals;
  inst.lot = 1;
  inst.tick = 1;
  const std::size_t dash = code.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == code.size() ||
      code.find('-', dash + 1) != std::string_view::npos)
    return inst;
  inst.quote = std::string(code.substr(0, dash));
  inst.base = std::string(code.substr(dash + 1));
  inst.canonical = inst.base + "-" + inst.quote;
  // KRW ticks depend on the price (upbit_krw_tick): the finest band's tick divides them all.
  if (inst.quote == "KRW")
    inst.tick = upbit_krw_tick(0);
  return inst;
}

} // namespace

std::int64_t upbit_krw_tick(std::int64_t price_e8) noexcept {
  struct Band {
    std::int64_t from; // price at 8 decimals, inclusive
    std::int64_t tick; // at 8 decimals
  };
  static constexpr Band kBands[] = {
      {2'000'000 * kE8, 1000 * kE8},
      {1'000'000 * kE8, 500 * kE8},
      {500'000 * kE8, 100 * kE8},
      {100'000 * kE8, 50 * kE8},
      {10'000 * kE8, 10 * kE8},
      {1'000 * kE8, 5 * kE8},
      {100 * kE8, kE8},
      {10 * kE8, kE8 / 10},
      {kE8, kE8 / 100},
      {kE8 / 10, kE8 / 1000},
  };
  for (const Band &b : kBands)
    if (price_e8 >= b.from)
      return b.tick;
  return kE8 / 10000; // below 0.1 KRW: 0.0001
}

Instrument upbit_default_instrument(Venue venue, std::string_view native) {
  Instrument inst = make_instrument(native);
  inst.venue = venue;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_upbit_markets(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  simdjson::dom::array markets;
  if (root.get_array().get(markets))
    return 0;
  std::size_t added = 0;
  for (const simdjson::dom::element item : markets) {
    std::string_view code;
    if (item["market"].get_string().get(code) || code.empty())
      continue;
    Instrument inst = make_instrument(code);
    if (inst.base.empty())
      continue; // not QUOTE-BASE: nothing we could name
    inst.from_metadata = true;
    if (registry.add(std::move(inst)) != kNoInstrument)
      ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Upbit);
  return added;
}

} // namespace fh::venues
