// Bithumb instrument metadata (control path): REST /public/ticker/ALL_<QUOTE> responses and the
// names assumed for a symbol seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered (simdjson error codes only).
#include <string>
#include <utility>

#include "feedhandler/venues/bithumb.hpp"

namespace fh::venues {
namespace {

// Bithumb writes prices and sizes with at most 8 decimals (coin amounts to the satoshi).
constexpr std::uint8_t kDecimals = 8;

Instrument make_instrument(std::string_view base, std::string_view quote) {
  Instrument inst;
  inst.venue = Venue::Bithumb;
  inst.kind = InstrumentKind::Spot;
  inst.base = std::string(base);
  inst.quote = std::string(quote);
  inst.native = inst.base + "_" + inst.quote;
  inst.canonical = inst.base + "-" + inst.quote;
  inst.price_decimals = kDecimals;
  inst.qty_decimals = kDecimals;
  inst.tick = 1;
  inst.lot = 1;
  return inst;
}

} // namespace

std::optional<std::string> bithumb_ticker_all_quote(std::string_view url) {
  constexpr std::string_view kPath = "/public/ticker/ALL";
  const std::size_t at = url.find(kPath);
  if (at == std::string_view::npos)
    return std::nullopt;
  std::string_view rest = url.substr(at + kPath.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.empty())
    return std::string("KRW"); // the KRW market is Bithumb's default payment currency
  if (rest.front() != '_' || rest.size() == 1 || rest.find('/') != std::string_view::npos)
    return std::nullopt;
  return std::string(rest.substr(1));
}

Instrument bithumb_default_instrument(Venue venue, std::string_view native) {
  const std::size_t us = native.find('_');
  Instrument inst = us == std::string_view::npos || us == 0 || us + 1 == native.size()
                        ? make_instrument(native, {})
                        : make_instrument(native.substr(0, us), native.substr(us + 1));
  inst.native = std::string(native);
  if (inst.quote.empty())
    inst.canonical = inst.native;
  inst.venue = venue;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_bithumb_tickers(std::string_view body, std::string_view quote,
                                 InstrumentRegistry &registry) {
  if (quote.empty())
    return 0;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  std::string_view status;
  if (root["status"].get_string().get(status) || status != "0000")
    return 0;
  simdjson::dom::object data;
  if (root["data"].get_object().get(data))
    return 0;
  std::size_t added = 0;
  for (const auto field : data) {
    // Every base maps to its ticker object; "date" (the response time) is a string.
    if (!field.value.is_object() || field.key.empty())
      continue;
    Instrument inst = make_instrument(field.key, quote);
    inst.from_metadata = true;
    if (registry.add(std::move(inst)) == kNoInstrument)
      continue;
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Bithumb);
  return added;
}

} // namespace fh::venues
