// labels: replay
// A session reports a lost connection in band (a Status event, reason disconnected) for the
// instruments it carried. Replayed over real captures: the books go stale at once (the slot in
// shm says so, the journal says why), nothing the venue sends afterwards is applied until a
// snapshot arrives (so no checksum can fail on a book that missed updates), and the other
// venue's / instrument's books are untouched.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

struct Watch {
  std::vector<std::pair<std::uint32_t, BookStatus>> changes;
  void on_notice(const BookNotice& n, const Event&) noexcept {
    if (n.status_changed && n.book != nullptr)
      changes.emplace_back(n.book->instrument().id, n.book->status());
  }
};

Event disconnect_of(const Instrument& inst) {
  Event e = make_event(EventType::Status, inst.venue, inst.id, 0);
  e.status.status = BookStatus::Stale;
  e.status.reason = static_cast<std::uint8_t>(BookError::Disconnected);
  return e;
}

TEST(DisconnectTest, OkxBooksGoStaleAndStayUntrustedUntilTheNextSnapshot) {
  auto r = open_replay({"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                        "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"});
  ASSERT_TRUE(r);
  Watch w;
  const std::size_t n = r->order().size();
  r->run_range(0, n / 2, w);
  const InstrumentBook* elon = book_of(*r, Venue::Okx, "ELON-USDT");
  const InstrumentBook* zen = book_of(*r, Venue::Okx, "ZEN-USDT");
  ASSERT_NE(elon, nullptr);
  ASSERT_NE(zen, nullptr);
  ASSERT_EQ(elon->status(), BookStatus::Synced);
  const std::uint64_t applied_before = elon->counters().applied;
  const std::uint64_t zen_applied_before = zen->counters().applied;

  FusedPipeline<Watch> pipe(r->builder(), w);
  pipe.push(disconnect_of(elon->instrument()));
  EXPECT_EQ(elon->status(), BookStatus::Stale);
  EXPECT_EQ(elon->last_error(), BookError::Disconnected);
  ASSERT_FALSE(w.changes.empty());
  EXPECT_EQ(w.changes.back(), std::make_pair(elon->instrument().id, BookStatus::Stale));

  r->run_range(n / 2, n, w);
  // The venue kept sending ELON-USDT updates after the "disconnect": none was applied on a
  // book that missed updates, so none could fail its checksum.
  EXPECT_EQ(elon->counters().checksum_fail, 0u);
  EXPECT_GT(elon->counters().skipped_stale, 0u);
  // ZEN-USDT was on no broken connection: it kept applying and stays synced.
  EXPECT_GT(zen->counters().applied, zen_applied_before);
  EXPECT_EQ(zen->status(), BookStatus::Synced);
  // ELON-USDT is synced again only if the capture has a later snapshot for it, and then the
  // recovery is counted as a resync.
  if (elon->status() == BookStatus::Synced) {
    EXPECT_EQ(elon->counters().resyncs, 1u);
    EXPECT_GT(elon->counters().applied, applied_before);
  } else {
    EXPECT_EQ(elon->status(), BookStatus::Stale);
  }
}

TEST(DisconnectTest, BinanceBookWaitsForANewSnapshotAfterADisconnect) {
  // hftbacktest capture: one REST snapshot at the start, then the stream. A disconnect in the
  // middle leaves no later snapshot: the book must stay stale to the end, whatever arrives.
  auto r = open_replay({"binance/hftbacktest/usdm_btcusdt_20240808.gz"});
  ASSERT_TRUE(r);
  Watch w;
  const std::size_t n = r->order().size();
  r->run_range(0, n / 3, w);
  const InstrumentBook* b = book_of(*r, Venue::BinanceUsdm, "BTCUSDT");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->status(), BookStatus::Synced);
  const std::uint64_t applied = b->counters().applied;
  FusedPipeline<Watch> pipe(r->builder(), w);
  pipe.push(disconnect_of(b->instrument()));
  r->run_range(n / 3, n, w);
  EXPECT_EQ(b->status(), BookStatus::Stale);
  EXPECT_EQ(b->last_error(), BookError::Disconnected);
  EXPECT_EQ(b->counters().applied, applied); // nothing applied without a snapshot
  EXPECT_EQ(b->counters().bbo_checks_fail, 0u); // and no bookTicker check ran on a stale book
  EXPECT_GT(b->counters().buffered, 0u);     // the updates wait for the next snapshot
}

TEST(DisconnectTest, ASessionCannotDeclareABookSynced) {
  auto r = open_replay({"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                        "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"});
  ASSERT_TRUE(r);
  Watch w;
  r->run_range(0, r->order().size() / 2, w);
  const InstrumentBook* b = book_of(*r, Venue::Kraken, "XBT/CHF");
  ASSERT_NE(b, nullptr);
  FusedPipeline<Watch> pipe(r->builder(), w);
  pipe.push(disconnect_of(b->instrument()));
  ASSERT_EQ(b->status(), BookStatus::Stale);
  Event claim = disconnect_of(b->instrument());
  claim.status.status = BookStatus::Synced;
  pipe.push(claim);
  EXPECT_EQ(b->status(), BookStatus::Stale);
}

} // namespace
} // namespace fh::test
