// labels: unit replay
// Canonical instrument names over every recorded metadata response in data/ (PROVENANCE.md
// section 3), loaded through the same loaders the live engine uses. DESIGN.md's grammar:
// BASE-QUOTE spot, BASE-QUOTE-PERP perpetual, BASE-QUOTE-YYYYMMDD dated future,
// BASE-QUOTE-YYYYMMDD-STRIKE-C|P option. Checked three ways:
//   1. every name parses by that grammar and agrees with the instrument's own fields (kind,
//      expiry, strike, right, base, quote), which the loaders fill from other JSON fields;
//   2. instruments that are the same contract on different venues (same base, quote, kind,
//      contract type, expiry, strike and right) share one name;
//   3. a table of well-known listings, written from the venues' own native symbols in the
//      responses (BTCUSDT, BTC_USDT, btcusdt, XBT/USD, BTC-PERPETUAL, BTCUSD_PERP, ...), gets
//      the names a user would look up.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "feedhandler/replay.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh {
namespace {

struct MetadataFile {
  const char* path;
  std::optional<Venue> venue; // forced where one response serves several venue ids
};

// Every metadata response in the corpus (REST snapshot files are not metadata).
const MetadataFile kFiles[] = {
    {"binance/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz", std::nullopt},
    {"binance/cryptofeed/spot_2021-08-14_exchangeInfo_http.txt.gz", std::nullopt},
    {"binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz", std::nullopt},
    {"binance/cryptofeed/coinm_2021-07-22_exchangeInfo_http.txt.gz", std::nullopt},
    {"binance_us/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz", std::nullopt},
    {"okx/cryptofeed/instruments_2021-07-22_http.txt.gz", std::nullopt},
    {"okx/cryptofeed/instruments_2022-02-27_http.txt.gz", std::nullopt},
    {"kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz", std::nullopt},
    {"coinbase/cryptofeed/products_2021-04-17_http.txt.gz", std::nullopt},
    {"bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz", Venue::BybitLinear},
    {"bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz", Venue::BybitInverse},
    {"deribit/cryptofeed/instruments_2021-07-22_http.txt.gz", std::nullopt},
    {"bitfinex/cryptofeed/conf_lists_2021-04-17_http.txt.gz", std::nullopt},
    {"gateio/cryptofeed/spot_currency_pairs_2021-04-22_http.txt.gz", std::nullopt},
    {"kucoin/cryptofeed/symbols_2021-04-25_http.txt.gz", std::nullopt},
    {"huobi/cryptofeed/symbols_2021-04-17_http.txt.gz", std::nullopt},
    {"upbit/cryptofeed/market_all_2021-04-17_http.txt.gz", std::nullopt},
    {"bithumb/cryptofeed/ticker_all_2021-06-01_http.txt.gz", std::nullopt},
};

struct Loaded {
  std::string file;
  Instrument inst;
};

class CanonicalNamesTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    all_ = new std::vector<Loaded>();
    for (const auto& f : kFiles) {
      ReplayOptions o;
      o.progress = false;
      o.venue = f.venue;
      auto r = Replay::open({test::data_path(f.path)}, o);
      ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Replay>>(r))
          << f.path << ": " << std::get<std::string>(r);
      const auto& replay = *std::get<std::unique_ptr<Replay>>(r);
      const InstrumentRegistry& reg = replay.registry();
      std::size_t from_file = 0;
      for (std::size_t i = 0; i < reg.size(); ++i) {
        const Instrument& inst = reg.at(static_cast<std::uint32_t>(i));
        if (!inst.from_metadata) continue;
        all_->push_back({f.path, inst});
        ++from_file;
      }
      EXPECT_GT(from_file, 0u) << f.path << ": no instrument loaded from the response";
      counts_[f.path] += from_file;
    }
  }
  static void TearDownTestSuite() {
    delete all_;
    all_ = nullptr;
  }
  static const Instrument* find(Venue v, const std::string& native) {
    for (const auto& l : *all_)
      if (l.inst.venue == v && l.inst.native == native) return &l.inst;
    return nullptr;
  }
  static inline std::vector<Loaded>* all_ = nullptr;
  static inline std::map<std::string, std::size_t> counts_;
};

bool is_asset(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s)
    // Kraken's staking assets carry a dot (ETH2.S): the venue's asset code, kept as it is.
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '.'))
      return false;
  return true;
}

