// labels: replay
// Fault tests: real captures corrupted mechanically (a record dropped, repeated, swapped
// with another, truncated, or one digit changed) and replayed. Each corruption must either
// leave the book exactly right (a repeated absolute-size update) or be caught by the venue's
// checksum, its sequence ids or the parser: the book goes stale at once, the other
// instruments are unaffected, and the book recovers where the capture has a later snapshot.
// Where the venue gives no means to catch a corruption (a changed size deep in a Binance
// book), the test shows that and claims nothing more.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <string>

#include "book/decimal.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

using capture::Record;

// Owns mutated payloads with simdjson padding behind them.
class Mutations {
public:
  std::string_view keep(std::string text) {
    const std::size_t len = text.size();
    text.append(simdjson::SIMDJSON_PADDING, '\0');
    store_.push_back(std::move(text));
    return std::string_view(store_.back().data(), len);
  }

private:
  std::deque<std::string> store_;
};

bool contains(std::string_view s, std::string_view what) { return s.find(what) != s.npos; }

// Indices (into order) of received frames containing every one of `needles`.
std::vector<std::size_t> frames_with(const Replay& r, std::initializer_list<std::string_view> needles) {
  std::vector<std::size_t> out;
  auto& order = const_cast<Replay&>(r).order();
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i].kind != capture::RecordKind::WsText) continue;
    bool all = true;
    for (auto n : needles) all = all && contains(order[i].payload, n);
    if (all) out.push_back(i);
  }
  return out;
}

// Changes the last digit before position `end` in text (9 -> 8, else +1): one digit, no
// change of length, never producing a zero size from a non-zero one.
std::string change_digit_before(std::string text, std::size_t end) {
  for (std::size_t i = end; i-- > 0;) {
    if (text[i] >= '1' && text[i] <= '8') {
      text[i] = static_cast<char>(text[i] + 1);
      return text;
    }
  }
  ADD_FAILURE() << "no digit to change";
  return text;
}

// Checksums cover only the top of the book (OKX 25 levels, Kraken 10), so a lost update
// deep in the book is invisible to them. To test what a checksum *can* catch, this replays
// the capture up to each candidate frame and returns the first one whose first level lies
// within the best `n` levels of its side at that moment (the candidate is not applied).
std::size_t first_top_affecting(const std::vector<std::string>& files, Venue v,
                                const std::string& native, const std::vector<std::size_t>& candidates,
                                std::size_t from, std::size_t n) {
  auto r = open_replay(files);
  NullPublisher p;
  std::size_t done = 0;
  for (std::size_t k = from; k < candidates.size(); ++k) {
    r->run_range(done, candidates[k], p);
    done = candidates[k];
    const InstrumentBook* b = book_of(*r, v, native);
    if (b != nullptr && b->status() == BookStatus::Synced &&
        r->parse_record(r->order()[done]) == ParseStatus::Ok) {
      for (const Event& e : r->batch()) {
        if (e.type != EventType::BookLevel) continue;
        const auto& book = b->book();
        if (book.depth(e.side) < n) return done;
        const std::int64_t nth = book.at(e.side, n - 1).price;
        if (e.side == book::Side::Bid ? e.level.price >= nth : e.level.price <= nth) return done;
        break;
      }
    }
    r->run_range(done, done + 1, p);
    ++done;
  }
  ADD_FAILURE() << "no candidate frame touches the top " << n << " levels";
  return candidates.back();
}

