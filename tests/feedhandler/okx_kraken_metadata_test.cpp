// labels: unit replay
// OKX and Kraken metadata loaders over the recorded REST responses (PROVENANCE.md section 3).
// Canonical names are checked against fields the loaders do not use for them (OKX: uly,
// baseCcy/quoteCcy, expTime as a UTC date, stk, optType; Kraken: the legacy base/quote asset
// codes) and against the names cryptofeed itself used (the `configuration:` line).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kraken.hpp"
#include "feedhandler/venues/okx.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::dom_arr;
using test::dom_str;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;
using test::significant_decimals;

// ---- independent oracles ---------------------------------------------------------------------
// Shared ones (decimal text, DOM accessors): tests/support/text_oracles.hpp.
// Unix ms -> "YYYYMMDD" (UTC), with the standard calendar.
std::string utc_date(std::string_view ms_text) {
  const std::chrono::sys_time<std::chrono::milliseconds> t{
      std::chrono::milliseconds{std::stoll(std::string(ms_text))}};
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// cryptofeed's names: "ETH-USD-20000-22M24-call" (strike, then year, month code, day),
// "TRX-USDT-21U24" (future), "UNI-USD-PERP", "PROPS-ETH" -> our canonical form.
std::string from_cryptofeed(const std::string &name) {
  std::vector<std::string> p;
  std::size_t start = 0;
  for (std::size_t dash; (dash = name.find('-', start)) != std::string::npos; start = dash + 1)
    p.push_back(name.substr(start, dash - start));
  p.push_back(name.substr(start));
  const std::string months = "FGHJKMNQUVXZ";
  auto date = [&](const std::string &code) { // "22M24" -> "20220624"
    char buf[16];
    std::snprintf(buf, sizeof buf, "20%s%02zu%s", code.substr(0, 2).c_str(),
                  months.find(code[2]) + 1, code.substr(3).c_str());
    return std::string(buf);
  };
  if (p.size() == 5 && (p[4] == "call" || p[4] == "put"))
    return p[0] + "-" + p[1] + "-" + date(p[3]) + "-" + p[2] + "-" + (p[4] == "call" ? "C" : "P");
  if (p.size() == 3 && p[2] != "PERP")
    return p[0] + "-" + p[1] + "-" + date(p[2]);
  return name;
}

std::set<std::string> config_l2_book(const CaptureRecords &lines) {
  std::set<std::string> names;
  simdjson::dom::parser dom;
  for (const Record &l : lines) {
    if (l.kind != RecordKind::Config)
      continue;
    simdjson::dom::element cfg;
    EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(cfg), simdjson::SUCCESS);
    for (const simdjson::dom::element n : dom_arr(cfg["l2_book"]))
      names.emplace(dom_str(n));
  }
  return names;
}

class OkxKrakenMetadataTest : public ::testing::Test {
protected:
  static constexpr const char *kOkxMeta[] = {"okx/cryptofeed/instruments_2021-07-22_http.txt.gz",
                                             "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"};
  static constexpr const char *kOkxWs[] = {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
                                           "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz"};
  static constexpr const char *kKrakenMeta = "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz";
  static constexpr const char *kKrakenWs = "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz";
};

