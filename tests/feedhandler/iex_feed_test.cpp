// labels: replay
// The IEX packet path end to end over the real DEEP capture: frame -> UDP -> IEX-TP -> DEEP ->
// book builder. Books are checked after every complete order book event against an
// independent rebuild written in this file (std::map per side, straight from the message bytes
// at the DEEP specification's offsets, updates held until the event-complete flag). Counts are
// PROVENANCE.md's or computed here. Faults are real packets dropped or changed mechanically.
//
// About this capture (what the rebuild shows, not what a venue promises): it is IEX's pre-launch
// DEEP sample from its test system (test symbols ZIEXT, ZXIET, ZEXIT beside listed names), and
// its displayed books are crossed after most complete events. So "never crossed" cannot be
// checked here; the builder's Crossed status is checked to agree with the rebuild instead.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/iex/iex_ingest.hpp"
#include "feedhandler/pipeline.hpp"
#include "tests/support/pcap_frames.hpp"

namespace fh::test {
namespace {

std::uint64_t raw_le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

struct Top {
  std::string symbol;
  std::int64_t bid = 0, bid_qty = 0, ask = 0, ask_qty = 0; // 0 = side empty
  bool crossed = false;
  bool operator==(const Top&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Top& t) {
  return os << t.symbol << " " << t.bid_qty << "@" << t.bid << " / " << t.ask << "x" << t.ask_qty
            << (t.crossed ? " crossed" : "");
}

// Independent rebuild of DEEP books from the raw segments.
class Oracle {
public:
  // One UDP payload; appends the top of each book after each complete event.
  void on_segment(const std::uint8_t* s, std::size_t len, std::vector<Top>& tops) {
    const std::uint64_t first = raw_le(s + 24, 8), count = raw_le(s + 14, 2);
    if (first == 1 && raw_le(s + 16, 8) == 0 && expected_ != 1) {
      books_.clear(); // the stream started over: every book is empty again
      pending_.clear();
    }
    expected_ = first + count;
    std::size_t at = 40;
    while (at + 2 <= len) {
      const std::size_t n = raw_le(s + at, 2);
      const std::uint8_t* m = s + at + 2;
      at += 2 + n;
      if (m[0] != '8' && m[0] != '5') continue;
      std::string sym(reinterpret_cast<const char*>(m + 10), 8);
      sym.erase(sym.find_last_not_of(' ') + 1);
      pending_[sym].push_back({m[0] == '8', static_cast<std::int64_t>(raw_le(m + 22, 8)),
                               static_cast<std::int64_t>(raw_le(m + 18, 4))});
      if ((m[1] & 1) == 0) continue;
      Book& b = books_[sym];
      for (const Update& u : pending_[sym]) {
        auto& side = u.buy ? b.bids : b.asks;
        if (u.size == 0) side.erase(u.price);
        else side[u.price] = u.size;
      }
      pending_.erase(sym);
      Top t{sym};
      if (!b.bids.empty()) t.bid = b.bids.rbegin()->first, t.bid_qty = b.bids.rbegin()->second;
      if (!b.asks.empty()) t.ask = b.asks.begin()->first, t.ask_qty = b.asks.begin()->second;
      t.crossed = !b.bids.empty() && !b.asks.empty() && t.bid >= t.ask;
      tops.push_back(t);
    }
  }
  std::size_t levels(const std::string& sym) const {
    auto it = books_.find(sym);
    return it == books_.end() ? 0 : it->second.bids.size() + it->second.asks.size();
  }

private:
  struct Update {
    bool buy;
    std::int64_t price, size;
  };
  struct Book {
    std::map<std::int64_t, std::int64_t> bids, asks;
  };
  std::map<std::string, Book> books_;
  std::map<std::string, std::vector<Update>> pending_;
  std::uint64_t expected_ = 1;
};

// Records the top of our book after every applied (non-snapshot) book batch.
struct TopRecorder {
  std::vector<Top>* out = nullptr;
  bool snapshot = false;
  void observe(const Event& e) noexcept {
    if (e.type == EventType::BookBegin) snapshot = (e.flags & kFlagSnapshot) != 0;
  }
  void on_notice(const BookNotice& n, const Event&) noexcept {
    if (n.kind != BookNotice::BookChanged || snapshot) return;
    const book::L2Book& b = n.book->book();
    Top t{n.book->instrument().native};
    if (const auto* l = b.best(book::Side::Bid)) t.bid = l->price, t.bid_qty = l->qty;
    if (const auto* l = b.best(book::Side::Ask)) t.ask = l->price, t.ask_qty = l->qty;
    t.crossed = n.book->status() == BookStatus::Crossed;
    out->push_back(t);
  }
};

BookBuilder::Options thin_books() {
  BookBuilder::Options o;
  o.reserve_levels = 256; // what pcap mode reserves (the deepest sample book fits)
  o.reserve_buffer = 0;
  return o;
}

class IexFeedTest : public ::testing::Test {
protected:
  const std::vector<CapturedFrame>& frames = iex_frames();
  InstrumentRegistry registry;
  BookBuilder builder{registry, thin_books()};
  iex::IexFeed feed{registry};
  net::UdpFrameParser udp{net::UdpFilter{}, net::UdpChecksumPolicy::AcceptOffloadPlaceholder};
  EventBatch batch{iex::IexFeed::kBatchCapacity};
  NullPublisher null_publisher;
  FusedPipeline<NullPublisher> pipeline{builder, null_publisher};
  iex::IexFrameIngest<FusedPipeline<NullPublisher>> ingest{udp, feed, pipeline, batch};

