// Binance symbol metadata (control path): exchangeInfo loading and the default instrument
// for a symbol seen without metadata. Allocates freely; never on the data path except on the
// first sight of a symbol.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>

#include "book/decimal.hpp"
#include "feedhandler/venues/binance.hpp"

namespace fh::venues {
namespace {

// Quote assets a Binance spot symbol can end in. Tried longest first, so "BTCUSDT" is
// BTC/USDT, not BTCUSD/T, and "USDTBIDR" is USDT/BIDR. Left out on purpose: newer quotes
// whose names end other symbols (AEUR would turn ADAEUR into AD/AEUR).
constexpr std::array<std::string_view, 39> kSpotQuotes = {
    "FDUSD", "USDT", "BUSD", "USDC", "TUSD", "USDP", "USDS", "BKRW", "IDRT", "BIDR",
    "BVND",  "GYEN", "EURI", "DOGE", "PAX",  "DAI",  "UST",  "BTC",  "ETH",  "BNB",
    "XRP",   "TRX",  "DOT",  "VAI",  "NGN",  "RUB",  "TRY",  "EUR",  "ZAR",  "GBP",
    "UAH",   "AUD",  "BRL",  "JPY",  "ARS",  "PLN",  "RON",  "MXN",  "CZK"};
// Binance.US quotes in USD, where TUSD would misread BATUSD, GRTUSD, VETUSD, ...; BUSD vs
// USD stays ambiguous without metadata (BNBUSD reads as BN/BUSD).
constexpr std::array<std::string_view, 8> kUsQuotes = {"USDT", "USDC", "BUSD", "DAI",
                                                       "USD",  "BTC",  "ETH",  "BNB"};
// USD-M margin assets; COIN-M contracts are all quoted in USD.
constexpr std::array<std::string_view, 4> kUsdmQuotes = {"FDUSD", "USDT", "USDC", "BUSD"};
constexpr std::array<std::string_view, 1> kCoinmQuotes = {"USD"};

// Splits "BTCUSDT" into base/quote using the longest matching known quote suffix.
template <std::size_t N>
bool split_pair(std::string_view pair, const std::array<std::string_view, N> &quotes,
                std::string_view &base, std::string_view &quote) {
  std::string_view best;
  for (const std::string_view q : quotes)
    if (q.size() > best.size() && pair.size() > q.size() && pair.ends_with(q))
      best = q;
  if (best.empty())
    return false;
  base = pair.substr(0, pair.size() - best.size());
  quote = best;
  return true;
}

bool all_digits(std::string_view s) {
  for (const char c : s)
    if (c < '0' || c > '9')
      return false;
  return !s.empty();
}

std::string join(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string out;
  out.reserve(a.size() + b.size() + c.size() + 2);
  out.append(a).append("-").append(b);
  if (!c.empty())
    out.append("-").append(c);
  return out;
}

// Binance futures deliveryDate (ms since epoch, UTC) -> "YYYYMMDD".
std::string delivery_yyyymmdd(std::uint64_t ms) {
  using namespace std::chrono;
  const auto day = floor<days>(sys_time<milliseconds>(milliseconds(static_cast<std::int64_t>(ms))));
  const year_month_day ymd(day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// Exponent and mantissa of a filter step ("0.00010000" -> 4 decimals, mantissa 1).
bool step_of(std::string_view text, std::uint8_t &decimals, std::int64_t &mantissa) {
  const std::uint8_t dp = decimals_of(text);
  book::ParsedDecimal d{};
  if (dp > book::kMaxDecimals || book::parse_decimal(text, dp, d) != book::DecimalError::Ok ||
      d.mantissa <= 0)
    return false;
  decimals = dp;
  mantissa = d.mantissa;
  return true;
}

// A declared precision field (decimals), 0 when absent or out of range.
std::uint8_t precision(simdjson::dom::element e, const char *key) {
  std::uint64_t v = 0;
  if (e[key].get_uint64().get(v) != simdjson::SUCCESS || v > book::kMaxDecimals)
    return 0;
  return static_cast<std::uint8_t>(v);
}

std::string_view get_string(simdjson::dom::element e, const char *key) {
  std::string_view s;
  if (e[key].get_string().get(s) != simdjson::SUCCESS)
    return {};
  return s;
}

} // namespace

std::size_t load_binance_exchange_info(std::string_view body, Venue venue,
                                       InstrumentRegistry &registry) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::element root;
  simdjson::dom::array symbols;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
      root["symbols"].get_array().get(symbols) != simdjson::SUCCESS)
    return 0;
  const bool futures = is_binance_futures(venue);
  std::size_t count = 0;
  for (const simdjson::dom::element s : symbols) {
    const std::string_view native = get_string(s, "symbol");
    const std::string_view base = get_string(s, "baseAsset");
    const std::string_view quote = get_string(s, "quoteAsset");
    if (native.empty() || base.empty() || quote.empty())
      continue;
    Instrument inst;
    inst.venue = venue;
    inst.native = std::string(native);
    inst.base = std::string(base);
    inst.quote = std::string(quote);
    inst.from_metadata = true;
    inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
    inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
    simdjson::dom::array filters;
    if (s["filters"].get_array().get(filters) == simdjson::SUCCESS) {
      for (const simdjson::dom::element flt : filters) {
        const std::string_view type = get_string(flt, "filterType");
        if (type == "PRICE_FILTER")
          (void)step_of(get_string(flt, "tickSize"), inst.price_decimals, inst.tick);
        else if (type == "LOT_SIZE")
          (void)step_of(get_string(flt, "stepSize"), inst.qty_decimals, inst.lot);
      }
    }
    std::string_view min_qty_text;
    if (s["filters"].get_array().get(filters) == simdjson::SUCCESS)
      for (const simdjson::dom::element flt : filters)
        if (get_string(flt, "filterType") == "LOT_SIZE") min_qty_text = get_string(flt, "minQty");
    // The book can hold levels off the current grid: orders placed before a tick or step
    // size change stay on it (spot NKNUSDT, tick 0.0001, has bids at 0.25974 and sizes of
    // 39.2 with step 1; USD-M CTKUSDT, tick 0.001, has bids at 0.50579). The precision
    // Binance declares per symbol covers them, so the exponent is the finer of the two; the
    // tick and lot mantissas are rescaled to it.
    const std::uint8_t price_dp =
        std::max(inst.price_decimals, precision(s, futures ? "pricePrecision" : "quotePrecision"));
    const std::uint8_t qty_dp = std::max(
        inst.qty_decimals, precision(s, futures ? "quantityPrecision" : "baseAssetPrecision"));
    if (!__builtin_mul_overflow(inst.tick, book::kPow10[price_dp - inst.price_decimals],
                                &inst.tick))
      inst.price_decimals = price_dp;
    if (!__builtin_mul_overflow(inst.lot, book::kPow10[qty_dp - inst.qty_decimals], &inst.lot))
      inst.qty_decimals = qty_dp;
    // The minimum order size at the final qty exponent (a finer minQty than that is dropped).
    book::ParsedDecimal min_qty{};
    if (!min_qty_text.empty() &&
        book::parse_decimal(min_qty_text, inst.qty_decimals, min_qty) == book::DecimalError::Ok)
      inst.min_qty = min_qty.mantissa;
    if (futures)
      inst.contract = venue == Venue::BinanceCoinm ? ContractType::Inverse : ContractType::Linear;
    if (!futures) {
      inst.kind = InstrumentKind::Spot;
      inst.canonical = join(base, quote);
    } else {
      // PERPETUAL (and PERPETUAL_DELIVERING); a blank contractType is a perpetual being
      // settled (its deliveryDate is Binance's far-future placeholder, 2100-12-25).
      const std::string_view contract = get_string(s, "contractType");
      std::uint64_t delivery = 0;
      if (s["deliveryDate"].get_uint64().get(delivery) != simdjson::SUCCESS)
        delivery = 0;
      constexpr std::uint64_t kNoDelivery = 4133404800000ULL;
      const bool perpetual = contract.starts_with("PERPETUAL") ||
                             (contract.empty() && (delivery == 0 || delivery >= kNoDelivery));
      if (perpetual) {
        inst.kind = InstrumentKind::Perpetual;
        inst.canonical = join(base, quote, "PERP");
      } else {
        inst.kind = InstrumentKind::Future;
        const std::string date = delivery_yyyymmdd(delivery);
        inst.expiry = static_cast<std::uint32_t>(std::stoul(date));
        inst.canonical = join(base, quote, date);
      }
    }
    registry.add(std::move(inst));
    ++count;
  }
  if (count > 0)
    registry.mark_metadata_loaded(venue);
  return count;
}

Instrument binance_default_instrument(Venue venue, std::string_view native) {
  Instrument inst;
  inst.venue = venue;
  inst.native = std::string(native);
  inst.price_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.qty_decimals = InstrumentRegistry::kDefaultDecimals;
  inst.tick = 1;
  inst.lot = 1;
  inst.from_metadata = false;
  inst.canonical = inst.native; // a symbol of no known shape keeps its native name
  inst.base = inst.native;

  std::string_view base;
  std::string_view quote;
  if (!is_binance_futures(venue)) {
    inst.kind = InstrumentKind::Spot;
    const bool split = venue == Venue::BinanceUs ? split_pair(native, kUsQuotes, base, quote)
                                                 : split_pair(native, kSpotQuotes, base, quote);
    if (split) {
      inst.base = std::string(base);
      inst.quote = std::string(quote);
      inst.canonical = join(base, quote);
    }
    return inst;
  }
  // Futures: PAIR, PAIR_PERP or PAIR_YYMMDD.
  const std::size_t us = native.find('_');
  const std::string_view pair = native.substr(0, us);
  const std::string_view suffix =
      us == std::string_view::npos ? std::string_view{} : native.substr(us + 1);
  inst.kind = InstrumentKind::Perpetual;
  const bool split = venue == Venue::BinanceCoinm ? split_pair(pair, kCoinmQuotes, base, quote)
                                                  : split_pair(pair, kUsdmQuotes, base, quote);
  if (!split)
    return inst;
  if ((suffix.empty() && us == std::string_view::npos && venue == Venue::BinanceUsdm) ||
      suffix == "PERP") {
    inst.canonical = join(base, quote, "PERP");
  } else if (suffix.size() == 6 && all_digits(suffix)) {
    inst.kind = InstrumentKind::Future;
    inst.canonical = join(base, quote, std::string("20").append(suffix));
  } else {
    return inst;
  }
  inst.base = std::string(base);
  inst.quote = std::string(quote);
  return inst;
}

} // namespace fh::venues