bool is_date(const std::string& s) {
  if (s.size() != 8) return false;
  for (const char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  const int month = std::stoi(s.substr(4, 2)), day = std::stoi(s.substr(6, 2));
  return s.substr(0, 2) == "20" && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::vector<std::string> split_dash(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '-') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

TEST_F(CanonicalNamesTest, EveryNameFollowsTheGrammarAndAgreesWithTheInstrumentsFields) {
  ASSERT_GT(all_->size(), 5000u); // full instrument lists from 13 venues
  std::size_t checked = 0;
  for (const auto& [file, inst] : *all_) {
    const auto parts = split_dash(inst.canonical);
    SCOPED_TRACE(file + " " + std::string(venue_name(inst.venue)) + " " + inst.native + " -> " +
                 inst.canonical);
    ASSERT_GE(parts.size(), 2u);
    EXPECT_TRUE(is_asset(parts[0]));
    EXPECT_TRUE(is_asset(parts[1]));
    EXPECT_EQ(parts[0], inst.base);
    EXPECT_EQ(parts[1], inst.quote);
    switch (inst.kind) {
    case InstrumentKind::Spot:
      EXPECT_EQ(parts.size(), 2u);
      EXPECT_EQ(inst.contract, ContractType::None);
      break;
    case InstrumentKind::Perpetual:
      ASSERT_EQ(parts.size(), 3u);
      EXPECT_EQ(parts[2], "PERP");
      EXPECT_NE(inst.contract, ContractType::None);
      break;
    case InstrumentKind::Future:
      ASSERT_EQ(parts.size(), 3u);
      EXPECT_TRUE(is_date(parts[2]));
      EXPECT_EQ(parts[2], std::to_string(inst.expiry));
      EXPECT_NE(inst.contract, ContractType::None);
      break;
    case InstrumentKind::Option:
      ASSERT_EQ(parts.size(), 5u);
      EXPECT_TRUE(is_date(parts[2]));
      EXPECT_EQ(parts[2], std::to_string(inst.expiry));
      EXPECT_EQ(parts[3], inst.strike);
      ASSERT_EQ(parts[4].size(), 1u);
      EXPECT_EQ(parts[4][0], inst.option_right);
      EXPECT_TRUE(inst.option_right == 'C' || inst.option_right == 'P');
      break;
    }
    EXPECT_GT(inst.tick, 0);
    EXPECT_GT(inst.lot, 0);
    ++checked;
  }
  EXPECT_EQ(checked, all_->size());
}

// One contract, one name: group by what the instrument is, not by what it is called.
TEST_F(CanonicalNamesTest, TheSameContractOnDifferentVenuesHasOneName) {
  using Key = std::tuple<std::string, std::string, int, int, std::uint32_t, std::string, char>;
  std::map<Key, std::set<std::string>> names;
  std::map<Key, std::set<std::string>> venues;
  for (const auto& [file, inst] : *all_) {
    const Key k{inst.base, inst.quote, static_cast<int>(inst.kind), static_cast<int>(inst.contract),
                inst.expiry, inst.strike, inst.option_right};
    names[k].insert(inst.canonical);
    venues[k].insert(std::string(venue_name(inst.venue)));
  }
  std::size_t shared = 0;
  for (const auto& [k, n] : names) {
    EXPECT_EQ(n.size(), 1u) << *n.begin() << " and " << *n.rbegin();
    shared += venues[k].size() > 1;
  }
  EXPECT_GT(shared, 300u); // many listings exist on several venues (e.g. BTC-USDT on 8)
}

TEST_F(CanonicalNamesTest, WellKnownListingsGetTheNamesAUserLooksUp) {
  struct Case {
    Venue venue;
    const char* native;
    const char* canonical;
  };
  const Case cases[] = {
      // BTC against USDT, spot, on every venue that lists it.
      {Venue::BinanceSpot, "BTCUSDT", "BTC-USDT"},
      {Venue::BinanceUs, "BTCUSDT", "BTC-USDT"},
      {Venue::Okx, "BTC-USDT", "BTC-USDT"},
      {Venue::GateIo, "BTC_USDT", "BTC-USDT"},
      {Venue::Kucoin, "BTC-USDT", "BTC-USDT"},
      {Venue::Huobi, "btcusdt", "BTC-USDT"},
      {Venue::Upbit, "USDT-BTC", "BTC-USDT"},
      // BTC against USD, spot: Kraken's XBT is BTC.
      {Venue::Kraken, "XBT/USD", "BTC-USD"},
      {Venue::Coinbase, "BTC-USD", "BTC-USD"},
      {Venue::Okx, "BTC-USD", "BTC-USD"}, // not in OKX's 2021 spot list: skipped if absent
      // Linear perpetuals.
      {Venue::BinanceUsdm, "BTCUSDT", "BTC-USDT-PERP"},
      {Venue::Okx, "BTC-USDT-SWAP", "BTC-USDT-PERP"},
      {Venue::BybitLinear, "BTCUSDT", "BTC-USDT-PERP"},
      // Inverse perpetuals settle in the coin and are quoted in USD.
      {Venue::BinanceCoinm, "BTCUSD_PERP", "BTC-USD-PERP"},
      {Venue::Okx, "BTC-USD-SWAP", "BTC-USD-PERP"},
      {Venue::Deribit, "BTC-PERPETUAL", "BTC-USD-PERP"},
      {Venue::BybitInverse, "BTCUSD", "BTC-USD-PERP"},
      // The same dated inverse future on three venues.
      {Venue::BinanceCoinm, "ETHUSD_210924", "ETH-USD-20210924"},
      {Venue::Okx, "ETH-USD-210924", "ETH-USD-20210924"},
      {Venue::Deribit, "ETH-24SEP21", "ETH-USD-20210924"},
      // KRW markets.
      {Venue::Upbit, "KRW-BTC", "BTC-KRW"},
  };
  std::size_t found = 0;
  for (const auto& c : cases) {
    const Instrument* inst = find(c.venue, c.native);
    if (inst == nullptr && c.venue == Venue::Okx && std::string(c.native) == "BTC-USD") continue;
    ASSERT_NE(inst, nullptr) << venue_name(c.venue) << " " << c.native;
    EXPECT_EQ(inst->canonical, c.canonical) << venue_name(c.venue) << " " << c.native;
    ++found;
  }
  EXPECT_GE(found, 20u);
  // Inverse and linear are told apart even where the name alone would not say it.
  EXPECT_EQ(find(Venue::BinanceCoinm, "BTCUSD_PERP")->contract, ContractType::Inverse);
  EXPECT_EQ(find(Venue::BinanceUsdm, "BTCUSDT")->contract, ContractType::Linear);
  EXPECT_EQ(find(Venue::Deribit, "BTC-PERPETUAL")->contract, ContractType::Inverse);
}

} // namespace
} // namespace fh
