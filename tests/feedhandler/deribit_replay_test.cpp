// labels: replay
// Deribit captures replayed through the whole pipeline (Replay: capture reader -> dispatch ->
// DeribitParser -> BookBuilder). The oracle is the venue's change_id chain (PROVENANCE.md:
// "prev_change_id chain unbroken", 10 snapshots + 36 / 46 changes) and an independent rebuild
// of every book from the message text with a std::map. Fault tests corrupt real records
// mechanically (drop, repeat, swap, truncate, replace a byte, change a digit) and check that
// the affected book goes Stale with the counted reason while the others stay exactly right.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/counting_new.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::test {
namespace {

using capture::Record;
using capture::RecordKind;

constexpr const char *k0722 = "deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz";
constexpr const char *k0417 = "deribit/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "deribit/cryptofeed/instruments_2021-07-22_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
std::string_view channel_of(std::string_view msg) {
  const std::size_t k = msg.find("\"channel\":\"");
  if (k == std::string_view::npos)
    return {};
  const std::size_t begin = k + 11;
  return msg.substr(begin, msg.find('"', begin) - begin);
}
std::string_view instrument_of(std::string_view msg) {
  const std::string_view ch = channel_of(msg);
  const std::size_t dot = ch.find('.');
  return dot == std::string_view::npos ? std::string_view{}
                                       : ch.substr(dot + 1, ch.rfind('.') - dot - 1);
}
bool is_book(std::string_view msg) {
  return channel_of(msg).substr(0, 5) == "book.";
}
bool is_change(std::string_view msg) {
  return is_book(msg) && msg.find("\"type\":\"change\"") != std::string_view::npos;
}

// A book rebuilt from the message text: price text -> amount text, per side, per instrument.
// Snapshots replace, "delete" erases, "new"/"change" set (VENUE_RULES.md "Deribit").
using TextSide = std::map<std::int64_t, std::int64_t>; // mantissas at the instrument's scale
struct TextBook {
  TextSide bids, asks;
};

std::map<std::string, TextBook> rebuild_from_text(const Replay &r) {
  std::map<std::string, TextBook> books;
  for (const Record &rec : const_cast<Replay &>(r).order()) {
    if (rec.kind != RecordKind::WsText || !is_book(rec.payload))
      continue;
    const std::string name(instrument_of(rec.payload));
    const Instrument *inst = r.registry().find(Venue::Deribit, name);
    EXPECT_NE(inst, nullptr) << name;
    if (inst == nullptr)
      continue;
    TextBook &b = books[name];
    if (rec.payload.find("\"type\":\"snapshot\"") != std::string_view::npos)
      b = TextBook{};
    for (const auto &[key, side] :
         {std::pair{"\"bids\":[", &b.bids}, std::pair{"\"asks\":[", &b.asks}}) {
      const std::size_t open = rec.payload.find(key);
      std::size_t end = open + std::strlen(key);
      for (int depth = 1; depth > 0; ++end)
        depth += rec.payload[end] == '[' ? 1 : rec.payload[end] == ']' ? -1 : 0;
      // Entries are `["` action `",` price `,` amount `]`.
      const std::string_view array = rec.payload.substr(open, end - open);
      for (std::size_t p = array.find("[\""); p != std::string_view::npos;
           p = array.find("[\"", p + 1)) {
        const std::size_t action_end = array.find("\",", p + 2);
        const std::size_t price_end = array.find(',', action_end + 2);
        const std::size_t amount_end = array.find(']', price_end + 1);
        const std::string_view action = array.substr(p + 2, action_end - p - 2);
        const std::int64_t px = *ref_mantissa(
            array.substr(action_end + 2, price_end - action_end - 2), inst->price_decimals);
        if (action == "delete")
          side->erase(px);
        else
          (*side)[px] = *ref_mantissa(array.substr(price_end + 1, amount_end - price_end - 1),
                                      inst->qty_decimals);
      }
    }
  }
  return books;
}

::testing::AssertionResult same_as_text(const InstrumentBook &b, const TextBook &t) {
  for (const auto &[side, levels] :
       {std::pair{book::Side::Bid, &t.bids}, std::pair{book::Side::Ask, &t.asks}}) {
    if (b.book().depth(side) != levels->size())
      return ::testing::AssertionFailure()
             << "depth " << b.book().depth(side) << " vs " << levels->size();
    std::size_t i = 0;
    auto check = [&](std::int64_t px, std::int64_t qty) {
      const book::Level &l = b.book().at(side, i++);
      return l.price == px && l.qty == qty;
    };
    bool ok = true;
    if (side == book::Side::Bid) {
      for (auto it = levels->rbegin(); it != levels->rend(); ++it)
        ok = ok && check(it->first, it->second);
    } else {
      for (const auto &[px, qty] : *levels)
        ok = ok && check(px, qty);
    }
    if (!ok)
      return ::testing::AssertionFailure() << "levels differ";
  }
  return ::testing::AssertionSuccess();
}

std::size_t count_channel(const Replay &r, std::string_view prefix) {
  std::size_t n = 0;
  for (const Record &rec : const_cast<Replay &>(r).order())
    if (rec.kind == RecordKind::WsText &&
        channel_of(rec.payload).substr(0, prefix.size()) == prefix)
      ++n;
  return n;
}

// Instruments in the get_instruments responses (no combos in this file), counted with the DOM.
std::size_t metadata_count() {
  std::size_t n = 0;
  auto f = capture::CaptureFile::open(data_path(kMeta));
  simdjson::dom::parser dom;
  for (const Record &rec : std::get<capture::CaptureFile>(f).records()) {
    simdjson::dom::element body;
    simdjson::dom::array result;
    if (rec.kind == RecordKind::Http &&
        !dom.parse(rec.payload.data(), rec.payload.size(), false).get(body) &&
        !body["result"].get_array().get(result))
      n += result.size();
  }
  return n;
}

struct Totals {
  std::uint64_t trades = 0, bbos = 0;
};
Totals event_totals(const Replay &r) {
  Totals t;
  for (std::uint32_t id = 0; id < r.builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r.builder().book(id)) {
      t.trades += b->counters().trades;
      t.bbos += b->counters().bbos;
    }
  return t;
}

// ---- golden replays --------------------------------------------------------------------------
class DeribitReplay : public ::testing::TestWithParam<bool> {
protected:
  std::unique_ptr<Replay> run(const std::vector<std::string> &files) {
    ReplayOptions o;
    o.threaded = GetParam();
    auto r = open_replay(files, o);
    if (r)
      r->run();
    return r;
  }
  void expect_golden(const Replay &r, std::uint64_t changes) {
    const Sum s = sum_books(r);
    EXPECT_EQ(s.c.snapshots, 10U); // PROVENANCE.md
    EXPECT_EQ(s.c.applied, changes);
    EXPECT_EQ(s.c.seq_gaps, 0U);
    EXPECT_EQ(s.c.dropped, 0U);
    EXPECT_EQ(s.c.skipped_stale, 0U);
    EXPECT_EQ(s.books, 10U);
    EXPECT_EQ(s.synced, 10U);
    EXPECT_EQ(r.totals().parse_errors, 0U);
    EXPECT_EQ(r.totals().unknown_instruments, 0U);
    const Totals t = event_totals(r);
    EXPECT_EQ(t.bbos, count_channel(r, "ticker."));
    EXPECT_EQ(t.trades, count_channel(r, "trades."));
    const auto text = rebuild_from_text(r);
    ASSERT_EQ(text.size(), 10U);
    for (const auto &[name, tb] : text) {
      const InstrumentBook *b = book_of(r, Venue::Deribit, name);
      ASSERT_NE(b, nullptr) << name;
      EXPECT_TRUE(same_as_text(*b, tb)) << name;
    }
  }
};

TEST_P(DeribitReplay, Capture20210722WithMetadataSyncsEveryBookWithAnUnbrokenChain) {
  auto r = run({k0722, kMeta});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->totals().messages, 136U);
  EXPECT_EQ(r->totals().metadata_instruments, metadata_count());
  for (std::uint32_t id = 0; id < r->builder().instrument_slots(); ++id)
    if (const InstrumentBook *b = r->builder().book(id)) {
      EXPECT_TRUE(b->instrument().from_metadata) << b->instrument().native;
    }
  expect_golden(*r, 36U);
}

