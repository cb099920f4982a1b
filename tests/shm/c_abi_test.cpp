// labels: unit
// The C ABI (shm/fh_shm.h, libfh_shm.so) against segments written by fh::shm::Writer with real
// Binance USD-M data (tests/shm/real_market.hpp: exchangeInfo instruments, the BTCUSDT book
// rebuilt from the recorded diffs, recorded trades and bookTicker quotes). Expected values are
// the real frames themselves, compared field by field with what comes out of the C calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <unistd.h>

#include "shm/fh_shm.h"
#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

namespace fh::shm {
namespace {

using test::real_market;
using test::RealFrame;

// Owns a C handle.
struct Closer {
  void operator()(fh_shm_reader* r) const noexcept { fh_shm_close(r); }
};
using Handle = std::unique_ptr<fh_shm_reader, Closer>;

bool same(const fh_shm_level_t& c, const Level& l) {
  return c.price == l.price && c.qty == l.qty && c.orders == l.orders;
}

class CAbiTest : public ::testing::Test {
protected:
  void TearDown() override {
    writers_.clear();
    std::filesystem::remove(std::string(kShmDir) + name());
  }

  std::string name() const {
    return "fh-shm-cabi-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  WriterOptions options(std::uint32_t capacity = 1024) const {
    WriterOptions o;
    o.name = name();
    o.max_instruments = static_cast<std::uint32_t>(real_market().registry->size());
    o.depth = 10;
    o.journal_capacity = capacity;
    o.if_exists = IfExists::Replace;
    o.remove_on_close = true;
    return o;
  }

  // A writer with every real instrument in its directory.
  Writer* create(const WriterOptions& o) {
    auto w = test::create_writer(o);
    if (!w) return nullptr;
    test::add_real_instruments(*w);
    writers_.push_back(std::move(w));
    return writers_.back().get();
  }

  Handle open() {
    fh_shm_reader* r = nullptr;
    const int e = fh_shm_open(name().c_str(), 0, &r);
    EXPECT_EQ(e, FH_SHM_OK) << fh_shm_last_error();
    return Handle(r);
  }

  static std::uint32_t btc() { return real_market().btc->id; }

  static void publish(Writer& w, const RealFrame& f) {
    ASSERT_EQ(w.publish_book(btc(), f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq,
                             f.exch_ts, f.recv_ts, f.recv_ts + 1),
              WriteStatus::Ok);
  }

  // Journal record of the k-th real trade, as a feed handler would append it.
  static JournalRecord trade_record(std::size_t k) {
    const test::RealTrade& t = real_market().trades[k];
    JournalRecord rec{};
    rec.type = static_cast<std::uint8_t>(RecordType::Trade);
    rec.side = t.side;
    rec.venue = static_cast<std::uint8_t>(Venue::BinanceUsdm);
    rec.instrument = btc();
    rec.exch_ts_ns = t.exch_ts;
    rec.recv_ts_ns = t.recv_ts;
    rec.publish_ts_ns = t.recv_ts + 1;
    rec.payload.trade = JournalTrade{t.price, t.qty, t.trade_id, 0};
    return rec;
  }

