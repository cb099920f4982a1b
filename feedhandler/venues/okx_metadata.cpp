// OKX instrument metadata (control path): REST /api/v5/public/instruments responses and the
// names assumed for an instId seen without metadata. Allocation is fine here; errors are
// reported by what was (not) registered, never thrown (simdjson error codes only).
#include <array>
#include <string>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/okx.hpp"

namespace fh::venues {
namespace {

constexpr std::size_t kMaxParts = 6;

struct Parts {
  std::array<std::string_view, kMaxParts> part{};
  std::size_t count = 0;
};

// "BTC-USD-210924-42000-P" -> {BTC, USD, 210924, 42000, P}. More than kMaxParts: count 0.
Parts split_inst_id(std::string_view id) noexcept {
  Parts p;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = id.find('-', start);
    if (p.count == kMaxParts)
      return Parts{};
    p.part[p.count++] = id.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (dash == std::string_view::npos)
      break;
    start = dash + 1;
  }
  return p;
}

bool is_yymmdd(std::string_view s) noexcept {
  if (s.size() != 6)
    return false;
  for (const char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// The kind an instId's shape implies: BASE-QUOTE, X-Y-SWAP, X-Y-YYMMDD, X-Y-YYMMDD-K-C|P.
InstrumentKind kind_from_shape(const Parts &p) noexcept {
  if (p.count == 3 && p.part[2] == "SWAP")
    return InstrumentKind::Perpetual;
  if (p.count == 3 && is_yymmdd(p.part[2]))
    return InstrumentKind::Future;
  if (p.count == 5 && is_yymmdd(p.part[2]) && (p.part[4] == "C" || p.part[4] == "P"))
    return InstrumentKind::Option;
  return InstrumentKind::Spot;
}

// Fills kind, base, quote and canonical of `inst` from its instId. A shape that does not
// match `kind` keeps the instId as the canonical name rather than inventing one.
void name_instrument(Instrument &inst, std::string_view inst_id, InstrumentKind kind) {
  const Parts p = split_inst_id(inst_id);
  inst.kind = kind;
  inst.canonical = std::string(inst_id);
  if (p.count < 2 || p.part[0].empty() || p.part[1].empty())
    return;
  inst.base = std::string(p.part[0]);
  inst.quote = std::string(p.part[1]);
  const std::string pair = inst.base + "-" + inst.quote;
  switch (kind) {
  case InstrumentKind::Spot:
    if (p.count == 2)
      inst.canonical = pair;
    break;
  case InstrumentKind::Perpetual:
    if (p.count == 3 && p.part[2] == "SWAP")
      inst.canonical = pair + "-PERP";
    break;
  case InstrumentKind::Future:
    if (p.count == 3 && is_yymmdd(p.part[2])) {
      inst.canonical = pair + "-20" + std::string(p.part[2]);
      inst.expiry = static_cast<std::uint32_t>(std::stoul("20" + std::string(p.part[2])));
    }
    break;
  case InstrumentKind::Option:
    if (p.count == 5 && is_yymmdd(p.part[2]) && !p.part[3].empty() &&
        (p.part[4] == "C" || p.part[4] == "P")) {
      inst.canonical = pair + "-20" + std::string(p.part[2]) + "-" + std::string(p.part[3]) + "-" +
                       std::string(p.part[4]);
      inst.expiry = static_cast<std::uint32_t>(std::stoul("20" + std::string(p.part[2])));
      inst.strike = std::string(p.part[3]);
      inst.option_right = p.part[4][0];
    }
    break;
  }
  // Derivatives: USD-quoted ones are coin-margined (inverse) unless ctType says otherwise.
  if (kind != InstrumentKind::Spot)
    inst.contract = inst.quote == "USD" ? ContractType::Inverse : ContractType::Linear;
}

bool kind_from_inst_type(std::string_view type, InstrumentKind &kind) noexcept {
  if (type == "SPOT" || type == "MARGIN")
    kind = InstrumentKind::Spot;
  else if (type == "SWAP")
    kind = InstrumentKind::Perpetual;
  else if (type == "FUTURES")
    kind = InstrumentKind::Future;
  else if (type == "OPTION")
    kind = InstrumentKind::Option;
  else
    return false;
  return true;
}

// Spot sizes are base-currency amounts with up to 8 decimals (no SPOT lotSz in our metadata
// is finer). lotSz only constrains new orders: resting orders keep finer sizes after a lot
// change (2021-07-22 capture: FUN-BTC lotSz 0.01, book sizes like "3055.18631369"), so a
// scale taken from lotSz rejects real levels. Huge-supply tokens need the integer digits
// instead (2022-02-27: ELON-USDT level size "5950000000000" overflows int64 at 8 decimals).
// So spot sizes get 8 decimals, fewer when 10^8 minimum orders (minSz * 10^8) would not fit
// the remaining integer digits of an int64 (18), and never fewer than lotSz's decimals.
constexpr int kSpotQtyDecimals = 8;
constexpr int kInt64Digits = 18;
constexpr int kMinOrdersPerLevel = 8; // log10 of the largest level, in minimum orders

std::uint8_t spot_qty_decimals(std::string_view min_sz, std::uint8_t lot_decimals) noexcept {
  const std::uint8_t min_dp = decimals_of(min_sz);
  book::ParsedDecimal d{};
  int dp = kSpotQtyDecimals;
  if (book::parse_decimal(min_sz, min_dp, d) == book::DecimalError::Ok && d.mantissa > 0) {
    int digits = 0; // of minSz's mantissa
    for (std::int64_t m = d.mantissa; m != 0; m /= 10)
      ++digits;
    const int level_digits = digits - min_dp + kMinOrdersPerLevel;
    if (kInt64Digits - level_digits < dp)
      dp = kInt64Digits - level_digits;
  }
  return static_cast<std::uint8_t>(dp > lot_decimals ? dp : lot_decimals);
}

// tickSz/lotSz text -> (decimals, step mantissa at them). "0.0005" -> (4, 5). The scale is
// at least `min_decimals` ("0.01" at 8 -> (8, 1000000)).
bool parse_step(std::string_view text, std::uint8_t &decimals, std::int64_t &step,
                std::uint8_t min_decimals = 0) noexcept {
  const std::uint8_t own = decimals_of(text);
  const std::uint8_t dp = own > min_decimals ? own : min_decimals;
  book::ParsedDecimal d{};
  if (book::parse_decimal(text, dp, d) != book::DecimalError::Ok || d.mantissa <= 0)
    return false;
  decimals = dp;
  step = d.mantissa;
  return true;
}

} // namespace

Instrument okx_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  name_instrument(inst, native, kind_from_shape(split_inst_id(native)));
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.from_metadata = false;
  return inst;
}

std::size_t load_okx_instruments(std::string_view body, InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return 0;
  std::string_view code;
  if (root["code"].get_string().get(code) || code != "0")
    return 0;
  simdjson::dom::array data;
  if (root["data"].get_array().get(data))
    return 0;

  std::size_t added = 0;
  for (const simdjson::dom::element item : data) {
    std::string_view inst_id;
    std::string_view inst_type;
    std::string_view tick_sz;
    std::string_view lot_sz;
    if (item["instId"].get_string().get(inst_id) || inst_id.empty() ||
        item["instType"].get_string().get(inst_type) || item["tickSz"].get_string().get(tick_sz) ||
        item["lotSz"].get_string().get(lot_sz))
      continue;
    InstrumentKind kind{};
    if (!kind_from_inst_type(inst_type, kind))
      continue;
    Instrument inst;
    inst.venue = Venue::Okx;
    inst.native = std::string(inst_id);
    // Derivative sizes are contracts: lotSz is their real precision.
    std::string_view min_sz;
    std::uint8_t min_qty_dp = 0;
    if (kind == InstrumentKind::Spot && !item["minSz"].get_string().get(min_sz))
      min_qty_dp = spot_qty_decimals(min_sz, decimals_of(lot_sz));
    if (!parse_step(tick_sz, inst.price_decimals, inst.tick) ||
        !parse_step(lot_sz, inst.qty_decimals, inst.lot, min_qty_dp))
      continue;
    name_instrument(inst, inst_id, kind);
    std::string_view ct_type;
    if (kind != InstrumentKind::Spot && !item["ctType"].get_string().get(ct_type) && !ct_type.empty())
      inst.contract = ct_type == "inverse" ? ContractType::Inverse : ContractType::Linear;
    book::ParsedDecimal min_qty{};
    if (!item["minSz"].get_string().get(min_sz) &&
        book::parse_decimal(min_sz, inst.qty_decimals, min_qty) == book::DecimalError::Ok)
      inst.min_qty = min_qty.mantissa;
    inst.from_metadata = true;
    registry.add(std::move(inst));
    ++added;
  }
  if (added != 0)
    registry.mark_metadata_loaded(Venue::Okx);
  return added;
}

} // namespace fh::venues