TEST_F(OkxKrakenMetadataTest, LoadsEveryOkxInstrumentWithNamesFromIndependentFields) {
  for (const char *file : kOkxMeta) {
    InstrumentRegistry registry;
    std::size_t items = 0;
    std::size_t by_kind[4] = {};
    simdjson::dom::parser dom;
    const CaptureRecords lines = read_capture(file);
    for (const Record &l : lines) {
      if (l.kind != RecordKind::Http)
        continue;
      simdjson::dom::element body;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
      const simdjson::dom::array data = dom_arr(body["data"]);
      EXPECT_EQ(load_okx_instruments(l.payload, registry), data.size()) << l.url;
      for (const simdjson::dom::element item : data) {
        ++items;
        const std::string_view inst_id = dom_str(item["instId"]);
        const std::string_view type = dom_str(item["instType"]);
        const Instrument *inst = registry.find(Venue::Okx, inst_id);
        ASSERT_NE(inst, nullptr) << inst_id;
        std::string expected;
        InstrumentKind kind = InstrumentKind::Spot;
        const std::string uly(dom_str(item["uly"]));
        if (type == "SPOT") {
          expected =
              std::string(dom_str(item["baseCcy"])) + "-" + std::string(dom_str(item["quoteCcy"]));
        } else if (type == "SWAP") {
          kind = InstrumentKind::Perpetual;
          expected = uly + "-PERP";
        } else if (type == "FUTURES") {
          kind = InstrumentKind::Future;
          expected = uly + "-" + utc_date(dom_str(item["expTime"]));
        } else {
          ASSERT_EQ(type, "OPTION");
          kind = InstrumentKind::Option;
          expected = uly + "-" + utc_date(dom_str(item["expTime"])) + "-" +
                     std::string(dom_str(item["stk"])) + "-" +
                     std::string(dom_str(item["optType"]));
        }
        ++by_kind[static_cast<int>(kind)];
        ASSERT_EQ(inst->canonical, expected) << inst_id;
        ASSERT_EQ(inst->kind, kind) << inst_id;
        ASSERT_TRUE(inst->from_metadata);
        ASSERT_EQ(registry.find_canonical(Venue::Okx, expected), inst);
        // Scales: the price scale is tickSz's, the tick is one tickSz; sizes are at least as
        // fine as lotSz (spot: see EveryOkxSpotSizeScale...), the lot is one lotSz.
        const std::string_view tick = dom_str(item["tickSz"]);
        const std::string_view lot = dom_str(item["lotSz"]);
        ASSERT_EQ(inst->price_decimals, significant_decimals(tick)) << inst_id;
        ASSERT_EQ(ref_mantissa(tick, inst->price_decimals), inst->tick) << inst_id;
        ASSERT_EQ(ref_mantissa(lot, inst->qty_decimals), inst->lot) << inst_id;
        if (kind == InstrumentKind::Spot) {
          ASSERT_GE(inst->qty_decimals, significant_decimals(lot)) << inst_id;
        } else {
          ASSERT_EQ(inst->qty_decimals, significant_decimals(lot)) << inst_id;
        }
        // The instId alone gives the same name and kind (what a symbol seen without metadata
        // is registered as).
        const Instrument guessed = okx_default_instrument(Venue::Okx, inst_id);
        ASSERT_EQ(guessed.canonical, expected);
        ASSERT_EQ(guessed.kind, kind);
        ASSERT_EQ(guessed.price_decimals, InstrumentRegistry::kDefaultDecimals);
      }
    }
    std::set<std::string> distinct;
    for (std::uint32_t id = 0; id < registry.size(); ++id)
      distinct.insert(registry.at(id).native);
    EXPECT_EQ(registry.size(), items) << file; // no instId listed twice
    EXPECT_EQ(distinct.size(), items);
    EXPECT_TRUE(registry.has_metadata(Venue::Okx));
    for (const std::size_t n : by_kind)
      EXPECT_GT(n, 0U) << file; // all four kinds present
  }
}

// Spot sizes: at most 8 decimals, never coarser than lotSz, and where the scale is finer than
// lotSz an int64 at it holds a level of 10^8 minimum orders (ELON-USDT's
// 5,950,000,000,000-unit level needs this).
TEST_F(OkxKrakenMetadataTest, EveryOkxSpotSizeScaleHoldsLotAndLargeLevels) {
  for (const char *file : kOkxMeta) {
    InstrumentRegistry registry;
    simdjson::dom::parser dom;
    std::size_t spot = 0;
    for (const Record &l : read_capture(file)) {
      if (l.kind != RecordKind::Http || l.url.find("instType=SPOT") == std::string::npos)
        continue;
      ASSERT_GT(load_okx_instruments(l.payload, registry), 0U);
      simdjson::dom::element body;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
      for (const simdjson::dom::element item : dom_arr(body["data"])) {
        const Instrument *inst = registry.find(Venue::Okx, dom_str(item["instId"]));
        ASSERT_NE(inst, nullptr);
        ASSERT_LE(inst->qty_decimals, 8);
        const std::string_view min_sz = dom_str(item["minSz"]);
        // minSz * 10^8 at the size scale, as a digit count, stays within 18 digits, unless
        // lotSz itself needs the decimals (HYC-USDT 2021: lotSz 0.00000001, minSz 1000).
        const auto min_mantissa = ref_mantissa(min_sz, inst->qty_decimals);
        ASSERT_TRUE(min_mantissa.has_value()) << inst->native;
        if (inst->qty_decimals > significant_decimals(dom_str(item["lotSz"]))) {
          ASSERT_LE(std::to_string(*min_mantissa).size() + 8, 18U) << inst->native;
        }
        ++spot;
      }
    }
    EXPECT_GT(spot, 300U);
  }
}

TEST_F(OkxKrakenMetadataTest, OkxNamesOfTheCaptureMatchCryptofeedsConfiguration) {
  for (std::size_t k = 0; k < 2; ++k) {
    InstrumentRegistry registry;
    const CaptureRecords meta = read_capture(kOkxMeta[k]);
    for (const Record &l : meta)
      if (l.kind == RecordKind::Http)
        load_okx_instruments(l.payload, registry);
    // The book subscriptions the recorder sent.
    std::set<std::string> subscribed;
    simdjson::dom::parser dom;
    for (const Record &l : read_capture(kOkxWs[k])) {
      if (l.kind != RecordKind::WsSent)
        continue;
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      for (const simdjson::dom::element arg : dom_arr(msg["args"]))
        if (dom_str(arg["channel"]) == "books-l2-tbt")
          subscribed.emplace(dom_str(arg["instId"]));
    }
    ASSERT_EQ(subscribed.size(), 10U);
    std::set<std::string> ours;
    for (const std::string &inst_id : subscribed) {
      const Instrument *inst = registry.find(Venue::Okx, inst_id);
      ASSERT_NE(inst, nullptr) << inst_id;
      ours.insert(inst->canonical);
    }
    std::set<std::string> theirs;
    for (const std::string &name : config_l2_book(meta))
      theirs.insert(from_cryptofeed(name));
    EXPECT_EQ(ours, theirs) << kOkxMeta[k];
  }
}