  std::vector<std::unique_ptr<Writer>> writers_;
};

TEST_F(CAbiTest, LibraryReadsTheLayoutVersionOfItsHeader) {
  EXPECT_EQ(fh_shm_layout_version(), (std::uint32_t{kLayoutMajor} << 16) | kLayoutMinor);
  EXPECT_EQ(fh_shm_layout_version() >> 16, std::uint32_t{FH_SHM_LAYOUT_MAJOR});
}

TEST_F(CAbiTest, OpeningAMissingSegmentFailsWithNotFoundAndSaysWhere) {
  fh_shm_reader* r = reinterpret_cast<fh_shm_reader*>(this); // must be overwritten with NULL
  EXPECT_EQ(fh_shm_open(name().c_str(), 0, &r), FH_SHM_E_NOT_FOUND);
  EXPECT_EQ(r, nullptr);
  EXPECT_NE(std::string(fh_shm_last_error()).find(std::string(kShmDir) + name()),
            std::string::npos)
      << fh_shm_last_error();
  EXPECT_STREQ(fh_shm_strerror(FH_SHM_E_NOT_FOUND), "not_found");
  EXPECT_EQ(fh_shm_open("", 0, &r), FH_SHM_E_BAD_NAME);
  EXPECT_EQ(fh_shm_open(nullptr, 0, &r), FH_SHM_E_INVALID_ARGUMENT);
  EXPECT_EQ(fh_shm_open(name().c_str(), 0, nullptr), FH_SHM_E_INVALID_ARGUMENT);
  fh_shm_close(nullptr); // allowed
}

TEST_F(CAbiTest, RefusesASegmentOfAnotherMajorVersion) {
  WriterOptions o = options();
  o.test_hooks.layout_major = kLayoutMajor + 1;
  ASSERT_NE(create(o), nullptr);
  fh_shm_reader* r = nullptr;
  EXPECT_EQ(fh_shm_open(name().c_str(), 0, &r), FH_SHM_E_MAJOR_MISMATCH);
  EXPECT_EQ(r, nullptr);
  EXPECT_NE(std::string(fh_shm_last_error()).find("layout major " + std::to_string(kLayoutMajor + 1) +
                                 ", this reader reads major " + std::to_string(kLayoutMajor)),
            std::string::npos)
      << fh_shm_last_error();
  EXPECT_STREQ(fh_shm_strerror(FH_SHM_E_MAJOR_MISMATCH), "major_mismatch");
}

TEST_F(CAbiTest, FindsInstrumentsAndCopiesTheirDirectoryEntries) {
  ASSERT_NE(create(options()), nullptr);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  const InstrumentRegistry& reg = *real_market().registry;
  EXPECT_EQ(fh_shm_instrument_count(r.get()), reg.size());
  const Instrument& b = *real_market().btc;
  for (const char* key : {"binance-usdm:BTC-USDT-PERP", "binance-usdm:BTCUSDT", "BTCUSDT"}) {
    std::uint32_t id = 0;
    ASSERT_EQ(fh_shm_find(r.get(), key, &id), FH_SHM_OK) << key;
    EXPECT_EQ(id, b.id) << key;
  }
  std::uint32_t id = 7;
  EXPECT_EQ(fh_shm_find(r.get(), "okx:BTC-USDT-PERP", &id), FH_SHM_E_NO_SUCH_INSTRUMENT);
  EXPECT_EQ(id, 7u);
  EXPECT_NE(std::string(fh_shm_last_error()).find("okx:BTC-USDT-PERP"), std::string::npos);

  for (std::uint32_t i = 0; i < reg.size(); ++i) {
    const Instrument& want = reg.at(i);
    fh_shm_instrument_t got{};
    ASSERT_EQ(fh_shm_instrument(r.get(), i, &got), FH_SHM_OK);
    EXPECT_EQ(got.id, i);
    EXPECT_STREQ(got.venue, "binance-usdm");
    EXPECT_EQ(std::string(got.native), want.native);
    EXPECT_EQ(std::string(got.canonical), want.canonical);
    EXPECT_EQ(got.kind, static_cast<std::uint8_t>(want.kind));
    EXPECT_EQ(got.price_decimals, want.price_decimals);
    EXPECT_EQ(got.qty_decimals, want.qty_decimals);
    EXPECT_EQ(got.tick, want.tick);
    EXPECT_EQ(got.lot, want.lot);
  }
  fh_shm_instrument_t none{};
  EXPECT_EQ(fh_shm_instrument(r.get(), static_cast<std::uint32_t>(reg.size()), &none),
            FH_SHM_E_BAD_INSTRUMENT);
  EXPECT_STREQ(fh_shm_venue_name(r.get(), static_cast<std::uint32_t>(Venue::BinanceUsdm)),
               "binance-usdm");
}

TEST_F(CAbiTest, TopAndDepthAreTheRealBookThatWasPublished) {
  const auto& market = real_market();
  Writer* w = create(options());
  ASSERT_NE(w, nullptr);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  const RealFrame& f = market.frames[1234];
  publish(*w, market.frames[1233]);
  publish(*w, f);
  const test::RealBbo& q = market.bbos.at(50);
  ASSERT_EQ(w->publish_bbo(btc(), q.bid_price, q.bid_qty, q.ask_price, q.ask_qty, q.update_id,
                           q.exch_ts, q.recv_ts),
            WriteStatus::Ok);
  const test::RealTrade& t = market.trades.at(20);
  ASSERT_EQ(w->publish_trade(btc(), t.price, t.qty, t.side, t.trade_id, t.exch_ts, t.recv_ts),
            WriteStatus::Ok);

  fh_shm_top_t top{};
  ASSERT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_OK);
  EXPECT_EQ(top.instrument, btc());
  EXPECT_EQ(top.status, f.status);
  EXPECT_EQ(top.depth, 10u);
  EXPECT_EQ(top.n_bids, std::min(f.nb, 10u));
  EXPECT_EQ(top.n_asks, std::min(f.na, 10u));
  EXPECT_EQ(top.last_seq, f.seq);
  EXPECT_EQ(top.exch_ts_ns, f.exch_ts);
  EXPECT_EQ(top.recv_ts_ns, f.recv_ts);
  EXPECT_EQ(top.publish_ts_ns, f.recv_ts + 1);
  EXPECT_EQ(top.book_updates, 2u);
  EXPECT_TRUE(same(top.best_bid, f.bids[0]));
  EXPECT_TRUE(same(top.best_ask, f.asks[0]));
  EXPECT_EQ(top.version % 2, 0u);
  EXPECT_EQ(top.bbo_bid_price, q.bid_price);
  EXPECT_EQ(top.bbo_bid_qty, q.bid_qty);
  EXPECT_EQ(top.bbo_ask_price, q.ask_price);
  EXPECT_EQ(top.bbo_ask_qty, q.ask_qty);
  EXPECT_EQ(top.bbo_update_id, q.update_id);
  EXPECT_EQ(top.bbo_updates, 1u);
  EXPECT_EQ(top.trade_price, t.price);
  EXPECT_EQ(top.trade_qty, t.qty);
  EXPECT_EQ(top.trade_id, t.trade_id);
  EXPECT_EQ(top.trade_side, t.side);
  EXPECT_EQ(top.trades, 1u);

