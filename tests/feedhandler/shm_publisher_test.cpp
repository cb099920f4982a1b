// labels: unit replay
// The shm publisher over real captures: a reader that rebuilds every book from the journal
// alone must reproduce the venue's own checksums (OKX, Kraken) and the builder's full book
// (Binance), and the slots must hold the builder's top N, status and sequence id after every
// change. The reader drains the journal after each notice on the same thread, so the test
// sees every record without a lap and without threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <sys/mman.h>
#include <utility>
#include <vector>
#include <memory>
#include <string>
#include <unistd.h>
#include <variant>

#include "book/checksum.hpp"
#include "feedhandler/shm_output.hpp"
#include "shm/reader.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

// Books rebuilt from journal records only.
struct JournalBooks {
  const shm::Reader* reader = nullptr;
  std::map<std::uint32_t, std::unique_ptr<book::L2Book>> books;
  std::map<std::uint32_t, std::uint64_t> last_seq;
  std::map<std::uint32_t, std::uint8_t> status;
  std::map<std::uint32_t, std::uint8_t> status_reason;
  struct Transition {
    std::uint32_t id;
    std::uint8_t status, reason;
  };
  std::vector<Transition> transitions;
  std::uint32_t current = kNoInstrument;
  std::uint32_t depth = 0;
  std::uint64_t levels_expected = 0, levels_seen = 0;
  std::uint64_t checksum_ok = 0, checksum_fail = 0, images = 0, batches = 0;
  std::uint64_t trades = 0, bbos = 0, records = 0, out_of_batch = 0, applied_ok = 0;

  book::L2Book& book_of(std::uint32_t id) {
    auto& b = books[id];
    if (!b) {
      const shm::DirectoryEntry* e = reader->instrument(id);
      EXPECT_NE(e, nullptr) << "journal names instrument " << id << " before its directory entry";
      b = std::make_unique<book::L2Book>(e ? e->price_decimals : 8, e ? e->qty_decimals : 8,
                                         1024);
    }
    return *b;
  }

  void on_record(const shm::JournalRecord& r) {
    ++records;
    using RT = shm::RecordType;
    switch (static_cast<RT>(r.type)) {
    case RT::BookBegin:
      current = r.instrument;
      depth = r.payload.begin.depth;
      levels_expected = r.payload.begin.levels;
      levels_seen = 0;
      last_seq[r.instrument] = r.payload.begin.last_seq;
      if (r.flags & shm::kRecordFlagSnapshot) {
        book_of(r.instrument).clear();
        ++images;
      } else {
        ++batches;
      }
      break;
    case RT::BookLevel: {
      if (r.instrument != current) {
        ++out_of_batch;
        break;
      }
      ++levels_seen;
      const auto& l = r.payload.level;
      applied_ok += book_of(r.instrument)
          .apply(r.side == 0 ? book::Side::Bid : book::Side::Ask,
                 {l.price, l.qty, l.orders, l.price_text_dp, l.qty_text_dp});
      break;
    }
    case RT::BookEnd: {
      if (r.instrument != current) {
        ++out_of_batch;
        break;
      }
      EXPECT_EQ(levels_seen, levels_expected) << "BookBegin announced another level count";
      book::L2Book& b = book_of(r.instrument);
      if (depth != 0) {
        b.truncate(book::Side::Bid, depth);
        b.truncate(book::Side::Ask, depth);
      }
      if (r.flags & shm::kRecordFlagHasChecksum) {
        bool ok = false;
        if (r.venue == static_cast<std::uint8_t>(Venue::Okx))
          ok = static_cast<std::int32_t>(book::okx_checksum(b)) ==
               static_cast<std::int32_t>(r.payload.end.checksum);
        else if (r.venue == static_cast<std::uint8_t>(Venue::Kraken))
          ok = static_cast<std::int64_t>(book::kraken_checksum(b)) == r.payload.end.checksum;
        (ok ? checksum_ok : checksum_fail)++;
      }
      current = kNoInstrument;
      break;
    }
    case RT::Trade: ++trades; break;
    case RT::Bbo: ++bbos; break;
    case RT::Status:
      status[r.instrument] = r.payload.status.status;
      status_reason[r.instrument] = r.payload.status.reason;
      transitions.push_back({r.instrument, r.payload.status.status, r.payload.status.reason});
      break;
    case RT::None: ADD_FAILURE() << "record of type None"; break;
    }
  }
};

// Publishes through ShmPublisher, then reads back what it published: journal and slot.
struct CheckingPublisher {
  ShmPublisher* inner;
  shm::Reader* reader;
  shm::JournalReader cursor;
  JournalBooks rebuilt;
  std::uint64_t lost = 0;
  std::uint64_t slot_checks = 0, slot_mismatches = 0;

  void observe(const Event& e) noexcept { inner->observe(e); }