bool same_book(const book::L2Book& a, const book::L2Book& b) {
  for (auto side : {book::Side::Bid, book::Side::Ask}) {
    if (a.depth(side) != b.depth(side)) return false;
    for (std::size_t i = 0; i < a.depth(side); ++i) {
      if (a.at(side, i).price != b.at(side, i).price || a.at(side, i).qty != b.at(side, i).qty)
        return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
class OkxFaults : public ::testing::Test {
protected:
  std::vector<std::string> files{"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                                 "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"};
  std::unique_ptr<Replay> clean = [this] {
    auto r = open_replay(files);
    r->run();
    return r;
  }();
  Mutations mut;

  std::unique_ptr<Replay> fresh() { return open_replay(files); }

  // Every instrument but `except` ends exactly as in the clean run.
  void expect_others_unaffected(const Replay& r, const std::string& except) {
    for (std::uint32_t id = 0; id < clean->builder().instrument_slots(); ++id) {
      const InstrumentBook* a = clean->builder().book(id);
      if (a == nullptr || a->counters().book_messages == 0 || a->instrument().native == except)
        continue;
      const InstrumentBook* b = book_of(r, Venue::Okx, a->instrument().native);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->status(), BookStatus::Synced) << a->instrument().native;
      EXPECT_EQ(b->counters().checksum_ok, a->counters().checksum_ok) << a->instrument().native;
      EXPECT_EQ(b->counters().checksum_fail, 0u) << a->instrument().native;
    }
  }
};

TEST_F(OkxFaults, DroppedUpdateIsCaughtByTheNextChecksumAndOnlyThatBookGoesStale) {
  auto r = fresh();
  auto zen = frames_with(*r, {"\"instId\":\"ZEN-USDT\"", "\"action\":\"update\""});
  ASSERT_GT(zen.size(), 100u);
  const auto at = first_top_affecting(files, Venue::Okx, "ZEN-USDT", zen, zen.size() / 2, 25);
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(at));
  r->run();
  const InstrumentBook* b = book_of(*r, Venue::Okx, "ZEN-USDT");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::ChecksumMismatch);
  EXPECT_EQ(b->counters().checksum_fail, 1u);
  expect_others_unaffected(*r, "ZEN-USDT");
}

TEST_F(OkxFaults, RepeatedUpdateIsHarmlessBecauseSizesAreAbsolute) {
  auto r = fresh();
  auto elon = frames_with(*r, {"\"instId\":\"ELON-USDT\"", "\"action\":\"update\""});
  ASSERT_GT(elon.size(), 100u);
  const std::size_t at = elon[elon.size() / 3];
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.checksum_fail, 0u);
  EXPECT_EQ(s.c.checksum_ok, 3679u + 1u); // the repeat verifies against its own checksum too
  EXPECT_EQ(s.synced, 10u);
}

TEST_F(OkxFaults, SwappedUpdatesAreCaughtByTheChecksum) {
  auto r = fresh();
  auto elon = frames_with(*r, {"\"instId\":\"ELON-USDT\"", "\"action\":\"update\""});
  const std::size_t a = first_top_affecting(files, Venue::Okx, "ELON-USDT", elon, elon.size() / 2, 25);
  const std::size_t b = *std::upper_bound(elon.begin(), elon.end(), a);
  std::swap(r->order()[a], r->order()[b]);
  r->run();
  const InstrumentBook* book = book_of(*r, Venue::Okx, "ELON-USDT");
  ASSERT_NE(book, nullptr);
  EXPECT_EQ(book->status(), BookStatus::Stale);
  EXPECT_GE(book->counters().checksum_fail, 1u);
  expect_others_unaffected(*r, "ELON-USDT");
}

TEST_F(OkxFaults, TruncatedUpdateIsAParseErrorAndTheBookGoesStale) {
  auto r = fresh();
  auto uni = frames_with(*r, {"\"instId\":\"UNI-USD-SWAP\"", "\"action\":\"update\""});
  Record& rec =
      r->order()[first_top_affecting(files, Venue::Okx, "UNI-USD-SWAP", uni, uni.size() / 2, 25)];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1u);
  const InstrumentBook* book = book_of(*r, Venue::Okx, "UNI-USD-SWAP");
  ASSERT_NE(book, nullptr);
  EXPECT_EQ(book->status(), BookStatus::Stale);
  EXPECT_EQ(book->counters().checksum_fail, 1u);
  expect_others_unaffected(*r, "UNI-USD-SWAP");
}

TEST_F(OkxFaults, ChangedSizeDigitFailsThatMessagesChecksum) {
  auto r = fresh();
  auto zen = frames_with(*r, {"\"instId\":\"ZEN-USDT\"", "\"action\":\"update\""});
  Record& rec =
      r->order()[first_top_affecting(files, Venue::Okx, "ZEN-USDT", zen, zen.size() / 3, 25)];
  const std::string text(rec.payload);
  // The first level's size: [["px","sz","0","n"] -> change a digit inside "sz".
  const auto size_end = text.find("\",\"0\"", text.find("[[\""));
  ASSERT_NE(size_end, std::string::npos);
  rec.payload = mut.keep(change_digit_before(text, size_end));
  r->run();
  const InstrumentBook* book = book_of(*r, Venue::Okx, "ZEN-USDT");
  ASSERT_NE(book, nullptr);
  EXPECT_EQ(book->status(), BookStatus::Stale);
  EXPECT_EQ(book->counters().checksum_fail, 1u);
  EXPECT_EQ(r->totals().parse_errors, 0u);
  expect_others_unaffected(*r, "ZEN-USDT");
}

