// labels: replay
// The Coinbase legacy capture replayed end to end (parser -> book builder), and its faults.
// Expected numbers come from data/PROVENANCE.md ("Coinbase (legacy Pro feed)") or are computed
// here independently from the venue text (simdjson DOM, a separate decimal reader).
//
// The legacy level2 channel has no sequence number and no checksum, so the feed itself cannot
// show a lost, repeated or reordered update. What can be caught, and is asserted here:
//  - a level2 message the parser cannot read (cut short, a structural byte replaced): counted as
//    a parse error, and that book goes Stale (reason SequenceGap) in band;
//  - a wrong top of book (an update dropped, swapped past a ticker, or with a changed price):
//    the ticker cross-check (best_bid/best_ask at the ticker's position) counts a mismatch.
//    That check is approximate by nature (the first ticker after subscribing describes an
//    earlier moment: 7 of the 107 recorded tickers), so it is counted, never acted on.
// Undetectable, and shown as such: an update dropped or reordered deeper than the top, and a
// repeated update (harmless: sizes are absolute).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "tests/support/counting_new.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::test {
namespace {

using capture::Record;

constexpr const char *kWs = "coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "coinbase/cryptofeed/products_2021-04-17_http.txt.gz";

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

bool is_type(const Record &r, std::string_view type) {
  return r.kind == capture::RecordKind::WsText &&
         r.payload.substr(0, 9 + type.size() + 1) == "{\"type\":\"" + std::string(type) + "\"";
}

std::string product_of(std::string_view payload) {
  const std::string_view key = "\"product_id\":\"";
  const std::size_t at = payload.find(key);
  if (at == std::string_view::npos)
    return {};
  const std::size_t start = at + key.size();
  return std::string(payload.substr(start, payload.find('"', start) - start));
}

bool same_book(const book::L2Book &a, const book::L2Book &b) {
  for (auto side : {book::Side::Bid, book::Side::Ask}) {
    if (a.depth(side) != b.depth(side))
      return false;
    for (std::size_t i = 0; i < a.depth(side); ++i) {
      if (a.at(side, i).price != b.at(side, i).price || a.at(side, i).qty != b.at(side, i).qty)
        return false;
    }
  }
  return true;
}

// Changes the last digit before position `end` in text (9 -> 8, else +1): one digit, no change
// of length.
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

struct Top {
  std::int64_t bid = 0;
  std::int64_t ask = 0;
  bool operator==(const Top &) const = default;
};

Top top_of(const Replay &r, const std::string &product) {
  const InstrumentBook *b = book_of(r, Venue::Coinbase, product);
  Top t;
  if (b == nullptr)
    return t;
  if (const book::Level *l = b->book().best(book::Side::Bid))
    t.bid = l->price;
  if (const book::Level *l = b->book().best(book::Side::Ask))
    t.ask = l->price;
  return t;
}

// A ticker's best_bid/best_ask as the venue wrote them, at the product's decimals.
Top ticker_top(const Replay &r, std::string_view payload) {
  simdjson::dom::parser dom;
  simdjson::dom::element msg;
  EXPECT_EQ(dom.parse(payload.data(), payload.size()).get(msg), simdjson::SUCCESS);
  const Instrument *inst =
      r.registry().find(Venue::Coinbase, std::string(dom_str(msg["product_id"])));
  EXPECT_NE(inst, nullptr);
  Top t;
  if (inst == nullptr)
    return t;
  t.bid = ref_mantissa(dom_str(msg["best_bid"]), inst->price_decimals).value_or(-1);
  t.ask = ref_mantissa(dom_str(msg["best_ask"]), inst->price_decimals).value_or(-1);
  return t;
}

class CoinbaseReplay : public ::testing::Test {
protected:
  std::vector<std::string> files{kWs, kMeta};
  Mutations mut;

  std::unique_ptr<Replay> fresh() { return open_replay(files); }
  std::unique_ptr<Replay> run(ReplayOptions o = {}) {
    auto r = open_replay(files, o);
    if (r)
      r->run();
    return r;
  }

