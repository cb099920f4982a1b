// labels: unit replay
// L2Book against an independent std::map model, on real data: a Binance REST depth snapshot
// (cryptofeed spot 2021-10-12) and the full USD-M BTCUSDT depth@0ms stream of the
// hftbacktest capture (inline snapshot + every update), compared after every level update.
// Chunk-boundary tests push erases, inserts, truncations and pool growth through every
// offset of the book's chunks with the same real levels.
// Levels are read with simdjson DOM here; nothing is hand-written.
#include "book/l2_book.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.hpp"

namespace fh::book {
namespace {

std::string read_gz(const std::string &rel) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr)
    return {};
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return all;
}

std::vector<std::string_view> lines_of(const std::string &all) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    out.emplace_back(all.data() + start, end - start);
    start = end + 1;
  }
  return out;
}

struct Update {
  Side side;
  Level level;
};

int text_dp(std::string_view s) {
  const auto dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

// Appends the [price, qty] pairs of `levels` (Binance shape) as updates.
bool append_levels(simdjson::dom::array levels, Side side, std::uint8_t pdp, std::uint8_t qdp,
                   std::vector<Update> &out) {
  for (simdjson::dom::element lv : levels) {
    std::string_view px;
    std::string_view qty;
    ParsedDecimal p{};
    ParsedDecimal q{};
    if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(qty) ||
        parse_decimal(px, pdp, p) != DecimalError::Ok ||
        parse_decimal(qty, qdp, q) != DecimalError::Ok)
      return false;
    out.push_back({side, Level{p.mantissa, q.mantissa, 0, p.text_decimals, q.text_decimals}});
  }
  return true;
}

// Independent model: bids keyed high -> low, asks low -> high (best first in both).
struct Model {
  std::map<std::int64_t, Level, std::greater<>> bids;
  std::map<std::int64_t, Level> asks;
  bool absent_delete = false; // last apply deleted a level that was not there

  void apply(Side side, const Level &l) {
    auto go = [&](auto &m) {
      absent_delete = false;
      if (l.qty == 0) {
        absent_delete = m.erase(l.price) == 0;
      } else {
        m[l.price] = l;
      }
    };
    if (side == Side::Bid)
      go(bids);
    else
      go(asks);
  }
  std::size_t depth(Side side) const { return side == Side::Bid ? bids.size() : asks.size(); }
  bool crossed() const {
    return !bids.empty() && !asks.empty() && bids.begin()->first >= asks.begin()->first;
  }
};

bool same(const Level &a, const Level &b) {
  return a.price == b.price && a.qty == b.qty && a.orders == b.orders &&
         a.price_text_dp == b.price_text_dp && a.qty_text_dp == b.qty_text_dp;
}

::testing::AssertionResult equal_to_model(const L2Book &book, const Model &model,
                                          std::size_t max_levels) {
  for (const Side side : {Side::Bid, Side::Ask}) {
    if (book.depth(side) != model.depth(side))
      return ::testing::AssertionFailure()
             << "depth " << book.depth(side) << " vs model " << model.depth(side);
    std::size_t i = 0;
    auto check = [&](const auto &m) -> ::testing::AssertionResult {
      for (const auto &[price, level] : m) {
        if (i == max_levels)
          break;
        if (!same(book.at(side, i), level))
          return ::testing::AssertionFailure()
                 << (side == Side::Bid ? "bid" : "ask") << " level " << i << " price "
                 << book.at(side, i).price << " vs model " << price;
        ++i;
      }
      return ::testing::AssertionSuccess();
    };
    auto r = side == Side::Bid ? check(model.bids) : check(model.asks);
    if (!r)
      return r;
    const Level *best = book.best(side);
    if ((best == nullptr) != (model.depth(side) == 0))
      return ::testing::AssertionFailure() << "best() disagrees on emptiness";
  }
  if (book.crossed() != model.crossed())
    return ::testing::AssertionFailure() << "crossed() disagrees";
  return ::testing::AssertionSuccess();
}

