// labels: unit
// Writer and readers in separate processes (fork + exec of this test binary in a child role):
// reader processes see only whole real books and an in-order-or-lapped journal from a writer
// process; a reader killed mid-read harms neither the writer nor other readers; a writer
// killed with SIGKILL is noticed through its heartbeat, and readers re-attach to its
// successor (new generation). Book content is real Binance USD-M data (real_market.hpp).
//
// Child roles run from a gtest global environment's SetUp (after main started, before any
// test), selected by FH_SHM_CHILD; a child exits with kChildOk (not 0, which a child that
// never ran its role would also return) when every check passed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/reader.hpp"
#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

extern char** environ;

namespace fh::shm {
namespace {

using test::RealFrame;
using test::real_market;

constexpr std::uint32_t kN = 10;
constexpr std::int64_t kDeadAfterNs = 300'000'000; // heartbeat older than this: writer gone
constexpr std::int64_t kMs = 1'000'000;
constexpr int kChildOk = 42;

std::int64_t env_int(const char* key, std::int64_t fallback) {
  const char* v = std::getenv(key);
  return v != nullptr ? std::atoll(v) : fallback;
}

void sleep_us(long us) {
  timespec ts{0, us * 1000};
  ::nanosleep(&ts, nullptr);
}

const RealFrame& frame_for_update(std::uint64_t k) {
  const auto& frames = real_market().frames;
  return frames[k % frames.size()];
}

bool same_level(const Level& a, const Level& b) {
  return a.price == b.price && a.qty == b.qty && a.orders == b.orders;
}

// ---- child roles ------------------------------------------------------------------------------------

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop(int) { g_stop = 1; }

// Publishes frame k % F as the k-th book update of BTCUSDT, plus one Bbo journal record per
// update, heartbeats every 16 updates, until SIGUSR1 (then closes cleanly), SIGKILL, or
// FH_SHM_RUN_MS as a safety limit.
int child_writer(const std::string& name) {
  std::signal(SIGUSR1, on_stop);
  const auto& market = real_market();
  WriterOptions o;
  o.name = name;
  o.max_instruments = static_cast<std::uint32_t>(market.registry->size());
  o.depth = kN;
  o.journal_capacity = 4096;
  o.if_exists = IfExists::Replace;
  auto created = Writer::create(o);
  if (auto* e = std::get_if<CreateError>(&created)) {
    std::fprintf(stderr, "writer: %s\n", e->message.c_str());
    return 2;
  }
  Writer& w = std::get<Writer>(created);
  const Instrument& btc = *market.btc;
  if (w.add_instrument(test::info_of(btc)) != WriteStatus::Ok)
    return 3;
  const std::int64_t until = seqlock::monotonic_ns() + env_int("FH_SHM_RUN_MS", 1000) * kMs;
  for (std::uint64_t k = 0; g_stop == 0 && seqlock::monotonic_ns() < until; ++k) {
    const RealFrame& f = frame_for_update(k);
    if (w.publish_book(btc.id, f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq,
                       f.exch_ts, f.recv_ts) != WriteStatus::Ok)
      return 4;
    JournalRecord rec{};
    rec.type = static_cast<std::uint8_t>(RecordType::Bbo);
    rec.venue = static_cast<std::uint8_t>(btc.venue);
    rec.instrument = btc.id;
    rec.exch_ts_ns = f.exch_ts;
    rec.recv_ts_ns = f.recv_ts;
    rec.payload.bbo = JournalBbo{f.bids[0].price, f.bids[0].qty, f.asks[0].price, f.asks[0].qty};
    if (w.append_journal(rec) != k)
      return 5;
    if (k % 16 == 0) {
      w.heartbeat();
      sleep_us(20); // a real feed is paced by the network; leave the readers some CPU
    }
  }
  w.close();
  return g_stop != 0 ? kChildOk : 6; // the parent stops a writer once its readers are done
}

struct Checker {
  std::uint64_t copies = 0, records = 0, laps = 0, last_updates = 0, expect = 0;
  bool started = false;