  // Indices (into order) of received records of a type, optionally of one product.
  static std::vector<std::size_t> records(Replay &r, std::string_view type,
                                          const std::string &product = {}) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < r.order().size(); ++i)
      if (is_type(r.order()[i], type) &&
          (product.empty() || product_of(r.order()[i].payload) == product))
        out.push_back(i);
    return out;
  }

  struct TickerCheck {
    std::size_t index; // into order
    std::string product;
    bool first; // the product's first ticker
    bool match; // our top equals best_bid/best_ask right before it
  };
  // Replays record by record and, at each ticker's position, compares the rebuilt top with the
  // ticker's best_bid/best_ask (both prices; the 2021 ticker gives no sizes).
  static std::vector<TickerCheck> ticker_checks(Replay &r) {
    std::vector<TickerCheck> out;
    std::set<std::string> seen;
    NullPublisher p;
    std::size_t done = 0;
    for (const std::size_t i : records(r, "ticker")) {
      r.run_range(done, i, p);
      done = i;
      const std::string product = product_of(r.order()[i].payload);
      const bool first = seen.insert(product).second;
      const InstrumentBook *b = book_of(r, Venue::Coinbase, product);
      EXPECT_TRUE(b != nullptr && b->status() == BookStatus::Synced) << product;
      out.push_back({i, product, first, top_of(r, product) == ticker_top(r, r.order()[i].payload)});
    }
    r.run_range(done, r.order().size(), p);
    return out;
  }

  // Every book but `except` is Synced and identical to the clean run's.
  void expect_others_exact(const Replay &r, const Replay &clean, const std::string &except) {
    for (std::uint32_t id = 0; id < clean.builder().instrument_slots(); ++id) {
      const InstrumentBook *a = clean.builder().book(id);
      if (a == nullptr || a->counters().book_messages == 0 || a->instrument().native == except)
        continue;
      const InstrumentBook *b = book_of(r, Venue::Coinbase, a->instrument().native);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->status(), BookStatus::Synced) << a->instrument().native;
      EXPECT_TRUE(same_book(a->book(), b->book())) << a->instrument().native;
    }
  }
};

// ---- the capture as recorded --------------------------------------------------------------------

TEST_F(CoinbaseReplay, ReplayGivesTheProvenanceCounts) {
  for (const bool threaded : {false, true}) {
    ReplayOptions o;
    o.threaded = threaded;
    auto r = run(o);
    ASSERT_TRUE(r);
    const Sum s = sum_books(*r);
    // PROVENANCE.md: 9,946 messages, 10 snapshots, 9,719 l2update, 107 ticker; no sequence
    // numbers on level2 (so no gap can be counted).
    EXPECT_EQ(r->totals().messages, 9946U);
    EXPECT_EQ(r->totals().parse_errors, 0U);
    EXPECT_EQ(r->totals().unknown_instruments, 0U);
    EXPECT_EQ(s.c.snapshots, 10U);
    EXPECT_EQ(s.c.applied, 9719U);
    EXPECT_EQ(s.c.seq_gaps, 0U);
    EXPECT_EQ(s.books, 10U);
    EXPECT_EQ(s.synced, 10U);
    // The ticker cross-check, counted live by the builder: 100 of 107 (PROVENANCE.md).
    EXPECT_EQ(s.c.bbo_checks_ok, 100U);
    EXPECT_EQ(s.c.bbo_checks_fail, 7U);
    EXPECT_EQ(r->builder().resync_requests(), 0U); // a ticker miss never marks a book stale
  }
}

TEST_F(CoinbaseReplay, CountsEveryTickerAndTradeOfTheCapture) {
  auto r = run();
  ASSERT_TRUE(r);
  std::uint64_t trades = 0;
  std::uint64_t bbos = 0;
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id)) {
      trades += b->counters().trades;
      bbos += b->counters().bbos;
    }
  EXPECT_EQ(bbos, 107U); // PROVENANCE.md: 107 ticker
  // The rest of the 9,946 messages are match/last_match and subscription acks (3 in the text).
  EXPECT_EQ(trades, 9946U - 10U - 9719U - 107U - records(*r, "subscriptions").size());
  EXPECT_EQ(records(*r, "subscriptions").size(), 3U);
  EXPECT_EQ(r->totals().ignored, 3U);
}