// The USD-M capture: levels of the inline REST snapshot, then the level updates of every
// depth event not older than the snapshot (u >= lastUpdateId, the futures rule).
struct UsdmStream {
  std::uint8_t price_dp = 0;
  std::uint8_t qty_dp = 0;
  std::vector<Update> snapshot;
  std::vector<Update> updates;
  std::vector<std::size_t> event_ends; // updates index after each depth event
};

UsdmStream load_usdm() {
  UsdmStream s;
  const std::string all = read_gz("binance/hftbacktest/usdm_btcusdt_20240808.gz");
  const auto lines = lines_of(all);
  simdjson::dom::parser parser;
  // Scales: the most fractional digits any price / size text uses.
  int pdp = 0;
  int qdp = 0;
  std::vector<std::string_view> jsons;
  for (const auto line : lines) {
    const auto space = line.find(' ');
    if (space != std::string_view::npos)
      jsons.push_back(line.substr(space + 1));
  }
  for (const auto js : jsons) {
    simdjson::dom::element doc;
    if (parser.parse(js.data(), js.size()).get(doc))
      continue;
    simdjson::dom::element body = doc;
    simdjson::dom::element data;
    if (!doc["data"].get(data))
      body = data;
    for (const char *key : {"b", "a", "bids", "asks"}) {
      simdjson::dom::array levels;
      if (body[key].get_array().get(levels))
        continue;
      for (simdjson::dom::element lv : levels) {
        std::string_view px;
        std::string_view qty;
        if (!lv.at(0).get_string().get(px) && !lv.at(1).get_string().get(qty)) {
          pdp = std::max(pdp, text_dp(px));
          qdp = std::max(qdp, text_dp(qty));
        }
      }
    }
  }
  s.price_dp = static_cast<std::uint8_t>(pdp);
  s.qty_dp = static_cast<std::uint8_t>(qdp);

  std::uint64_t lid = 0;
  bool have_snapshot = false;
  for (const auto js : jsons) {
    simdjson::dom::element doc;
    if (parser.parse(js.data(), js.size()).get(doc))
      continue;
    simdjson::dom::array bids;
    simdjson::dom::array asks;
    if (!doc["lastUpdateId"].get_uint64().get(lid)) {
      have_snapshot = !doc["bids"].get_array().get(bids) && !doc["asks"].get_array().get(asks) &&
                      append_levels(bids, Side::Bid, s.price_dp, s.qty_dp, s.snapshot) &&
                      append_levels(asks, Side::Ask, s.price_dp, s.qty_dp, s.snapshot);
      continue;
    }
    std::string_view stream;
    if (!have_snapshot || doc["stream"].get_string().get(stream) ||
        stream.find("@depth") == std::string_view::npos)
      continue;
    simdjson::dom::element data = doc["data"];
    std::uint64_t u = 0;
    if (data["u"].get_uint64().get(u) || u < lid)
      continue;
    if (data["b"].get_array().get(bids) || data["a"].get_array().get(asks) ||
        !append_levels(bids, Side::Bid, s.price_dp, s.qty_dp, s.updates) ||
        !append_levels(asks, Side::Ask, s.price_dp, s.qty_dp, s.updates))
      continue;
    s.event_ends.push_back(s.updates.size());
  }
  return s;
}

class L2BookTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { usdm_ = new UsdmStream(load_usdm()); }
  static void TearDownTestSuite() { delete usdm_; }
  static inline UsdmStream *usdm_ = nullptr;
};

