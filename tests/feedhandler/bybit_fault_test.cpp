// labels: replay
// Bybit fault tests: the real captures corrupted mechanically (a record dropped, repeated,
// swapped, cut short, a structural byte replaced, one digit changed) and replayed. v5 books are
// chained by `u` (+1 per message), so every loss is a gap; the legacy book has only the
// increasing `cross_seq` and the consistency of its entry ids, so a loss is caught when it
// breaks one of them. Either way the book goes stale at once, no wrong book stays Synced, and
// the other books of the capture are untouched.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <string>
#include <vector>

#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

using capture::Record;

constexpr const char *kV5 = "bybit/nautilus/2024-12-01_XRPUSDT_ob500.data.zip";
constexpr const char *kLegacyWs =
    "bybit/cryptofeed/legacy_linear_orderBookL2_25_trade_2021-04-17_ws.txt.gz";
constexpr const char *kLegacySymbols = "bybit/cryptofeed/legacy_symbols_2021-04-17_http.txt.gz";

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

// ---- v5: orderbook.500.XRPUSDT, 1 snapshot (record 0) then 49 deltas chained by u --------------
class BybitV5Faults : public ::testing::Test {
protected:
  static constexpr std::size_t kDeltas = 49; // u 20254870..20254918 (PROVENANCE.md)
  std::unique_ptr<Replay> clean = [] {
    auto r = open_replay({kV5});
    r->run();
    return r;
  }();
  Mutations mut;

  static const InstrumentBook *xrp(const Replay &r) {
    return book_of(r, Venue::BybitLinear, "XRPUSDT");
  }
  void SetUp() override {
    ASSERT_EQ(clean->order().size(), 1 + kDeltas);
    ASSERT_EQ(xrp(*clean)->status(), BookStatus::Synced);
  }
};

TEST_F(BybitV5Faults, DroppedDeltaIsAGapAndTheBookGoesStale) {
  auto r = open_replay({kV5});
  const std::size_t at = 25; // a delta: u 20254894
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(at));
  r->run();
  const InstrumentBook *b = xrp(*r);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_EQ(b->counters().seq_gaps, 1u);
  EXPECT_EQ(b->counters().applied, at - 1);                 // the deltas before the hole
  EXPECT_EQ(b->counters().skipped_stale, kDeltas - at - 1); // after the gapped one
  EXPECT_EQ(r->builder().resync_requests(), 1u);
}

TEST_F(BybitV5Faults, RepeatedDeltaIsDroppedAndTheBookStaysExact) {
  auto r = open_replay({kV5});
  const std::size_t at = 17;
  const Record copy = r->order()[at];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(at) + 1, copy);
  r->run();
  const InstrumentBook *b = xrp(*r);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Synced);
  EXPECT_EQ(b->counters().dropped, 1u);
  EXPECT_EQ(b->counters().applied, kDeltas);
  EXPECT_EQ(b->counters().seq_gaps, 0u);
  EXPECT_TRUE(same_book(b->book(), xrp(*clean)->book()));
}

TEST_F(BybitV5Faults, SwappedDeltasAreAGap) {
  auto r = open_replay({kV5});
  std::swap(r->order()[30], r->order()[31]);
  r->run();
  const InstrumentBook *b = xrp(*r);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_EQ(b->counters().seq_gaps, 1u);
  EXPECT_EQ(b->counters().applied, 29u);
}

TEST_F(BybitV5Faults, TruncatedDeltaIsAParseErrorAndTheNextDeltaMarksTheBookStale) {
  auto r = open_replay({kV5});
  Record &rec = r->order()[40];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() / 2)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1u);
  const InstrumentBook *b = xrp(*r);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_EQ(b->counters().applied, 39u);
}