TEST_F(OkxFaults, CorruptFirstSnapshotRecoversAtTheVenuesNextSnapshot) {
  auto r = fresh();
  auto snaps = frames_with(*r, {"\"instId\":\"PROPS-ETH\"", "\"action\":\"snapshot\""});
  ASSERT_EQ(snaps.size(), 2u); // the capture snapshots every instrument twice
  Record& rec = r->order()[snaps[0]];
  const std::string text(rec.payload);
  const auto size_end = text.find("\",\"0\"", text.find("\"bids\":["));
  rec.payload = mut.keep(change_digit_before(text, size_end));
  r->run();
  const InstrumentBook* book = book_of(*r, Venue::Okx, "PROPS-ETH");
  const InstrumentBook* ref = book_of(*clean, Venue::Okx, "PROPS-ETH");
  ASSERT_NE(book, nullptr);
  EXPECT_EQ(book->counters().checksum_fail, 1u);
  EXPECT_EQ(book->counters().resyncs, 1u);
  EXPECT_EQ(book->status(), BookStatus::Synced);
  EXPECT_EQ(book->counters().checksum_ok, ref->counters().checksum_ok - 1u);
  expect_others_unaffected(*r, "PROPS-ETH");
}

// ---------------------------------------------------------------------------------------
class KrakenFaults : public ::testing::Test {
protected:
  std::vector<std::string> files{"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                                 "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"};
  Mutations mut;
  void expect_others_synced(const Replay& r, const std::string& except) {
    const Sum s = sum_books(r);
    EXPECT_EQ(s.books, 10u);
    EXPECT_EQ(s.synced, 9u);
    for (std::uint32_t id = 0; id < r.builder().instrument_slots(); ++id) {
      const InstrumentBook* b = r.builder().book(id);
      if (b == nullptr || b->instrument().native == except) continue;
      EXPECT_EQ(b->counters().checksum_fail, 0u) << b->instrument().native;
    }
  }
};

TEST_F(KrakenFaults, DroppedUpdateIsCaughtAndOnlyThatPairGoesStale) {
  auto r = open_replay(files);
  auto xmr = frames_with(*r, {"\"XMR/USD\"", "\"c\":"});
  ASSERT_GT(xmr.size(), 50u);
  const auto at = first_top_affecting(files, Venue::Kraken, "XMR/USD", xmr, xmr.size() / 2, 10);
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(at));
  r->run();
  const InstrumentBook* b = book_of(*r, Venue::Kraken, "XMR/USD");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->counters().checksum_fail, 1u);
  expect_others_synced(*r, "XMR/USD");
}

TEST_F(KrakenFaults, ChangedVolumeDigitIsCaughtByThatMessagesChecksum) {
  auto r = open_replay(files);
  auto xmr = frames_with(*r, {"\"XMR/USD\"", "\"c\":"});
  Record& rec =
      r->order()[first_top_affecting(files, Venue::Kraken, "XMR/USD", xmr, xmr.size() / 2, 10)];
  const std::string text(rec.payload);
  // [["price","volume","ts"...: the volume is the second string of the first level.
  const auto lvl = text.find("[[\"");
  const auto vol_end = text.find('"', text.find("\",\"", lvl) + 3);
  rec.payload = mut.keep(change_digit_before(text, vol_end));
  r->run();
  const InstrumentBook* b = book_of(*r, Venue::Kraken, "XMR/USD");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->counters().checksum_fail, 1u);
  EXPECT_EQ(b->last_error(), BookError::ChecksumMismatch);
  expect_others_synced(*r, "XMR/USD");
}