TEST_F(L2BookTest, LoadsARestSnapshotInPriceOrder) {
  // First REST snapshot of the cryptofeed Binance spot capture:
  // "<url> -> <t>: {"lastUpdateId":...,"bids":[...],"asks":[...]}".
  const std::string all = read_gz("binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz");
  const auto lines = lines_of(all);
  ASSERT_FALSE(lines.empty());
  const auto body_at = lines[0].find(": {");
  ASSERT_NE(body_at, std::string_view::npos);
  const std::string_view body = lines[0].substr(body_at + 2);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(body.data(), body.size()).get(doc));
  simdjson::dom::array bids;
  simdjson::dom::array asks;
  ASSERT_FALSE(doc["bids"].get_array().get(bids));
  ASSERT_FALSE(doc["asks"].get_array().get(asks));
  int pdp = 0;
  int qdp = 0;
  for (const auto &side : {bids, asks})
    for (simdjson::dom::element lv : side) {
      std::string_view px;
      std::string_view qty;
      ASSERT_FALSE(lv.at(0).get_string().get(px));
      ASSERT_FALSE(lv.at(1).get_string().get(qty));
      pdp = std::max(pdp, text_dp(px));
      qdp = std::max(qdp, text_dp(qty));
    }
  std::vector<Update> levels;
  ASSERT_TRUE(append_levels(bids, Side::Bid, static_cast<std::uint8_t>(pdp),
                            static_cast<std::uint8_t>(qdp), levels));
  ASSERT_TRUE(append_levels(asks, Side::Ask, static_cast<std::uint8_t>(pdp),
                            static_cast<std::uint8_t>(qdp), levels));
  ASSERT_GT(levels.size(), 100U);

  L2Book book(static_cast<std::uint8_t>(pdp), static_cast<std::uint8_t>(qdp));
  Model model;
  for (const auto &u : levels) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
  EXPECT_EQ(book.depth(Side::Bid), bids.size());
  EXPECT_EQ(book.depth(Side::Ask), asks.size());
  EXPECT_FALSE(book.crossed());
  // The venue lists bids high -> low and asks low -> high: the book's order equals the
  // venue's order.
  std::size_t i = 0;
  for (const auto &u : levels) {
    const std::size_t idx = u.side == Side::Bid ? i : i - bids.size();
    ASSERT_EQ(book.at(u.side, idx).price, u.level.price);
    ++i;
  }
}

TEST_F(L2BookTest, MatchesTheMapModelAfterEveryUpdateOfTheUsdmStream) {
  ASSERT_GT(usdm_->snapshot.size(), 1000U);
  ASSERT_GT(usdm_->event_ends.size(), 6000U);
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
  std::size_t absent_deletes = 0;
  std::size_t next_event = 0;
  for (std::size_t i = 0; i < usdm_->updates.size(); ++i) {
    const Update &u = usdm_->updates[i];
    const std::size_t before = book.depth(u.side);
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
    if (model.absent_delete) {
      ++absent_deletes;
      ASSERT_EQ(book.depth(u.side), before) << "deleting an absent level changes nothing";
    }
    // Top of book after every level update, the whole book after every event.
    ASSERT_TRUE(equal_to_model(book, model, 5)) << "update " << i;
    if (next_event < usdm_->event_ends.size() && usdm_->event_ends[next_event] == i + 1) {
      ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX)) << "event " << next_event;
      ++next_event;
    }
  }
  EXPECT_GT(absent_deletes, 100U) << "the real stream deletes levels we never had";
}

TEST_F(L2BookTest, GrowsBeyondATinyReservationAndStaysExact) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp, 4);
  Model model;
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  const std::size_t n = std::min<std::size_t>(usdm_->updates.size(), 50000);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(book.apply(usdm_->updates[i].side, usdm_->updates[i].level));
    model.apply(usdm_->updates[i].side, usdm_->updates[i].level);
  }
  EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
}

