// labels: unit replay concurrent
// The recorder writes what it is given to rotating zstd fhrec files and the capture reader
// gives it back byte for byte: real OKX and Binance captures are recorded record by record
// (as a live session would: ws_open, sent subscribe, received frames, REST responses), read
// back, and replayed to exactly the venue-checked results of the original. A full queue drops
// and counts instead of waiting; a recording cut short (killed recorder, simulated by
// truncating the file) still reads up to the cut.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/recorder.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

namespace fs = std::filesystem;

class RecorderTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fh-recorder-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Recorder> open(RecorderOptions o) {
    o.directory = dir_.string();
    auto r = Recorder::open(std::move(o));
    if (auto* e = std::get_if<std::string>(&r)) {
      ADD_FAILURE() << *e;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<Recorder>>(r));
  }

  // Every record of a real capture, in file order, into the recorder (connection 7).
  // drain_each: no writer thread; drain after every record, as a writer keeping up would.
  static std::vector<capture::Record> record_file(Recorder& rec, const std::string& rel,
                                                  bool drain_each = false) {
    auto f = capture::CaptureFile::open(data_path(rel));
    EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
    const auto& file = std::get<capture::CaptureFile>(f);
    std::vector<capture::Record> sent(file.records().begin(), file.records().end());
    for (const auto& r : sent) {
      EXPECT_TRUE(rec.record(static_cast<recording::Kind>(r.kind), 7, r.recv_ts_ns, r.url, r.payload));
      if (drain_each) rec.drain();
    }
    keep_.push_back(std::move(std::get<capture::CaptureFile>(f)));
    return sent;
  }

  fs::path dir_;
  static inline std::vector<capture::CaptureFile> keep_; // the views above point into these
};

TEST_F(RecorderTest, RotatedFilesReadBackByteForByteInOrder) {
  RecorderOptions o;
  o.writer_thread = false;
  o.rotate_bytes = 256u << 10; // several files
  o.queue_bytes = 1u << 20;
  auto rec = open(o);
  ASSERT_TRUE(rec);
  const auto sent = record_file(*rec, "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz", true);
  rec->close();
  EXPECT_EQ(rec->last_error(), "");
  const auto files = rec->files();
  ASSERT_GT(files.size(), 3u);
  const RecorderCounters c = rec->counters();
  EXPECT_EQ(c.records, sent.size());
  EXPECT_EQ(c.written_records, sent.size());
  EXPECT_EQ(c.dropped_records, 0u);
  EXPECT_LT(c.file_bytes, c.raw_bytes / 3); // zstd on JSON frames

  std::size_t k = 0;
  for (const auto& path : files) {
    auto f = capture::CaptureFile::open(path);
    ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(f)) << std::get<capture::Error>(f).message;
    const auto& file = std::get<capture::CaptureFile>(f);
    EXPECT_EQ(file.format(), capture::Format::Fhrec);
    EXPECT_EQ(file.skipped_lines(), 0u);
    for (const auto& r : file.records()) {
      ASSERT_LT(k, sent.size());
      EXPECT_EQ(r.kind, sent[k].kind) << k;
      EXPECT_EQ(r.recv_ts_ns, sent[k].recv_ts_ns) << k;
      EXPECT_EQ(r.url, sent[k].url) << k;
      ASSERT_EQ(r.payload, sent[k].payload) << k;
      EXPECT_EQ(r.conn_id, 7u);
      ++k;
    }
  }
  EXPECT_EQ(k, sent.size());
}