  // Five levels, then more than the segment keeps (cut to its depth of 10).
  for (const std::uint32_t n : {5u, 25u}) {
    fh_shm_level_t bids[25], asks[25];
    std::uint32_t nb = 99, na = 99;
    fh_shm_top_t head{};
    ASSERT_EQ(fh_shm_depth(r.get(), btc(), n, &head, bids, &nb, asks, &na), FH_SHM_OK);
    EXPECT_EQ(nb, std::min({n, 10u, f.nb}));
    EXPECT_EQ(na, std::min({n, 10u, f.na}));
    EXPECT_EQ(head.last_seq, f.seq);
    for (std::uint32_t i = 0; i < nb; ++i)
      EXPECT_TRUE(same(bids[i], f.bids[i])) << "bid " << i;
    for (std::uint32_t i = 0; i < na; ++i)
      EXPECT_TRUE(same(asks[i], f.asks[i])) << "ask " << i;
  }
  std::uint32_t nb = 0, na = 0;
  EXPECT_EQ(fh_shm_depth(r.get(), btc(), 0, nullptr, nullptr, &nb, nullptr, &na), FH_SHM_OK);
  EXPECT_EQ(nb, 0u);
  const auto outside = static_cast<std::uint32_t>(market.registry->size());
  EXPECT_EQ(fh_shm_top(r.get(), outside, &top), FH_SHM_E_BAD_INSTRUMENT);
  EXPECT_EQ(fh_shm_top(r.get(), btc(), nullptr), FH_SHM_E_INVALID_ARGUMENT);
}

TEST_F(CAbiTest, JournalCopiesRecordsInOrderIntoTheCallersBuffer) {
  const auto& market = real_market();
  Writer* w = create(options());
  ASSERT_NE(w, nullptr);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  fh_shm_journal_t now{}, oldest{};
  (void)w->append_journal(trade_record(0)); // before the "now" cursor: only oldest sees it
  ASSERT_EQ(fh_shm_journal_open(r.get(), 0, &now), FH_SHM_OK);
  ASSERT_EQ(fh_shm_journal_open(r.get(), 1, &oldest), FH_SHM_OK);
  EXPECT_EQ(fh_shm_journal_position(&now), 1u);
  EXPECT_EQ(fh_shm_journal_position(&oldest), 0u);
  constexpr std::size_t kTrades = 40;
  ASSERT_LE(kTrades, market.trades.size());
  for (std::size_t k = 1; k < kTrades; ++k)
    (void)w->append_journal(trade_record(k));
  EXPECT_EQ(fh_shm_journal_tail(r.get()), kTrades);

  fh_shm_record_t out[16];
  std::size_t got = 0, n = 0;
  std::uint64_t lost = 1;
  while (true) {
    ASSERT_EQ(fh_shm_journal_poll(r.get(), &now, out, 16, &n, &lost), FH_SHM_OK);
    EXPECT_EQ(lost, 0u);
    if (n == 0)
      break;
    EXPECT_LE(n, 16u);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = got + 1 + i; // position == trade index
      const test::RealTrade& t = market.trades[k];
      const fh_shm_record_t& rec = out[i];
      EXPECT_EQ(rec.position, k);
      EXPECT_EQ(rec.type, FH_SHM_RECORD_TRADE);
      EXPECT_EQ(rec.side, t.side);
      EXPECT_EQ(rec.venue, static_cast<std::uint8_t>(Venue::BinanceUsdm));
      EXPECT_EQ(rec.instrument, btc());
      EXPECT_EQ(rec.exch_ts_ns, t.exch_ts);
      EXPECT_EQ(rec.recv_ts_ns, t.recv_ts);
      EXPECT_EQ(rec.payload.trade.price, t.price);
      EXPECT_EQ(rec.payload.trade.qty, t.qty);
      EXPECT_EQ(rec.payload.trade.trade_id, t.trade_id);
    }
    got += n;
  }
  EXPECT_EQ(got, kTrades - 1);
  ASSERT_EQ(fh_shm_journal_poll(r.get(), &oldest, out, 1, &n, &lost), FH_SHM_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(out[0].position, 0u);
  EXPECT_EQ(out[0].payload.trade.trade_id, market.trades[0].trade_id);
  EXPECT_EQ(fh_shm_journal_poll(r.get(), &now, nullptr, 4, &n, &lost),
            FH_SHM_E_INVALID_ARGUMENT);
}

TEST_F(CAbiTest, ALappedCursorIsToldHowManyRecordsItLost) {
  constexpr std::uint32_t kCapacity = 64;
  constexpr std::size_t kAppended = 200;
  ASSERT_LE(kAppended, real_market().trades.size());
  Writer* w = create(options(kCapacity));
  ASSERT_NE(w, nullptr);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  fh_shm_journal_t c{};
  ASSERT_EQ(fh_shm_journal_open(r.get(), 1, &c), FH_SHM_OK);
  for (std::size_t k = 0; k < kAppended; ++k)
    (void)w->append_journal(trade_record(k));
  // The ring keeps the last kCapacity records: positions 136..199.
  fh_shm_record_t out[kCapacity + 8];
  std::size_t n = 0;
  std::uint64_t lost = 0;
  ASSERT_EQ(fh_shm_journal_poll(r.get(), &c, out, kCapacity + 8, &n, &lost), FH_SHM_OK);
  EXPECT_EQ(lost, kAppended - kCapacity);
  ASSERT_EQ(n, kCapacity);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i].position, kAppended - kCapacity + i);
    EXPECT_EQ(out[i].payload.trade.trade_id,
              real_market().trades[kAppended - kCapacity + i].trade_id);
  }
  ASSERT_EQ(fh_shm_journal_poll(r.get(), &c, out, 8, &n, &lost), FH_SHM_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(lost, 0u);
}

