// labels: replay
// Proves the steady state of the data path allocates nothing: parse -> normalize ->
// sequence/checksum validation -> book apply, over real captures. Global operator new is
// replaced in this test binary with a counting one; the first part of each capture warms
// up (instruments first seen, books and buffers reserved), then the rest must run with
// zero allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <sys/mman.h>
#include <unistd.h>

#include "feedhandler/recorder.hpp"
#include "feedhandler/shm_output.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/counting_new.hpp"

using fh::test::g_allocations;

namespace fh::test {
namespace {

struct AllocCase {
  const char* name;
  std::vector<std::string> files;
};

class SteadyStateAllocations : public ::testing::TestWithParam<AllocCase> {};

TEST_P(SteadyStateAllocations, NoHeapAllocationPerMessageAfterWarmUp) {
  auto r = open_replay(GetParam().files);
  ASSERT_TRUE(r);
  NullPublisher pub;
  const std::size_t n = r->order().size();
  const std::size_t warm = n / 5;
  r->run_range(0, warm, pub);
  const std::size_t before = g_allocations.load();
  r->run_range(warm, n, pub);
  const std::size_t during = g_allocations.load() - before;
  const Sum s = sum_books(*r);
  EXPECT_GT(s.c.applied, 100u); // the measured part really did book work
  EXPECT_EQ(r->totals().parse_errors, 0u);
  EXPECT_EQ(during, 0u) << "allocations while replaying " << (n - warm) << " records";
}

// The same with the shm publisher: slots, journal (incl. snapshot images) and counters.
TEST_P(SteadyStateAllocations, NoHeapAllocationPerMessageWhilePublishingToShm) {
  auto r = open_replay(GetParam().files);
  ASSERT_TRUE(r);
  ShmOutputOptions o;
  o.name = "fh-test-alloc-" + std::to_string(::getpid());
  o.journal_capacity = 1u << 14;
  o.remove_on_close = true;
  auto opened = ShmOutput::open(o);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<ShmOutput>>(opened));
  auto out = std::move(std::get<std::unique_ptr<ShmOutput>>(opened));
  ShmPublisher& pub = out->publisher();
  const std::size_t n = r->order().size();
  const std::size_t warm = n / 5;
  r->run_range(0, warm, pub);
  const std::size_t before = g_allocations.load();
  r->run_range(warm, n, pub);
  pub.sync_counters();
  const std::size_t during = g_allocations.load() - before;
  out->close();
  EXPECT_GT(pub.counters().book_publishes, 100u);
  EXPECT_GT(pub.counters().journal_records, pub.counters().book_publishes);
  EXPECT_EQ(during, 0u) << "allocations while replaying and publishing " << (n - warm)
                        << " records";
}

// What an ingest thread pays to record a frame: a copy into the recorder's ring, nothing else.
TEST(RecorderAllocations, RecordingAFrameAllocatesNothing) {
  const std::string dir = ::testing::TempDir() + "fh-alloc-recorder-" + std::to_string(::getpid());
  RecorderOptions o;
  o.directory = dir;
  o.writer_thread = false;
  auto opened = Recorder::open(o);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Recorder>>(opened));
  auto rec = std::move(std::get<std::unique_ptr<Recorder>>(opened));
  auto f = capture::CaptureFile::open(data_path("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz"));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  const auto& records = std::get<capture::CaptureFile>(f).records();
  std::size_t recorded = 0;
  const std::size_t before = g_allocations.load();
  for (const auto& r : records)
    recorded += rec->record(static_cast<recording::Kind>(r.kind), 1, r.recv_ts_ns, r.url, r.payload);
  const std::size_t during = g_allocations.load() - before;
  EXPECT_EQ(recorded, records.size()); // the default 64 MiB queue holds the whole capture
  EXPECT_EQ(during, 0u);
  rec->close();
  for (const auto& p : rec->files()) std::remove(p.c_str());
  ::rmdir(dir.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    RealCaptures, SteadyStateAllocations,
    ::testing::Values(
        AllocCase{"binance_usdm", {"binance/hftbacktest/usdm_btcusdt_20240808.gz"}},
        AllocCase{"okx", {"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                          "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"}},
        AllocCase{"kraken", {"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                             "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"}}),
    [](const auto& p) { return std::string(p.param.name); });

} // namespace
} // namespace fh::test