TEST_P(DeribitReplay, Capture20210417SyncsEveryBookWithAnUnbrokenChain) {
  auto r = run({k0417});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->totals().messages, 149U);
  expect_golden(*r, 46U);
}

INSTANTIATE_TEST_SUITE_P(FusedAndThreaded, DeribitReplay, ::testing::Bool(),
                         [](const auto &p) { return p.param ? "threaded" : "fused"; });

// ---- faults ----------------------------------------------------------------------------------
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

class DeribitFaults : public ::testing::Test {
protected:
  std::vector<std::string> files{k0722, kMeta};
  std::unique_ptr<Replay> clean = [this] {
    auto r = open_replay(files);
    r->run();
    return r;
  }();
  Mutations mut;

  std::unique_ptr<Replay> fresh() { return open_replay(files); }

  // Indices (into order) of the change notifications of `name`.
  static std::vector<std::size_t> changes_of(Replay &r, std::string_view name) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < r.order().size(); ++i) {
      const Record &rec = r.order()[i];
      if (rec.kind == RecordKind::WsText && is_change(rec.payload) &&
          instrument_of(rec.payload) == name)
        out.push_back(i);
    }
    return out;
  }
  // The instrument with the most changes in the clean capture (BTC-24SEP21-8000-P has several).
  std::string busiest(Replay &r) {
    std::map<std::string, std::size_t> n;
    for (const Record &rec : r.order())
      if (rec.kind == RecordKind::WsText && is_change(rec.payload))
        ++n[std::string(instrument_of(rec.payload))];
    std::string best;
    for (const auto &[name, count] : n)
      if (best.empty() || count > n[best])
        best = name;
    EXPECT_GE(n[best], 3U);
    return best;
  }

  // Every instrument but `except` ends exactly as in the clean run.
  void expect_others_unaffected(const Replay &r, const std::string &except) {
    std::size_t others = 0;
    for (std::uint32_t id = 0; id < clean->builder().instrument_slots(); ++id) {
      const InstrumentBook *a = clean->builder().book(id);
      if (a == nullptr || a->counters().book_messages == 0 || a->instrument().native == except)
        continue;
      const InstrumentBook *b = book_of(r, Venue::Deribit, a->instrument().native);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->status(), BookStatus::Synced) << a->instrument().native;
      EXPECT_EQ(b->counters().applied, a->counters().applied) << a->instrument().native;
      EXPECT_TRUE(same_book(a->book(), b->book())) << a->instrument().native;
      ++others;
    }
    EXPECT_EQ(others, 9U);
  }

  static bool same_book(const book::L2Book &a, const book::L2Book &b) {
    for (auto side : {book::Side::Bid, book::Side::Ask}) {
      if (a.depth(side) != b.depth(side))
        return false;
      for (std::size_t i = 0; i < a.depth(side); ++i)
        if (a.at(side, i).price != b.at(side, i).price || a.at(side, i).qty != b.at(side, i).qty)
          return false;
    }
    return true;
  }

  // Runs `r` and checks that `name` went stale on a change_id gap while the rest is intact.
  void expect_gap_caught(Replay &r, const std::string &name, std::uint64_t parse_errors) {
    r.run();
    const InstrumentBook *b = book_of(r, Venue::Deribit, name);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status(), BookStatus::Stale);
    EXPECT_EQ(b->last_error(), BookError::SequenceGap);
    EXPECT_EQ(b->counters().seq_gaps, 1U);
    EXPECT_GE(r.builder().resync_requests(), 1U);
    EXPECT_EQ(r.totals().parse_errors, parse_errors);
    expect_others_unaffected(r, name);
  }
};