TEST_F(CAbiTest, RestartIsDetectedAndReattachMakesOldCursorsStale) {
  const auto& market = real_market();
  Writer* first = create(options());
  ASSERT_NE(first, nullptr);
  publish(*first, market.frames[0]);
  const std::int64_t beat = realtime_ns();
  first->heartbeat(beat);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  fh_shm_writer_status_t s{};
  ASSERT_EQ(fh_shm_writer_status(r.get(), &s), FH_SHM_OK);
  EXPECT_EQ(s.state, std::uint32_t{FH_SHM_WRITER_RUNNING});
  EXPECT_EQ(s.pid, ::getpid());
  EXPECT_EQ(s.heartbeat_ns, beat);
  EXPECT_GE(s.heartbeat_age_ns, 0);
  fh_shm_segment_info_t info{};
  ASSERT_EQ(fh_shm_segment_info(r.get(), &info), FH_SHM_OK);
  EXPECT_EQ(info.layout_major, kLayoutMajor);
  EXPECT_EQ(info.depth, 10u);
  EXPECT_EQ(info.journal_capacity, 1024u);
  EXPECT_EQ(info.generation, first->generation());
  fh_shm_journal_t c{};
  ASSERT_EQ(fh_shm_journal_open(r.get(), 1, &c), FH_SHM_OK);
  EXPECT_EQ(fh_shm_writer_restarted(r.get()), 0);

  Writer* second = create(options()); // IfExists::Replace: the old file is superseded
  ASSERT_NE(second, nullptr);
  publish(*second, market.frames[1]);
  EXPECT_EQ(fh_shm_writer_restarted(r.get()), 1);
  ASSERT_EQ(fh_shm_writer_status(r.get(), &s), FH_SHM_OK);
  EXPECT_EQ(s.state, std::uint32_t{FH_SHM_WRITER_SUPERSEDED});
  fh_shm_top_t top{};
  ASSERT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_OK); // old mapping: old data
  EXPECT_EQ(top.last_seq, market.frames[0].seq);

  ASSERT_EQ(fh_shm_reattach(r.get(), 0), FH_SHM_OK) << fh_shm_error_message(r.get());
  EXPECT_EQ(fh_shm_writer_restarted(r.get()), 0);
  ASSERT_EQ(fh_shm_segment_info(r.get(), &info), FH_SHM_OK);
  EXPECT_EQ(info.generation, first->generation() + 1);
  ASSERT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_OK);
  EXPECT_EQ(top.last_seq, market.frames[1].seq);
  fh_shm_record_t out[4];
  std::size_t n = 0;
  EXPECT_EQ(fh_shm_journal_poll(r.get(), &c, out, 4, &n, nullptr), FH_SHM_E_STALE_CURSOR);
  ASSERT_EQ(fh_shm_journal_open(r.get(), 1, &c), FH_SHM_OK);
  EXPECT_EQ(fh_shm_journal_poll(r.get(), &c, out, 4, &n, nullptr), FH_SHM_OK);

  // A cursor of another handle is refused too.
  Handle other = open();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(fh_shm_journal_poll(other.get(), &c, out, 4, &n, nullptr), FH_SHM_E_STALE_CURSOR);
}

