// labels: replay
// Gate.io spot replays of the 2021-04-22 capture (stream + REST snapshots + currency_pairs)
// through the real pipeline, clean and with faults. Expected numbers come from PROVENANCE.md
// ("239 ws + 10 snapshots", "8 pairs synced with 0 gaps; INK_USDT and BTC_USDC only had stale
// updates") and from an independent reading of the capture text in this file (simdjson DOM: each
// pair's snapshot id and every update's U/u), never from the code under test.
// Fault tests corrupt real records mechanically through Replay::order() (drop, repeat, swap,
// truncate, replace a byte, change a digit); each says what it corrupts.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/counting_new.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

using capture::Record;
using capture::RecordKind;

const std::vector<std::string> kFiles{
    "gateio/cryptofeed/spot_2021-04-22_ws.txt.gz",
    "gateio/cryptofeed/spot_2021-04-22_order_book_snapshots_http.txt.gz",
    "gateio/cryptofeed/spot_currency_pairs_2021-04-22_http.txt.gz"};

// ---- independent reading of the capture --------------------------------------------------------
struct PairTruth {
  std::uint64_t id = 0;    // REST snapshot id
  std::size_t asks = 0, bids = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> updates; // (U, u) in stream order
  std::size_t stale = 0;   // u <= id: older than the snapshot
  std::size_t applied = 0; // the rest
  bool chain_ok = true;    // first newer update straddles id + 1, then U == previous u + 1
};

std::map<std::string, PairTruth> read_truth(Replay &r) {
  std::map<std::string, PairTruth> truth;
  simdjson::dom::parser dom;
  for (const Record &rec : r.order()) {
    simdjson::dom::element e;
    if (rec.kind == RecordKind::Http && rec.url.find("/spot/order_book?") != std::string_view::npos) {
      EXPECT_EQ(dom.parse(rec.payload.data(), rec.payload.size(), false).get(e), simdjson::SUCCESS);
      PairTruth &t = truth[std::string(capture::url_param(rec.url, "currency_pair"))];
      EXPECT_EQ(e["id"].get_uint64().get(t.id), simdjson::SUCCESS);
      simdjson::dom::array asks, bids;
      EXPECT_EQ(e["asks"].get_array().get(asks), simdjson::SUCCESS);
      EXPECT_EQ(e["bids"].get_array().get(bids), simdjson::SUCCESS);
      t.asks = asks.size();
      t.bids = bids.size();
    } else if (rec.kind == RecordKind::WsText &&
               rec.payload.find("\"spot.order_book_update\",\"event\":\"update\"") !=
                   std::string_view::npos) {
      EXPECT_EQ(dom.parse(rec.payload.data(), rec.payload.size(), false).get(e), simdjson::SUCCESS);
      std::string_view pair;
      std::uint64_t first = 0, last = 0;
      EXPECT_EQ(e["result"]["s"].get_string().get(pair), simdjson::SUCCESS);
      EXPECT_EQ(e["result"]["U"].get_uint64().get(first), simdjson::SUCCESS);
      EXPECT_EQ(e["result"]["u"].get_uint64().get(last), simdjson::SUCCESS);
      truth[std::string(pair)].updates.emplace_back(first, last);
    }
  }
  for (auto &[pair, t] : truth) {
    std::uint64_t prev = 0;
    for (const auto &[first, last] : t.updates) {
      if (last <= t.id) {
        ++t.stale;
        continue;
      }
      if (t.applied++ == 0)
        t.chain_ok = t.chain_ok && first <= t.id + 1 && t.id + 1 <= last;
      else
        t.chain_ok = t.chain_ok && first == prev + 1;
      prev = last;
    }
  }
  return truth;
}

