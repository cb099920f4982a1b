// labels: unit replay
// Deribit get_instruments loader over the recorded REST responses (PROVENANCE.md "Deribit",
// section 3: BTC, ETH, SOL and USDC). Every instrument is checked against the response read
// independently: the DOM view of its fields, the shape of its name (date, strike, right, the
// _USDC suffix of linear contracts) and cryptofeed's own names in the `configuration:` line.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/deribit.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::dom_arr;
using test::dom_str;
using test::read_capture;
using test::Record;
using test::RecordKind;

constexpr const char *kMeta = "deribit/cryptofeed/instruments_2021-07-22_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i; (i = s.find(sep, start)) != std::string_view::npos; start = i + 1)
    out.emplace_back(s.substr(start, i - start));
  out.emplace_back(s.substr(start));
  return out;
}

// "24SEP21" / "6AUG21" -> 20210924 / 20210806.
std::uint32_t name_date(const std::string &s) {
  const std::string months = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
  const std::size_t m = s.size() - 5;
  return static_cast<std::uint32_t>(2000 + std::stoi(s.substr(m + 3))) * 10000U +
         static_cast<std::uint32_t>(months.find(s.substr(m, 3)) / 3 + 1) * 100U +
         static_cast<std::uint32_t>(std::stoi(s.substr(0, m)));
}

// Unix ms -> YYYYMMDD (UTC) with gmtime_r, a different route from the loader's.
std::uint32_t utc_date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
                                    tm.tm_mday);
}

double pow10(int n) {
  double p = 1;
  for (int i = 0; i < n; ++i)
    p *= 10; // exact up to 10^22
  return p;
}

// What the name says: the canonical form DESIGN.md asks for, from the native name alone.
struct NameView {
  std::string base, quote, canonical;
  InstrumentKind kind = InstrumentKind::Spot;
  ContractType contract = ContractType::None;
  std::uint32_t expiry = 0;
  std::string strike;
  char right = 0;
};
NameView from_name(const std::string &native) {
  NameView v;
  const std::vector<std::string> p = split(native, '-');
  const std::vector<std::string> cur = split(p[0], '_');
  v.base = cur[0];
  v.quote = cur.size() == 2 ? cur[1] : "USD";
  v.contract = cur.size() == 2 ? ContractType::Linear : ContractType::Inverse;
  const std::string pair = v.base + "-" + v.quote;
  if (p.size() == 2 && p[1] == "PERPETUAL") {
    v.kind = InstrumentKind::Perpetual;
    v.canonical = pair + "-PERP";
  } else if (p.size() == 2) {
    v.kind = InstrumentKind::Future;
    v.expiry = name_date(p[1]);
    v.canonical = pair + "-" + std::to_string(v.expiry);
  } else if (p.size() == 4) {
    v.kind = InstrumentKind::Option;
    v.expiry = name_date(p[1]);
    v.strike = p[2];
    for (char &c : v.strike)
      c = c == 'd' ? '.' : c;
    v.right = p[3][0];
    v.canonical = pair + "-" + std::to_string(v.expiry) + "-" + v.strike + "-" + p[3];
  }
  return v;
}

// ---- fixture ---------------------------------------------------------------------------------
class DeribitMetadataTest : public ::testing::Test {
protected:
  void SetUp() override {
    responses_ = read_capture(kMeta, [](const Record &l) { return l.kind == RecordKind::Http; });
    ASSERT_EQ(responses_.size(), 4U); // PROVENANCE.md: BTC, ETH, SOL, USDC
    for (const Record &l : responses_)
      loaded_ += load_deribit_instruments(l.payload, registry_);
  }

  // Calls f(element) for every element of every response's result list.
  template <class F> void for_each_element(F f) {
    simdjson::dom::parser dom;
    for (const Record &l : responses_) {
      simdjson::dom::element body;
      ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(body), simdjson::SUCCESS);
      for (const simdjson::dom::element item : dom_arr(body["result"]))
        f(item);
    }
  }

  test::CaptureRecords responses_;
  InstrumentRegistry registry_;
  std::size_t loaded_ = 0;
};