TEST_F(BybitV5Faults, DeltaWithAStructuralByteReplacedIsAParseErrorAndTheBookGoesStale) {
  auto r = open_replay({kV5});
  Record &rec = r->order()[12];
  std::string text(rec.payload);
  const std::size_t comma = text.find("],[", text.size() / 3); // between two levels
  ASSERT_NE(comma, std::string::npos);
  text[comma + 1] = ';';
  rec.payload = mut.keep(std::move(text));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1u);
  EXPECT_EQ(xrp(*r)->status(), BookStatus::Stale);
  EXPECT_EQ(xrp(*r)->counters().seq_gaps, 1u);
}

TEST_F(BybitV5Faults, ChangedDigitOfAnUpdateIdIsAGap) {
  auto r = open_replay({kV5});
  Record &rec = r->order()[8];
  std::string text(rec.payload);
  const std::size_t u = text.find("\"u\":");
  ASSERT_NE(u, std::string::npos);
  // "u":20254877 -> "u":20254878: the last digit + 1 (not a 9 in this record).
  const std::size_t last = text.find_first_of(",}", u + 4) - 1;
  ASSERT_NE(text[last], '9');
  ++text[last];
  rec.payload = mut.keep(std::move(text));
  r->run();
  const InstrumentBook *b = xrp(*r);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->counters().seq_gaps, 1u);
  EXPECT_EQ(b->counters().applied, 7u);
}

// ---- legacy: 8 orderBookL2_25 topics, one snapshot each, then 3,252 deltas
// ------------------------
class BybitLegacyFaults : public ::testing::Test {
protected:
  std::vector<std::string> files{kLegacyWs, kLegacySymbols};
  std::unique_ptr<Replay> clean = [this] {
    auto r = open_replay(files);
    r->run();
    return r;
  }();
  Mutations mut;

  std::unique_ptr<Replay> fresh() { return open_replay(files); }

  // Indices (into order) of the deltas of one topic.
  static std::vector<std::size_t> deltas_of(Replay &r, const std::string &native) {
    std::vector<std::size_t> out;
    const std::string topic = "\"topic\":\"orderBookL2_25." + native + "\",\"type\":\"delta\"";
    for (std::size_t i = 0; i < r.order().size(); ++i)
      if (r.order()[i].payload.find(topic) != std::string_view::npos)
        out.push_back(i);
    return out;
  }

  void expect_others_unaffected(const Replay &r, const std::string &except) {
    std::size_t others = 0;
    for (std::uint32_t id = 0; id < clean->builder().instrument_slots(); ++id) {
      const InstrumentBook *a = clean->builder().book(id);
      if (a == nullptr || a->counters().book_messages == 0 || a->instrument().native == except)
        continue;
      const InstrumentBook *b = book_of(r, Venue::BybitLinear, a->instrument().native);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->status(), BookStatus::Synced) << a->instrument().native;
      EXPECT_EQ(b->counters().applied, a->counters().applied) << a->instrument().native;
      EXPECT_TRUE(same_book(a->book(), b->book())) << a->instrument().native;
      ++others;
    }
    EXPECT_EQ(others, 7u);
  }

  void expect_stale_from(const Replay &r, const std::string &native, std::size_t applied) {
    const InstrumentBook *b = book_of(r, Venue::BybitLinear, native);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status(), BookStatus::Stale);
    EXPECT_EQ(b->last_error(), BookError::SequenceGap);
    EXPECT_EQ(b->counters().seq_gaps, 1u);
    EXPECT_EQ(b->counters().applied, applied);
  }

  void SetUp() override { ASSERT_EQ(sum_books(*clean).synced, 8u); }
};

TEST_F(BybitLegacyFaults, UpdateOfAnUnknownIdMarksOnlyThatBookStale) {
  auto r = fresh();
  const auto link = deltas_of(*r, "LINKUSDT");
  ASSERT_GT(link.size(), 100u);
  // The first delta from the middle on whose "update" list is not empty: the last digit of
  // its first update's id goes +1 ("...000" -> "...001": ids are price x 10^4, no such entry).
  std::size_t k = link.size() / 2;
  while (r->order()[link[k]].payload.find("\"update\":[{") == std::string_view::npos)
    ++k;
  Record &rec = r->order()[link[k]];
  std::string text(rec.payload);
  const std::size_t update = text.find("\"update\":[{");
  const std::size_t id = text.find("\"id\":\"", update) + 6;
  const std::size_t last = text.find('"', id) - 1;
  ASSERT_NE(text[last], '9');
  ++text[last];
  rec.payload = mut.keep(std::move(text));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 0u); // well-formed: only the book knows it is wrong
  expect_stale_from(*r, "LINKUSDT", k);
  expect_others_unaffected(*r, "LINKUSDT");
}

