// labels: unit concurrent
// The journal ring (shm/journal.hpp) through a real segment: start positions, limits, exact
// lap accounting, a lap found after a partial delivery, reading a copy of the file, and a
// writer thread racing reader threads. Records are synthetic integers (pure ring mechanics,
// not market data): the record at position p carries p in fields the reader can check.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <unistd.h>

#include "shm/journal.hpp"
#include "shm/reader.hpp"
#include "shm/writer.hpp"

namespace fh::shm {
namespace {

JournalRecord record_at(std::uint64_t p) {
  JournalRecord r{};
  r.type = static_cast<std::uint8_t>(RecordType::BookLevel);
  r.side = static_cast<std::uint8_t>(p & 1);
  r.venue = 1;
  r.instrument = static_cast<std::uint32_t>(p % 1000);
  r.exch_ts_ns = static_cast<std::int64_t>(p);
  r.recv_ts_ns = static_cast<std::int64_t>(p * 3);
  r.publish_ts_ns = static_cast<std::int64_t>(p * 5 + 1); // non-zero: not re-stamped
  r.payload.level.price = static_cast<std::int64_t>(p * 7);
  r.payload.level.qty = static_cast<std::int64_t>(~p);
  r.payload.level.orders = static_cast<std::uint32_t>(p);
  return r;
}

// Every field the writer stored for position p.
bool matches(const JournalRecord& r, std::uint64_t p) {
  const JournalRecord e = record_at(p);
  return r.type == e.type && r.side == e.side && r.venue == e.venue &&
         r.instrument == e.instrument && r.exch_ts_ns == e.exch_ts_ns &&
         r.recv_ts_ns == e.recv_ts_ns && r.publish_ts_ns == e.publish_ts_ns &&
         r.payload.level.price == e.payload.level.price &&
         r.payload.level.qty == e.payload.level.qty &&
         r.payload.level.orders == e.payload.level.orders;
}

class JournalTest : public ::testing::Test {
protected:
  void open(std::uint32_t capacity) {
    WriterOptions o;
    o.name = name_;
    o.max_instruments = 4;
    o.depth = 1;
    o.journal_capacity = capacity;
    o.if_exists = IfExists::Replace;
    o.remove_on_close = true;
    auto created = Writer::create(o);
    ASSERT_TRUE(std::holds_alternative<Writer>(created))
        << std::get<CreateError>(created).message;
    writer_.emplace<Writer>(std::move(std::get<Writer>(created)));
    ASSERT_EQ(reader_.attach(name_), AttachError::Ok) << reader_.error_message();
  }
  Writer& writer() { return std::get<Writer>(writer_); }
  void append(std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t p = from; p < to; ++p)
      ASSERT_EQ(writer().append_journal(record_at(p)), p);
  }

  std::string name_ = "fh-shm-journal-test-" + std::to_string(::getpid());
  std::variant<std::monostate, Writer> writer_;
  Reader reader_;
};

TEST_F(JournalTest, ReaderStartingNowSeesOnlyLaterRecords) {
  open(64);
  append(0, 10);
  JournalReader j = reader_.journal(JournalStart::Now);
  EXPECT_EQ(j.position(), 10u);
  std::vector<std::uint64_t> seen;
  EXPECT_EQ(j.poll(100, [&](const JournalRecord&, std::uint64_t p) { seen.push_back(p); }).delivered,
            0u);
  append(10, 15);
  const PollResult r = j.poll(100, [&](const JournalRecord& rec, std::uint64_t p) {
    EXPECT_TRUE(matches(rec, p)) << p;
    seen.push_back(p);
  });
  EXPECT_EQ(r.delivered, 5u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{10, 11, 12, 13, 14}));
}

TEST_F(JournalTest, ReaderStartingAtOldestSeesEverythingRetained) {
  open(64);
  append(0, 40);
  JournalReader j = reader_.journal(JournalStart::Oldest);
  EXPECT_EQ(j.position(), 0u);
  std::uint64_t next = 0;
  const PollResult r = j.poll(1000, [&](const JournalRecord& rec, std::uint64_t p) {
    EXPECT_EQ(p, next++);
    EXPECT_TRUE(matches(rec, p)) << p;
  });
  EXPECT_EQ(r.delivered, 40u);
  EXPECT_EQ(r.lost, 0u);
  // 100 appended into 64 slots: the oldest retained is 36.
  append(40, 100);
  JournalReader late = reader_.journal(JournalStart::Oldest);
  EXPECT_EQ(late.position(), 36u);
}

TEST_F(JournalTest, PollStopsAtTheLimit) {
  open(64);
  append(0, 50);
  JournalReader j = reader_.journal(JournalStart::Oldest);
  std::uint64_t next = 0;
  const auto h = [&](const JournalRecord&, std::uint64_t p) { EXPECT_EQ(p, next++); };
  EXPECT_EQ(j.poll(7, h).delivered, 7u);
  EXPECT_EQ(j.poll(0, h).delivered, 0u);
  EXPECT_EQ(j.poll(20, h).delivered, 20u);
  EXPECT_EQ(j.poll(100, h).delivered, 23u);
  EXPECT_EQ(j.position(), 50u);
}