TEST_F(DeribitMetadataTest, LoadsEveryInstrumentWithFieldsMatchingTheResponse) {
  std::size_t elements = 0;
  std::set<InstrumentKind> kinds;
  std::set<ContractType> contracts;
  for_each_element([&](simdjson::dom::element item) {
    ++elements;
    const std::string native(dom_str(item["instrument_name"]));
    SCOPED_TRACE(native);
    const Instrument *inst = registry_.find(Venue::Deribit, native);
    ASSERT_NE(inst, nullptr);
    EXPECT_TRUE(inst->from_metadata);
    const NameView v = from_name(native);
    EXPECT_EQ(inst->canonical, v.canonical);
    EXPECT_EQ(registry_.find_canonical(Venue::Deribit, v.canonical), inst);
    EXPECT_EQ(inst->base, std::string(dom_str(item["base_currency"])));
    EXPECT_EQ(inst->quote, v.quote);
    EXPECT_EQ(inst->contract, v.contract);
    std::string_view future_type;
    if (!item["future_type"].get_string().get(future_type)) { // 2022 responses state it
      EXPECT_EQ(inst->contract,
                future_type == "linear" ? ContractType::Linear : ContractType::Inverse);
    }
    const std::string_view kind = dom_str(item["kind"]);
    const std::string_view period = dom_str(item["settlement_period"]);
    EXPECT_EQ(inst->kind, kind == "option"        ? InstrumentKind::Option
                          : period == "perpetual" ? InstrumentKind::Perpetual
                                                  : InstrumentKind::Future);
    EXPECT_EQ(inst->kind, v.kind);
    kinds.insert(inst->kind);
    contracts.insert(inst->contract);

    // tick / lot: the mantissa at the loader's decimals is the response's number, and the
    // decimals are the fewest that hold it (no trailing zero in the mantissa).
    double tick = 0;
    double min_amount = 0;
    ASSERT_EQ(item["tick_size"].get_double().get(tick), simdjson::SUCCESS);
    ASSERT_EQ(item["min_trade_amount"].get_double().get(min_amount), simdjson::SUCCESS);
    EXPECT_EQ(static_cast<double>(inst->tick) / pow10(inst->price_decimals), tick);
    EXPECT_EQ(static_cast<double>(inst->lot) / pow10(inst->qty_decimals), min_amount);
    EXPECT_TRUE(inst->price_decimals == 0 || inst->tick % 10 != 0);
    EXPECT_TRUE(inst->qty_decimals == 0 || inst->lot % 10 != 0);
    EXPECT_EQ(inst->min_qty, inst->lot);

    std::int64_t expiration = 0;
    ASSERT_EQ(item["expiration_timestamp"].get_int64().get(expiration), simdjson::SUCCESS);
    if (inst->kind == InstrumentKind::Perpetual) {
      EXPECT_EQ(inst->expiry, 0U);
    } else {
      EXPECT_EQ(inst->expiry, v.expiry);
      EXPECT_EQ(inst->expiry, utc_date(expiration));
    }
    if (inst->kind == InstrumentKind::Option) {
      double strike = 0;
      ASSERT_EQ(item["strike"].get_double().get(strike), simdjson::SUCCESS);
      EXPECT_EQ(inst->strike, v.strike);
      EXPECT_EQ(std::stod(inst->strike), strike);
      EXPECT_EQ(inst->option_right, dom_str(item["option_type"]) == "call" ? 'C' : 'P');
      EXPECT_EQ(inst->option_right, v.right);
    } else {
      EXPECT_TRUE(inst->strike.empty());
      EXPECT_EQ(inst->option_right, 0);
    }
  });
  EXPECT_EQ(loaded_, elements); // no combos in these responses: every element is registered
  EXPECT_EQ(registry_.size(), elements);
  EXPECT_TRUE(registry_.has_metadata(Venue::Deribit));
  EXPECT_EQ(kinds.size(), 3U);     // options, futures, perpetuals
  EXPECT_EQ(contracts.size(), 2U); // inverse (coin-settled) and linear (USDC)
}

