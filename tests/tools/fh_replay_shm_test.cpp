// labels: replay
// The real writer in its own process: `fh-replay --shm` replays a real Binance USD-M capture
// (paced at 100x its recorded rate, ~3.5 s) while reader processes map the segment. Readers
// check every copy they take (synced books uncrossed, sides sorted, sizes positive, counters
// monotonic, head == level 0) and every journal record (in order, or after an explicit lap,
// batches whole); one reader is SIGKILLed mid-run and harms nothing; a SIGKILLed fh-replay is
// noticed through its heartbeat and readers re-attach to its successor's segment.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <spawn.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "book/decimal.hpp"
#include "shm/reader.hpp"

extern char** environ;

namespace {

using namespace fh::shm;
using namespace std::chrono_literals;

constexpr int kChildOk = 42;
const std::string kCapture = std::string(FH_DATA_DIR) + "/binance/hftbacktest/usdm_btcusdt_20240808.gz";
const std::string kReplay = std::string(FH_BINARY_DIR) + "/tools/fh-replay";

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

pid_t spawn_replay(const std::string& name, const char* speed, const std::string& out_file) {
  std::vector<std::string> args = {kReplay, "--no-progress", "--depth", "0", "--shm", name,
                                   "--shm-journal", "4096", kCapture};
  if (speed != nullptr) {
    args.insert(args.begin() + 1, speed);
    args.insert(args.begin() + 1, "--speed");
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, kReplay.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

int wait_exit(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// ---- what a reader checks -----------------------------------------------------------------------

struct Checks {
  std::uint64_t copies = 0, synced_copies = 0, records = 0, lost = 0, laps = 0;
  std::uint64_t last_updates[4] = {};

  bool fail(const char* what) {
    std::fprintf(stderr, "reader %d: %s\n", static_cast<int>(::getpid()), what);
    return false;
  }

  bool book(std::uint32_t id, const Book& b) {
    const Top& t = b.top;
    ++copies;
    if (t.seq % 2 != 0) return fail("copy with an odd slot sequence");
    if (id < 4) {
      if (t.book_updates < last_updates[id]) return fail("book_updates went back");
      last_updates[id] = t.book_updates;
    }
    if (b.n_bids > t.depth || b.n_asks > t.depth) return fail("more levels than the depth");
    for (std::uint32_t i = 0; i < b.n_bids; ++i) {
      if (b.bids[i].qty <= 0) return fail("bid size not positive");
      if (i > 0 && b.bids[i].price >= b.bids[i - 1].price) return fail("bids not descending");
    }
    for (std::uint32_t i = 0; i < b.n_asks; ++i) {
      if (b.asks[i].qty <= 0) return fail("ask size not positive");
      if (i > 0 && b.asks[i].price <= b.asks[i - 1].price) return fail("asks not ascending");
    }
    if (b.n_bids > 0 && t.best_bid.price != b.bids[0].price) return fail("head bid != level 0");
    if (b.n_asks > 0 && t.best_ask.price != b.asks[0].price) return fail("head ask != level 0");
    if (t.status == static_cast<std::uint8_t>(BookStatus::Synced)) {
      ++synced_copies;
      if (b.n_bids > 0 && b.n_asks > 0 && b.bids[0].price >= b.asks[0].price)
        return fail("synced book crossed");
    }
    return true;
  }

  // Journal: positions consecutive except where the next poll result reports the records
  // skipped as lost; a batch's levels all arrive between its BookBegin and BookEnd unless a
  // lap cut it.
  std::uint64_t next_pos = 0;
  std::uint64_t skipped = 0;  // positions jumped over in the current poll
  std::int64_t in_batch = -1; // levels still expected, -1 outside a batch
  bool record(const JournalRecord& r, std::uint64_t pos) {
    if (pos < next_pos) return fail("journal position went back");
    if (pos != next_pos) {
      skipped += pos - next_pos;
      in_batch = -1; // the batch in progress was cut: resync at the next BookBegin
    }
    next_pos = pos + 1;
    ++records;
    switch (static_cast<RecordType>(r.type)) {
    case RecordType::BookBegin:
      if (in_batch > 0) return fail("BookBegin inside a batch");
      in_batch = r.payload.begin.levels;
      break;
    case RecordType::BookLevel:
      if (in_batch == 0) return fail("more levels than BookBegin announced");
      if (in_batch > 0) --in_batch;
      break;
    case RecordType::BookEnd:
      if (in_batch > 0) return fail("BookEnd before all levels");
      in_batch = -1;
      break;
    case RecordType::None: return fail("record of type None");
    default: break;
    }
    return true;
  }
  bool poll_done(const PollResult& p) {
    if (p.delivered == 0 && p.lost != 0) { // lap reported alone: the cursor moved past it
      next_pos += p.lost;
      skipped = p.lost;
    }
    if (p.lost != skipped) return fail("journal skipped records it did not report as lost");
    if (p.lost != 0) ++laps;
    lost += p.lost;
    skipped = 0;
    return true;
  }
};

// Reads until the writer closed (and the journal is drained) or the deadline. Returns false
// at the first broken invariant.
bool read_until_closed(Reader& r, Checks& c, std::int64_t deadline_ns,
                       std::chrono::microseconds pause = 200us) {
  auto book = std::make_unique<Book>();
  JournalReader j = r.journal(JournalStart::Oldest);
  c.next_pos = j.position();
  const std::uint64_t start = j.position();
  while (now_ns() < deadline_ns) {
    const bool closed = r.writer_status().state == WriterState::Closed;
    for (std::uint32_t id = 0; id < r.instrument_count(); ++id) {
      if (r.depth(id, r.depth(), *book) != ReadStatus::Ok) return c.fail("slot stayed busy");
      if (!c.book(id, *book)) return false;
    }
    bool ok = true;
    for (;;) {
      const PollResult p = j.poll(256, [&](const JournalRecord& rec, std::uint64_t pos) {
        ok = ok && c.record(rec, pos);
      });
      if (!ok || !c.poll_done(p)) return false;
      if (p.delivered == 0 && p.lost == 0) break;
    }
    if (closed) {
      // Every record the writer appended since we started is delivered or counted lost.
      if (c.records + c.lost != j.tail() - start) return c.fail("records + lost != appended");
      return true;
    }
    std::this_thread::sleep_for(pause);
  }
  return c.fail("writer never closed");
}

int read_role(const std::string& name, std::chrono::microseconds pause, bool must_lap) {
  Reader r;
  if (r.attach(name, 20'000'000'000) != AttachError::Ok) {
    std::fprintf(stderr, "reader: %s\n", r.error_message());
    return 2;
  }
  Checks c;
  if (!read_until_closed(r, c, now_ns() + 60'000'000'000, pause)) return 3;
  if (must_lap && c.laps == 0) {
    c.fail("a reader pausing 30 ms per poll was never lapped by a 4096-record journal");
    return 5;
  }
  // The replay must really have been running while we read.
  if (c.synced_copies < (must_lap ? 20u : 100u)) {
    c.fail("too few synced copies");
    return 4;
  }
  std::fprintf(stderr, "reader %d: %llu copies (%llu synced), %llu records, %llu lost in %llu laps\n",
               static_cast<int>(::getpid()), static_cast<unsigned long long>(c.copies),
               static_cast<unsigned long long>(c.synced_copies),
               static_cast<unsigned long long>(c.records), static_cast<unsigned long long>(c.lost),
               static_cast<unsigned long long>(c.laps));
  return kChildOk;
}

int reader_role(const std::string& name) { return read_role(name, 200us, false); }
// Falls behind on purpose: the writer laps it, and every lost record must be reported.
int slow_reader_role(const std::string& name) { return read_role(name, 30ms, true); }

// A reader across a writer's death: notices the dead writer by its heartbeat (state still
// Running, heartbeat older than 300 ms), then waits for the successor (writer_restarted),
// re-attaches, checks the generation went up and reads the new segment to its end.
int restart_role(const std::string& name) {
  Reader r;
  if (r.attach(name, 20'000'000'000) != AttachError::Ok) return 2;
  const std::uint64_t generation = r.generation();
  Checks c;
  bool saw_dead = false;
  auto book = std::make_unique<Book>();
  const std::int64_t deadline = now_ns() + 60'000'000'000;
  while (now_ns() < deadline) {
    if (r.writer_restarted()) break;
    const WriterStatus ws = r.writer_status();
    if (ws.state == WriterState::Running && ws.heartbeat_age_ns > 300'000'000) saw_dead = true;
    for (std::uint32_t id = 0; id < r.instrument_count(); ++id) {
      if (r.depth(id, r.depth(), *book) != ReadStatus::Ok) return c.fail("slot busy"), 3;
      if (!c.book(id, *book)) return 3;
    }
    std::this_thread::sleep_for(1ms);
  }
  if (!saw_dead) return c.fail("never saw the killed writer as dead"), 5;
  if (r.reattach(20'000'000'000) != AttachError::Ok) return c.fail(r.error_message()), 6;
  if (r.generation() != generation + 1) return c.fail("successor's generation is not +1"), 7;
  Checks after;
  if (!read_until_closed(r, after, deadline)) return 8;
  std::fprintf(stderr, "restart reader: dead writer seen, generation %llu -> %llu\n",
               static_cast<unsigned long long>(generation),
               static_cast<unsigned long long>(r.generation()));
  return kChildOk;
}

pid_t fork_role(int (*role)(const std::string&), const std::string& name) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(role(name));
  return pid;
}

std::string slurp(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

class FhReplayShm : public ::testing::Test {
protected:
  void SetUp() override {
    name_ = "fh-test-replay-shm-" + std::to_string(::getpid());
    out_ = ::testing::TempDir() + "fh_replay_shm_" + std::to_string(::getpid()) + ".out";
  }
  void TearDown() override {
    ::shm_unlink(name_.c_str());
    std::remove(out_.c_str());
  }
  std::string name_, out_;
};

TEST_F(FhReplayShm, ReaderProcessesSeeOnlyConsistentBooksAndAnAccountedJournal) {
  std::vector<pid_t> readers;
  for (int i = 0; i < 2; ++i) readers.push_back(fork_role(reader_role, name_));
  readers.push_back(fork_role(slow_reader_role, name_));
  const pid_t doomed = fork_role(reader_role, name_);
  const pid_t writer = spawn_replay(name_, "100", out_);
  ASSERT_GT(writer, 0);
  std::this_thread::sleep_for(1500ms);
  ::kill(doomed, SIGKILL); // mid-read: a reader dying must not disturb anyone
  EXPECT_EQ(wait_exit(doomed), 128 + SIGKILL);
  EXPECT_EQ(wait_exit(writer), 0);
  for (pid_t r : readers) EXPECT_EQ(wait_exit(r), kChildOk);

  // The writer's own result is the venue-checked one: bookTicker agreed, book synced.
  const std::string out = slurp(out_);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_EQ(doc["bbo_checks_fail"].get_uint64().value(), 0u);
  EXPECT_GT(doc["bbo_checks_ok"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["books_synced"].get_uint64().value(), 1u);

  // The segment stays after the writer exits: closed, and its slot is the final book.
  Reader r;
  ASSERT_EQ(r.attach(name_), AttachError::Ok) << r.error_message();
  EXPECT_EQ(r.writer_status().state, WriterState::Closed);
  const DirectoryEntry* e = r.find("binance-usdm:BTC-USDT-PERP");
  ASSERT_NE(e, nullptr);
  EXPECT_STREQ(e->native, "BTCUSDT");
  Top top{};
  ASSERT_EQ(r.top(e->id, top), ReadStatus::Ok);
  EXPECT_EQ(top.status, static_cast<std::uint8_t>(BookStatus::Synced));
  simdjson::dom::element inst = doc["per_instrument"].at(0);
  std::string_view best_bid;
  ASSERT_EQ(inst["best_bid"].get(best_bid), simdjson::SUCCESS);
  // The slot holds the book fh-replay printed at the end.
  EXPECT_EQ(fh::book::to_string(top.best_bid.price, e->price_decimals), best_bid);
  // Venue counters: frames counted by the replay, bookTicker-checked book counters.
  EXPECT_EQ(r.counter(e->venue_id, VenueCounter::Messages), doc["messages"].get_uint64().value());
  EXPECT_GE(r.counter(e->venue_id, VenueCounter::Snapshots), 1u);
}

TEST_F(FhReplayShm, AKilledWriterIsNoticedAndReadersReattachToItsSuccessor) {
  const pid_t reader = fork_role(restart_role, name_);
  const pid_t first = spawn_replay(name_, "50", out_);
  ASSERT_GT(first, 0);
  // Kill it once it is well into the capture.
  Reader watch;
  ASSERT_EQ(watch.attach(name_, 20'000'000'000), AttachError::Ok) << watch.error_message();
  const JournalReader j = watch.journal();
  const std::int64_t deadline = now_ns() + 30'000'000'000;
  while (j.tail() < 20'000 && now_ns() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_GE(j.tail(), 20'000u);
  ::kill(first, SIGKILL);
  EXPECT_EQ(wait_exit(first), 128 + SIGKILL);
  EXPECT_EQ(watch.writer_status().state, WriterState::Running); // it never closed
  std::this_thread::sleep_for(800ms); // long enough for the reader to call it dead
  const pid_t second = spawn_replay(name_, nullptr, out_);
  ASSERT_GT(second, 0);
  EXPECT_EQ(wait_exit(second), 0);
  EXPECT_EQ(wait_exit(reader), kChildOk);
  EXPECT_TRUE(watch.writer_restarted());
}

} // namespace