TEST_F(JournalTest, LappedReaderIsToldExactlyHowManyRecordsItLost) {
  open(64);
  JournalReader j = reader_.journal(JournalStart::Oldest); // position 0
  append(0, 200);
  std::vector<std::uint64_t> seen;
  const PollResult r = j.poll(1000, [&](const JournalRecord& rec, std::uint64_t p) {
    EXPECT_TRUE(matches(rec, p)) << p;
    seen.push_back(p);
  });
  EXPECT_EQ(r.lost, 200u - 64u);
  EXPECT_EQ(r.delivered, 64u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 136u);
  EXPECT_EQ(seen.back(), 199u);
  EXPECT_EQ(j.lost_total(), 136u);
}

TEST_F(JournalTest, LapAfterAPartialDeliveryIsReportedByTheNextPoll) {
  open(64);
  JournalReader j = reader_.journal(JournalStart::Oldest);
  append(0, 10);
  const auto ignore = [](const JournalRecord&, std::uint64_t) {};
  EXPECT_EQ(j.poll(5, ignore).delivered, 5u); // position 5
  append(10, 100);                            // retained: 36..99
  std::vector<std::uint64_t> seen;
  const PollResult r =
      j.poll(1000, [&](const JournalRecord&, std::uint64_t p) { seen.push_back(p); });
  EXPECT_EQ(r.lost, 31u); // 5..35
  EXPECT_EQ(r.delivered, 64u);
  EXPECT_EQ(seen.front(), 36u);
}

TEST_F(JournalTest, WriterStampsPublishTimeWhenTheRecordHasNone) {
  open(64);
  JournalRecord r = record_at(0);
  r.publish_ts_ns = 0;
  const auto before = realtime_ns();
  (void)writer().append_journal(r);
  const auto after = realtime_ns();
  JournalReader j = reader_.journal(JournalStart::Oldest);
  std::int64_t stamped = 0;
  (void)j.poll(1, [&](const JournalRecord& rec, std::uint64_t) { stamped = rec.publish_ts_ns; });
  EXPECT_GE(stamped, before);
  EXPECT_LE(stamped, after);
}

TEST_F(JournalTest, ACopyOfTheSegmentFileReadsLikeTheLiveOne) {
  open(128);
  append(0, 300);
  const std::string copy = std::filesystem::temp_directory_path().string() + "/" + name_ + ".seg";
  std::filesystem::copy_file(std::string(kShmDir) + name_, copy,
                             std::filesystem::copy_options::overwrite_existing);
  Reader from_disk;
  ASSERT_EQ(from_disk.attach(copy), AttachError::Ok) << from_disk.error_message();
  JournalReader j = from_disk.journal(JournalStart::Oldest);
  std::uint64_t next = 300 - 128;
  const PollResult r = j.poll(1000, [&](const JournalRecord& rec, std::uint64_t p) {
    EXPECT_EQ(p, next++);
    EXPECT_TRUE(matches(rec, p)) << p;
  });
  EXPECT_EQ(r.delivered, 128u);
  EXPECT_EQ(r.lost, 0u);
  std::filesystem::remove(copy);
}

// A writer thread appends as fast as it can into a small ring while reader threads poll with
// small limits (one of them slowly, so it is lapped). Every delivered record must match its
// position, positions must be consecutive except right after a reported loss, and at the end
// delivered + lost must account for every record appended.
TEST_F(JournalTest, ConcurrentReadersGetRecordsInOrderOrAnExplicitLap) {
  open(256);
  Reader shared; // same mapping as the writer, so ThreadSanitizer sees the real accesses
  ASSERT_EQ(shared.attach_memory(writer().data(), writer().size()), AttachError::Ok)
      << shared.error_message();
  constexpr std::uint64_t kRecords = 300'000;
  constexpr int kReaders = 3;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> bad_content{0}, bad_order{0}, total_lost{0}, laps_seen{0};

  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      JournalReader j = shared.journal(JournalStart::Oldest);
      const std::uint64_t start = j.position();
      std::uint64_t expect = start;
      std::uint64_t delivered = 0, lost = 0;
      for (;;) {
        const bool finished = done.load(std::memory_order_acquire);
        std::uint64_t first = 0, last = 0;
        bool any = false;
        const PollResult r = j.poll(t == 0 ? 4 : 64, [&](const JournalRecord& rec, std::uint64_t p) {
          if (!matches(rec, p))
            bad_content.fetch_add(1);
          if (!any)
            first = p;
          else if (p != last + 1)
            bad_order.fetch_add(1);
          last = p;
          any = true;
        });
        // The lost records come right before the run this poll delivered.
        if (r.delivered != 0 && first != expect + r.lost)
          bad_order.fetch_add(1);
        expect = r.delivered != 0 ? last + 1 : expect + r.lost;
        if (r.lost != 0)
          laps_seen.fetch_add(1);
        delivered += r.delivered;
        lost += r.lost;
        if (t == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(50)); // slow: gets lapped
        if (finished && r.delivered == 0 && r.lost == 0)
          break;
      }
      if (start + delivered + lost != kRecords)
        bad_order.fetch_add(1);
      total_lost.fetch_add(lost);
    });
  }
  for (std::uint64_t p = 0; p < kRecords; ++p)
    (void)writer().append_journal(record_at(p));
  done.store(true, std::memory_order_release);
  for (auto& r : readers)
    r.join();
  EXPECT_EQ(bad_content.load(), 0u);
  EXPECT_EQ(bad_order.load(), 0u);
  EXPECT_GT(laps_seen.load(), 0u) << "the slow reader should have been lapped";
}

} // namespace
} // namespace fh::shm