  void run(std::size_t begin, std::size_t end, std::size_t skip = SIZE_MAX) {
    for (std::size_t i = begin; i < end && i < frames.size(); ++i)
      if (i != skip) (void)ingest.on_frame(frames[i].bytes.data(), frames[i].bytes.size(), frames[i].ts_ns);
  }
  // Index of the k-th frame (0-based) whose segment goes back to sequence 1 after data.
  std::size_t restart_frame(std::size_t k) const {
    std::uint64_t expected = 1;
    std::size_t seen = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const std::uint8_t* s = frames[i].bytes.data() + 42;
      if (raw_le(s + 24, 8) == 1 && expected != 1 && seen++ == k) return i;
      expected = raw_le(s + 24, 8) + raw_le(s + 14, 2);
    }
    return frames.size();
  }
  // Distinct symbols with a complete price level event in frames [begin, end), from raw bytes.
  std::size_t symbols_with_book_events(std::size_t begin, std::size_t end) const {
    std::set<std::string> syms;
    for (std::size_t i = begin; i < end; ++i) {
      const auto& b = frames[i].bytes;
      for (std::size_t at = 42 + 40; at + 2 <= b.size();) {
        const std::size_t n = raw_le(&b[at], 2);
        if ((b[at + 2] == '8' || b[at + 2] == '5') && (b[at + 3] & 1) != 0)
          syms.insert(std::string(reinterpret_cast<const char*>(&b[at + 12]), 8));
        at += 2 + n;
      }
    }
    return syms.size();
  }
  // Books the builder has, by status.
  std::map<BookStatus, std::size_t> statuses() const {
    std::map<BookStatus, std::size_t> m;
    for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id)
      if (const auto* b = builder.book(id); b != nullptr && b->counters().book_messages != 0)
        ++m[b->status()];
    return m;
  }
};

TEST_F(IexFeedTest, ReplayOfTheCaptureGivesProvenanceCounts) {
  run(0, frames.size());
  const iex::IexCounters& c = feed.counters();
  // PROVENANCE.md: 121,315 packets, the last cut by the end of the file (never delivered).
  EXPECT_EQ(frames.size() + 1, 121315u);
  EXPECT_EQ(udp.counters().delivered, 121314u);
  EXPECT_EQ(c.segments, 121314u);
  EXPECT_EQ(c.heartbeats, 7937u);                  // PROVENANCE.md
  EXPECT_EQ(c.messages, 392043u - 44u);            // PROVENANCE.md minus the truncated packet's 44
  EXPECT_EQ(c.by_type['T'], 83343u);               // PROVENANCE.md
  EXPECT_EQ(c.by_type['8'], 12941u);
  EXPECT_EQ(c.by_type['5'], 14627u);
  EXPECT_EQ(c.by_type['P'], 93636u);
  EXPECT_EQ(c.seq_gaps, 11u);                      // PROVENANCE.md: 11 sequence/offset gaps
  EXPECT_EQ(c.restarts, 11u);
  EXPECT_EQ(c.gaps, 0u);
  EXPECT_EQ(c.lost_messages, 0u);
  EXPECT_EQ(c.duplicate_segments, 0u);
  EXPECT_EQ(c.trades, 83343u);
  EXPECT_EQ(c.short_messages + c.bad_symbols + c.unknown_types + c.wrong_protocol, 0u);
  EXPECT_EQ(c.pending_overflow, 0u);
  EXPECT_EQ(c.batch_overflow, 0u);
  EXPECT_EQ(c.stale_marks, 0u); // restarts reset books to empty; nothing was lost
  EXPECT_TRUE(feed.trusted());

  // Complete events = price level updates with the event-complete flag (counted here).
  std::uint64_t complete = 0, in_transition = 0;
  for (const auto& f : frames) {
    const auto& b = f.bytes;
    if ((std::size_t{b[16]} << 8 | b[17]) + 14 > b.size()) continue;
    std::size_t at = 42 + 40;
    while (at + 2 <= b.size()) {
      const std::size_t n = raw_le(&b[at], 2);
      if (b[at + 2] == '8' || b[at + 2] == '5') ((b[at + 3] & 1) ? complete : in_transition)++;
      at += 2 + n;
    }
  }
  EXPECT_EQ(complete + in_transition, 12941u + 14627u);
  EXPECT_EQ(c.book_events, complete);
  EXPECT_LT(complete, complete + in_transition); // events do span several updates

  // Every book event applied; every trade reached its book.
  std::uint64_t applied = 0, trades = 0, skipped = 0;
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    if (const auto* b = builder.book(id)) {
      applied += b->counters().applied;
      trades += b->counters().trades;
      skipped += b->counters().skipped_stale;
    }
  }
  EXPECT_EQ(applied, complete);
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(trades, 83343u);
  EXPECT_EQ(builder.orphan_counters().malformed_batches, 0u);
}