TEST_F(KrakenFaults, RepeatedUpdateIsHarmless) {
  auto r = open_replay(files);
  auto xmr = frames_with(*r, {"\"XMR/USD\"", "\"c\":"});
  const std::size_t at = xmr[xmr.size() / 2];
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.checksum_fail, 0u);
  EXPECT_EQ(s.c.checksum_ok, 4269u + 1u);
  EXPECT_EQ(s.synced, 10u);
}

// ---------------------------------------------------------------------------------------
class BinanceFaults : public ::testing::Test {
protected:
  std::vector<std::string> files{"binance/hftbacktest/usdm_btcusdt_20240808.gz"};
  Mutations mut;
  simdjson::dom::parser dom;

  std::unique_ptr<Replay> fresh() { return open_replay(files); }

  std::uint64_t field_u(std::string_view payload) {
    simdjson::padded_string p(payload);
    simdjson::dom::element e;
    if (dom.parse(p).get(e)) return 0;
    std::uint64_t u = 0;
    if (e["data"]["u"].get(u)) return 0;
    return u;
  }

  // Index of the n-th depth frame whose `u` a later bookTicker repeats before the next depth
  // frame: the moments the venue's own top of book is comparable with ours.
  struct Match {
    std::size_t depth_index;
    std::string bid_price;
  };
  std::vector<Match> bbo_matches(Replay& r) {
    std::vector<Match> out;
    constexpr std::size_t kNone = ~std::size_t{0};
    std::size_t last_depth = kNone;
    std::uint64_t last_u = 0;
    for (std::size_t i = 0; i < r.order().size(); ++i) {
      const auto p = r.order()[i].payload;
      if (contains(p, "\"e\":\"depthUpdate\"")) {
        last_depth = i;
        last_u = field_u(p);
      } else if (last_depth != kNone && contains(p, "\"e\":\"bookTicker\"") && field_u(p) == last_u) {
        simdjson::padded_string ps(p);
        std::string_view bid;
        if (!dom.parse(ps)["data"]["b"].get(bid)) out.push_back({last_depth, std::string(bid)});
        last_depth = kNone;
      }
    }
    return out;
  }
};

TEST_F(BinanceFaults, DroppedDepthUpdateIsASequenceGap) {
  auto r = fresh();
  auto depth = frames_with(*r, {"\"e\":\"depthUpdate\""});
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(depth[depth.size() / 2]));
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.seq_gaps, 1u);
  EXPECT_EQ(s.not_synced, 1u);
  EXPECT_EQ(s.c.bbo_checks_fail, 0u);
  const InstrumentBook* b = book_of(*r, Venue::BinanceUsdm, "BTCUSDT");
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_GT(r->builder().resync_requests(), 0u);
}

TEST_F(BinanceFaults, RepeatedDepthUpdateIsDroppedAndTheBookStaysExact) {
  auto clean = fresh();
  clean->run();
  auto r = fresh();
  auto depth = frames_with(*r, {"\"e\":\"depthUpdate\""});
  const std::size_t at = depth[depth.size() / 2];
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.seq_gaps, 0u);
  EXPECT_EQ(s.synced, 1u);
  EXPECT_EQ(s.c.bbo_checks_ok, 126u);
  EXPECT_EQ(s.c.bbo_checks_fail, 0u);
  EXPECT_EQ(s.c.dropped, sum_books(*clean).c.dropped + 1u);
  EXPECT_TRUE(same_book(book_of(*clean, Venue::BinanceUsdm, "BTCUSDT")->book(),
                        book_of(*r, Venue::BinanceUsdm, "BTCUSDT")->book()));
}

TEST_F(BinanceFaults, SwappedDepthUpdatesBreakThePuChain) {
  auto r = fresh();
  auto depth = frames_with(*r, {"\"e\":\"depthUpdate\""});
  std::swap(r->order()[depth[depth.size() / 2]], r->order()[depth[depth.size() / 2 + 1]]);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.seq_gaps, 1u);
  EXPECT_EQ(s.not_synced, 1u);
}

TEST_F(BinanceFaults, TruncatedDepthUpdateIsAParseErrorThenAGap) {
  auto r = fresh();
  auto depth = frames_with(*r, {"\"e\":\"depthUpdate\""});
  Record& rec = r->order()[depth[depth.size() / 2]];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() - 7)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1u);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.seq_gaps, 1u);
  EXPECT_EQ(s.not_synced, 1u);
}

