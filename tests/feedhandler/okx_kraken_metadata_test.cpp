// labels: unit replay
// OKX and Kraken metadata loaders over the recorded REST responses (PROVENANCE.md section 3).
// Canonical names are checked against fields the loaders do not use for them (OKX: uly,
// baseCcy/quoteCcy, expTime as a UTC date, stk, optType; Kraken: the legacy base/quote asset
// codes) and against the names cryptofeed itself used (the `configuration:` line).
#include <gtest/gtest.h>
#include <zlib.h>

#include <charconv>
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

namespace fh::venues {
namespace {

// ---- capture reading (cryptofeed raw format, PROVENANCE.md section 1.A) -------------------
struct Line {
  enum class Kind { Open, Sent, Received, Http, Config } kind;
  std::string url;
  std::string text; // payload followed by SIMDJSON_PADDING zero bytes
  std::size_t size = 0;
  int number = 0; // 1-based line number in the file
  std::string_view view() const { return {text.data(), size}; }
};

Line make_line(Line::Kind kind, std::string url, std::string_view payload, int number) {
  Line l{kind, std::move(url), std::string(payload), payload.size(), number};
  l.text.append(simdjson::SIMDJSON_PADDING, '\0');
  return l;
}

std::vector<Line> read_capture(const std::string &path) {
  std::vector<Line> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "cannot open " << path;
    return lines;
  }
  std::string current;
  char buf[1 << 16];
  int number = 0;
  bool more = true;
  while (more) {
    more = gzgets(f, buf, sizeof buf) != nullptr;
    if (more) {
      current += buf;
      if (current.back() != '\n')
        continue;
      current.pop_back();
    } else if (current.empty()) {
      break;
    }
    ++number;
    std::string_view s = current;
    if (s.empty()) {
    } else if (s.substr(0, 15) == "configuration: ") {
      lines.push_back(make_line(Line::Kind::Config, {}, s.substr(15), number));
    } else if (s.substr(0, 2) == "ws" || s.substr(0, 4) == "http") {
      const std::size_t sp = s.find(' ');
      std::string url(s.substr(0, sp));
      const std::string_view rest = s.substr(sp + 1);
      const std::size_t colon = rest.find(": ");
      const std::string_view body =
          colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 2);
      if (rest.substr(0, 3) == "<->")
        lines.push_back(make_line(Line::Kind::Open, url, {}, number));
      else if (rest.substr(0, 2) == "<-")
        lines.push_back(make_line(Line::Kind::Sent, url, body, number));
      else if (rest.substr(0, 2) == "->")
        lines.push_back(make_line(Line::Kind::Http, url, body, number));
      else
        ADD_FAILURE() << path << ":" << number << " unknown url line";
    } else {
      const std::size_t colon = s.find(": ");
      EXPECT_NE(colon, std::string_view::npos) << path << ":" << number;
      lines.push_back(make_line(Line::Kind::Received, {}, s.substr(colon + 2), number));
    }
    current.clear();
  }
  gzclose(f);
  return lines;
}

std::string data_path(const char *rel) {
  return std::string(FH_DATA_DIR) + "/" + rel;
}