// The oracle PROVENANCE.md states: at each ticker's position in the stream, the top of the
// rebuilt book equals the ticker's best_bid/best_ask for exactly 100 of the 107 tickers, and the
// 7 misses are exactly the first ticker of 7 products (sent on subscribe, describing an earlier
// moment). Computed here record by record, independently of the builder's own counters, which
// must then agree with it.
TEST_F(CoinbaseReplay, TickerOracleMatchesTheTopOfEveryBookAfterEachProductsFirstTicker) {
  auto r = fresh();
  ASSERT_TRUE(r);
  const std::vector<TickerCheck> checks = ticker_checks(*r);
  ASSERT_EQ(checks.size(), 107U);
  std::size_t matches = 0;
  std::set<std::string> missed_products;
  std::size_t firsts = 0;
  for (const TickerCheck &c : checks) {
    firsts += c.first ? 1U : 0U;
    if (c.match) {
      ++matches;
      continue;
    }
    EXPECT_TRUE(c.first) << "ticker at record " << c.index << " of " << c.product;
    missed_products.insert(c.product);
  }
  EXPECT_EQ(matches, 100U);
  EXPECT_EQ(checks.size() - matches, 7U);
  EXPECT_EQ(missed_products.size(), 7U); // 7 different products, one first ticker each
  EXPECT_EQ(firsts, 10U);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.bbo_checks_ok, matches);
  EXPECT_EQ(s.c.bbo_checks_fail, checks.size() - matches);
  EXPECT_EQ(s.synced, 10U);
}

// ---- faults -------------------------------------------------------------------------------------

// Finds an l2update that moves a product's top price and the ticker of that product that comes
// next with no other update of the product in between, where the clean run matches the ticker.
// Dropping or corrupting that update leaves our top wrong exactly when the ticker is checked.
struct TopMove {
  std::size_t update;
  std::size_t ticker;
  std::string product;
};

std::optional<TopMove> find_top_move(Replay &r) {
  NullPublisher p;
  std::map<std::string, std::size_t> last_move;   // product -> last top-moving update
  std::map<std::string, std::size_t> last_update; // product -> last update
  std::set<std::string> seen_ticker;
  for (std::size_t i = 0; i < r.order().size(); ++i) {
    const Record &rec = r.order()[i];
    const std::string product = product_of(rec.payload);
    if (is_type(rec, "l2update")) {
      const Top before = top_of(r, product);
      r.run_range(i, i + 1, p);
      if (!(top_of(r, product) == before))
        last_move[product] = i;
      last_update[product] = i;
      continue;
    }
    if (is_type(rec, "ticker")) {
      const bool first = seen_ticker.insert(product).second;
      const bool match = top_of(r, product) == ticker_top(r, rec.payload);
      const auto m = last_move.find(product);
      if (!first && match && m != last_move.end() && last_update[product] == m->second &&
          i > r.order().size() / 3)
        return TopMove{m->second, i, product};
    }
    r.run_range(i, i + 1, p);
  }
  return std::nullopt;
}

TEST_F(CoinbaseReplay, DroppedTopUpdateIsCaughtOnlyByTheTickerCrossCheck) {
  auto probe = fresh();
  const auto move = find_top_move(*probe);
  ASSERT_TRUE(move.has_value());
  auto r = fresh();
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(move->update));
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.applied, 9719U - 1U);
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_GE(s.c.bbo_checks_fail, 7U + 1U); // the next ticker of the product disagrees
  EXPECT_LE(s.c.bbo_checks_ok, 100U - 1U);
  // Counted, not acted on: the check is approximate, so the book is not marked stale by it.
  EXPECT_EQ(s.synced, 10U);
  auto clean = run();
  expect_others_exact(*r, *clean, move->product);
}

TEST_F(CoinbaseReplay, ChangedPriceDigitOfATopUpdateIsCaughtByTheTickerCrossCheck) {
  auto probe = fresh();
  const auto move = find_top_move(*probe);
  ASSERT_TRUE(move.has_value());
  auto r = fresh();
  Record &rec = r->order()[move->update];
  const std::string text(rec.payload);
  // changes: [["side","price","size"]]: a digit of the price changes.
  const std::size_t price = text.find("\",\"", text.find("[[\"")) + 3;
  rec.payload = mut.keep(change_digit_before(text, text.find('"', price)));
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_GE(s.c.bbo_checks_fail, 7U + 1U);
  EXPECT_EQ(s.synced, 10U);
}