  void on_notice(const BookNotice& n, const Event& e) noexcept {
    inner->on_notice(n, e);
    for (;;) {
      const shm::PollResult pr =
          cursor.poll(1024, [&](const shm::JournalRecord& r, std::uint64_t) { rebuilt.on_record(r); });
      lost += pr.lost;
      if (pr.delivered == 0) break;
    }
    if (n.book != nullptr && n.kind == BookNotice::BookChanged) check_slot(*n.book);
  }

  // The slot must equal the builder's top N, status and sequence id right now.
  void check_slot(const InstrumentBook& b) {
    const std::uint32_t sid = inner->shm_id(b.instrument().id);
    auto copy = std::make_unique<shm::Book>();
    ++slot_checks;
    if (reader->depth(sid, reader->depth(), *copy) != shm::ReadStatus::Ok) {
      ++slot_mismatches;
      return;
    }
    bool same = copy->top.status == static_cast<std::uint8_t>(b.status()) &&
                copy->top.last_seq == rebuilt.last_seq[sid];
    for (const book::Side side : {book::Side::Bid, book::Side::Ask}) {
      const std::size_t want = std::min<std::size_t>(b.book().depth(side), reader->depth());
      const std::uint32_t got = side == book::Side::Bid ? copy->n_bids : copy->n_asks;
      same = same && got == want;
      for (std::size_t i = 0; same && i < want; ++i) {
        const book::Level& ours = b.book().at(side, i);
        const shm::Level& theirs = side == book::Side::Bid ? copy->bids[i] : copy->asks[i];
        same = ours.price == theirs.price && ours.qty == theirs.qty;
      }
    }
    if (!same) ++slot_mismatches;
  }
};

class ShmPublisherTest : public ::testing::Test {
protected:
  void SetUp() override {
    name_ = "fh-test-publisher-" + std::to_string(::getpid());
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  struct Run {
    std::unique_ptr<Replay> replay;
    std::unique_ptr<ShmOutput> out;
    shm::Reader reader;
    std::unique_ptr<CheckingPublisher> pub;
  };

  // Replays `files` with the publisher and the checking reader; `edit` may fault the order.
  void run(Run& run, const std::vector<std::string>& files,
           const std::function<void(Replay&)>& edit = {}) {
    run.replay = open_replay(files);
    ASSERT_TRUE(run.replay);
    if (edit) edit(*run.replay);
    ShmOutputOptions o;
    o.name = name_;
    o.journal_capacity = 1u << 16;
    o.remove_on_close = true;
    auto opened = ShmOutput::open(o);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<ShmOutput>>(opened))
        << std::get<std::string>(opened);
    run.out = std::move(std::get<std::unique_ptr<ShmOutput>>(opened));
    ASSERT_EQ(run.reader.attach(name_), shm::AttachError::Ok) << run.reader.error_message();
    run.pub = std::make_unique<CheckingPublisher>(
        CheckingPublisher{&run.out->publisher(), &run.reader,
                          run.reader.journal(shm::JournalStart::Oldest), {}, 0, 0, 0});
    run.pub->rebuilt.reader = &run.reader;
    run.replay->run(*run.pub);
    run.out->publisher().sync_counters();
  }

  std::string name_;
};

TEST_F(ShmPublisherTest, OkxBooksRebuiltFromTheJournalMatchEveryVenueChecksum) {
  Run r;
  run(r, {"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
          "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"});
  const JournalBooks& j = r.pub->rebuilt;
  EXPECT_EQ(r.pub->lost, 0u);
  // PROVENANCE.md: 3,679 book messages, every checksum verifies.
  EXPECT_EQ(j.checksum_ok, 3679u);
  EXPECT_EQ(j.checksum_fail, 0u);
  EXPECT_EQ(j.images, 20u); // one per snapshot push in the capture
  EXPECT_EQ(j.out_of_batch, 0u);
  std::uint64_t trades = 0;
  for (std::uint32_t id = 0; id < r.replay->builder().instrument_slots(); ++id)
    if (const InstrumentBook* b = r.replay->builder().book(id)) trades += b->counters().trades;
  EXPECT_GT(trades, 0u);
  EXPECT_EQ(j.trades, trades);
  EXPECT_GT(r.pub->slot_checks, 3000u);
  EXPECT_EQ(r.pub->slot_mismatches, 0u);
  // Venue counters in the segment are the builder's.
  const auto okx = static_cast<std::uint32_t>(Venue::Okx);
  EXPECT_EQ(r.reader.counter(okx, shm::VenueCounter::ChecksumOk), 3679u);
  EXPECT_EQ(r.reader.counter(okx, shm::VenueCounter::Snapshots), 20u);
  EXPECT_STREQ(r.reader.venue_name(okx), "okx");
}

