// labels: unit replay
// Binance exchangeInfo loading and default instruments, over the recorded exchangeInfo
// responses in data/. Expected names come from the recorder's own configuration line at the
// end of each file (cryptofeed's names, mapped to ours here by an independent rule) and from
// the subscribed stream names; tick/lot/exponents from the filters read with simdjson DOM.
#include <gtest/gtest.h>
#include <zlib.h>

#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/binance.hpp"

namespace fh::venues {
namespace {

std::string data_path(std::string_view rel) {
  return std::string(FH_DATA_DIR) + "/" + std::string(rel);
}

std::vector<std::string> gz_lines(const std::string &path) {
  std::vector<std::string> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr)
    return lines;
  std::vector<char> buf(1 << 16);
  std::string line;
  while (gzgets(f, buf.data(), static_cast<int>(buf.size())) != nullptr) {
    line.append(buf.data());
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty())
    lines.push_back(std::move(line));
  gzclose(f);
  return lines;
}

// "<url> -> <t>: <body>" -> body.
std::string_view rest_body(std::string_view line) {
  const auto arrow = line.find(" -> ");
  if (arrow == std::string_view::npos)
    return {};
  const auto colon = line.find(": ", arrow);
  return colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 2);
}

struct Capture {
  const char *exchange_info;
  const char *ws;
  Venue venue;
};

const Capture kCaptures[] = {
    {"binance/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz",
     "binance/cryptofeed/spot_2021-10-12_ws.txt.gz", Venue::BinanceSpot},
    {"binance/cryptofeed/spot_2021-08-14_exchangeInfo_http.txt.gz",
     "binance/cryptofeed/spot_2021-08-14_ws.txt.gz", Venue::BinanceSpot},
    {"binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz",
     "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz", Venue::BinanceUsdm},
    {"binance/cryptofeed/coinm_2021-07-22_exchangeInfo_http.txt.gz",
     "binance/cryptofeed/coinm_2021-07-22_ws.txt.gz", Venue::BinanceCoinm},
    {"binance_us/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz",
     "binance_us/cryptofeed/spot_2021-10-12_ws.txt.gz", Venue::BinanceUs},
};

// Native symbols subscribed on the recorded connection, from its URL (first line):
// "wss://...stream?streams=nknusdt@depth@100ms/blzeth@depth@100ms/... <-> t".
std::set<std::string> subscribed_natives(const std::string &ws_rel) {
  std::set<std::string> out;
  const std::vector<std::string> lines = gz_lines(data_path(ws_rel));
  if (lines.empty())
    return out;
  std::string_view url = lines[0];
  url = url.substr(0, url.find(' '));
  url = url.substr(url.find("streams=") + 8);
  while (!url.empty()) {
    const auto slash = url.find('/');
    const std::string_view stream = url.substr(0, slash);
    std::string sym(stream.substr(0, stream.find('@')));
    std::transform(sym.begin(), sym.end(), sym.begin(),
                   [](char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c); });
    out.insert(sym);
    url = slash == std::string_view::npos ? std::string_view{} : url.substr(slash + 1);
  }
  return out;
}

// cryptofeed's l2_book symbol list from the "configuration: {...}" line.
std::vector<std::string> cryptofeed_names(const std::vector<std::string> &lines) {
  std::vector<std::string> names;
  for (const std::string &line : lines) {
    if (line.rfind("configuration: ", 0) != 0)
      continue;
    simdjson::dom::parser dom;
    const simdjson::padded_string padded(std::string_view(line).substr(15));
    simdjson::dom::array list;
    EXPECT_EQ(dom.parse(padded)["l2_book"].get_array().get(list), simdjson::SUCCESS);
    for (const simdjson::dom::element e : list)
      names.emplace_back(e.get_string().value_unsafe());
    break;
  }
  return names;
}

