// labels: unit
// load_bybit_legacy_symbols over the recorded REST v2 /public/symbols response
// (data/bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz). Expected values are read from
// the response text here with simdjson's DOM API and the decimal oracles of
// tests/support/text_oracles.hpp. Bybit v5 /v5/market/instruments-info has no recording in the
// corpus, so it has no loader and no test.
#include <gtest/gtest.h>

#include <charconv>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/bybit.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::dom_arr;
using test::dom_str;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;

constexpr const char *kSymbols = "bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz";

// A JSON number as the venue wrote it: the shortest text reading back as the same double.
std::string number_text(simdjson::dom::element e) {
  if (e.is_string())
    return std::string(dom_str(e));
  double d = 0;
  EXPECT_EQ(e.get_double().get(d), simdjson::SUCCESS);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

int decimals(std::string_view s) {
  return test::significant_decimals(s);
}

class BybitMetadataTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto records = read_capture(kSymbols);
    for (const Record &r : records) {
      if (r.kind == RecordKind::Http) {
        url_ = std::string(r.url);
        body_ = std::string(r.payload);
      }
    }
    ASSERT_FALSE(body_.empty());
  }
  std::string url_, body_;
};

TEST_F(BybitMetadataTest, LoadsEverySymbolWithTheResponsesTickLotAndMinimumSize) {
  InstrumentRegistry registry;
  const std::size_t n = load_bybit_legacy_symbols(body_, registry);
  simdjson::dom::parser dom;
  simdjson::dom::element root;
  ASSERT_EQ(dom.parse(body_).get(root), simdjson::SUCCESS);
  const simdjson::dom::array result = dom_arr(root["result"]);
  EXPECT_EQ(n, result.size());
  EXPECT_EQ(n, 15u);
  std::size_t linear = 0, inverse_perps = 0, futures = 0;
  for (const simdjson::dom::element s : result) {
    const std::string name(dom_str(s["name"]));
    const std::string base(dom_str(s["base_currency"]));
    const std::string quote(dom_str(s["quote_currency"]));
    const Venue venue = quote == "USDT" ? Venue::BybitLinear : Venue::BybitInverse;
    const Instrument *inst = registry.find(venue, name);
    ASSERT_NE(inst, nullptr) << name;
    EXPECT_TRUE(inst->from_metadata);
    EXPECT_EQ(inst->base, base);
    EXPECT_EQ(inst->quote, quote);
    EXPECT_EQ(inst->contract, quote == "USDT" ? ContractType::Linear : ContractType::Inverse);
    // Prices: price_scale decimals (at least the tick's).
    std::int64_t scale = 0;
    ASSERT_EQ(s["price_scale"].get_int64().get(scale), simdjson::SUCCESS);
    const std::string tick(dom_str(s["price_filter"]["tick_size"]));
    const int price_dp = std::max(static_cast<int>(scale), decimals(tick));
    EXPECT_EQ(inst->price_decimals, price_dp) << name;
    EXPECT_EQ(inst->tick, ref_mantissa(tick, price_dp).value()) << name;
    // Sizes: 8 decimals (the feed writes sizes finer than qty_step; see the parser test).
    EXPECT_EQ(inst->qty_decimals, 8) << name;
    EXPECT_EQ(inst->lot, ref_mantissa(number_text(s["lot_size_filter"]["qty_step"]), 8).value());
    EXPECT_EQ(inst->min_qty,
              ref_mantissa(number_text(s["lot_size_filter"]["min_trading_qty"]), 8).value());
    if (name == base + quote) {
      EXPECT_EQ(inst->kind, InstrumentKind::Perpetual) << name;
      EXPECT_EQ(inst->canonical, base + "-" + quote + "-PERP");
      EXPECT_EQ(inst->expiry, 0u);
      (quote == "USDT" ? linear : inverse_perps)++;
    } else {
      // BTCUSDU21 / alias BTCUSD0924: year from the name, month and day from the alias.
      const std::string alias(dom_str(s["alias"]));
      const std::string date = "20" + name.substr(name.size() - 2) + alias.substr(alias.size() - 4);
      EXPECT_EQ(inst->kind, InstrumentKind::Future) << name;
      EXPECT_EQ(inst->canonical, base + "-" + quote + "-" + date);
      EXPECT_EQ(inst->expiry, std::stoul(date));
      ++futures;
    }
  }
  EXPECT_EQ(linear, 9u);        // BTC BCH ETH LTC LINK XTZ ADA DOT UNI - USDT
  EXPECT_EQ(inverse_perps, 4u); // BTC ETH EOS XRP - USD
  EXPECT_EQ(futures, 2u);       // BTCUSDU21, BTCUSDM21
  EXPECT_TRUE(registry.has_metadata(Venue::BybitLinear));
  EXPECT_TRUE(registry.has_metadata(Venue::BybitInverse));
  EXPECT_FALSE(registry.has_metadata(Venue::BybitSpot));
  // Readers find instruments by canonical name too.
  const Instrument *sep = registry.find_canonical(Venue::BybitInverse, "BTC-USD-20210924");
  ASSERT_NE(sep, nullptr);
  EXPECT_EQ(sep->native, "BTCUSDU21");
  EXPECT_EQ(registry.find_canonical(Venue::BybitLinear, "BTC-USDT-PERP")->native, "BTCUSDT");
}