TEST_F(L2BookTest, MatchesTheModelWhenRealLevelsArriveInShuffledOrder) {
  // The real snapshot levels in a fixed pseudo-random order: inserts land everywhere, so
  // both shift directions and re-centring are exercised; then deleted in another order.
  std::vector<Update> levels = usdm_->snapshot;
  std::mt19937 rng(12345);
  std::shuffle(levels.begin(), levels.end(), rng);
  L2Book book(usdm_->price_dp, usdm_->qty_dp, 64);
  Model model;
  for (const auto &u : levels) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
    ASSERT_TRUE(equal_to_model(book, model, 3));
  }
  ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
  std::shuffle(levels.begin(), levels.end(), rng);
  for (auto u : levels) {
    u.level.qty = 0;
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
    ASSERT_TRUE(equal_to_model(book, model, 3));
  }
  EXPECT_EQ(book.depth(Side::Bid), 0U);
  EXPECT_EQ(book.depth(Side::Ask), 0U);
  EXPECT_EQ(book.best(Side::Bid), nullptr);
}

TEST_F(L2BookTest, TruncateKeepsTheBestLevelsAndLaterUpdatesStillApply) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  constexpr std::size_t kKeep = 100;
  auto truncate_model = [&] {
    while (model.bids.size() > kKeep)
      model.bids.erase(std::prev(model.bids.end()));
    while (model.asks.size() > kKeep)
      model.asks.erase(std::prev(model.asks.end()));
  };
  book.truncate(Side::Bid, kKeep);
  book.truncate(Side::Ask, kKeep);
  truncate_model();
  ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
  // Kraken-style: apply each event then truncate.
  std::size_t from = 0;
  for (std::size_t e = 0; e < usdm_->event_ends.size() && e < 2000; ++e) {
    for (std::size_t i = from; i < usdm_->event_ends[e]; ++i) {
      ASSERT_TRUE(book.apply(usdm_->updates[i].side, usdm_->updates[i].level));
      model.apply(usdm_->updates[i].side, usdm_->updates[i].level);
    }
    from = usdm_->event_ends[e];
    book.truncate(Side::Bid, kKeep);
    book.truncate(Side::Ask, kKeep);
    truncate_model();
    ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX)) << "event " << e;
  }
  book.truncate(Side::Ask, 0);
  EXPECT_EQ(book.depth(Side::Ask), 0U);
  EXPECT_EQ(book.depth(Side::Bid), kKeep);
}

TEST_F(L2BookTest, TopCopiesTheBestLevelsBestFirst) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  Level out[20];
  ASSERT_EQ(book.top(Side::Ask, 20, out), 20U);
  std::size_t i = 0;
  for (const auto &[price, level] : model.asks) {
    if (i == 20)
      break;
    EXPECT_TRUE(same(out[i], level));
    ++i;
  }
  L2Book empty(2, 3);
  EXPECT_EQ(empty.top(Side::Bid, 20, out), 0U);
}

TEST_F(L2BookTest, ReportsCrossedWhenAnAskReachesTheBestBid) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  for (const auto &u : usdm_->snapshot)
    ASSERT_TRUE(book.apply(u.side, u.level));
  ASSERT_FALSE(book.crossed());
  // Mechanically: the real best bid level re-applied on the ask side.
  const Level best_bid = *book.best(Side::Bid);
  ASSERT_TRUE(book.apply(Side::Ask, best_bid));
  EXPECT_TRUE(book.crossed());
  Level removed = best_bid;
  removed.qty = 0;
  ASSERT_TRUE(book.apply(Side::Ask, removed));
  EXPECT_FALSE(book.crossed());
  L2Book one_sided(usdm_->price_dp, usdm_->qty_dp);
  ASSERT_TRUE(one_sided.apply(Side::Bid, best_bid));
  EXPECT_FALSE(one_sided.crossed());
}

TEST_F(L2BookTest, ClearKeepsTheBookUsableAndCopiesAreIndependent) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  const L2Book copy = book;
  book.clear();
  EXPECT_EQ(book.depth(Side::Bid), 0U);
  EXPECT_EQ(book.depth(Side::Ask), 0U);
  EXPECT_TRUE(equal_to_model(copy, model, SIZE_MAX));
  for (const auto &u : usdm_->snapshot)
    ASSERT_TRUE(book.apply(u.side, u.level));
  EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
  L2Book moved = std::move(book);
  EXPECT_TRUE(equal_to_model(moved, model, SIZE_MAX));
  EXPECT_EQ(moved.price_decimals(), usdm_->price_dp);
  EXPECT_EQ(moved.qty_decimals(), usdm_->qty_dp);
}