TEST_F(IexFeedTest, BooksMatchAnIndependentRebuildAfterEveryCompleteEvent) {
  std::vector<Top> ours, theirs;
  TopRecorder recorder{&ours};
  FusedPipeline<TopRecorder> p(builder, recorder);
  iex::IexFrameIngest<FusedPipeline<TopRecorder>> in(udp, feed, p, batch);
  Oracle oracle;
  std::size_t compared = 0, crossed = 0;
  for (const auto& f : frames) {
    ours.clear();
    theirs.clear();
    const iex::FrameResult r = in.on_frame(f.bytes.data(), f.bytes.size(), f.ts_ns);
    ASSERT_EQ(r.frame, net::FrameError::None);
    const std::size_t total = std::size_t{f.bytes[16]} << 8 | f.bytes[17];
    oracle.on_segment(f.bytes.data() + 42, total - 28, theirs);
    ASSERT_EQ(ours, theirs) << "frame at " << f.ts_ns;
    compared += ours.size();
    for (const Top& t : theirs) crossed += t.crossed ? 1 : 0;
  }
  EXPECT_EQ(compared, feed.counters().book_events);
  // The data's property (see the top of this file): most complete events leave a crossed book.
  EXPECT_GT(crossed, compared / 2);
  // And at the end, whole books (every level) agree in size.
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const auto* b = builder.book(id);
    if (b == nullptr || b->counters().book_messages == 0) continue;
    EXPECT_EQ(b->book().depth(book::Side::Bid) + b->book().depth(book::Side::Ask),
              oracle.levels(b->instrument().native))
        << b->instrument().native;
  }
}

TEST_F(IexFeedTest, RestartResetsEveryBookToEmptyAndTrusted) {
  const std::size_t restart = restart_frame(0);
  ASSERT_LT(restart, frames.size());
  run(0, restart);
  auto before = statuses();
  EXPECT_EQ(before[BookStatus::Synced] + before[BookStatus::Crossed],
            symbols_with_book_events(0, restart));
  run(restart, restart + 1); // the stream goes back to sequence 1
  EXPECT_EQ(feed.counters().restarts, 1u);
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const auto* b = builder.book(id);
    if (b == nullptr || b->counters().book_messages == 0) continue;
    EXPECT_EQ(b->status(), BookStatus::Synced) << b->instrument().native;
    EXPECT_EQ(b->book().depth(book::Side::Bid) + b->book().depth(book::Side::Ask), 0u);
  }
}