  // A consistent copy must be exactly the frame its update counter names.
  bool book(const Book& b) {
    const Top& top = b.top;
    if (top.seq % 2 != 0 || top.book_updates < last_updates) {
      std::fprintf(stderr, "reader: odd sequence or counter went back\n");
      return false;
    }
    last_updates = top.book_updates;
    ++copies;
    if (top.book_updates == 0)
      return true;
    const RealFrame& f = frame_for_update(top.book_updates - 1);
    bool ok = top.last_seq == f.seq && top.status == f.status && b.n_bids == std::min(f.nb, kN) &&
              b.n_asks == std::min(f.na, kN) && same_level(top.best_bid, f.bids[0]) &&
              same_level(top.best_ask, f.asks[0]);
    for (std::uint32_t i = 0; ok && i < b.n_bids; ++i)
      ok = same_level(b.bids[i], f.bids[i]) && b.bids[i].qty > 0 &&
           (i == 0 || b.bids[i].price < b.bids[i - 1].price);
    for (std::uint32_t i = 0; ok && i < b.n_asks; ++i)
      ok = same_level(b.asks[i], f.asks[i]) && b.asks[i].qty > 0 &&
           (i == 0 || b.asks[i].price > b.asks[i - 1].price);
    if (ok && top.status == static_cast<std::uint8_t>(BookStatus::Synced))
      ok = top.best_bid.price < top.best_ask.price;
    if (!ok)
      std::fprintf(stderr, "reader: copy of update %llu is not its frame\n",
                   static_cast<unsigned long long>(top.book_updates));
    return ok;
  }