TEST_F(CAbiTest, AFailedReattachLeavesAHandleThatRefusesReads) {
  Writer* w = create(options());
  ASSERT_NE(w, nullptr);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  writers_.clear(); // closed and removed: nothing to reattach to
  ASSERT_EQ(fh_shm_reattach(r.get(), 0), FH_SHM_E_NOT_FOUND);
  EXPECT_NE(std::string(fh_shm_error_message(r.get())).find("no such segment"),
            std::string::npos);
  fh_shm_top_t top{};
  EXPECT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_E_NOT_ATTACHED);
  EXPECT_EQ(fh_shm_instrument_count(r.get()), 0u);
  // It can come back once a writer exists again.
  ASSERT_NE(create(options()), nullptr);
  EXPECT_EQ(fh_shm_reattach(r.get(), 0), FH_SHM_OK) << fh_shm_error_message(r.get());
  EXPECT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_OK);
}

TEST_F(CAbiTest, AClosedWriterIsReportedAndItsDataStaysReadable) {
  const RealFrame& f = real_market().frames[77];
  WriterOptions o = options();
  o.remove_on_close = false;
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  publish(*w, f);
  w->add_counter(static_cast<std::uint8_t>(Venue::BinanceUsdm), VenueCounter::Messages, 5);
  Handle r = open();
  ASSERT_NE(r, nullptr);
  w->close();
  fh_shm_writer_status_t s{};
  ASSERT_EQ(fh_shm_writer_status(r.get(), &s), FH_SHM_OK);
  EXPECT_EQ(s.state, std::uint32_t{FH_SHM_WRITER_CLOSED});
  EXPECT_EQ(fh_shm_writer_restarted(r.get()), 0);
  fh_shm_top_t top{};
  ASSERT_EQ(fh_shm_top(r.get(), btc(), &top), FH_SHM_OK);
  EXPECT_EQ(top.last_seq, f.seq);
  const auto venue = static_cast<std::uint32_t>(Venue::BinanceUsdm);
  EXPECT_EQ(fh_shm_counter(r.get(), venue, 0), 5u);
  EXPECT_STREQ(fh_shm_counter_name(r.get(), 0), "messages");
}

} // namespace
} // namespace fh::shm