TEST_F(IexFeedTest, GapMarksEveryTrustedBookStaleUntilTheStreamStartsOver) {
  const std::size_t restart = restart_frame(0);
  std::size_t dropped = restart / 2;
  while (raw_le(frames[dropped].bytes.data() + 42 + 14, 2) == 0) ++dropped; // a data segment
  const std::uint64_t lost = raw_le(frames[dropped].bytes.data() + 42 + 14, 2);
  run(0, dropped);
  auto before = statuses();
  const std::size_t trusted = before[BookStatus::Synced] + before[BookStatus::Crossed];
  EXPECT_EQ(trusted, symbols_with_book_events(0, dropped));
  run(dropped + 1, dropped + 2); // the segment after the dropped one
  EXPECT_EQ(feed.counters().gaps, 1u);
  EXPECT_EQ(feed.counters().lost_messages, lost);
  EXPECT_EQ(feed.counters().stale_marks, trusted);
  EXPECT_FALSE(feed.trusted());
  auto after = statuses();
  EXPECT_EQ(after[BookStatus::Stale], trusted);
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    if (const auto* b = builder.book(id); b != nullptr && b->status() == BookStatus::Stale) {
      EXPECT_EQ(b->last_error(), BookError::SequenceGap);
    }
  }
  // Nothing makes them trusted again before the restart: no book is Synced or Crossed.
  run(dropped + 2, restart);
  after = statuses();
  EXPECT_EQ(after[BookStatus::Synced] + after[BookStatus::Crossed], 0u);
  // The restart does.
  run(restart, restart + 1);
  after = statuses();
  EXPECT_EQ(after[BookStatus::Stale], 0u);
  EXPECT_TRUE(feed.trusted());
}

TEST_F(IexFeedTest, JoiningMidStreamNeverTrustsABook) {
  const std::size_t restart = restart_frame(0);
  run(restart / 3, restart); // starts far from sequence 1
  EXPECT_FALSE(feed.trusted());
  auto s = statuses();
  EXPECT_EQ(s[BookStatus::Synced] + s[BookStatus::Crossed], 0u);
  EXPECT_GT(feed.counters().book_events, 0u);
  run(restart, restart + 1);
  EXPECT_TRUE(feed.trusted());
}

TEST_F(IexFeedTest, CorruptedSegmentIsCountedAndItsLossMarksBooksStale) {
  const std::size_t restart = restart_frame(0);
  std::size_t bad = restart / 2;
  while (raw_le(frames[bad].bytes.data() + 42 + 14, 2) == 0) ++bad;
  run(0, bad);
  auto before = statuses();
  const std::size_t trusted = before[BookStatus::Synced] + before[BookStatus::Crossed];
  // Mechanically flip a bit in the high byte of the segment's first block length, then re-seal
  // the UDP layer's view: the IPv4 header is untouched and the UDP checksum field holds the
  // offload placeholder, which does not cover the payload, so the frame reaches IEX-TP.
  std::vector<std::uint8_t> f = frames[bad].bytes;
  f[42 + 41] ^= 0x04;
  const iex::FrameResult r = ingest.on_frame(f.data(), f.size(), frames[bad].ts_ns);
  EXPECT_EQ(r.frame, net::FrameError::None);
  EXPECT_EQ(r.parse, ParseStatus::Malformed);
  std::uint64_t tp_errors = 0;
  for (const auto n : feed.counters().segment_errors) tp_errors += n;
  EXPECT_EQ(tp_errors, 1u);
  run(bad + 1, bad + 2);
  EXPECT_EQ(feed.counters().gaps, 1u);
  EXPECT_EQ(statuses()[BookStatus::Stale], trusted);
}

