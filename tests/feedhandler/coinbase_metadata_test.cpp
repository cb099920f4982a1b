// labels: unit
// load_coinbase_products over the recorded REST /products response (PROVENANCE.md, "Coinbase":
// products_2021-04-17_http.txt.gz). Every expected value is read from the response text in the
// test with simdjson's DOM API and converted with an independent decimal reader; the grid checks
// use the recorded WebSocket traffic of the same run.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/coinbase.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::dom_arr;
using test::dom_str;
using test::is_received;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;
using test::significant_decimals;

constexpr const char *kMeta = "coinbase/cryptofeed/products_2021-04-17_http.txt.gz";
constexpr const char *kWs = "coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz";

class CoinbaseMetadataTest : public ::testing::Test {
protected:
  void SetUp() override {
    for (const Record &l : read_capture(kMeta)) {
      if (l.kind == RecordKind::Http) {
        url_ = std::string(l.url);
        body_ = std::string(l.payload);
      }
    }
    ASSERT_FALSE(body_.empty());
    ASSERT_EQ(dom_.parse(body_).get(products_), simdjson::SUCCESS);
  }
  std::string url_;
  std::string body_;
  simdjson::dom::parser dom_;
  simdjson::dom::element products_;
};

TEST_F(CoinbaseMetadataTest, LoadsEveryProductWithTheResponsesIncrements) {
  InstrumentRegistry registry;
  const std::size_t n = load_coinbase_products(body_, registry);
  const simdjson::dom::array list = dom_arr(products_);
  EXPECT_EQ(n, list.size());
  EXPECT_EQ(list.size(), 162U); // the recorded response lists 162 products
  EXPECT_TRUE(registry.has_metadata(Venue::Coinbase));
  for (const simdjson::dom::element p : list) {
    const std::string_view id = dom_str(p["id"]);
    const Instrument *inst = registry.find(Venue::Coinbase, id);
    ASSERT_NE(inst, nullptr) << id;
    const std::string canonical =
        std::string(dom_str(p["base_currency"])) + "-" + std::string(dom_str(p["quote_currency"]));
    EXPECT_EQ(inst->canonical, canonical);
    EXPECT_EQ(inst->canonical, id); // Coinbase ids are already BASE-QUOTE
    EXPECT_EQ(registry.find_canonical(Venue::Coinbase, canonical), inst);
    EXPECT_EQ(inst->base, dom_str(p["base_currency"]));
    EXPECT_EQ(inst->quote, dom_str(p["quote_currency"]));
    EXPECT_EQ(inst->kind, InstrumentKind::Spot);
    EXPECT_EQ(inst->contract, ContractType::None);
    EXPECT_EQ(inst->expiry, 0U);
    EXPECT_TRUE(inst->from_metadata);
    // quote_increment -> price decimals and tick; base_increment -> lot; base_min_size -> min.
    const std::string_view qi = dom_str(p["quote_increment"]);
    const std::string_view bi = dom_str(p["base_increment"]);
    const std::string_view min = dom_str(p["base_min_size"]);
    EXPECT_EQ(inst->price_decimals, significant_decimals(qi)) << id;
    EXPECT_EQ(ref_mantissa(qi, inst->price_decimals), inst->tick) << id;
    EXPECT_GE(inst->qty_decimals, significant_decimals(bi)) << id;
    EXPECT_GE(inst->qty_decimals, significant_decimals(min)) << id;
    EXPECT_EQ(ref_mantissa(bi, inst->qty_decimals), inst->lot) << id;
    EXPECT_EQ(ref_mantissa(min, inst->qty_decimals), inst->min_qty) << id;
    EXPECT_GT(inst->tick, 0);
    EXPECT_GT(inst->lot, 0);
    // Sizes are read at 8 decimals (what Coinbase writes) unless 1000 maximum orders
    // (base_max_size x 1000) would then need more than the 18 digits an int64 always holds.
    constexpr std::int64_t k18Digits = 1000000000000000000LL;
    std::string largest(dom_str(p["base_max_size"]));
    largest += "000";
    const auto big = ref_mantissa(largest, inst->qty_decimals);
    ASSERT_TRUE(big.has_value()) << id << " " << largest << " at " << int{inst->qty_decimals};
    EXPECT_LT(*big, k18Digits) << id;
    if (inst->qty_decimals < 8) {
      const auto finer = ref_mantissa(largest, inst->qty_decimals + 1);
      EXPECT_TRUE(!finer.has_value() || *finer >= k18Digits) << id;
    } else {
      EXPECT_EQ(inst->qty_decimals, 8) << id;
    }
  }
}

