// labels: unit concurrent
// Writer and reader through real segment files: creation and permissions, read-only mapping,
// version and size checks (segments of another layout written through the writer's test hook,
// or real segment copies changed mechanically), waiting for a starting writer, directory
// look-ups, book/BBO/trade round trips of real Binance USD-M data (tests/shm/real_market.hpp),
// counters, the error log, liveness, restart detection, copies on disk, and a writer thread
// racing reader threads that check every copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <csignal>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/reader.hpp"
#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

namespace fh::shm {
namespace {

using test::RealFrame;
using test::real_market;

class WriterReaderTest : public ::testing::Test {
protected:
  void TearDown() override {
    writers_.clear();
    for (const std::string& f : files_)
      std::filesystem::remove(f);
  }

  std::string name() const {
    std::string n = "fh-shm-wr-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(n.begin(), n.end(), '/', '_'); // parameterized names: "Test/1"
    return n;
  }
  static std::string path_of(const std::string& n) { return std::string(kShmDir) + n; }

  WriterOptions options(const std::string& n, std::uint32_t depth = 10) {
    WriterOptions o;
    o.name = n;
    o.max_instruments = 64;
    o.depth = depth;
    o.journal_capacity = 1024;
    o.if_exists = IfExists::Replace;
    o.remove_on_close = true;
    return o;
  }

  // Creates a writer kept alive until TearDown; nullptr (and a failure) if create() failed.
  Writer* create(const WriterOptions& o) {
    auto w = test::create_writer(o);
    if (!w) return nullptr;
    writers_.push_back(std::move(w));
    files_.push_back(path_of(o.name));
    return writers_.back().get();
  }

  // A byte-exact copy of a live segment in the temp directory.
  std::string copy_of(const std::string& n) {
    const std::string copy = std::filesystem::temp_directory_path().string() + "/" + n + ".seg";
    std::filesystem::copy_file(path_of(n), copy, std::filesystem::copy_options::overwrite_existing);
    files_.push_back(copy);
    return copy;
  }

  // Overwrites `size` bytes at `offset` of a file (mechanical changes to a copy).
  static void patch(const std::string& file, std::size_t offset, const void* bytes,
                    std::size_t size) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << file;
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(size));
    ASSERT_TRUE(f.good());
  }

  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::string> files_;
};

// The top `n` of a real frame as the writer is given it.
void publish_frame(Writer& w, std::uint32_t id, const RealFrame& f, std::int64_t publish_ts) {
  ASSERT_EQ(w.publish_book(id, f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq, f.exch_ts,
                           f.recv_ts, publish_ts),
            WriteStatus::Ok);
}

bool same_level(const Level& a, const Level& b) {
  return a.price == b.price && a.qty == b.qty && a.orders == b.orders;
}

// ---- creation and permissions -------------------------------------------------------------------