TEST_F(BybitMetadataTest, TheDispatcherRoutesTheRecordedUrlToTheLoader) {
  InstrumentRegistry registry;
  EXPECT_EQ(venue_from_url(url_), Venue::BybitLinear);
  const auto n = load_metadata(Venue::BybitLinear, url_, body_, registry);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 15u);
}

TEST_F(BybitMetadataTest, LoadsNothingFromAFailedOrDamagedResponse) {
  InstrumentRegistry registry;
  // The recorded body with "ret_code":0 changed to 1 (one digit), then cut in half.
  std::string failed = body_;
  const std::size_t code = failed.find("\"ret_code\":0");
  ASSERT_NE(code, std::string::npos);
  failed[code + 11] = '1';
  EXPECT_EQ(load_bybit_legacy_symbols(failed, registry), 0u);
  EXPECT_EQ(load_bybit_legacy_symbols(body_.substr(0, body_.size() / 2), registry), 0u);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_FALSE(registry.has_metadata(Venue::BybitLinear));
}

TEST_F(BybitMetadataTest, SymbolsSeenWithoutMetadataGetNamesFromTheirShape) {
  // Symbols as they appear in the captures and the symbols response.
  const Instrument xrp = bybit_default_instrument(Venue::BybitLinear, "XRPUSDT");
  EXPECT_EQ(xrp.canonical, "XRP-USDT-PERP");
  EXPECT_EQ(xrp.kind, InstrumentKind::Perpetual);
  EXPECT_EQ(xrp.contract, ContractType::Linear);
  EXPECT_EQ(xrp.price_decimals, InstrumentRegistry::kDefaultDecimals);
  EXPECT_FALSE(xrp.from_metadata);
  const Instrument btc = bybit_default_instrument(Venue::BybitInverse, "BTCUSD");
  EXPECT_EQ(btc.canonical, "BTC-USD-PERP");
  EXPECT_EQ(btc.contract, ContractType::Inverse);
  const Instrument spot = bybit_default_instrument(Venue::BybitSpot, "XRPUSDT");
  EXPECT_EQ(spot.canonical, "XRP-USDT");
  EXPECT_EQ(spot.kind, InstrumentKind::Spot);
  // A dated inverse future says no day: its symbol stays its name.
  const Instrument fut = bybit_default_instrument(Venue::BybitInverse, "BTCUSDU21");
  EXPECT_EQ(fut.canonical, "BTCUSDU21");
  EXPECT_EQ(fut.kind, InstrumentKind::Future);
}

} // namespace
} // namespace fh::venues