// ---- helpers -----------------------------------------------------------------------------------
class Mutations { // owns mutated payloads with simdjson padding behind them
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

// Indices (into order) of the book updates of one pair.
std::vector<std::size_t> updates_of(Replay &r, const std::string &pair) {
  std::vector<std::size_t> out;
  const std::string needle = "\"s\":\"" + pair + "\"";
  for (std::size_t i = 0; i < r.order().size(); ++i) {
    const Record &rec = r.order()[i];
    if (rec.kind == RecordKind::WsText && rec.payload.find(needle) != std::string_view::npos &&
        rec.payload.find("\"event\":\"update\"") != std::string_view::npos)
      out.push_back(i);
  }
  return out;
}

bool same_book(const book::L2Book &a, const book::L2Book &b) {
  for (auto side : {book::Side::Bid, book::Side::Ask}) {
    if (a.depth(side) != b.depth(side))
      return false;
    for (std::size_t i = 0; i < a.depth(side); ++i)
      if (a.at(side, i).price != b.at(side, i).price || a.at(side, i).qty != b.at(side, i).qty)
        return false;
  }
  return true;
}

// ---- clean replay ------------------------------------------------------------------------------
class GateIoReplay : public ::testing::TestWithParam<bool> {};

TEST_P(GateIoReplay, EightPairsChainWithoutGapsAndTwoOnlyHaveUpdatesOlderThanTheirSnapshot) {
  ReplayOptions o;
  o.threaded = GetParam();
  auto r = open_replay(kFiles, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->venue_of(0), Venue::GateIo);
  const auto truth = read_truth(*r);
  r->run();

  // PROVENANCE.md: 239 ws messages + 10 REST snapshots, all parsed.
  EXPECT_EQ(r->totals().messages, 239U + 10U);
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_EQ(r->totals().metadata_instruments, 1458U);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.books, 10U);
  EXPECT_EQ(s.c.snapshots, 10U);
  EXPECT_EQ(s.c.seq_gaps, 0U);
  EXPECT_EQ(s.c.book_messages, 172U + 10U);