// An update moved past the product's next ticker: the book ends exactly right (the product's
// updates are still applied in their order), but at the ticker our top is one update behind.
TEST_F(CoinbaseReplay, UpdateSwappedWithTheFollowingTickerIsSeenByTheCrossCheckOnly) {
  auto probe = fresh();
  const auto move = find_top_move(*probe);
  ASSERT_TRUE(move.has_value());
  auto r = fresh();
  const Record update = r->order()[move->update];
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(move->update));
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(move->ticker), update);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.bbo_checks_fail, 7U + 1U);
  EXPECT_EQ(s.c.bbo_checks_ok, 100U - 1U);
  EXPECT_EQ(s.synced, 10U);
  auto clean = run();
  expect_others_exact(*r, *clean, "");
}

// Sizes are absolute: an update applied twice leaves every book exactly as recorded.
TEST_F(CoinbaseReplay, RepeatedUpdateIsHarmless) {
  auto r = fresh();
  const auto updates = records(*r, "l2update");
  const std::size_t at = updates[updates.size() / 2];
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.applied, 9719U + 1U);
  EXPECT_EQ(s.c.bbo_checks_ok, 100U);
  EXPECT_EQ(s.c.bbo_checks_fail, 7U);
  auto clean = run();
  expect_others_exact(*r, *clean, "");
}

// Undetectable: two updates of the same level swapped, where nothing later overwrites that
// level, leave a wrong size in a Synced book. There is no sequence number to show the reorder
// and the level is not at the top when any ticker looks.
TEST_F(CoinbaseReplay, SwappedUpdatesOfOneLevelLeaveAWrongBookNothingDetects) {
  auto r = fresh();
  // The last two updates of each (product, side, price), from the text.
  std::map<std::string, std::vector<std::size_t>> by_level;
  for (const std::size_t i : records(*r, "l2update")) {
    const std::string_view p = r->order()[i].payload;
    const std::size_t start = p.find("[[\"") + 3;
    const std::size_t size_at = p.find("\",\"", p.find("\",\"", start) + 3) + 3;
    by_level[product_of(p) + "|" + std::string(p.substr(start, size_at - 3 - start))].push_back(i);
  }
  auto clean = run();
  for (const auto &[level, idx] : by_level) {
    if (idx.size() < 2)
      continue;
    const std::size_t a = idx[idx.size() - 2];
    const std::size_t b = idx.back();
    const std::string_view pa = r->order()[a].payload;
    const std::string_view pb = r->order()[b].payload;
    if (pa.substr(pa.find("[[")).substr(0, pa.find("]]") - pa.find("[[")) ==
        pb.substr(pb.find("[[")).substr(0, pb.find("]]") - pb.find("[[")))
      continue; // same size: the swap would change nothing
    std::swap(r->order()[a], r->order()[b]);
    r->run();
    const Sum s = sum_books(*r);
    const std::string product = product_of(pa);
    if (s.c.bbo_checks_fail != 7U) { // this level reached the top at a ticker: try another
      r = fresh();
      continue;
    }
    EXPECT_EQ(r->totals().parse_errors, 0U);
    EXPECT_EQ(s.synced, 10U) << "nothing in the legacy feed catches this reorder";
    EXPECT_FALSE(same_book(book_of(*clean, Venue::Coinbase, product)->book(),
                           book_of(*r, Venue::Coinbase, product)->book()))
        << level;
    expect_others_exact(*r, *clean, product);
    return;
  }
  FAIL() << "no level has two last updates with different sizes";
}