TEST_F(DeribitFaults, DroppedChangeIsAPrevChangeIdGapAndOnlyThatBookGoesStale) {
  auto r = fresh();
  const std::string name = busiest(*r);
  const auto changes = changes_of(*r, name);
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(changes[0]));
  expect_gap_caught(*r, name, 0);
  // Nothing after the gap is applied: the book waits for a new snapshot.
  const InstrumentBook *b = book_of(*r, Venue::Deribit, name);
  EXPECT_EQ(b->counters().applied, 0U);
  EXPECT_EQ(b->counters().skipped_stale, changes.size() - 2);
}

TEST_F(DeribitFaults, RepeatedChangeIsDroppedAndEveryBookStaysExact) {
  auto r = fresh();
  const std::string name = busiest(*r);
  const std::size_t at = changes_of(*r, name)[1];
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.dropped, 1U);
  EXPECT_EQ(s.c.seq_gaps, 0U);
  EXPECT_EQ(s.c.applied, 36U);
  EXPECT_EQ(s.synced, 10U);
  const InstrumentBook *b = book_of(*r, Venue::Deribit, name);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(same_book(b->book(), book_of(*clean, Venue::Deribit, name)->book()));
  expect_others_unaffected(*r, name);
}

TEST_F(DeribitFaults, SwappedChangesAreAGapAndTheBookGoesStale) {
  auto r = fresh();
  const std::string name = busiest(*r);
  const auto changes = changes_of(*r, name);
  std::swap(r->order()[changes[0]], r->order()[changes[1]]);
  expect_gap_caught(*r, name, 0);
}