  ASSERT_EQ(truth.size(), 10U);
  std::size_t applied = 0, stale = 0, chained_pairs = 0;
  std::set<std::string> only_stale;
  std::uint64_t trades = 0, bbos = 0;
  for (const auto &[pair, t] : truth) {
    SCOPED_TRACE(pair);
    EXPECT_TRUE(t.chain_ok); // the venue's own ids: straddle, then U == previous u + 1
    const InstrumentBook *b = book_of(*r, Venue::GateIo, pair);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->counters().snapshots, 1U);
    EXPECT_EQ(b->counters().applied, t.applied);
    EXPECT_EQ(b->counters().dropped, t.stale);
    EXPECT_EQ(b->counters().seq_gaps, 0U);
    applied += t.applied;
    stale += t.stale;
    trades += b->counters().trades;
    bbos += b->counters().bbos;
    if (t.applied != 0) {
      ++chained_pairs;
      EXPECT_EQ(b->status(), BookStatus::Synced);
      EXPECT_EQ(b->last_update_id(), t.updates.back().second);
    } else {
      only_stale.insert(pair);
    }
  }
  EXPECT_EQ(applied, s.c.applied);
  EXPECT_EQ(stale, s.c.dropped);
  EXPECT_EQ(applied + stale, 172U);
  // PROVENANCE.md: 8 pairs synced (an update straddled the snapshot, then chained), 0 gaps.
  EXPECT_EQ(chained_pairs, 8U);
  // INK_USDT and BTC_USDC: every update they sent was older than (or equal to) the snapshot id,
  // so all were dropped. Their books are Synced as of the REST snapshot (the venue's book at
  // `id`, nothing newer was ever announced); no update could confirm the chain. Their books are
  // exactly the snapshot's levels.
  EXPECT_EQ(only_stale, (std::set<std::string>{"BTC_USDC", "INK_USDT"}));
  for (const std::string &pair : only_stale) {
    SCOPED_TRACE(pair);
    const PairTruth &t = truth.at(pair);
    const InstrumentBook *b = book_of(*r, Venue::GateIo, pair);
    EXPECT_EQ(b->status(), BookStatus::Synced);
    EXPECT_EQ(b->counters().applied, 0U);
    EXPECT_EQ(b->counters().dropped, t.updates.size());
    EXPECT_EQ(b->last_update_id(), 0U); // no update applied since the snapshot
    EXPECT_EQ(b->book().depth(book::Side::Ask), t.asks);
    EXPECT_EQ(b->book().depth(book::Side::Bid), t.bids);
  }
  EXPECT_EQ(truth.at("INK_USDT").updates.size(), 1U); // u == id: 2509482
  EXPECT_EQ(truth.at("BTC_USDC").updates.size(), 2U); // u = id - 1 (buffered), u = id (after it)
  EXPECT_EQ(s.synced, 10U);
  EXPECT_EQ(trades, 9U);
  EXPECT_EQ(bbos, 22U);
  EXPECT_EQ(r->builder().resync_requests(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Pipelines, GateIoReplay, ::testing::Values(false, true),
                         [](const auto &p) { return p.param ? "threaded" : "fused"; });

// ---- faults ------------------------------------------------------------------------------------
class GateIoFaults : public ::testing::Test {
protected:
  std::unique_ptr<Replay> clean = [] {
    auto r = open_replay(kFiles);
    r->run();
    return r;
  }();
  Mutations mut;

  static std::unique_ptr<Replay> fresh() { return open_replay(kFiles); }

  // Every pair but `except` ends exactly as in the clean run, and Synced.
  void expect_others_unaffected(const Replay &r, const std::string &except) {
    std::size_t others = 0;
    for (std::uint32_t id = 0; id < clean->builder().instrument_slots(); ++id) {
      const InstrumentBook *a = clean->builder().book(id);
      if (a == nullptr || a->counters().book_messages == 0 || a->instrument().native == except)
        continue;
      const InstrumentBook *b = book_of(r, Venue::GateIo, a->instrument().native);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->status(), BookStatus::Synced) << a->instrument().native;
      EXPECT_EQ(b->counters().applied, a->counters().applied) << a->instrument().native;
      EXPECT_TRUE(same_book(a->book(), b->book())) << a->instrument().native;
      ++others;
    }
    EXPECT_EQ(others, 9U);
  }

  // A corrupted update of OMG_USDT (51 updates, the first one older than the snapshot): the pair
  // goes stale on a sequence gap at the next update, asks for a resync, and nothing else moves.
  void expect_omg_gap(const Replay &r) {
    const InstrumentBook *b = book_of(r, Venue::GateIo, "OMG_USDT");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status(), BookStatus::Stale);
    EXPECT_EQ(b->last_error(), BookError::SequenceGap);
    EXPECT_EQ(b->counters().seq_gaps, 1U);
    EXPECT_GE(r.builder().resync_requests(), 1U);
    expect_others_unaffected(r, "OMG_USDT");
  }
};

TEST_F(GateIoFaults, DroppedUpdateIsASequenceGapAndOnlyThatPairGoesStale) {
  auto r = fresh();
  const auto omg = updates_of(*r, "OMG_USDT");
  ASSERT_EQ(omg.size(), 51U);
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(omg[25]));
  r->run();
  expect_omg_gap(*r);
}

TEST_F(GateIoFaults, RepeatedUpdateIsDroppedAndTheBookStaysExact) {
  auto r = fresh();
  const auto omg = updates_of(*r, "OMG_USDT");
  const Record copy = r->order()[omg[25]];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(omg[25]) + 1, copy);
  r->run();
  const InstrumentBook *a = book_of(*clean, Venue::GateIo, "OMG_USDT");
  const InstrumentBook *b = book_of(*r, Venue::GateIo, "OMG_USDT");
  EXPECT_EQ(b->status(), BookStatus::Synced);
  EXPECT_EQ(b->counters().dropped, a->counters().dropped + 1U);
  EXPECT_EQ(b->counters().applied, a->counters().applied);
  EXPECT_TRUE(same_book(a->book(), b->book()));
  expect_others_unaffected(*r, "OMG_USDT");
}