TEST_F(BybitLegacyFaults, DecreasingCrossSeqIsAGap) {
  auto r = fresh();
  const auto eth = deltas_of(*r, "ETHUSDT");
  const std::size_t k = eth.size() / 3;
  Record &rec = r->order()[eth[k]];
  std::string text(rec.payload);
  // "cross_seq":"<digits>": its first non-zero digit - 1, so it is below every earlier one
  // of the topic (the previous delta's is checked).
  const std::size_t at = text.find("\"cross_seq\":\"") + 13;
  const std::size_t digit = text.find_first_of("123456789", at);
  --text[digit];
  const std::uint64_t lowered = std::stoull(text.substr(at, text.find('"', at) - at));
  const std::string_view prev = r->order()[eth[k - 1]].payload;
  const std::size_t prev_at = prev.find("\"cross_seq\":\"") + 13;
  ASSERT_LT(lowered,
            std::stoull(std::string(prev.substr(prev_at, prev.find('"', prev_at) - prev_at))));
  rec.payload = mut.keep(std::move(text));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 0u);
  expect_stale_from(*r, "ETHUSDT", k);
  expect_others_unaffected(*r, "ETHUSDT");
}

// cross_seq only increases, so a delta whose cross_seq equals the last one (here: the same
// record twice) cannot be told from a reordered one: the book is not trusted.
TEST_F(BybitLegacyFaults, RepeatedDeltaIsNotTrusted) {
  auto r = fresh();
  const auto dot = deltas_of(*r, "DOTUSDT");
  const std::size_t k = dot.size() / 2;
  const Record copy = r->order()[dot[k]];
  r->order().insert(r->order().begin() + static_cast<std::ptrdiff_t>(dot[k]) + 1, copy);
  r->run();
  expect_stale_from(*r, "DOTUSDT", k + 1);
  expect_others_unaffected(*r, "DOTUSDT");
}

// A lost delete/insert is invisible to cross_seq; it shows when a later message names the id.
TEST_F(BybitLegacyFaults, DroppedDeltaIsCaughtWhenALaterMessageNamesItsIds) {
  auto r = fresh();
  const auto ada = deltas_of(*r, "ADAUSDT");
  std::size_t k = ada.size() / 2;
  while (r->order()[ada[k]].payload.find("\"insert\":[{") == std::string_view::npos)
    ++k;
  r->order().erase(r->order().begin() + static_cast<std::ptrdiff_t>(ada[k]));
  r->run();
  const InstrumentBook *b = book_of(*r, Venue::BybitLinear, "ADAUSDT");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::SequenceGap);
  EXPECT_EQ(b->counters().seq_gaps, 1u);
  EXPECT_GE(b->counters().applied, k);
  EXPECT_LT(b->counters().applied, ada.size() - 1);
  expect_others_unaffected(*r, "ADAUSDT");
}

TEST_F(BybitLegacyFaults, TruncatedDeltaIsAParseErrorAndTheTopicsNextDeltaIsAGap) {
  auto r = fresh();
  const auto uni = deltas_of(*r, "UNIUSDT");
  const std::size_t k = uni.size() / 2;
  Record &rec = r->order()[uni[k]];
  rec.payload = mut.keep(std::string(rec.payload.substr(0, rec.payload.size() * 3 / 4)));
  r->run();
  EXPECT_EQ(r->totals().parse_errors, 1u);
  expect_stale_from(*r, "UNIUSDT", k);
  expect_others_unaffected(*r, "UNIUSDT");
}

} // namespace
} // namespace fh::test