// Values as the responses write them (quoted in each comment), in exact decimals.
TEST_F(DeribitMetadataTest, ScalesOfSomeInstrumentsAsTheResponseWritesThem) {
  struct Case {
    const char *native;
    const char *canonical;
    std::uint8_t price_dp;
    std::int64_t tick;
    std::uint8_t qty_dp;
    std::int64_t lot;
    ContractType contract;
  };
  const Case cases[] = {
      // "tick_size":0.5, "min_trade_amount":10.0, no future_type (2021): inverse
      {"BTC-PERPETUAL", "BTC-USD-PERP", 1, 5, 0, 10, ContractType::Inverse},
      // "tick_size":0.05, "min_trade_amount":1
      {"ETH-24SEP21", "ETH-USD-20210924", 2, 5, 0, 1, ContractType::Inverse},
      // "tick_size":0.0005, "strike":40000.0, "option_type":"put", "min_trade_amount":0.1
      {"BTC-24SEP21-40000-P", "BTC-USD-20210924-40000-P", 4, 5, 1, 1, ContractType::Inverse},
      // "tick_size":0.01, "min_trade_amount":10.0, "future_type":"reversed"
      {"SOL-PERPETUAL", "SOL-USD-PERP", 2, 1, 0, 10, ContractType::Inverse},
      // "tick_size":1e-05, "min_trade_amount":100, "future_type":"linear"
      {"DOGE_USDC-PERPETUAL", "DOGE-USDC-PERP", 5, 1, 0, 100, ContractType::Linear},
      // "tick_size":1.0, "min_trade_amount":0.001
      {"BTC_USDC-PERPETUAL", "BTC-USDC-PERP", 0, 1, 3, 1, ContractType::Linear},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.native);
    const Instrument *inst = registry_.find(Venue::Deribit, c.native);
    ASSERT_NE(inst, nullptr);
    EXPECT_EQ(inst->canonical, c.canonical);
    EXPECT_EQ(inst->price_decimals, c.price_dp);
    EXPECT_EQ(inst->tick, c.tick);
    EXPECT_EQ(inst->qty_decimals, c.qty_dp);
    EXPECT_EQ(inst->lot, c.lot);
    EXPECT_EQ(inst->contract, c.contract);
  }
}

// cryptofeed names the subscribed options "BTC-8000-21U24-put" (base, strike, year, month
// code, day, right): the same instruments under our canonical names.
TEST_F(DeribitMetadataTest, NamesOfTheCaptureMatchCryptofeedsConfiguration) {
  const std::string months = "FGHJKMNQUVXZ";
  std::size_t checked = 0;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(kMeta)) {
    if (l.kind != RecordKind::Config)
      continue;
    simdjson::dom::element cfg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(cfg), simdjson::SUCCESS);
    for (const simdjson::dom::element n : dom_arr(cfg["l2_book"])) {
      const std::vector<std::string> p = split(dom_str(n), '-');
      ASSERT_EQ(p.size(), 4U);
      char date[16];
      std::snprintf(date, sizeof date, "20%s%02zu%s", p[2].substr(0, 2).c_str(),
                    months.find(p[2][2]) + 1, p[2].substr(3).c_str());
      const std::string canonical =
          p[0] + "-USD-" + date + "-" + p[1] + "-" + (p[3] == "call" ? "C" : "P");
      EXPECT_NE(registry_.find_canonical(Venue::Deribit, canonical), nullptr) << canonical;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 10U);
}

// The names assumed for an instrument seen without metadata (from its name) agree with the
// metadata for every instrument of every response.
TEST_F(DeribitMetadataTest, DefaultInstrumentsAgreeWithTheMetadataOnEveryName) {
  ASSERT_GT(registry_.size(), 1000U);
  for (std::uint32_t id = 0; id < registry_.size(); ++id) {
    const Instrument &known = registry_.at(id);
    const Instrument guessed = deribit_default_instrument(Venue::Deribit, known.native);
    SCOPED_TRACE(known.native);
    EXPECT_EQ(guessed.canonical, known.canonical);
    EXPECT_EQ(guessed.kind, known.kind);
    EXPECT_EQ(guessed.contract, known.contract);
    EXPECT_EQ(guessed.base, known.base);
    EXPECT_EQ(guessed.quote, known.quote);
    EXPECT_EQ(guessed.expiry, known.expiry);
    EXPECT_EQ(guessed.strike, known.strike);
    EXPECT_EQ(guessed.option_right, known.option_right);
    EXPECT_FALSE(guessed.from_metadata);
    EXPECT_EQ(guessed.price_decimals, InstrumentRegistry::kDefaultDecimals);
  }
}

// A response cut short (mechanically: the last 200 bytes removed) registers nothing and does
// not mark Deribit metadata as loaded; so does a response without a result list.
TEST_F(DeribitMetadataTest, RegistersNothingFromATruncatedOrErrorResponse) {
  InstrumentRegistry registry;
  for (const Record &l : responses_) {
    const std::string cut(l.payload.substr(0, l.payload.size() - 200));
    EXPECT_EQ(load_deribit_instruments(cut, registry), 0U);
  }
  // The subscribe response of the ws capture: valid JSON-RPC, but a list of channel names.
  for (const Record &l : read_capture("deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz"))
    if (l.kind == RecordKind::WsText && l.payload.find("\"result\":") != std::string_view::npos) {
      EXPECT_EQ(load_deribit_instruments(l.payload, registry), 0U);
    }
  EXPECT_EQ(registry.size(), 0U);
  EXPECT_FALSE(registry.has_metadata(Venue::Deribit));
}

} // namespace
} // namespace fh::venues