TEST_F(GateIoFaults, SwappedUpdatesBreakTheChain) {
  auto r = fresh();
  const auto omg = updates_of(*r, "OMG_USDT");
  std::swap(r->order()[omg[25]], r->order()[omg[26]]);
  r->run();
  expect_omg_gap(*r);
}

TEST_F(GateIoFaults, TruncatedUpdateIsAParseErrorThenAGap) {
  auto r = fresh();
  Record &rec = r->order()[updates_of(*r, "OMG_USDT")[25]];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  expect_omg_gap(*r);
}

TEST_F(GateIoFaults, UpdateWithAStructuralByteReplacedIsAParseErrorThenAGap) {
  auto r = fresh();
  Record &rec = r->order()[updates_of(*r, "OMG_USDT")[25]];
  std::string text(rec.payload);
  text[text.find("\"b\":[") + 4] = 'x'; // the '[' opening the bids
  rec.payload = mut.keep(text);
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  expect_omg_gap(*r);
}

TEST_F(GateIoFaults, ChangedDigitInTheFirstIdIsAGap) {
  auto r = fresh();
  Record &rec = r->order()[updates_of(*r, "OMG_USDT")[25]];
  std::string text(rec.payload);
  const std::size_t end = text.find(",\"u\":"); // the last digit of U
  ASSERT_NE(end, std::string::npos);
  text[end - 1] = text[end - 1] == '9' ? '8' : static_cast<char>(text[end - 1] + 1);
  rec.payload = mut.keep(text);
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 0U);
  const InstrumentBook *b = book_of(*r, Venue::GateIo, "OMG_USDT");
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->counters().seq_gaps, 1U);
  expect_others_unaffected(*r, "OMG_USDT");
}

// The NEO_BTC REST snapshot cut in half: a parse error; NEO_BTC keeps buffering and never claims
// to be synced (the capture has no second snapshot); the other nine are untouched.
TEST_F(GateIoFaults, CutSnapshotLeavesThatPairWaitingAndTheOthersSynced) {
  auto r = fresh();
  for (Record &rec : r->order()) {
    if (rec.kind == RecordKind::Http && rec.url.find("currency_pair=NEO_BTC") != std::string_view::npos)
      rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  }
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  const InstrumentBook *b = book_of(*r, Venue::GateIo, "NEO_BTC");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::WaitingSnapshot);
  EXPECT_EQ(b->counters().snapshots, 0U);
  EXPECT_EQ(b->counters().applied, 0U);
  EXPECT_EQ(b->counters().buffered, 39U); // every NEO_BTC update in the capture
  expect_others_unaffected(*r, "NEO_BTC");
}

// ---- steady state allocates nothing -------------------------------------------------------------
// Books are prepared for the subscribed pairs first (the control path does that before traffic;
// BTC_USDC and NANO_USDT send nothing until late in the capture).
TEST(GateIoReplayAllocations, NoHeapAllocationPerMessageAfterWarmUp) {
  auto r = open_replay(kFiles);
  ASSERT_TRUE(r);
  for (const auto &[pair, t] : read_truth(*r)) {
    const Instrument *inst = r->registry().find(Venue::GateIo, pair);
    ASSERT_NE(inst, nullptr) << pair;
    r->builder().prepare(inst->id);
  }
  NullPublisher pub;
  const std::size_t n = r->order().size();
  const std::size_t warm = n / 5;
  r->run_range(0, warm, pub);
  const std::uint64_t applied_before = sum_books(*r).c.applied;
  const std::size_t before = g_allocations.load();
  r->run_range(warm, n, pub);
  const std::size_t during = g_allocations.load() - before;
  EXPECT_GT(sum_books(*r).c.applied - applied_before, 100U); // the measured part booked updates
  EXPECT_EQ(r->totals().parse_errors, 0U);
  EXPECT_EQ(during, 0U) << "allocations while replaying " << (n - warm) << " records";
}

} // namespace
} // namespace fh::test