// Undetectable: an update deep in the book dropped (the level never reaches the top at a
// ticker). The book is wrong and Synced; this documents the limit of the legacy feed.
TEST_F(CoinbaseReplay, DroppedDeepUpdateIsNotDetectable) {
  auto clean = run();
  for (const std::size_t candidate : records(*clean, "l2update")) {
    if (candidate < clean->order().size() / 2)
      continue;
    auto r = fresh();
    const std::string product = product_of(r->order()[candidate].payload);
    r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(candidate));
    r->run();
    const Sum s = sum_books(*r);
    if (s.c.bbo_checks_fail != 7U)
      continue;
    if (same_book(book_of(*clean, Venue::Coinbase, product)->book(),
                  book_of(*r, Venue::Coinbase, product)->book()))
      continue; // a later update rewrote the level
    EXPECT_EQ(s.synced, 10U);
    EXPECT_EQ(s.c.applied, 9719U - 1U);
    EXPECT_EQ(r->totals().parse_errors, 0U);
    expect_others_exact(*r, *clean, product);
    return;
  }
  FAIL() << "no deep update found";
}

// A level2 message cut short cannot be parsed: counted as a parse error, and its book (only
// that one) goes Stale in band with reason SequenceGap (it missed an update) and asks for a
// resync. The capture has no later snapshot, so it stays Stale.
TEST_F(CoinbaseReplay, TruncatedUpdateIsAParseErrorAndOnlyThatBookGoesStale) {
  auto r = fresh();
  const auto nu = records(*r, "l2update", "NU-GBP");
  ASSERT_GT(nu.size(), 10U);
  Record &rec = r->order()[nu[nu.size() / 2]];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  const InstrumentBook *b = book_of(*r, Venue::Coinbase, "NU-GBP");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_GT(b->counters().skipped_stale, 0U); // later NU-GBP updates are not applied
  EXPECT_EQ(r->builder().resync_requests(), 1U);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.synced, 9U);
  auto clean = run();
  expect_others_exact(*r, *clean, "NU-GBP");
}

// A structural byte of a level2 message replaced (the '[' opening its changes becomes a letter):
// the same as a cut message.
TEST_F(CoinbaseReplay, UpdateWithAStructuralByteFlippedMarksItsBookStale) {
  auto r = fresh();
  const auto yfi = records(*r, "l2update", "YFI-BTC");
  ASSERT_GT(yfi.size(), 10U);
  Record &rec = r->order()[yfi[yfi.size() / 3]];
  std::string text(rec.payload);
  const std::size_t at = text.find("[[");
  ASSERT_NE(at, std::string::npos);
  text[at] = 'x';
  rec.payload = mut.keep(text);
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  const InstrumentBook *b = book_of(*r, Venue::Coinbase, "YFI-BTC");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_EQ(sum_books(*r).synced, 9U);
}

// A ticker or match that cannot be parsed costs no book anything: counted, nothing goes stale.
TEST_F(CoinbaseReplay, TruncatedTickerOrMatchLeavesEveryBookSynced) {
  auto r = fresh();
  const auto tickers = records(*r, "ticker");
  const auto matches = records(*r, "match");
  for (const std::size_t i : {tickers[tickers.size() / 2], matches[matches.size() / 2]}) {
    Record &rec = r->order()[i];
    rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  }
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 2U);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.synced, 10U);
  EXPECT_EQ(s.c.bbo_checks_ok + s.c.bbo_checks_fail, 107U - 1U);
  EXPECT_EQ(r->builder().resync_requests(), 0U);
}

// ---- allocation
// -----------------------------------------------------------------------------------

// The steady state of parse -> book apply -> ticker cross-check allocates nothing: the first
// fifth of the capture warms up (every product and book seen), the rest must run with zero
// allocations.
TEST_F(CoinbaseReplay, NoHeapAllocationPerMessageAfterWarmUp) {
  auto r = fresh();
  ASSERT_TRUE(r);
  NullPublisher pub;
  const std::size_t n = r->order().size();
  const std::size_t warm = n / 5;
  r->run_range(0, warm, pub);
  const std::size_t before = g_allocations.load();
  r->run_range(warm, n, pub);
  const std::size_t during = g_allocations.load() - before;
  EXPECT_GT(sum_books(*r).c.applied, 5000U); // the measured part really did book work
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_EQ(during, 0U) << "allocations while replaying " << (n - warm) << " records";
}

} // namespace
} // namespace fh::test