// ---- chunk boundaries ------------------------------------------------------------------
// The book stores each side in chunks of a few dozen levels (book/l2_book.hpp). These tests
// drive inserts, erases and truncations through every offset of the first chunks, using the
// real USD-M snapshot levels.

// Loads the USD-M snapshot into a book and the model.
void load_snapshot(const UsdmStream &s, L2Book &book, Model &model) {
  for (const auto &u : s.snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
}

// The model's side as a best-first vector.
std::vector<Level> model_side(const Model &model, Side side) {
  std::vector<Level> out;
  if (side == Side::Bid)
    for (const auto &[price, level] : model.bids)
      out.push_back(level);
  else
    for (const auto &[price, level] : model.asks)
      out.push_back(level);
  return out;
}

TEST_F(L2BookTest, ErasingAndRestoringTheLevelAtEveryOffsetStaysExact) {
  // Each of the best 200 real levels of a side is deleted (its size zeroed, a mechanical
  // change) and put back: erases and inserts at every in-chunk offset, chunk edges included,
  // with merges and splits along the way.
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  load_snapshot(*usdm_, book, model);
  for (const Side side : {Side::Bid, Side::Ask}) {
    const std::vector<Level> levels = model_side(model, side);
    ASSERT_GT(levels.size(), 200U);
    for (std::size_t i = 0; i < 200; ++i) {
      Level gone = levels[i];
      gone.qty = 0;
      ASSERT_TRUE(book.apply(side, gone));
      model.apply(side, gone);
      ASSERT_TRUE(equal_to_model(book, model, 300)) << "erased " << i;
      ASSERT_TRUE(book.apply(side, levels[i]));
      model.apply(side, levels[i]);
      ASSERT_TRUE(equal_to_model(book, model, 300)) << "restored " << i;
    }
  }
  EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
}

TEST_F(L2BookTest, DeletingBestFirstAndWorstFirstEmptiesChunkAfterChunk) {
  // Deleting the best (then the worst) level repeatedly removes the last level of one chunk
  // after another; the side must stay exact down to empty.
  for (const bool best_first : {true, false}) {
    L2Book book(usdm_->price_dp, usdm_->qty_dp);
    Model model;
    load_snapshot(*usdm_, book, model);
    for (const Side side : {Side::Bid, Side::Ask}) {
      std::vector<Level> levels = model_side(model, side);
      if (!best_first)
        std::reverse(levels.begin(), levels.end());
      for (const Level &l : levels) {
        Level gone = l;
        gone.qty = 0;
        ASSERT_TRUE(book.apply(side, gone));
        model.apply(side, gone);
        ASSERT_TRUE(equal_to_model(book, model, 40));
        if (book.depth(side) % 97 == 0) {
          ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
        }
      }
      EXPECT_EQ(book.depth(side), 0U);
      EXPECT_EQ(book.best(side), nullptr);
    }
    // An emptied book takes a snapshot again.
    for (const auto &u : usdm_->snapshot) {
      ASSERT_TRUE(book.apply(u.side, u.level));
      model.apply(u.side, u.level);
    }
    EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
  }
}

TEST_F(L2BookTest, TruncatesAtEveryDepthAcrossChunkBoundaries) {
  // One level at a time from the full snapshot depth down to zero: every cut point inside
  // and at the edge of every chunk. Then levels arrive again, below and above the cut.
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  load_snapshot(*usdm_, book, model);
  const std::size_t depth = book.depth(Side::Ask);
  ASSERT_GT(depth, 500U);
  for (std::size_t keep = depth; keep-- > 0;) {
    book.truncate(Side::Ask, keep);
    model.asks.erase(std::next(model.asks.begin(), static_cast<std::ptrdiff_t>(keep)),
                     model.asks.end());
    ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX)) << "keep " << keep;
  }
  for (const auto &u : usdm_->snapshot) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX));
  // Kraken-style: the stream applied with a depth limit that cuts through chunks.
  std::size_t from = 0;
  for (std::size_t e = 0; e < usdm_->event_ends.size() && e < 3000; ++e) {
    for (std::size_t i = from; i < usdm_->event_ends[e]; ++i) {
      ASSERT_TRUE(book.apply(usdm_->updates[i].side, usdm_->updates[i].level));
      model.apply(usdm_->updates[i].side, usdm_->updates[i].level);
    }
    from = usdm_->event_ends[e];
    const std::size_t keep = 37 + e % 61; // varies the cut point inside chunks
    for (const Side side : {Side::Bid, Side::Ask})
      book.truncate(side, keep);
    while (model.bids.size() > keep)
      model.bids.erase(std::prev(model.bids.end()));
    while (model.asks.size() > keep)
      model.asks.erase(std::prev(model.asks.end()));
    ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX)) << "event " << e;
  }
}