// The instruments the metadata defines fit the recorded traffic of the same run: every price
// written in the WebSocket capture is on its product's tick grid, every size on its lot grid.
TEST_F(CoinbaseMetadataTest, RecordedPricesAndSizesLieOnTheTickAndLotGrids) {
  InstrumentRegistry registry;
  ASSERT_GT(load_coinbase_products(body_, registry), 0U);
  simdjson::dom::parser dom;
  std::size_t prices = 0;
  std::size_t sizes = 0;
  auto check = [&](const Instrument &inst, std::string_view px, std::string_view sz) {
    const auto p = ref_mantissa(px, inst.price_decimals);
    ASSERT_TRUE(p.has_value()) << inst.native << " " << px;
    EXPECT_EQ(*p % inst.tick, 0) << inst.native << " " << px;
    ++prices;
    if (sz.empty())
      return;
    const auto q = ref_mantissa(sz, inst.qty_decimals);
    ASSERT_TRUE(q.has_value()) << inst.native << " " << sz;
    EXPECT_EQ(*q % inst.lot, 0) << inst.native << " " << sz;
    ++sizes;
  };
  for (const Record &l : read_capture(kWs, is_received)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size()).get(msg), simdjson::SUCCESS);
    std::string_view product;
    if (msg["product_id"].get_string().get(product))
      continue;
    const Instrument *inst = registry.find(Venue::Coinbase, product);
    ASSERT_NE(inst, nullptr) << product;
    const std::string_view type = dom_str(msg["type"]);
    if (type == "snapshot") {
      for (const char *side : {"bids", "asks"})
        for (const simdjson::dom::element lv : dom_arr(msg[side]))
          check(*inst, dom_str(dom_arr(lv).at(0)), dom_str(dom_arr(lv).at(1)));
    } else if (type == "l2update") {
      for (const simdjson::dom::element c : dom_arr(msg["changes"]))
        check(*inst, dom_str(dom_arr(c).at(1)), dom_str(dom_arr(c).at(2)));
    } else if (type == "ticker") {
      check(*inst, dom_str(msg["best_bid"]), {});
      check(*inst, dom_str(msg["best_ask"]), {});
    } else {
      check(*inst, dom_str(msg["price"]), dom_str(msg["size"]));
    }
  }
  EXPECT_GT(prices, 15000U);
  EXPECT_GT(sizes, 15000U);
}

// The replay path: the REST host and the WebSocket host of the recording map to Coinbase, and
// its /products URL loads through the dispatcher. Other bodies load nothing.
TEST_F(CoinbaseMetadataTest, DispatcherRecognisesTheRecordedHostsAndProductsUrl) {
  EXPECT_EQ(venue_from_url(url_), Venue::Coinbase);
  std::size_t ws_urls = 0;
  for (const Record &l : read_capture(kWs)) {
    if (l.kind == RecordKind::WsOpen || l.kind == RecordKind::WsSent) {
      EXPECT_EQ(venue_from_url(l.url), Venue::Coinbase) << l.url;
      ++ws_urls;
    }
  }
  EXPECT_EQ(ws_urls, 4U); // the connection line and three subscribe requests
  InstrumentRegistry registry;
  const auto n = load_metadata(Venue::Coinbase, url_, body_, registry);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 162U);
  InstrumentRegistry none;
  EXPECT_FALSE(load_metadata(Venue::Coinbase, url_ + "/SKL-USD/book", body_, none).has_value());
  // Not a list of products: the recorded WebSocket snapshot text, the body cut short.
  for (const Record &l : read_capture(kWs, is_received)) {
    EXPECT_EQ(load_coinbase_products(l.payload, none), 0U);
    break;
  }
  EXPECT_EQ(load_coinbase_products(std::string_view(body_).substr(0, body_.size() / 2), none), 0U);
  EXPECT_EQ(none.size(), 0U);
  EXPECT_FALSE(none.has_metadata(Venue::Coinbase));
}

} // namespace
} // namespace fh::venues