// cryptofeed's name -> ours and the native symbol, by cryptofeed's documented convention:
// dated futures are BASE-QUOTE-YY<month letter>DD with the CME month codes.
struct Mapped {
  std::string canonical;
  std::string native;
  InstrumentKind kind;
};
Mapped map_cryptofeed(const std::string &name, Venue venue) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dash = name.find('-', start);
    parts.push_back(name.substr(start, dash - start));
    if (dash == std::string::npos)
      break;
    start = dash + 1;
  }
  Mapped m;
  const std::string pair = parts[0] + parts[1];
  if (parts.size() == 2) {
    m = {parts[0] + "-" + parts[1], pair, InstrumentKind::Spot};
  } else if (parts[2] == "PERP") {
    m = {name, venue == Venue::BinanceCoinm ? pair + "_PERP" : pair, InstrumentKind::Perpetual};
  } else {
    const std::string &code = parts[2]; // "21Z31"
    const std::string months = "FGHJKMNQUVXZ";
    const auto month = months.find(code[2]) + 1;
    const std::string mm = (month < 10 ? "0" : "") + std::to_string(month);
    const std::string yymmdd = code.substr(0, 2) + mm + code.substr(3, 2);
    m = {parts[0] + "-" + parts[1] + "-20" + yymmdd, pair + "_" + yymmdd, InstrumentKind::Future};
  }
  return m;
}

// Decimals of a step text, counted by hand: digits after '.' up to the last non-zero one.
int step_decimals(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos)
    return 0;
  int last = 0;
  for (std::size_t i = dot + 1; i < text.size(); ++i)
    if (text[i] != '0')
      last = static_cast<int>(i - dot);
  return last;
}

// A step text as a mantissa at `dp` decimals, by string surgery.
std::int64_t step_mantissa(std::string_view text, int dp) {
  const auto dot = text.find('.');
  std::string digits(text.substr(0, dot));
  const std::string frac(dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1));
  for (int i = 0; i < dp; ++i)
    digits += static_cast<std::size_t>(i) < frac.size() ? frac[static_cast<std::size_t>(i)] : '0';
  return std::stoll(digits);
}

class BinanceMetadataTest : public ::testing::Test {
protected:
  std::size_t load(const Capture &c, InstrumentRegistry &reg) {
    std::size_t n = 0;
    for (const std::string &line : gz_lines(data_path(c.exchange_info)))
      if (const std::string_view body = rest_body(line); !body.empty())
        n += load_binance_exchange_info(body, c.venue, reg);
    return n;
  }
  // The exchangeInfo "symbols" array, read with the DOM (kept alive by the members).
  simdjson::dom::array symbols(const Capture &c) {
    for (const std::string &line : gz_lines(data_path(c.exchange_info)))
      if (const std::string_view body = rest_body(line); !body.empty())
        body_ = simdjson::padded_string(body);
    simdjson::dom::array arr;
    EXPECT_EQ(dom_.parse(body_)["symbols"].get_array().get(arr), simdjson::SUCCESS);
    return arr;
  }

  simdjson::dom::parser dom_;
  simdjson::padded_string body_;
};

TEST_F(BinanceMetadataTest, LoadsEverySymbolAndMarksTheVenue) {
  for (const Capture &c : kCaptures) {
    SCOPED_TRACE(c.exchange_info);
    InstrumentRegistry reg;
    EXPECT_FALSE(reg.has_metadata(c.venue));
    const std::size_t n = load(c, reg);
    EXPECT_EQ(n, symbols(c).size());
    EXPECT_EQ(reg.size(), n);
    EXPECT_TRUE(reg.has_metadata(c.venue));
    for (std::uint32_t id = 0; id < reg.size(); ++id) {
      EXPECT_TRUE(reg.at(id).from_metadata);
      EXPECT_EQ(reg.at(id).venue, c.venue);
    }
  }
}

// cryptofeed recorded which symbols it subscribed (its own names); each must resolve, by
// native symbol and by our canonical name, to the same instrument.
TEST_F(BinanceMetadataTest, CanonicalNamesMatchTheRecordersConfiguration) {
  for (const Capture &c : kCaptures) {
    SCOPED_TRACE(c.exchange_info);
    InstrumentRegistry reg;
    ASSERT_GT(load(c, reg), 0u);
    const std::vector<std::string> names = cryptofeed_names(gz_lines(data_path(c.exchange_info)));
    const std::set<std::string> natives = subscribed_natives(c.ws);
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names.size(), natives.size());
    for (const std::string &name : names) {
      const Mapped m = map_cryptofeed(name, c.venue);
      EXPECT_EQ(natives.count(m.native), 1u) << name << " -> " << m.native;
      const Instrument *by_native = reg.find(c.venue, m.native);
      ASSERT_NE(by_native, nullptr) << m.native;
      EXPECT_EQ(by_native->canonical, m.canonical) << name;
      EXPECT_EQ(by_native->kind, m.kind) << name;
      EXPECT_EQ(reg.find_canonical(c.venue, m.canonical), by_native) << m.canonical;
    }
  }
}