// ---- independent oracles ---------------------------------------------------------------------
// Text -> mantissa without the production parser: integer and fraction digits, the fraction
// padded or cut to `decimals` (cut digits must be zeros), read with std::from_chars.
std::optional<std::int64_t> ref_mantissa(std::string_view s, int decimals) {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  const std::size_t dot = s.find('.');
  std::string digits(s.substr(0, dot));
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  while (static_cast<int>(frac.size()) > decimals) {
    if (frac.back() != '0')
      return std::nullopt;
    frac.pop_back();
  }
  frac.append(static_cast<std::size_t>(decimals) - frac.size(), '0');
  digits += frac;
  std::int64_t v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
    return std::nullopt;
  return negative ? -v : v;
}
int significant_decimals(std::string_view s) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos)
    return 0;
  std::size_t end = s.size();
  while (end > dot + 1 && s[end - 1] == '0')
    --end;
  return static_cast<int>(end - dot - 1);
}
std::string_view dom_str(simdjson::dom::element e) {
  std::string_view s;
  EXPECT_EQ(e.get_string().get(s), simdjson::SUCCESS);
  return s;
}
std::string_view dom_str(simdjson::simdjson_result<simdjson::dom::element> r) {
  std::string_view s;
  EXPECT_EQ(r.get_string().get(s), simdjson::SUCCESS);
  return s;
}
simdjson::dom::array dom_arr(simdjson::simdjson_result<simdjson::dom::element> r) {
  simdjson::dom::array a;
  EXPECT_EQ(r.get_array().get(a), simdjson::SUCCESS);
  return a;
}

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

std::set<std::string> config_l2_book(const std::vector<Line> &lines) {
  std::set<std::string> names;
  simdjson::dom::parser dom;
  for (const Line &l : lines) {
    if (l.kind != Line::Kind::Config)
      continue;
    simdjson::dom::element cfg;
    EXPECT_EQ(dom.parse(l.text.data(), l.size, false).get(cfg), simdjson::SUCCESS);
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
    const std::vector<Line> lines = read_capture(data_path(file));
    for (const Line &l : lines) {
      if (l.kind != Line::Kind::Http)
        continue;
      simdjson::dom::element body;
      ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(body), simdjson::SUCCESS);
      const simdjson::dom::array data = dom_arr(body["data"]);
      EXPECT_EQ(load_okx_instruments(l.view(), registry), data.size()) << l.url;
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
    for (const Line &l : read_capture(data_path(file))) {
      if (l.kind != Line::Kind::Http || l.url.find("instType=SPOT") == std::string::npos)
        continue;
      ASSERT_GT(load_okx_instruments(l.view(), registry), 0U);
      simdjson::dom::element body;
      ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(body), simdjson::SUCCESS);
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
    const std::vector<Line> meta = read_capture(data_path(kOkxMeta[k]));
    for (const Line &l : meta)
      if (l.kind == Line::Kind::Http)
        load_okx_instruments(l.view(), registry);
    // The book subscriptions the recorder sent.
    std::set<std::string> subscribed;
    simdjson::dom::parser dom;
    for (const Line &l : read_capture(data_path(kOkxWs[k]))) {
      if (l.kind != Line::Kind::Sent)
        continue;
      simdjson::dom::element msg;
      ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(msg), simdjson::SUCCESS);
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
  for (const Line &l : read_capture(data_path(kKrakenMeta))) {
    if (l.kind != Line::Kind::Http)
      continue;
    simdjson::dom::element body;
    ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(body), simdjson::SUCCESS);
    simdjson::dom::object result;
    ASSERT_EQ(body["result"].get_object().get(result), simdjson::SUCCESS);
    for (const auto [key, pair] : result)
      with_wsname += pair["wsname"].error() == simdjson::SUCCESS ? 1U : 0U;
    EXPECT_EQ(load_kraken_asset_pairs(l.view(), registry), with_wsname);
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
  const std::vector<Line> meta = read_capture(data_path(kKrakenMeta));
  for (const Line &l : meta)
    if (l.kind == Line::Kind::Http)
      load_kraken_asset_pairs(l.view(), registry);
  std::set<std::string> ours;
  simdjson::dom::parser dom;
  for (const Line &l : read_capture(data_path(kKrakenWs))) {
    if (l.kind != Line::Kind::Sent)
      continue;
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.text.data(), l.size, false).get(msg), simdjson::SUCCESS);
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
    for (const Line &l : read_capture(data_path(file))) {
      if (l.kind != Line::Kind::Http)
        continue;
      InstrumentRegistry registry;
      const std::string cut(l.view().substr(0, l.size / 2));
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