  bool journal(JournalReader& j, std::uint32_t instrument) {
    if (!started) {
      expect = j.position();
      started = true;
    }
    bool ok = true, any = false;
    std::uint64_t first = 0, last = 0;
    const PollResult r = j.poll(64, [&](const JournalRecord& rec, std::uint64_t p) {
      const RealFrame& f = frame_for_update(p);
      ok = ok && rec.instrument == instrument && rec.exch_ts_ns == f.exch_ts &&
           rec.payload.bbo.bid_price == f.bids[0].price && (!any || p == last + 1);
      first = any ? first : p;
      last = p;
      any = true;
    });
    if (any && first != expect + r.lost)
      ok = false;
    expect = any ? last + 1 : expect + r.lost;
    records += r.delivered;
    laps += r.lost != 0 ? 1 : 0;
    if (!ok)
      std::fprintf(stderr, "reader: journal record out of order or not its frame\n");
    return ok;
  }
};

const DirectoryEntry* find_btc(const Reader& r, std::int64_t until) {
  for (;;) {
    if (const DirectoryEntry* e = r.find("binance-usdm:BTC-USDT-PERP"))
      return e;
    if (seqlock::monotonic_ns() > until)
      return nullptr;
    sleep_us(1000);
  }
}

// Reads depth and polls the journal for FH_SHM_RUN_MS while the writer publishes, checking
// every copy and record.
int child_reader(const std::string& name) {
  (void)real_market(); // load before attaching: the comparison data
  Reader r;
  if (const AttachError e = r.attach(name, 10'000 * kMs); e != AttachError::Ok) {
    std::fprintf(stderr, "reader: %s\n", r.error_message());
    return 2;
  }
  const std::int64_t until = seqlock::monotonic_ns() + env_int("FH_SHM_RUN_MS", 1000) * kMs;
  const DirectoryEntry* e = find_btc(r, until + 5'000 * kMs);
  if (e == nullptr)
    return 3;
  // Several processes share two loaded cores here: a writer descheduled inside a write can
  // hold a slot for tens of ms. Busy within 5 s would mean stuck.
  r.set_read_budget_ns(5'000 * kMs);
  auto book = std::make_unique<Book>();
  JournalReader j = r.journal(JournalStart::Oldest);
  Checker check;
  Top top{};
  if (const ReadStatus s = r.top(e->id, top); s != ReadStatus::Ok) {
    std::fprintf(stderr, "reader: top: %s\n", to_cstring(s));
    return 4;
  }
  const std::uint64_t first_updates = top.book_updates;
  while (seqlock::monotonic_ns() < until) {
    if (const ReadStatus s = r.depth(e->id, kN, *book); s != ReadStatus::Ok) {
      std::fprintf(stderr, "reader: depth: %s\n", to_cstring(s));
      return 4;
    }
    if (!check.book(*book) || !check.journal(j, e->id))
      return 4;
  }
  std::fprintf(stderr, "reader %d: %llu copies, %llu records, %llu laps\n", ::getpid(),
               static_cast<unsigned long long>(check.copies),
               static_cast<unsigned long long>(check.records),
               static_cast<unsigned long long>(check.laps));
  // The writer must have been publishing all along: this was a concurrent read.
  if (r.writer_status().state != WriterState::Running || check.last_updates < first_updates + 100)
    return 5;
  return kChildOk;
}

// Reads until the writer's heartbeat stops, waits for a successor, re-attaches and checks
// that it reads the new writer's books.
int child_restart_reader(const std::string& name) {
  (void)real_market();
  Reader r;
  if (r.attach(name, 10'000 * kMs) != AttachError::Ok) {
    std::fprintf(stderr, "restart reader: %s\n", r.error_message());
    return 2;
  }
  const std::uint64_t generation = r.generation();
  const DirectoryEntry* e = find_btc(r, seqlock::monotonic_ns() + 10'000 * kMs);
  if (e == nullptr)
    return 3;
  auto book = std::make_unique<Book>();
  Checker check;
  // Phase 1: the writer lives, then dies (SIGKILL: state stays Running, heartbeat stops).
  // A slot it left locked reads as Busy: that is the dead writer too, not an error.
  r.set_read_budget_ns(5 * kMs);
  std::int64_t give_up = seqlock::monotonic_ns() + 30'000 * kMs;
  for (;;) {
    const ReadStatus s = r.depth(e->id, kN, *book);
    if (s == ReadStatus::Ok && !check.book(*book))
      return 4;
    const WriterStatus ws = r.writer_status();
    if (ws.state == WriterState::Running && ws.heartbeat_age_ns > kDeadAfterNs)
      break;
    if (ws.state == WriterState::Superseded && check.last_updates != 0)
      break; // we were slow: the successor is already there
    if (ws.state != WriterState::Running || seqlock::monotonic_ns() > give_up) {
      std::fprintf(stderr, "restart reader: writer state %s before it was killed\n",
                   to_cstring(ws.state));
      return 5;
    }
    sleep_us(100);
  }
  if (check.last_updates == 0)
    return 6;
  // Phase 2: a new writer replaces the segment.
  give_up = seqlock::monotonic_ns() + 30'000 * kMs;
  while (!r.writer_restarted()) {
    if (seqlock::monotonic_ns() > give_up)
      return 7;
    sleep_us(1000);
  }
  if (r.reattach(10'000 * kMs) != AttachError::Ok) {
    std::fprintf(stderr, "restart reader: %s\n", r.error_message());
    return 8;
  }
  if (r.generation() != generation + 1) {
    std::fprintf(stderr, "restart reader: generation %llu after %llu\n",
                 static_cast<unsigned long long>(r.generation()),
                 static_cast<unsigned long long>(generation));
    return 9;
  }
  r.set_read_budget_ns(5'000 * kMs);
  e = find_btc(r, seqlock::monotonic_ns() + 10'000 * kMs);
  if (e == nullptr)
    return 10;
  Checker fresh;
  while (fresh.last_updates < 100) {
    if (r.depth(e->id, kN, *book) != ReadStatus::Ok || !fresh.book(*book))
      return 11;
    if (seqlock::monotonic_ns() > give_up)
      return 12;
  }
  return kChildOk;
}

class ChildRole : public ::testing::Environment {
public:
  void SetUp() override {
    const char* role = std::getenv("FH_SHM_CHILD");
    if (role == nullptr)
      return;
    const char* name = std::getenv("FH_SHM_NAME");
    int rc = 100;
    if (name != nullptr && std::strcmp(role, "writer") == 0)
      rc = child_writer(name);
    else if (name != nullptr && std::strcmp(role, "reader") == 0)
      rc = child_reader(name);
    else if (name != nullptr && std::strcmp(role, "restart-reader") == 0)
      rc = child_restart_reader(name);
    std::fflush(stderr);
    ::_exit(rc);
  }
};
[[maybe_unused]] ::testing::Environment* const kChildRole =
    ::testing::AddGlobalTestEnvironment(new ChildRole);

// ---- parent side --------------------------------------------------------------------------------------

class MultiprocessTest : public ::testing::Test {
protected:
  void TearDown() override {
    for (const pid_t p : children_)
      if (p > 0)
        ::kill(p, SIGKILL);
    for (const pid_t p : children_)
      if (p > 0)
        ::waitpid(p, nullptr, 0);
    ::unlink((std::string(kShmDir) + name_).c_str());
  }

  // fork + exec of this binary in `role`.
  pid_t spawn(const char* role, std::int64_t run_ms) {
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "FH_SHM_", 7) != 0)
        env_store.emplace_back(*e);
    env_store.push_back(std::string("FH_SHM_CHILD=") + role);
    env_store.push_back("FH_SHM_NAME=" + name_);
    env_store.push_back("FH_SHM_RUN_MS=" + std::to_string(run_ms));
    std::vector<char*> envp;
    for (auto& s : env_store)
      envp.push_back(s.data());
    envp.push_back(nullptr);
    char exe[] = "/proc/self/exe";
    // Environments are set up only when some test is selected; the role exits before it runs.
    char filter[] = "--gtest_filter=MultiprocessTest.ReaderProcessesSeeOnlyWholeBooksFromAWriterProcess";
    char* argv[] = {exe, filter, nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
      // gtest's banner of the child is noise; its stderr carries the diagnostics.
      if (const int devnull = ::open("/dev/null", O_WRONLY); devnull >= 0)
        ::dup2(devnull, STDOUT_FILENO);
      ::execve(exe, argv, envp.data());
      ::_exit(127);
    }
    children_.push_back(pid);
    return pid;
  }

  // Exit status of `pid` once it ends; kills it and fails after `timeout_ms`.
  int wait_for(pid_t pid, std::int64_t timeout_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    for (;;) {
      const pid_t got = ::waitpid(pid, &status, WNOHANG);
      if (got == pid)
        break;
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "child " << pid << " timed out";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (pid_t& p : children_)
      if (p == pid)
        p = -1;
    return status;
  }

  static bool exited_ok(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == kChildOk;
  }
  static std::string describe(int status) {
    if (WIFEXITED(status))
      return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
      return std::string("signal ") + strsignal(WTERMSIG(status));
    return "?";
  }

  // The parent's own view, attached once the writer published the segment.
  bool attach(Reader& r) {
    if (r.attach(name_, 20'000 * kMs) != AttachError::Ok) {
      ADD_FAILURE() << r.error_message();
      return false;
    }
    return true;
  }
  std::uint64_t updates_of(const Reader& r) {
    const DirectoryEntry* e = find_btc(r, seqlock::monotonic_ns() + 10'000 * kMs);
    Top top{};
    if (e == nullptr || r.top(e->id, top) != ReadStatus::Ok)
      return 0;
    return top.book_updates;
  }

  std::string name_ = "fh-shm-mp-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::vector<pid_t> children_;
};

TEST_F(MultiprocessTest, ReaderProcessesSeeOnlyWholeBooksFromAWriterProcess) {
  const pid_t writer = spawn("writer", 120'000);
  std::vector<pid_t> readers;
  for (int i = 0; i < 3; ++i)
    readers.push_back(spawn("reader", 1500));
  for (const pid_t r : readers) {
    const int status = wait_for(r, 60'000);
    EXPECT_TRUE(exited_ok(status)) << "reader: " << describe(status);
  }
  ::kill(writer, SIGUSR1);
  const int status = wait_for(writer, 60'000);
  EXPECT_TRUE(exited_ok(status)) << "writer: " << describe(status);
}

TEST_F(MultiprocessTest, AReaderKilledMidReadHarmsNothing) {
  const pid_t writer = spawn("writer", 120'000);
  const pid_t victim = spawn("reader", 10'000);
  const pid_t survivor = spawn("reader", 2000);
  Reader r;
  ASSERT_TRUE(attach(r));
  // Let the victim get into its read loop, then kill it wherever it is.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const int victim_status = wait_for(victim, 10'000);
  EXPECT_TRUE(WIFSIGNALED(victim_status) && WTERMSIG(victim_status) == SIGKILL)
      << describe(victim_status);
  // The writer keeps publishing and beating.
  const std::uint64_t before = updates_of(r);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GT(updates_of(r), before);
  EXPECT_LT(r.writer_status().heartbeat_age_ns, kDeadAfterNs);
  const int survivor_status = wait_for(survivor, 60'000);
  EXPECT_TRUE(exited_ok(survivor_status)) << "survivor: " << describe(survivor_status);
  ::kill(writer, SIGUSR1);
  const int writer_status = wait_for(writer, 60'000);
  EXPECT_TRUE(exited_ok(writer_status)) << "writer: " << describe(writer_status);
  EXPECT_EQ(r.writer_status().state, WriterState::Closed);
}

TEST_F(MultiprocessTest, AKilledWriterIsNoticedAndReadersReattachToItsSuccessor) {
  const pid_t first = spawn("writer", 120'000);
  std::vector<pid_t> readers = {spawn("restart-reader", 0), spawn("restart-reader", 0)};
  Reader r;
  ASSERT_TRUE(attach(r));
  const std::uint64_t generation = r.generation();
  // Wait until the readers are well into reading, then kill the writer without warning.
  for (int i = 0; i < 400 && updates_of(r) < 2000; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  (void)wait_for(first, 10'000);
  // Dead: still Running (never closed), heartbeat getting old.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (r.writer_status().heartbeat_age_ns <= kDeadAfterNs &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(r.writer_status().state, WriterState::Running);
  EXPECT_GT(r.writer_status().heartbeat_age_ns, kDeadAfterNs);
  EXPECT_FALSE(r.writer_restarted());
  // Give the readers time to see it too, then start the successor.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const pid_t second = spawn("writer", 120'000);
  for (const pid_t p : readers) {
    const int status = wait_for(p, 60'000);
    EXPECT_TRUE(exited_ok(status)) << "restart reader: " << describe(status);
  }
  EXPECT_TRUE(r.writer_restarted());
  ASSERT_EQ(r.reattach(10'000 * kMs), AttachError::Ok) << r.error_message();
  EXPECT_EQ(r.generation(), generation + 1);
  ::kill(second, SIGUSR1);
  const int status = wait_for(second, 60'000);
  EXPECT_TRUE(exited_ok(status)) << "second writer: " << describe(status);
}

} // namespace
} // namespace fh::shm