TEST_F(WriterReaderTest, CreatesTheSegmentWithMode0640EvenUnderAPermissiveUmask) {
  const mode_t old = ::umask(0);
  Writer* w = create(options(name()));
  ::umask(old);
  ASSERT_NE(w, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(path_of(name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(WriterReaderTest, AppliesAConfiguredModeDespiteTheUmask) {
  const mode_t old = ::umask(077); // would strip group and other bits
  WriterOptions o = options(name());
  o.mode = 0644;
  Writer* w = create(o);
  ::umask(old);
  ASSERT_NE(w, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(path_of(name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(WriterReaderTest, RefusesAnExistingSegmentUnlessAskedToReplace) {
  ASSERT_NE(create(options(name())), nullptr);
  WriterOptions o = options(name());
  o.if_exists = IfExists::Fail;
  auto second = Writer::create(o);
  ASSERT_TRUE(std::holds_alternative<CreateError>(second));
  const CreateError& e = std::get<CreateError>(second);
  EXPECT_EQ(e.code, CreateErrc::AlreadyExists);
  EXPECT_EQ(e.sys_errno, EEXIST);
  EXPECT_NE(e.message.find(path_of(name())), std::string::npos) << e.message;
}

TEST_F(WriterReaderTest, RefusesGeometryOutOfRange) {
  for (const auto& [depth, capacity, what] :
       {std::tuple{0u, 1024u, "depth 0"}, std::tuple{65u, 1024u, "depth 65"},
        std::tuple{10u, 1000u, "journal_capacity 1000"}}) {
    WriterOptions o = options(name());
    o.depth = depth;
    o.journal_capacity = capacity;
    auto created = Writer::create(o);
    ASSERT_TRUE(std::holds_alternative<CreateError>(created)) << what;
    EXPECT_EQ(std::get<CreateError>(created).code, CreateErrc::BadOptions);
    EXPECT_NE(std::get<CreateError>(created).message.find(what), std::string::npos)
        << std::get<CreateError>(created).message;
  }
  EXPECT_FALSE(std::filesystem::exists(path_of(name())));
}

// ---- read-only mapping --------------------------------------------------------------------------

TEST_F(WriterReaderTest, ReaderMapsTheSegmentReadOnly) {
  ASSERT_NE(create(options(name())), nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok) << r.error_message();
  const auto at = reinterpret_cast<std::uintptr_t>(&r.header());
  std::ifstream maps("/proc/self/maps");
  std::string line, perms;
  while (std::getline(maps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char p[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, p) == 3 && lo <= at && at < hi &&
        line.find(path_of(name())) != std::string::npos)
      perms = p;
  }
  EXPECT_EQ(perms, "r--s") << "the reader's mapping must be shared and read-only";
}

TEST_F(WriterReaderTest, AWriteThroughTheReadersMappingFaults) {
  const std::string n = name(); // the name holds our pid: take it before forking
  ASSERT_NE(create(options(n)), nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Let the kernel deliver the fault (sanitizers install their own SIGSEGV handler).
    std::signal(SIGSEGV, SIG_DFL);
    Reader r;
    if (r.attach(n) != AttachError::Ok)
      ::_exit(3);
    auto* header = const_cast<volatile std::uint64_t*>(
        reinterpret_cast<const volatile std::uint64_t*>(&r.header()));
    header[0] = 0; // must fault: PROT_READ mapping of an O_RDONLY descriptor
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  // And the segment is untouched.
  Reader r;
  EXPECT_EQ(r.attach(n), AttachError::Ok) << r.error_message();
}

// ---- attach checks ------------------------------------------------------------------------------

TEST_F(WriterReaderTest, RefusesASegmentOfAnotherMajorVersion) {
  WriterOptions o = options(name());
  o.test_hooks.layout_major = kLayoutMajor + 1;
  ASSERT_NE(create(o), nullptr);
  Reader r;
  EXPECT_EQ(r.attach(name()), AttachError::MajorMismatch);
  EXPECT_NE(std::string(r.error_message()).find("layout major " + std::to_string(kLayoutMajor + 1) +
                                 ", this reader reads major " + std::to_string(kLayoutMajor)),
            std::string::npos)
      << r.error_message();
  EXPECT_FALSE(r.attached());
}

TEST_F(WriterReaderTest, AcceptsASegmentOfANewerMinorVersion) {
  WriterOptions o = options(name());
  o.test_hooks.layout_minor = kLayoutMinor + 1; // fields added in reserved space: compatible
  ASSERT_NE(create(o), nullptr);
  Reader r;
  EXPECT_EQ(r.attach(name()), AttachError::Ok) << r.error_message();
}

TEST_F(WriterReaderTest, RefusesACopyWhoseVersionFieldWasChanged) {
  ASSERT_NE(create(options(name())), nullptr);
  const std::string copy = copy_of(name());
  Reader good;
  ASSERT_EQ(good.attach(copy), AttachError::Ok) << good.error_message();
  // Mechanical change: layout_major (offset 8) of the copy becomes 7.
  const std::uint16_t major = 7;
  patch(copy, offsetof(SegmentHeader, layout_major), &major, sizeof major);
  Reader r;
  EXPECT_EQ(r.attach(copy), AttachError::MajorMismatch);
  EXPECT_NE(std::string(r.error_message()).find("layout major 7"), std::string::npos)
      << r.error_message();
}

TEST_F(WriterReaderTest, RefusesAFileThatIsNotASegment) {
  // A real capture file: long enough to hold a header, but no magic.
  Reader r;
  EXPECT_EQ(r.attach(std::string(FH_DATA_DIR) + "/" + test::kCapture), AttachError::BadMagic);
  EXPECT_NE(std::string(r.error_message()).find("not a feedhandler segment"), std::string::npos)
      << r.error_message();
  // A segment copy with one magic byte flipped.
  ASSERT_NE(create(options(name())), nullptr);
  const std::string copy = copy_of(name());
  const unsigned char flipped = 'F' ^ 0x20;
  patch(copy, 0, &flipped, 1);
  EXPECT_EQ(r.attach(copy), AttachError::BadMagic);
}

TEST_F(WriterReaderTest, RefusesATruncatedCopy) {
  ASSERT_NE(create(options(name())), nullptr);
  const std::string copy = copy_of(name());
  const auto full = std::filesystem::file_size(copy);
  std::filesystem::resize_file(copy, full / 2);
  Reader r;
  EXPECT_EQ(r.attach(copy), AttachError::SizeMismatch);
  EXPECT_NE(std::string(r.error_message()).find("truncated"), std::string::npos)
      << r.error_message();
}

TEST_F(WriterReaderTest, RefusesACopyWithARegionOutsideTheFile) {
  ASSERT_NE(create(options(name())), nullptr);
  const std::string copy = copy_of(name());
  // Mechanical change: the journal region's offset moves past the end of the file.
  const std::uint64_t offset = std::filesystem::file_size(copy);
  patch(copy, offsetof(SegmentHeader, journal) + offsetof(RegionDesc, offset), &offset,
        sizeof offset);
  Reader r;
  EXPECT_EQ(r.attach(copy), AttachError::RegionOutOfBounds);
  EXPECT_NE(std::string(r.error_message()).find("region journal"), std::string::npos)
      << r.error_message();
}

TEST_F(WriterReaderTest, RefusesACopyWithAnotherSlotSize) {
  ASSERT_NE(create(options(name())), nullptr);
  const std::string copy = copy_of(name());
  // Mechanical change: depth (offset 52) says 25 while the slots were laid out for 10.
  const std::uint32_t depth = 25;
  patch(copy, offsetof(SegmentHeader, depth), &depth, sizeof depth);
  Reader r;
  EXPECT_EQ(r.attach(copy), AttachError::RecordSizeMismatch) << r.error_message();
}

TEST_F(WriterReaderTest, SaysNotFoundForAMissingName) {
  Reader r;
  EXPECT_EQ(r.attach(name()), AttachError::NotFound);
  EXPECT_NE(std::string(r.error_message()).find(path_of(name())), std::string::npos)
      << r.error_message();
  EXPECT_EQ(r.attach(""), AttachError::BadName);
}

TEST_F(WriterReaderTest, AttachWaitsForAWriterThatIsStillStarting) {
  WriterOptions o = options(name());
  o.test_hooks.defer_ready = true; // file complete, magic still 0
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  Reader early;
  EXPECT_EQ(early.attach(name()), AttachError::NotReady);
  EXPECT_NE(std::string(early.error_message()).find("still starting"), std::string::npos);

  std::atomic<bool> attached{false};
  AttachError result = AttachError::NotFound;
  std::int64_t waited = 0;
  Reader r;
  std::thread t([&] {
    const auto t0 = seqlock::monotonic_ns();
    result = r.attach(name(), 10'000'000'000);
    waited = seqlock::monotonic_ns() - t0;
    attached = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(attached.load());
  w->publish_ready();
  t.join();
  EXPECT_EQ(result, AttachError::Ok) << r.error_message();
  EXPECT_GE(waited, 90'000'000);
}

TEST_F(WriterReaderTest, AttachGivesUpWhenTheHeaderNeverAppears) {
  WriterOptions o = options(name());
  o.test_hooks.defer_ready = true;
  ASSERT_NE(create(o), nullptr);
  Reader r;
  const auto t0 = seqlock::monotonic_ns();
  EXPECT_EQ(r.attach(name(), 50'000'000), AttachError::NotReady);
  EXPECT_GE(seqlock::monotonic_ns() - t0, 50'000'000);
  EXPECT_NE(std::string(r.error_message()).find("not yet published"), std::string::npos)
      << r.error_message();
}

TEST_F(WriterReaderTest, AttachWaitsForANameThatAppearsLater) {
  Reader r;
  AttachError result = AttachError::BadName;
  std::thread t([&] { result = r.attach(name(), 10'000'000'000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(create(options(name())), nullptr);
  t.join();
  EXPECT_EQ(result, AttachError::Ok) << r.error_message();
}

// ---- directory ------------------------------------------------------------------------------------

TEST_F(WriterReaderTest, DirectoryFindsInstrumentsByVenueCanonicalAndNativeName) {
  const auto& market = real_market();
  const InstrumentRegistry& reg = *market.registry;
  WriterOptions o = options(name());
  o.max_instruments = static_cast<std::uint32_t>(reg.size());
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  for (std::uint32_t id = 0; id < reg.size(); ++id)
    ASSERT_EQ(w->add_instrument(test::info_of(reg.at(id))), WriteStatus::Ok) << id;
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok) << r.error_message();
  EXPECT_EQ(r.instrument_count(), reg.size());

  const Instrument& btc = *market.btc;
  for (const char* key : {"binance-usdm:BTC-USDT-PERP", "binance-usdm:BTCUSDT", "BTCUSDT",
                          "BTC-USDT-PERP"}) {
    const DirectoryEntry* e = r.find(key);
    ASSERT_NE(e, nullptr) << key;
    EXPECT_EQ(e->id, btc.id) << key;
  }
  const DirectoryEntry* e = r.find("binance-usdm:BTC-USDT-PERP");
  EXPECT_STREQ(e->venue, "binance-usdm");
  EXPECT_EQ(e->native, btc.native);
  EXPECT_EQ(e->canonical, btc.canonical);
  EXPECT_EQ(e->venue_id, static_cast<std::uint8_t>(Venue::BinanceUsdm));
  EXPECT_EQ(e->kind, static_cast<std::uint8_t>(btc.kind));
  EXPECT_EQ(e->price_decimals, btc.price_decimals);
  EXPECT_EQ(e->qty_decimals, btc.qty_decimals);
  EXPECT_EQ(e->tick, btc.tick);
  EXPECT_EQ(e->lot, btc.lot);
  // Every registered instrument is found under its own names.
  for (std::uint32_t id = 0; id < reg.size(); ++id) {
    const Instrument& i = reg.at(id);
    const DirectoryEntry* found = r.find("binance-usdm:" + i.canonical);
    ASSERT_NE(found, nullptr) << i.canonical;
    EXPECT_EQ(found->id, id);
  }
  EXPECT_EQ(r.find("okx:BTC-USDT-PERP"), nullptr);
  EXPECT_EQ(r.find("binance-usdm:NOPE"), nullptr);
  EXPECT_STREQ(r.venue_name(static_cast<std::uint32_t>(Venue::BinanceUsdm)), "binance-usdm");
  EXPECT_STREQ(r.venue_name(static_cast<std::uint32_t>(Venue::Okx)), "");

  // Entries are write-once.
  EXPECT_EQ(w->add_instrument(test::info_of(btc)), WriteStatus::Ok);
  InstrumentInfo changed = test::info_of(btc);
  changed.tick += 1;
  EXPECT_EQ(w->add_instrument(changed), WriteStatus::AlreadyPresent);
  InstrumentInfo far = test::info_of(btc);
  far.id = o.max_instruments;
  EXPECT_EQ(w->add_instrument(far), WriteStatus::BadInstrument);
}

TEST_F(WriterReaderTest, RefusesNamesThatDoNotFit) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  InstrumentInfo info = test::info_of(*real_market().btc);
  info.id = 0;
  const std::string long_name(kSymbolSize, 'X'); // one more than the field holds
  info.canonical = long_name;
  EXPECT_EQ(w->add_instrument(info), WriteStatus::NameTooLong);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  EXPECT_EQ(r.instrument(0), nullptr);
}

// ---- books ----------------------------------------------------------------------------------------

class WriterReaderDepthTest : public WriterReaderTest,
                              public ::testing::WithParamInterface<std::uint32_t> {};

TEST_P(WriterReaderDepthTest, TopAndDepthReturnThePublishedRealBook) {
  const std::uint32_t n = GetParam();
  const auto& market = real_market();
  Writer* w = create(options(name(), n));
  ASSERT_NE(w, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok) << r.error_message();
  EXPECT_EQ(r.depth(), n);
  const std::uint32_t id = 5;
  auto book = std::make_unique<Book>();
  for (std::size_t k = 0; k < 500; ++k) {
    const RealFrame& f = market.frames[k];
    const std::int64_t publish_ts = f.recv_ts + 1000;
    publish_frame(*w, id, f, publish_ts);
    Top top{};
    ASSERT_EQ(r.top(id, top), ReadStatus::Ok);
    const std::uint32_t nb = std::min(f.nb, n), na = std::min(f.na, n);
    EXPECT_EQ(top.instrument, id);
    EXPECT_EQ(top.depth, n);
    EXPECT_EQ(top.status, f.status);
    EXPECT_EQ(top.last_seq, f.seq);
    EXPECT_EQ(top.exch_ts_ns, f.exch_ts);
    EXPECT_EQ(top.recv_ts_ns, f.recv_ts);
    EXPECT_EQ(top.publish_ts_ns, publish_ts);
    EXPECT_EQ(top.book_updates, k + 1);
    EXPECT_EQ(top.n_bids, nb);
    EXPECT_EQ(top.n_asks, na);
    EXPECT_TRUE(same_level(top.best_bid, f.bids[0]));
    EXPECT_TRUE(same_level(top.best_ask, f.asks[0]));
    EXPECT_EQ(top.seq % 2, 0u);

    ASSERT_EQ(r.depth(id, n, *book), ReadStatus::Ok);
    ASSERT_EQ(book->n_bids, nb);
    ASSERT_EQ(book->n_asks, na);
    for (std::uint32_t i = 0; i < nb; ++i)
      ASSERT_TRUE(same_level(book->bids[i], f.bids[i])) << "frame " << k << " bid " << i;
    for (std::uint32_t i = 0; i < na; ++i)
      ASSERT_TRUE(same_level(book->asks[i], f.asks[i])) << "frame " << k << " ask " << i;
  }
  // Fewer levels than N on request, never more than N.
  const std::uint32_t few = std::min(3u, n);
  ASSERT_EQ(r.depth(id, 3, *book), ReadStatus::Ok);
  EXPECT_EQ(book->n_bids, few);
  EXPECT_EQ(book->n_asks, few);
  EXPECT_TRUE(same_level(book->bids[few - 1], market.frames[499].bids[few - 1]));
  ASSERT_EQ(r.depth(id, kMaxDepth, *book), ReadStatus::Ok);
  EXPECT_EQ(book->n_bids, std::min(market.frames[499].nb, n));
}

INSTANTIATE_TEST_SUITE_P(Depths, WriterReaderDepthTest, ::testing::Values(1u, 10u, 25u));

TEST_F(WriterReaderTest, SlotsOfOtherInstrumentsStayUntouched) {
  const auto& market = real_market();
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  publish_frame(*w, 3, market.frames[0], 1);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  for (std::uint32_t id : {2u, 4u, 63u}) {
    Top top{};
    ASSERT_EQ(r.top(id, top), ReadStatus::Ok);
    EXPECT_EQ(top.instrument, id);
    EXPECT_EQ(top.status, static_cast<std::uint8_t>(BookStatus::Empty));
    EXPECT_EQ(top.book_updates, 0u);
    EXPECT_EQ(top.n_bids, 0u);
  }
}

TEST_F(WriterReaderTest, VenueBboAndLastTradeRoundTrip) {
  const auto& market = real_market();
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  const std::uint32_t id = 1;
  const std::size_t n = std::min<std::size_t>(300, std::min(market.bbos.size(), market.trades.size()));
  ASSERT_GT(n, 100u);
  for (std::size_t k = 0; k < n; ++k) {
    const test::RealBbo& q = market.bbos[k];
    const test::RealTrade& t = market.trades[k];
    ASSERT_EQ(w->publish_bbo(id, q.bid_price, q.bid_qty, q.ask_price, q.ask_qty, q.update_id,
                             q.exch_ts, q.recv_ts),
              WriteStatus::Ok);
    ASSERT_EQ(w->publish_trade(id, t.price, t.qty, t.side, t.trade_id, t.exch_ts, t.recv_ts),
              WriteStatus::Ok);
    Top top{};
    ASSERT_EQ(r.top(id, top), ReadStatus::Ok);
    EXPECT_EQ(top.bbo_bid_price, q.bid_price);
    EXPECT_EQ(top.bbo_bid_qty, q.bid_qty);
    EXPECT_EQ(top.bbo_ask_price, q.ask_price);
    EXPECT_EQ(top.bbo_ask_qty, q.ask_qty);
    EXPECT_EQ(top.bbo_update_id, q.update_id);
    EXPECT_EQ(top.bbo_exch_ts_ns, q.exch_ts);
    EXPECT_EQ(top.bbo_recv_ts_ns, q.recv_ts);
    EXPECT_EQ(top.bbo_updates, k + 1);
    EXPECT_EQ(top.trade_price, t.price);
    EXPECT_EQ(top.trade_qty, t.qty);
    EXPECT_EQ(top.trade_id, t.trade_id);
    EXPECT_EQ(top.trade_side, t.side);
    EXPECT_EQ(top.trade_exch_ts_ns, t.exch_ts);
    EXPECT_EQ(top.trade_recv_ts_ns, t.recv_ts);
    EXPECT_EQ(top.trades, k + 1);
    EXPECT_EQ(top.book_updates, 0u); // the BBO goes next to the book, not into it
  }
}

TEST_F(WriterReaderTest, StatusChangesAreCountedAndTimed) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  const std::uint8_t seq[] = {1, 1, 2, 3, 3, 2, 4};
  std::int64_t ts = 1'700'000'000'000'000'000;
  for (const std::uint8_t s : seq)
    ASSERT_EQ(w->publish_status(7, s, ++ts), WriteStatus::Ok);
  Top top{};
  ASSERT_EQ(r.top(7, top), ReadStatus::Ok);
  EXPECT_EQ(top.status, static_cast<std::uint8_t>(BookStatus::Crossed));
  EXPECT_EQ(top.status_changes, 5u); // 0->1, 1->2, 2->3, 3->2, 2->4
  EXPECT_EQ(top.status_ts_ns, ts);
}

TEST_F(WriterReaderTest, OutOfRangeIdsAreRefused) {
  const auto& f = real_market().frames[0];
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->publish_book(64, f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq, 0, 0),
            WriteStatus::BadInstrument);
  EXPECT_EQ(w->publish_status(64, 2), WriteStatus::BadInstrument);
  EXPECT_EQ(w->publish_trade(1000, 1, 1, 1, 1, 0, 0), WriteStatus::BadInstrument);
  EXPECT_EQ(w->publish_bbo(64, 1, 1, 2, 1, 0, 0, 0), WriteStatus::BadInstrument);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  Top top{};
  EXPECT_EQ(r.top(64, top), ReadStatus::BadInstrument);
  Reader detached;
  EXPECT_EQ(detached.top(0, top), ReadStatus::NotAttached);
}

// ---- counters and errors --------------------------------------------------------------------------

TEST_F(WriterReaderTest, CountersAreNamedAndReadable) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  const auto venue = static_cast<std::uint8_t>(Venue::Okx);
  ASSERT_EQ(w->set_venue_name(venue, "okx"), WriteStatus::Ok);
  EXPECT_EQ(w->set_venue_name(venue, "kraken"), WriteStatus::AlreadyPresent);
  EXPECT_EQ(w->set_venue_name(kMaxVenues, "x"), WriteStatus::BadVenue);
  for (int i = 0; i < 5; ++i)
    w->add_counter(venue, VenueCounter::Messages, 3);
  w->set_counter(venue, VenueCounter::ChecksumFail, 2);
  w->add_counter(venue, VenueCounter::Gaps, 1);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  EXPECT_STREQ(r.venue_name(venue), "okx");
  EXPECT_EQ(r.counter(venue, VenueCounter::Messages), 15u);
  EXPECT_EQ(r.counter(venue, VenueCounter::ChecksumFail), 2u);
  EXPECT_EQ(r.counter(venue, VenueCounter::Gaps), 1u);
  EXPECT_EQ(r.counter(venue, VenueCounter::Resyncs), 0u);
  EXPECT_EQ(r.counter(0, VenueCounter::Messages), 0u);
  EXPECT_STREQ(r.counter_name(static_cast<std::uint32_t>(VenueCounter::ChecksumFail)),
               "checksum_fail");
}

TEST_F(WriterReaderTest, ErrorLogDeduplicatesOnCodeAndInstrument) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  EXPECT_EQ(w->log_error(7, 3, "checksum mismatch", 100), WriteStatus::Ok);
  EXPECT_EQ(w->log_error(7, 3, "checksum mismatch again", 200), WriteStatus::Ok);
  EXPECT_EQ(w->log_error(7, 3, "checksum mismatch 3", 300), WriteStatus::Ok);
  EXPECT_EQ(w->log_error(7, 4, "checksum mismatch", 400), WriteStatus::Ok);
  EXPECT_EQ(w->log_error(9, Writer::kNoInstrument, "reconnect", 500), WriteStatus::Ok);
  ASSERT_EQ(r.error_count(), 3u);
  ErrorEntry e{};
  ASSERT_EQ(r.error(0, e), ReadStatus::Ok);
  EXPECT_EQ(e.code, 7u);
  EXPECT_EQ(e.instrument, 3u);
  EXPECT_EQ(e.count, 3u);
  EXPECT_EQ(e.first_ns, 100);
  EXPECT_EQ(e.last_ns, 300);
  EXPECT_STREQ(e.text, "checksum mismatch 3");
  ASSERT_EQ(r.error(1, e), ReadStatus::Ok);
  EXPECT_EQ(e.instrument, 4u);
  EXPECT_EQ(e.count, 1u);
  ASSERT_EQ(r.error(2, e), ReadStatus::Ok);
  EXPECT_EQ(e.instrument, Writer::kNoInstrument);
  EXPECT_EQ(r.error(3, e), ReadStatus::BadInstrument);

  // Long text is cut to the field; a full log counts what it could not keep.
  const std::string long_text(200, 'x');
  EXPECT_EQ(w->log_error(10, 0, long_text, 600), WriteStatus::Ok);
  ASSERT_EQ(r.error(3, e), ReadStatus::Ok);
  EXPECT_EQ(std::string(e.text), long_text.substr(0, kErrorTextSize - 1));
  for (std::uint32_t i = 4; i < kErrorSlots; ++i)
    EXPECT_EQ(w->log_error(11, i, "fill", 700), WriteStatus::Ok);
  EXPECT_EQ(r.error_count(), kErrorSlots);
  EXPECT_EQ(w->log_error(12, 0, "no room", 800), WriteStatus::Full);
  EXPECT_EQ(r.errors_dropped(), 1u);
  EXPECT_EQ(w->log_error(7, 3, "known key still counts", 900), WriteStatus::Ok);
  ASSERT_EQ(r.error(0, e), ReadStatus::Ok);
  EXPECT_EQ(e.count, 4u);
}

// ---- liveness and restarts ------------------------------------------------------------------------

TEST_F(WriterReaderTest, HeartbeatAgeComesFromTheWritersLastBeat) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  const std::int64_t beat = realtime_ns();
  w->heartbeat(beat);
  const WriterStatus s = r.writer_status(beat + 1234);
  EXPECT_EQ(s.state, WriterState::Running);
  EXPECT_EQ(s.heartbeat_ns, beat);
  EXPECT_EQ(s.heartbeat_age_ns, 1234);
  EXPECT_EQ(s.pid, ::getpid());
  EXPECT_GT(s.start_time_ns, 0);
  w->heartbeat();
  EXPECT_GE(r.writer_status().heartbeat_ns, beat);
}

TEST_F(WriterReaderTest, ClosedWriterIsReportedAndItsDataStaysReadable) {
  const auto& f = real_market().frames[10];
  WriterOptions o = options(name());
  o.remove_on_close = false;
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  publish_frame(*w, 0, f, 5);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  w->close();
  EXPECT_EQ(r.writer_status().state, WriterState::Closed);
  // A closed writer refuses quietly instead of touching unmapped memory.
  EXPECT_EQ(w->append_journal(JournalRecord{}), Writer::kNoPosition);
  EXPECT_EQ(w->publish_status(0, 2), WriteStatus::BadInstrument);
  EXPECT_FALSE(r.writer_restarted());
  Top top{};
  ASSERT_EQ(r.top(0, top), ReadStatus::Ok);
  EXPECT_EQ(top.last_seq, f.seq);
  Reader later; // a closed segment can still be attached and read
  ASSERT_EQ(later.attach(name()), AttachError::Ok) << later.error_message();
  ASSERT_EQ(later.top(0, top), ReadStatus::Ok);
  EXPECT_EQ(top.last_seq, f.seq);
}

TEST_F(WriterReaderTest, RestartedWriterIsDetectedAndTheReaderReattaches) {
  const auto& market = real_market();
  Writer* first = create(options(name()));
  ASSERT_NE(first, nullptr);
  publish_frame(*first, 2, market.frames[0], 1);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  const std::uint64_t generation = r.generation();
  EXPECT_EQ(generation, first->generation());
  EXPECT_FALSE(r.writer_restarted());

  Writer* second = create(options(name())); // IfExists::Replace
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->generation(), generation + 1);
  EXPECT_TRUE(r.writer_restarted());
  EXPECT_EQ(r.writer_status().state, WriterState::Superseded);
  Top top{};
  ASSERT_EQ(r.top(2, top), ReadStatus::Ok); // the old mapping still reads the old data
  EXPECT_EQ(top.last_seq, market.frames[0].seq);

  publish_frame(*second, 2, market.frames[1], 2);
  ASSERT_EQ(r.reattach(), AttachError::Ok) << r.error_message();
  EXPECT_EQ(r.generation(), generation + 1);
  EXPECT_FALSE(r.writer_restarted());
  ASSERT_EQ(r.top(2, top), ReadStatus::Ok);
  EXPECT_EQ(top.last_seq, market.frames[1].seq);
  EXPECT_EQ(top.book_updates, 1u);
}

TEST_F(WriterReaderTest, RestartIsDetectedEvenWhenTheOldFileWasRemovedFirst) {
  WriterOptions o = options(name());
  o.remove_on_close = false;
  Writer* first = create(o);
  ASSERT_NE(first, nullptr);
  Reader r;
  ASSERT_EQ(r.attach(name()), AttachError::Ok);
  std::filesystem::remove(path_of(name())); // e.g. an operator cleaned /dev/shm
  EXPECT_FALSE(r.writer_restarted());       // gone, no successor yet
  o.if_exists = IfExists::Fail;
  Writer* second = create(o);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->generation(), 1u); // nothing to continue from...
  EXPECT_TRUE(r.writer_restarted());   // ...but the name is another file now
}

// ---- copies and stuck slots -----------------------------------------------------------------------

TEST_F(WriterReaderTest, ACopyOnDiskReadsLikeTheLiveSegment) {
  const auto& market = real_market();
  Writer* w = create(options(name(), 25));
  ASSERT_NE(w, nullptr);
  for (std::uint32_t id = 0; id < 4; ++id)
    publish_frame(*w, id, market.frames[100 * id], 7);
  const std::string copy = copy_of(name());
  Reader live, disk;
  ASSERT_EQ(live.attach(name()), AttachError::Ok);
  ASSERT_EQ(disk.attach(copy), AttachError::Ok) << disk.error_message();
  auto a = std::make_unique<Book>(), b = std::make_unique<Book>();
  for (std::uint32_t id = 0; id < 4; ++id) {
    ASSERT_EQ(live.depth(id, 25, *a), ReadStatus::Ok);
    ASSERT_EQ(disk.depth(id, 25, *b), ReadStatus::Ok);
    EXPECT_EQ(std::memcmp(&a->top, &b->top, sizeof(Top)), 0);
    ASSERT_EQ(a->n_bids, b->n_bids);
    for (std::uint32_t i = 0; i < a->n_bids; ++i)
      EXPECT_TRUE(same_level(a->bids[i], b->bids[i]));
  }
}

TEST_F(WriterReaderTest, ASlotLeftLockedByADeadWriterReadsAsBusy) {
  const auto& market = real_market();
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  publish_frame(*w, 1, market.frames[0], 1);
  publish_frame(*w, 2, market.frames[1], 1);
  const std::string copy = copy_of(name());
  // Mechanical change: slot 1's sequence becomes odd, as a writer killed between
  // write_begin and write_end leaves it.
  Reader probe;
  ASSERT_EQ(probe.attach(copy), AttachError::Ok);
  const std::uint64_t odd = 3;
  patch(copy, probe.header().slots.offset + 1 * probe.header().slots.record_size, &odd, sizeof odd);
  Reader r;
  ASSERT_EQ(r.attach(copy), AttachError::Ok);
  r.set_read_budget_ns(5'000'000);
  Top top{};
  EXPECT_EQ(r.top(1, top), ReadStatus::Busy);
  auto book = std::make_unique<Book>();
  EXPECT_EQ(r.depth(1, 10, *book), ReadStatus::Busy);
  ASSERT_EQ(r.top(2, top), ReadStatus::Ok); // the others are fine
  EXPECT_EQ(top.last_seq, market.frames[1].seq);
}

// ---- concurrency ----------------------------------------------------------------------------------

// A writer thread replays real frames into three slots (instrument i's k-th update is frame
// (k + 100 i) mod F) and appends one Bbo journal record per update with that frame's best
// levels; three reader threads read top() and depth() and one polls the journal. Every copy
// must be exactly the frame its update counter names, internally consistent (sorted, positive
// sizes, head == levels[0], bid < ask when synced), and never go back in time; journal records
// must be in order or follow an explicit lap.
TEST_F(WriterReaderTest, ConcurrentReadersOnlyEverSeeWholeRealBooks) {
  const auto& market = real_market();
  constexpr std::uint32_t kN = 10;
  constexpr std::uint32_t kInstruments = 3;
  WriterOptions o = options(name(), kN);
  o.journal_capacity = 256;
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  Reader shared; // the writer's own mapping: ThreadSanitizer sees the real accesses
  ASSERT_EQ(shared.attach_memory(w->data(), w->size()), AttachError::Ok) << shared.error_message();
  // Five threads on a shared 2-core host: a reader can be descheduled mid-copy for tens of ms,
  // so Busy here means stuck for 10 s, not a slow read.
  shared.set_read_budget_ns(10'000'000'000);
  const std::size_t frames = market.frames.size();
  const auto frame_of = [&](std::uint32_t id, std::uint64_t k) -> const RealFrame& {
    return market.frames[(k + 100 * id) % frames];
  };
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> failures{0}, copies{0}, records{0}, laps{0};
  auto fail = [&](const char* what) {
    if (failures.fetch_add(1) < 5)
      std::fprintf(stderr, "invariant broken: %s\n", what);
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      auto book = std::make_unique<Book>();
      std::uint64_t last_updates[kInstruments] = {};
      std::uint64_t last_seq[kInstruments] = {};
      std::uint64_t i = static_cast<std::uint64_t>(t);
      while (!done.load(std::memory_order_acquire)) {
        const auto id = static_cast<std::uint32_t>(i++ % kInstruments);
        if (t == 0) { // top() only
          Top top{};
          if (shared.top(id, top) != ReadStatus::Ok) {
            fail("top busy");
            continue;
          }
          book->top = top;
          book->n_bids = book->n_asks = 0;
        } else if (shared.depth(id, kN, *book) != ReadStatus::Ok) {
          fail("depth busy");
          continue;
        }
        const Top& top = book->top;
        copies.fetch_add(1, std::memory_order_relaxed);
        if (top.seq % 2 != 0)
          fail("odd sequence in a copy");
        if (top.seq < last_seq[id] || top.book_updates < last_updates[id])
          fail("went back in time");
        last_seq[id] = top.seq;
        last_updates[id] = top.book_updates;
        if (top.book_updates == 0)
          continue;
        const RealFrame& f = frame_of(id, top.book_updates - 1);
        if (top.last_seq != f.seq || top.exch_ts_ns != f.exch_ts || top.status != f.status ||
            top.n_bids != std::min(f.nb, kN) || top.n_asks != std::min(f.na, kN) ||
            !same_level(top.best_bid, f.bids[0]) || !same_level(top.best_ask, f.asks[0]))
          fail("head is not the frame its counter names");
        if (top.status == static_cast<std::uint8_t>(BookStatus::Synced) &&
            !(top.best_bid.price < top.best_ask.price))
          fail("synced book crossed");
        if (t == 0)
          continue;
        if (book->n_bids != top.n_bids || book->n_asks != top.n_asks)
          fail("level counts");
        for (std::uint32_t k = 0; k < book->n_bids; ++k) {
          if (book->bids[k].qty <= 0 || (k > 0 && book->bids[k].price >= book->bids[k - 1].price) ||
              !same_level(book->bids[k], f.bids[k]))
            fail("bid levels");
        }
        for (std::uint32_t k = 0; k < book->n_asks; ++k) {
          if (book->asks[k].qty <= 0 || (k > 0 && book->asks[k].price <= book->asks[k - 1].price) ||
              !same_level(book->asks[k], f.asks[k]))
            fail("ask levels");
        }
        if (book->n_bids != 0 && !same_level(book->bids[0], top.best_bid))
          fail("head best bid differs from bids[0]");
      }
    });
  }
  threads.emplace_back([&] { // journal poller
    JournalReader j = shared.journal(JournalStart::Oldest);
    std::uint64_t expect = j.position();
    for (;;) {
      const bool finished = done.load(std::memory_order_acquire);
      std::uint64_t first = 0, last = 0;
      bool any = false;
      const PollResult r = j.poll(32, [&](const JournalRecord& rec, std::uint64_t p) {
        // Position p is update p / 3 of instrument p % 3.
        const auto id = static_cast<std::uint32_t>(p % kInstruments);
        const RealFrame& f = frame_of(id, p / kInstruments);
        if (rec.type != static_cast<std::uint8_t>(RecordType::Bbo) || rec.instrument != id ||
            rec.exch_ts_ns != f.exch_ts || rec.payload.bbo.bid_price != f.bids[0].price ||
            rec.payload.bbo.ask_qty != f.asks[0].qty)
          fail("journal record is not the one at its position");
        if (any && p != last + 1)
          fail("journal out of order");
        first = any ? first : p;
        last = p;
        any = true;
      });
      if (any && first != expect + r.lost)
        fail("journal gap without a lap report");
      expect = any ? last + 1 : expect + r.lost;
      records.fetch_add(r.delivered, std::memory_order_relaxed);
      laps.fetch_add(r.lost != 0 ? 1 : 0, std::memory_order_relaxed);
      if (finished && r.delivered == 0 && r.lost == 0)
        break;
    }
  });

  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  std::uint64_t updates = 0;
  for (std::uint64_t k = 0; std::chrono::steady_clock::now() < until || k < 1000; ++k) {
    for (std::uint32_t id = 0; id < kInstruments; ++id) {
      const RealFrame& f = frame_of(id, k);
      publish_frame(*w, id, f, f.recv_ts + 1);
      JournalRecord rec{};
      rec.type = static_cast<std::uint8_t>(RecordType::Bbo);
      rec.venue = static_cast<std::uint8_t>(Venue::BinanceUsdm);
      rec.instrument = id;
      rec.exch_ts_ns = f.exch_ts;
      rec.recv_ts_ns = f.recv_ts;
      rec.payload.bbo = JournalBbo{f.bids[0].price, f.bids[0].qty, f.asks[0].price, f.asks[0].qty};
      (void)w->append_journal(rec);
      ++updates;
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_GT(copies.load(), 0u);
  EXPECT_GT(records.load(), 0u);
  std::printf("%llu updates, %llu copies checked, %llu journal records, %llu laps\n",
              static_cast<unsigned long long>(updates),
              static_cast<unsigned long long>(copies.load()),
              static_cast<unsigned long long>(records.load()),
              static_cast<unsigned long long>(laps.load()));
}

} // namespace
} // namespace fh::shm