// Exponents: the finer of the filter step and the symbol's declared precision (the book
// keeps levels off the current grid); tick/lot are the filter steps at those exponents.
TEST_F(BinanceMetadataTest, TickLotAndExponentsComeFromTheFilters) {
  std::size_t checked = 0;
  std::size_t finer_than_tick = 0;
  for (const Capture &c : kCaptures) {
    SCOPED_TRACE(c.exchange_info);
    InstrumentRegistry reg;
    ASSERT_GT(load(c, reg), 0u);
    const bool futures = is_binance_futures(c.venue);
    for (const simdjson::dom::element s : symbols(c)) {
      const std::string_view native = s["symbol"].get_string().value_unsafe();
      std::string_view tick;
      std::string_view step;
      const simdjson::dom::array filters = s["filters"].get_array().value_unsafe();
      for (const simdjson::dom::element f : filters) {
        const std::string_view type = f["filterType"].get_string().value_unsafe();
        if (type == "PRICE_FILTER")
          tick = f["tickSize"].get_string().value_unsafe();
        else if (type == "LOT_SIZE")
          step = f["stepSize"].get_string().value_unsafe();
      }
      const auto price_precision = static_cast<int>(
          s[futures ? "pricePrecision" : "quotePrecision"].get_int64().value_unsafe());
      const auto qty_precision = static_cast<int>(
          s[futures ? "quantityPrecision" : "baseAssetPrecision"].get_int64().value_unsafe());
      const int price_dp = std::max(step_decimals(tick), price_precision);
      const int qty_dp = std::max(step_decimals(step), qty_precision);
      const Instrument *inst = reg.find(c.venue, native);
      ASSERT_NE(inst, nullptr) << native;
      EXPECT_EQ(inst->price_decimals, price_dp) << native;
      EXPECT_EQ(inst->qty_decimals, qty_dp) << native;
      EXPECT_EQ(inst->tick, step_mantissa(tick, price_dp)) << native << " tick " << tick;
      EXPECT_EQ(inst->lot, step_mantissa(step, qty_dp)) << native << " step " << step;
      finer_than_tick += step_decimals(tick) < price_dp ? 1U : 0U;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1695u + 1589u + 122u + 36u + 121u);
  EXPECT_GT(finer_than_tick, 0u);
}

// The symbols our captures trade, spelled out from the recorded filters: spot NKNUSDT has
// tick 0.00010000 and step 1.00000000 but precision 8 (its book has bids at 0.25974);
// USD-M CTKUSDT has tick 0.00100 and pricePrecision 5 (bids at 0.50579).
TEST_F(BinanceMetadataTest, CapturedSymbolsGetExponentsThatHoldTheirOffGridLevels) {
  InstrumentRegistry spot;
  ASSERT_GT(load(kCaptures[0], spot), 0u);
  const Instrument *nkn = spot.find(Venue::BinanceSpot, "NKNUSDT");
  ASSERT_NE(nkn, nullptr);
  EXPECT_EQ(nkn->canonical, "NKN-USDT");
  EXPECT_EQ(nkn->price_decimals, 8);
  EXPECT_EQ(nkn->tick, 10000);
  EXPECT_EQ(nkn->qty_decimals, 8);
  EXPECT_EQ(nkn->lot, 100000000);
  InstrumentRegistry usdm;
  ASSERT_GT(load(kCaptures[2], usdm), 0u);
  const Instrument *ctk = usdm.find(Venue::BinanceUsdm, "CTKUSDT");
  ASSERT_NE(ctk, nullptr);
  EXPECT_EQ(ctk->canonical, "CTK-USDT-PERP");
  EXPECT_EQ(ctk->price_decimals, 5);
  EXPECT_EQ(ctk->tick, 100);
  EXPECT_EQ(ctk->qty_decimals, 0);
  EXPECT_EQ(ctk->lot, 1);
}

// Dated contracts are named from deliveryDate (UTC); contractType says which are dated.
TEST_F(BinanceMetadataTest, DatedFuturesAreNamedFromDeliveryDate) {
  std::size_t dated = 0;
  for (const Capture &c : {kCaptures[2], kCaptures[3]}) {
    InstrumentRegistry reg;
    ASSERT_GT(load(c, reg), 0u);
    for (const simdjson::dom::element s : symbols(c)) {
      const std::string_view native = s["symbol"].get_string().value_unsafe();
      const std::string_view contract = s["contractType"].get_string().value_unsafe();
      const Instrument *inst = reg.find(c.venue, native);
      ASSERT_NE(inst, nullptr);
      const auto us = native.find('_');
      if (contract == "CURRENT_QUARTER" || contract == "NEXT_QUARTER") {
        // BTCUSD_211231 is delivered on 2021-12-31: the symbol's suffix is the delivery day.
        ASSERT_NE(us, std::string_view::npos);
        EXPECT_EQ(inst->canonical, std::string(inst->base) + "-" + inst->quote + "-20" +
                                       std::string(native.substr(us + 1)))
            << native;
        EXPECT_EQ(inst->kind, InstrumentKind::Future);
        ++dated;
      } else {
        EXPECT_EQ(inst->canonical, std::string(inst->base) + "-" + inst->quote + "-PERP") << native;
        EXPECT_EQ(inst->kind, InstrumentKind::Perpetual);
      }
    }
  }
  EXPECT_EQ(dated, 2u + 18u);
}

// Without metadata the canonical name is guessed from the native symbol. On every symbol of
// every recorded exchangeInfo the guess must agree with the metadata, except where the
// native symbol alone is ambiguous: on Binance.US, which quotes both USD and BUSD, a base
// ending in "B" before "USD" (BNBUSD) also reads as .../BUSD.
TEST_F(BinanceMetadataTest, DefaultInstrumentGuessAgreesWithExchangeInfo) {
  std::size_t compared = 0;
  std::size_t ambiguous = 0;
  for (const Capture &c : kCaptures) {
    SCOPED_TRACE(c.exchange_info);
    InstrumentRegistry reg;
    ASSERT_GT(load(c, reg), 0u);
    const std::set<std::string> natives = subscribed_natives(c.ws);
    for (std::uint32_t id = 0; id < reg.size(); ++id) {
      const Instrument &meta = reg.at(id);
      const Instrument guess = binance_default_instrument(c.venue, meta.native);
      ++compared;
      EXPECT_EQ(guess.kind, meta.kind) << meta.native;
      EXPECT_EQ(guess.price_decimals, InstrumentRegistry::kDefaultDecimals);
      EXPECT_EQ(guess.qty_decimals, InstrumentRegistry::kDefaultDecimals);
      EXPECT_FALSE(guess.from_metadata);
      const bool busd_usd = c.venue == Venue::BinanceUs && meta.quote == "USD" &&
                            meta.base.ends_with("B") && guess.quote == "BUSD";
      if (busd_usd && natives.count(meta.native) == 0) {
        ++ambiguous;
        continue;
      }
      EXPECT_EQ(guess.canonical, meta.canonical) << meta.native;
      EXPECT_EQ(guess.base, meta.base) << meta.native;
      EXPECT_EQ(guess.quote, meta.quote) << meta.native;
    }
  }
  EXPECT_EQ(compared, 1695u + 1589u + 122u + 36u + 121u);
  EXPECT_LE(ambiguous, compared / 1000);
}

TEST_F(BinanceMetadataTest, UnknownSymbolsAreRejectedOnlyOnceMetadataIsLoaded) {
  InstrumentRegistry reg;
  // Before metadata: a COIN-M symbol from the capture registers on first sight.
  EXPECT_NE(reg.resolve(Venue::BinanceUsdm, "BCHUSD_PERP", &binance_default_instrument), nullptr);
  ASSERT_GT(load(kCaptures[2], reg), 0u);
  EXPECT_EQ(reg.resolve(Venue::BinanceUsdm, "XRPUSD_PERP", &binance_default_instrument), nullptr);
  EXPECT_NE(reg.resolve(Venue::BinanceUsdm, "SUSHIUSDT", &binance_default_instrument), nullptr);
}

// A real response that is not an exchangeInfo (a depth snapshot) loads nothing and leaves
// the venue without metadata.
TEST_F(BinanceMetadataTest, OtherResponsesLoadNothing) {
  InstrumentRegistry reg;
  for (const std::string &line :
       gz_lines(data_path("binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz"))) {
    if (const std::string_view body = rest_body(line); !body.empty()) {
      EXPECT_EQ(load_binance_exchange_info(body, Venue::BinanceSpot, reg), 0u);
    }
  }
  EXPECT_EQ(load_binance_exchange_info("", Venue::BinanceSpot, reg), 0u);
  EXPECT_FALSE(reg.has_metadata(Venue::BinanceSpot));
  EXPECT_EQ(reg.size(), 0u);
}

} // namespace
} // namespace fh::venues