// Recorded with the writer thread, then replayed: the same venue-checked counts as the
// original files (PROVENANCE.md: 3,679 OKX checksums; USD-M bookTicker cross-checks).
TEST_F(RecorderTest, ARecordingReplaysToTheSameBooksAsTheOriginal) {
  for (const auto& files : std::vector<std::vector<std::string>>{
           {"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
            "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"},
           {"binance/hftbacktest/usdm_btcusdt_20240808.gz"}}) {
    fs::remove_all(dir_);
    RecorderOptions o;
    o.prefix = "session";
    auto rec = open(o);
    ASSERT_TRUE(rec);
    // Metadata first, as a live session fetches it before subscribing; then the stream.
    for (auto it = files.rbegin(); it != files.rend(); ++it) record_file(*rec, *it);
    rec->close();
    ASSERT_EQ(rec->counters().dropped_records, 0u);
    ASSERT_EQ(rec->files().size(), 1u);

    auto original = open_replay(files);
    ASSERT_TRUE(original);
    original->run();
    ReplayOptions ro;
    ro.progress = false;
    if (files[0].find("binance") != std::string::npos) ro.venue = Venue::BinanceUsdm;
    auto opened = Replay::open(rec->files(), ro);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Replay>>(opened))
        << std::get<std::string>(opened);
    auto& replayed = *std::get<std::unique_ptr<Replay>>(opened);
    replayed.run();
    const Sum a = sum_books(*original), b = sum_books(replayed);
    EXPECT_EQ(b.c.book_messages, a.c.book_messages);
    EXPECT_EQ(b.c.checksum_ok, a.c.checksum_ok);
    EXPECT_EQ(b.c.checksum_fail, 0u);
    EXPECT_EQ(b.c.bbo_checks_ok, a.c.bbo_checks_ok);
    EXPECT_EQ(b.c.bbo_checks_fail, 0u);
    EXPECT_EQ(b.synced, a.synced);
    EXPECT_EQ(replayed.totals().messages, original->totals().messages);
    if (files[0].find("okx") != std::string::npos) {
      EXPECT_EQ(b.c.checksum_ok, 3679u);
    }
  }
}

TEST_F(RecorderTest, AFullQueueDropsAndCountsInsteadOfWaiting) {
  RecorderOptions o;
  o.writer_thread = false; // nothing drains: the queue fills
  o.queue_bytes = 64u << 10;
  auto rec = open(o);
  ASSERT_TRUE(rec);
  auto f = capture::CaptureFile::open(data_path("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz"));
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  const auto& records = std::get<capture::CaptureFile>(f).records();
  std::size_t accepted = 0, dropped = 0, accepted_bytes = 0;
  for (std::size_t i = 0; i < 500 && i < records.size(); ++i) {
    const auto& r = records[i];
    if (rec->record(static_cast<recording::Kind>(r.kind), 1, r.recv_ts_ns, r.url, r.payload)) {
      ++accepted;
      accepted_bytes += sizeof(recording::RecordHeader) + r.url.size() + r.payload.size();
    } else {
      ++dropped;
    }
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_LE(accepted_bytes, std::size_t{64u << 10});
  EXPECT_EQ(rec->counters().dropped_records, dropped);
  EXPECT_EQ(rec->counters().records, accepted);
  rec->close();
  EXPECT_EQ(rec->counters().written_records, accepted);
}

TEST_F(RecorderTest, ARecordingCutShortReadsUpToTheCut) {
  RecorderOptions o;
  o.writer_thread = false;
  o.flush_ms = 0; // flush a zstd block after every drain: a kill loses at most the last one
  auto rec = open(o);
  ASSERT_TRUE(rec);
  const auto sent = record_file(*rec, "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz", true);
  rec->close();
  const std::string path = rec->files().at(0);
  const auto full = fs::file_size(path);
  // Mechanical fault: cut the last 40% of the compressed file, as a kill mid-write would.
  fs::resize_file(path, full * 6 / 10);
  auto f = capture::CaptureFile::open(path);
  ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(f)) << std::get<capture::Error>(f).message;
  const auto& file = std::get<capture::CaptureFile>(f);
  ASSERT_GT(file.records().size(), sent.size() / 3);
  ASSERT_LT(file.records().size(), sent.size());
  EXPECT_EQ(file.skipped_lines(), 1u); // the record the cut went through
  for (std::size_t k = 0; k < file.records().size(); ++k)
    ASSERT_EQ(file.records()[k].payload, sent[k].payload) << k;
}

} // namespace
} // namespace fh::test