TEST_F(BinanceFaults, ChangedSizeAtTheTopIsCaughtByTheBookTickerCrossCheck) {
  auto r = fresh();
  const auto matches = bbo_matches(*r);
  ASSERT_GT(matches.size(), 100u);
  // A match whose depth frame itself carries the level that is best bid at that moment.
  for (std::size_t k = matches.size() / 2; k < matches.size(); ++k) {
    Record& rec = r->order()[matches[k].depth_index];
    const std::string text(rec.payload);
    const auto at = text.find("[\"" + matches[k].bid_price + "\",\"");
    if (at == std::string::npos) continue;
    const auto qty_end = text.find("\"]", at + matches[k].bid_price.size() + 5);
    rec.payload = mut.keep(change_digit_before(text, qty_end));
    r->run();
    const Sum s = sum_books(*r);
    EXPECT_EQ(s.c.bbo_checks_fail, 1u);
    EXPECT_EQ(s.c.seq_gaps, 0u);
    EXPECT_EQ(s.not_synced, 1u);
    EXPECT_EQ(book_of(*r, Venue::BinanceUsdm, "BTCUSDT")->last_error(), BookError::BboMismatch);
    return;
  }
  FAIL() << "no depth frame carries the best bid at a bookTicker match";
}

TEST_F(BinanceFaults, ChangedSizeDeepInTheBookIsNotDetectableOnBinance) {
  // Binance sends no checksum: a wrong size that never reaches the top is invisible to
  // every oracle the venue offers. This documents the limit; it asserts no detection claim.
  auto clean = fresh();
  clean->run();
  auto r = fresh();
  auto depth = frames_with(*r, {"\"e\":\"depthUpdate\""});
  // The 1000.00 bid (a resting order far below the market) appears in early frames only.
  for (std::size_t k = depth.size() / 4; k < depth.size(); ++k) {
    Record& rec = r->order()[depth[k]];
    const std::string text(rec.payload);
    const std::string level = "[\"1000.00\",\"";
    const auto at = text.find(level);
    if (at == std::string::npos) continue;
    bool later = false;
    for (std::size_t j = k + 1; j < depth.size() && !later; ++j)
      later = contains(r->order()[depth[j]].payload, level);
    if (later) continue;
    rec.payload = mut.keep(change_digit_before(text, text.find("\"]", at + level.size())));
    r->run();
    const Sum s = sum_books(*r);
    EXPECT_EQ(s.c.seq_gaps, 0u);
    EXPECT_EQ(s.c.bbo_checks_fail, 0u);
    EXPECT_EQ(s.synced, 1u) << "Binance offers nothing that catches this corruption";
    const auto& a = book_of(*clean, Venue::BinanceUsdm, "BTCUSDT")->book();
    const auto& b = book_of(*r, Venue::BinanceUsdm, "BTCUSDT")->book();
    bool differs = false;
    for (std::size_t i = 0; i < a.depth(book::Side::Bid) && i < b.depth(book::Side::Bid); ++i)
      differs = differs || a.at(book::Side::Bid, i).qty != b.at(book::Side::Bid, i).qty;
    EXPECT_TRUE(differs) << "the corrupted level should still be in the book";
    return;
  }
  GTEST_SKIP() << "no frame carries the 1000.00 bid for the last time after the first quarter";
}

TEST(BinanceMultiSymbolFaults, DroppedUpdateOfOneSymbolLeavesTheOtherNineSynced) {
  auto r = open_replay({"binance/cryptofeed/coinm_2021-07-22_ws.txt.gz",
                        "binance/cryptofeed/coinm_2021-07-22_depth_snapshots_http.txt.gz",
                        "binance/cryptofeed/coinm_2021-07-22_exchangeInfo_http.txt.gz"});
  auto xrp = frames_with(*r, {"\"e\":\"depthUpdate\"", "\"s\":\"XRPUSD_PERP\""});
  ASSERT_GT(xrp.size(), 10u);
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(xrp[xrp.size() - 3]));
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.books, 10u);
  EXPECT_EQ(s.synced, 9u);
  EXPECT_EQ(s.c.seq_gaps, 1u);
  EXPECT_EQ(book_of(*r, Venue::BinanceCoinm, "XRPUSD_PERP")->status(), BookStatus::Stale);
}

} // namespace
} // namespace fh::test