TEST_F(OkxKrakenMetadataTest, LoadsEveryKrakenPairWithAWsName) {
  InstrumentRegistry registry;
  simdjson::dom::parser dom;
  std::size_t with_wsname = 0;
  std::set<std::string> codes;
  for (const Record &l : read_capture(kKrakenMeta)) {
    if (l.kind != RecordKind::Http)
      continue;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
    simdjson::dom::object result;
    ASSERT_EQ(body["result"].get_object().get(result), simdjson::SUCCESS);
    for (const auto [key, pair] : result)
      with_wsname += pair["wsname"].error() == simdjson::SUCCESS ? 1U : 0U;
    EXPECT_EQ(load_kraken_asset_pairs(l.payload, registry), with_wsname);
    // Legacy asset codes: a 4-letter code starting with X or Z drops that class prefix;
    // then XBT is BTC and XDG is DOGE.
    auto common = [](std::string c) {
      if (c.size() == 4 && (c[0] == 'X' || c[0] == 'Z'))
        c.erase(0, 1);
      return c == "XBT" ? std::string("BTC") : c == "XDG" ? std::string("DOGE") : c;
    };
    for (const auto [key, pair] : result) {
      std::string_view wsname;
      if (pair["wsname"].get_string().get(wsname))
        continue;
      const Instrument *inst = registry.find(Venue::Kraken, wsname);
      ASSERT_NE(inst, nullptr) << wsname;
      const std::string base(dom_str(pair["base"]));
      const std::string quote(dom_str(pair["quote"]));
      codes.insert(base);
      codes.insert(quote);
      const std::string expected = common(base) + "-" + common(quote);
      ASSERT_EQ(inst->canonical, expected) << key;
      ASSERT_EQ(inst->base, common(base));
      ASSERT_EQ(inst->quote, common(quote));
      ASSERT_EQ(inst->kind, InstrumentKind::Spot);
      std::uint64_t pair_decimals = 0;
      std::uint64_t lot_decimals = 0;
      ASSERT_EQ(pair["pair_decimals"].get_uint64().get(pair_decimals), simdjson::SUCCESS);
      ASSERT_EQ(pair["lot_decimals"].get_uint64().get(lot_decimals), simdjson::SUCCESS);
      ASSERT_EQ(inst->price_decimals, pair_decimals) << key;
      ASSERT_EQ(inst->qty_decimals, lot_decimals) << key;
      ASSERT_EQ(kraken_default_instrument(Venue::Kraken, wsname).canonical, expected);
    }
    for (const std::string &c : codes)
      EXPECT_EQ(kraken_common_asset(c), common(c)) << c;
  }
  EXPECT_EQ(with_wsname, 293U);
  EXPECT_EQ(registry.size(), with_wsname);
  EXPECT_TRUE(registry.has_metadata(Venue::Kraken));
  EXPECT_GT(codes.size(), 50U);
}

TEST_F(OkxKrakenMetadataTest, KrakenNamesOfTheCaptureMatchCryptofeedsConfiguration) {
  InstrumentRegistry registry;
  const CaptureRecords meta = read_capture(kKrakenMeta);
  for (const Record &l : meta)
    if (l.kind == RecordKind::Http)
      load_kraken_asset_pairs(l.payload, registry);
  std::set<std::string> ours;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(kKrakenWs)) {
    if (l.kind != RecordKind::WsSent)
      continue;
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    for (const simdjson::dom::element pair : dom_arr(msg["pair"])) {
      const Instrument *inst = registry.find(Venue::Kraken, dom_str(pair));
      ASSERT_NE(inst, nullptr) << dom_str(pair);
      ours.insert(inst->canonical);
    }
  }
  ASSERT_EQ(ours.size(), 10U);
  EXPECT_EQ(ours, config_l2_book(meta)); // cryptofeed's names are already BASE-QUOTE
}

// A response cut short (mechanically truncated real body) registers nothing and does not
// mark the venue's metadata as loaded.
TEST_F(OkxKrakenMetadataTest, RegistersNothingFromATruncatedResponse) {
  for (const char *file : {kOkxMeta[1], kKrakenMeta}) {
    for (const Record &l : read_capture(file)) {
      if (l.kind != RecordKind::Http)
        continue;
      InstrumentRegistry registry;
      const std::string cut(l.payload.substr(0, l.payload.size() / 2));
      EXPECT_EQ(file == kKrakenMeta ? load_kraken_asset_pairs(cut, registry)
                                    : load_okx_instruments(cut, registry),
                0U);
      EXPECT_EQ(registry.size(), 0U);
      EXPECT_FALSE(registry.has_metadata(Venue::Okx));
      EXPECT_FALSE(registry.has_metadata(Venue::Kraken));
    }
  }
}

} // namespace
} // namespace fh::venues