TEST_F(DeribitFaults, ChangedDigitOfAChangeIdBreaksTheChainAtTheNextChange) {
  auto r = fresh();
  const std::string name = busiest(*r);
  Record &rec = r->order()[changes_of(*r, name)[0]];
  std::string text(rec.payload);
  // The last non-zero digit of change_id (not prev_change_id) goes one down: a smaller id can
  // never collide with a later change's id, so the corruption must show up as a gap.
  const std::size_t key = text.find("\"change_id\":");
  ASSERT_NE(key, std::string::npos);
  std::size_t last = key + 12;
  while (text[last + 1] >= '0' && text[last + 1] <= '9')
    ++last;
  while (text[last] == '0')
    --last;
  --text[last];
  rec.payload = mut.keep(std::move(text));
  expect_gap_caught(*r, name, 0);
}

TEST_F(DeribitFaults, TruncatedChangeIsAParseErrorAndTheBookGoesStaleAtTheNextChange) {
  auto r = fresh();
  const std::string name = busiest(*r);
  Record &rec = r->order()[changes_of(*r, name)[0]];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  expect_gap_caught(*r, name, 1);
  EXPECT_EQ(r->totals().by_status[static_cast<std::size_t>(ParseStatus::Malformed)], 1U);
}

TEST_F(DeribitFaults, ChangeWithAStructuralByteReplacedIsAParseErrorAndTheBookGoesStale) {
  auto r = fresh();
  const std::string name = busiest(*r);
  Record &rec = r->order()[changes_of(*r, name)[0]];
  std::string text(rec.payload);
  // The ':' after "prev_change_id" becomes 'x'.
  const std::size_t key = text.find("\"prev_change_id\":");
  ASSERT_NE(key, std::string::npos);
  text[key + 16] = 'x';
  rec.payload = mut.keep(std::move(text));
  expect_gap_caught(*r, name, 1);
}

TEST_F(DeribitFaults, TruncatedSnapshotLeavesTheBookUnsyncedAndItsChangesUnapplied) {
  auto r = fresh();
  const std::string name = busiest(*r);
  std::size_t snapshot = r->order().size();
  for (std::size_t i = 0; i < r->order().size(); ++i) {
    const Record &rec = r->order()[i];
    if (rec.kind == RecordKind::WsText && is_book(rec.payload) &&
        instrument_of(rec.payload) == name && !is_change(rec.payload))
      snapshot = i;
  }
  ASSERT_LT(snapshot, r->order().size());
  Record &rec = r->order()[snapshot];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() - 1)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1U);
  const InstrumentBook *b = book_of(*r, Venue::Deribit, name);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(b->status(), BookStatus::Synced);
  EXPECT_EQ(b->counters().applied, 0U);
  EXPECT_EQ(b->counters().skipped_stale, changes_of(*r, name).size());
  expect_others_unaffected(*r, name);
}

// ---- steady state ----------------------------------------------------------------------------
// Once every instrument has had its snapshot (books reserved), replaying the rest of the
// capture -- changes, tickers -- allocates nothing.
TEST(DeribitAllocations, NoHeapAllocationPerMessageAfterTheSnapshots) {
  for (const std::vector<std::string> &files :
       {std::vector<std::string>{k0722, kMeta}, std::vector<std::string>{k0417}}) {
    auto r = open_replay(files);
    ASSERT_TRUE(r);
    std::size_t warm = 0;
    for (std::size_t i = 0; i < r->order().size(); ++i)
      if (r->order()[i].payload.find("\"type\":\"snapshot\"") != std::string_view::npos)
        warm = i + 1;
    NullPublisher pub;
    r->run_range(0, warm, pub);
    const std::uint64_t applied_before = sum_books(*r).c.applied;
    const std::size_t before = g_allocations.load();
    r->run_range(warm, r->order().size(), pub);
    const std::size_t during = g_allocations.load() - before;
    EXPECT_GT(sum_books(*r).c.applied - applied_before, 20U) << files[0];
    EXPECT_EQ(r->totals().parse_errors, 0U);
    EXPECT_EQ(during, 0U) << files[0];
  }
}

} // namespace
} // namespace fh::test