TEST_F(ShmPublisherTest, KrakenBooksRebuiltFromTheJournalMatchEveryVenueChecksum) {
  Run r;
  run(r, {"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
          "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"});
  const JournalBooks& j = r.pub->rebuilt;
  EXPECT_EQ(r.pub->lost, 0u);
  // PROVENANCE.md: 4,269 Kraken checksums, all verify (the rebuilt books truncate to the
  // depth each BookBegin announces, as the venue does).
  EXPECT_EQ(j.checksum_ok, 4269u);
  EXPECT_EQ(j.checksum_fail, 0u);
  EXPECT_EQ(j.images, 10u);
  EXPECT_EQ(r.pub->slot_mismatches, 0u);
  EXPECT_GT(r.pub->slot_checks, 4000u);
}

TEST_F(ShmPublisherTest, BinanceJournalRebuildsTheBuildersWholeBook) {
  Run r;
  run(r, {"binance/hftbacktest/usdm_btcusdt_20240808.gz"});
  const JournalBooks& j = r.pub->rebuilt;
  EXPECT_EQ(r.pub->lost, 0u);
  EXPECT_EQ(r.pub->slot_mismatches, 0u);
  const InstrumentBook* b = book_of(*r.replay, Venue::BinanceUsdm, "BTCUSDT");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->status(), BookStatus::Synced);
  const std::uint32_t sid = r.out->publisher().shm_id(b->instrument().id);
  ASSERT_TRUE(j.books.count(sid));
  const book::L2Book& rebuilt = *j.books.at(sid);
  // Every level of both sides, not just the top N the slot holds.
  for (const book::Side side : {book::Side::Bid, book::Side::Ask}) {
    ASSERT_EQ(rebuilt.depth(side), b->book().depth(side));
    for (std::size_t i = 0; i < rebuilt.depth(side); ++i) {
      ASSERT_EQ(rebuilt.at(side, i).price, b->book().at(side, i).price) << i;
      ASSERT_EQ(rebuilt.at(side, i).qty, b->book().at(side, i).qty) << i;
    }
  }
  // The bookTicker cross-check ran and the slot's sequence id is the last applied `u`.
  EXPECT_GT(b->counters().bbo_checks_ok, 0u);
  shm::Top top{};
  ASSERT_EQ(r.reader.top(sid, top), shm::ReadStatus::Ok);
  EXPECT_EQ(top.last_seq, b->last_update_id());
  EXPECT_EQ(top.bbo_updates, b->counters().bbos);
  EXPECT_EQ(top.trades, b->counters().trades);
  EXPECT_EQ(j.bbos, b->counters().bbos);
}

// Fault: one real OKX update dropped (removed from the replay order). The checksum of the next
// message fails, the slot says Stale at once and the journal carries the status and reason.
TEST_F(ShmPublisherTest, ADroppedMessageMakesTheSlotStaleWithItsReasonInTheJournal) {
  Run r;
  std::string dropped_symbol;
  run(r,
      {"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
       "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"},
      [&](Replay& replay) {
        // Drop the 300th ELON-USDT update (ELON-USDT is the busiest book in the capture).
        std::size_t seen = 0;
        auto& order = replay.order();
        for (std::size_t i = 0; i < order.size(); ++i) {
          if (order[i].payload.find("\"ELON-USDT\"") == std::string_view::npos ||
              order[i].payload.find("\"update\"") == std::string_view::npos)
            continue;
          if (++seen == 300) {
            order.erase(order.begin() + static_cast<std::ptrdiff_t>(i));
            dropped_symbol = "ELON-USDT";
            break;
          }
        }
      });
  ASSERT_EQ(dropped_symbol, "ELON-USDT");
  const InstrumentBook* b = book_of(*r.replay, Venue::Okx, "ELON-USDT");
  ASSERT_NE(b, nullptr);
  const std::uint32_t sid = r.out->publisher().shm_id(b->instrument().id);
  const shm::DirectoryEntry* e = r.reader.find("okx:ELON-USDT");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, sid);
  shm::Top top{};
  ASSERT_EQ(r.reader.top(sid, top), shm::ReadStatus::Ok);
  EXPECT_EQ(top.status, static_cast<std::uint8_t>(b->status()));
  EXPECT_EQ(r.pub->rebuilt.status.at(sid), top.status);
  EXPECT_EQ(b->counters().checksum_fail, 1u);
  // The journal says when and why: synced, then stale because of the checksum.
  std::vector<std::pair<int, int>> seen;
  for (const auto& t : r.pub->rebuilt.transitions)
    if (t.id == sid) seen.emplace_back(t.status, t.reason);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, static_cast<int>(BookStatus::Synced));
  EXPECT_EQ(seen[1], std::make_pair(static_cast<int>(BookStatus::Stale),
                                    static_cast<int>(BookError::ChecksumMismatch)));
  EXPECT_EQ(r.pub->slot_mismatches, 0u);
  EXPECT_GE(top.status_changes, 2u); // synced, then stale
}

} // namespace
} // namespace fh::test