TEST_F(IexFeedTest, RepeatedSegmentsAreDroppedAndChangeNoBook) {
  // A second, clean run to compare with.
  InstrumentRegistry clean_registry;
  BookBuilder clean_builder{clean_registry, thin_books()};
  iex::IexFeed clean_feed{clean_registry};
  net::UdpFrameParser clean_udp{net::UdpFilter{}, net::UdpChecksumPolicy::AcceptOffloadPlaceholder};
  FusedPipeline<NullPublisher> clean_pipeline{clean_builder, null_publisher};
  iex::IexFrameIngest<FusedPipeline<NullPublisher>> clean{clean_udp, clean_feed, clean_pipeline, batch};
  const std::size_t end = restart_frame(2);
  std::size_t repeated = 0;
  for (std::size_t i = 0; i < end; ++i) {
    const auto& f = frames[i];
    (void)clean.on_frame(f.bytes.data(), f.bytes.size(), f.ts_ns);
    (void)ingest.on_frame(f.bytes.data(), f.bytes.size(), f.ts_ns);
    // Mechanically deliver every 50th data packet twice, as an A/B feed pair would.
    if (i % 50 == 0 && raw_le(f.bytes.data() + 42 + 14, 2) != 0) {
      (void)ingest.on_frame(f.bytes.data(), f.bytes.size(), f.ts_ns);
      ++repeated;
    }
  }
  EXPECT_GT(repeated, 100u);
  EXPECT_EQ(feed.counters().duplicate_segments, repeated);
  EXPECT_EQ(feed.counters().seq_gaps, clean_feed.counters().seq_gaps);
  EXPECT_EQ(feed.counters().messages, clean_feed.counters().messages);
  for (std::uint32_t id = 0; id < clean_builder.instrument_slots(); ++id) {
    const auto* a = clean_builder.book(id);
    const auto* b = builder.book(id);
    if (a == nullptr) continue;
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->status(), b->status());
    for (const auto side : {book::Side::Bid, book::Side::Ask}) {
      ASSERT_EQ(a->book().depth(side), b->book().depth(side));
      for (std::size_t k = 0; k < a->book().depth(side); ++k) {
        EXPECT_EQ(a->book().at(side, k).price, b->book().at(side, k).price);
        EXPECT_EQ(a->book().at(side, k).qty, b->book().at(side, k).qty);
      }
    }
  }
}

TEST_F(IexFeedTest, TruncatedSegmentsProduceNoEvents) {
  // Mechanically cut real segments (as UDP payloads) at several lengths: nothing is decoded,
  // every cut is counted, the stream position does not move.
  std::size_t cuts = 0;
  for (std::size_t i = 1; i < 200; i += 7) {
    const auto& b = frames[i].bytes;
    const std::size_t total = std::size_t{b[16]} << 8 | b[17];
    for (std::size_t len = 0; len + 28 < total; len += 13) {
      batch.clear();
      EXPECT_EQ(feed.on_segment(b.data() + 42, len, 0, batch), ParseStatus::Malformed);
      EXPECT_EQ(batch.size(), 0u);
      ++cuts;
    }
  }
  std::uint64_t tp_errors = 0;
  for (const auto n : feed.counters().segment_errors) tp_errors += n;
  EXPECT_EQ(tp_errors, cuts);
  EXPECT_EQ(feed.counters().segments, 0u);
  EXPECT_EQ(feed.counters().messages, 0u);
}

TEST_F(IexFeedTest, RegistersEachSymbolOnceAsAnEquityInstrument) {
  run(0, restart_frame(0));
  const Instrument* z = registry.find(Venue::Iex, "ZIEXT");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->canonical, "ZIEXT-USD");
  EXPECT_EQ(z->price_decimals, 4);
  EXPECT_EQ(z->qty_decimals, 0);
  const iex::SecurityState* s = feed.security(z->id);
  ASSERT_NE(s, nullptr);
  // The last trading status and operational halt messages for ZIEXT in that session, read
  // here from the raw bytes.
  std::uint8_t status = 0, halt = 0;
  for (std::size_t i = 0; i < restart_frame(0); ++i) {
    const auto& b = frames[i].bytes;
    for (std::size_t at = 42 + 40; at + 2 <= b.size();) {
      const std::size_t n = raw_le(&b[at], 2);
      const std::uint8_t* m = &b[at + 2];
      if (n >= 18 && std::string(reinterpret_cast<const char*>(m + 10), 8) == "ZIEXT   ") {
        if (m[0] == 'H') status = m[1];
        if (m[0] == 'O') halt = m[1];
      }
      at += 2 + n;
    }
  }
  EXPECT_EQ(status, 'T');
  EXPECT_EQ(s->trading_status, status);
  EXPECT_EQ(s->operational_halt, halt);
  const std::size_t instruments = registry.size();
  run(restart_frame(0), restart_frame(1)); // the next session spins the same symbols
  EXPECT_EQ(registry.size(), instruments);
}

} // namespace
} // namespace fh::test