TEST_F(L2BookTest, AtAndTopAgreeOnEveryLevelOfTheStreamedBook) {
  // After the whole stream (thousands of levels in hundreds of chunks): at(i) read in both
  // directions and top() all give the model's order.
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  load_snapshot(*usdm_, book, model);
  for (const auto &u : usdm_->updates) {
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
  }
  for (const Side side : {Side::Bid, Side::Ask}) {
    const std::vector<Level> want = model_side(model, side);
    ASSERT_EQ(book.depth(side), want.size());
    ASSERT_GT(want.size(), 3000U);
    std::vector<Level> got(want.size() + 1);
    ASSERT_EQ(book.top(side, got.size(), got.data()), want.size());
    for (std::size_t i = want.size(); i-- > 0;) {
      ASSERT_TRUE(same(book.at(side, i), want[i])) << "at " << i;
      ASSERT_TRUE(same(got[i], want[i])) << "top " << i;
    }
  }
}

TEST_F(L2BookTest, ATinyReservationGrowsThroughTheWholeStreamExactly) {
  // A reservation of 4 levels a side: the pool grows many times while the stream runs.
  L2Book book(usdm_->price_dp, usdm_->qty_dp, 4);
  Model model;
  load_snapshot(*usdm_, book, model);
  std::size_t next_event = 0;
  for (std::size_t i = 0; i < usdm_->updates.size(); ++i) {
    const Update &u = usdm_->updates[i];
    ASSERT_TRUE(book.apply(u.side, u.level));
    model.apply(u.side, u.level);
    ASSERT_TRUE(equal_to_model(book, model, 3)) << "update " << i;
    if (next_event < usdm_->event_ends.size() && usdm_->event_ends[next_event] == i + 1) {
      if (next_event % 500 == 0) {
        ASSERT_TRUE(equal_to_model(book, model, SIZE_MAX)) << "event " << next_event;
      }
      ++next_event;
    }
  }
  EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
}

TEST_F(L2BookTest, AMovedFromBookIsEmptyAndStillAcceptsLevels) {
  L2Book book(usdm_->price_dp, usdm_->qty_dp);
  Model model;
  load_snapshot(*usdm_, book, model);
  L2Book moved = std::move(book);
  EXPECT_TRUE(equal_to_model(moved, model, SIZE_MAX));
  // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from state is documented.
  EXPECT_EQ(book.depth(Side::Bid), 0U);
  EXPECT_EQ(book.best(Side::Ask), nullptr);
  book.clear();
  book.truncate(Side::Bid, 0);
  for (const auto &u : usdm_->snapshot)
    ASSERT_TRUE(book.apply(u.side, u.level));
  EXPECT_TRUE(equal_to_model(book, model, SIZE_MAX));
  L2Book assigned(2, 3);
  assigned = book; // copy-assign over an existing book
  EXPECT_TRUE(equal_to_model(assigned, model, SIZE_MAX));
}

} // namespace
} // namespace fh::book
