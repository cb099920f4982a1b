#pragma once
// Book builder: applies normalized event batches to one L2 book per instrument and decides,
// per venue rule (VENUE_RULES.md), whether each book is exactly the venue's book.
//
// A batch is BookBegin -> BookLevel* -> BookEnd. At BookBegin the builder picks a mode:
//   apply      the sequence check passed (or the venue has none): levels go into the book
//   snapshot   replace the book (REST snapshot, OKX/Kraken snapshot push)
//   buffer     Binance without a usable snapshot: keep the batch until the snapshot arrives,
//              then replay the buffer through the straddle rule
//   skip       older than the book (dropped), or book stale and the venue needs a new snapshot
// At BookEnd: Kraken depth truncation, checksum verification, crossed check. Any doubt marks
// the book Stale at once and queues a resync request; only a snapshot makes it Synced again.
//
// Order-level batches (kFlagOrders: BookBegin -> Order* -> BookEnd) go into an L3 book
// (book/l3_book.hpp) created on the instrument's first order-level snapshot; its aggregated
// L2 view is what book() returns, so publishing, the crossed check and readers see an L3
// instrument as an ordinary L2 book. Sync is StreamSnapshot's: snapshot first, then updates.
// A snapshot decides whether an instrument's book is L2 or L3.
//
// Per message, on_event() does no allocation once an instrument has been seen (its book and
// buffer are reserved on first sight) and no syscalls; the caller publishes what on_event
// reports, so the builder stays independent of shm.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "book/checksum.hpp"
#include "book/l2_book.hpp"
#include "book/l3_book.hpp"
#include "book/sequence.hpp"
#include "feedhandler/book_error.hpp"
#include "feedhandler/event.hpp"
#include "feedhandler/instrument_registry.hpp"

namespace fh {

struct BookCounters {
  std::uint64_t book_messages = 0; // BookBegin seen
  std::uint64_t applied = 0;       // update batches applied
  std::uint64_t snapshots = 0;     // snapshots applied
  std::uint64_t buffered = 0;      // batches buffered waiting for a snapshot
  std::uint64_t dropped = 0;       // batches older than the book (or duplicates)
  std::uint64_t skipped_stale = 0; // batches ignored while stale and no sequence to resume from
  std::uint64_t checksum_ok = 0;
  std::uint64_t checksum_fail = 0;
  std::uint64_t seq_gaps = 0;
  std::uint64_t resyncs = 0;       // a Stale book (gap, checksum, ...) became Synced again
  std::uint64_t crossed = 0;       // transitions into Crossed
  std::uint64_t crossed_batches = 0; // applied batches (updates, snapshots) that left it crossed
  std::uint64_t bbo_checks_ok = 0;
  std::uint64_t bbo_checks_fail = 0;
  std::uint64_t trades = 0;
  std::uint64_t bbos = 0;
  std::uint64_t malformed_batches = 0; // levels outside a batch, mismatched instrument
};

class InstrumentBook {
public:
  InstrumentBook(const Instrument& inst, std::size_t reserve_levels, std::size_t reserve_buffer);

  const Instrument& instrument() const noexcept { return *instrument_; }
  // The L2 book; for an order-level instrument, the L3 book's aggregated view.
  const book::L2Book& book() const noexcept { return l3_ ? l3_->l2() : book_; }
  // The order-level book, nullptr for an L2 instrument.
  const book::L3Book* l3() const noexcept { return l3_.get(); }
  // L3 only: the L2 levels (absolute totals, 0 = gone) the last applied batch changed, in
  // order, for a journal that carries L2 records. Overflow: more than kMaxL2Changes.
  std::span<const book::LevelChange> l2_changes() const noexcept { return l2_changes_; }
  bool l2_changes_overflow() const noexcept { return l2_changes_overflow_; }
  static constexpr std::size_t kMaxL2Changes = 1024;
  BookStatus status() const noexcept { return status_; }
  BookError last_error() const noexcept { return last_error_; }
  const BookCounters& counters() const noexcept { return counters_; }
  std::uint64_t last_update_id() const noexcept { return last_update_id_; }
  std::int64_t last_exch_ts_ns() const noexcept { return last_exch_ts_ns_; }
  std::int64_t last_recv_ts_ns() const noexcept { return last_recv_ts_ns_; }

private:
  friend class BookBuilder;
  enum class Mode : std::uint8_t { Idle, Apply, Snapshot, Buffer, Skip };

  const Instrument* instrument_;
  book::L2Book book_;
  std::unique_ptr<book::L3Book> l3_;            // order-level instruments only
  std::vector<book::LevelChange> l2_changes_;  // reserved kMaxL2Changes when l3_ is made
  bool l2_changes_overflow_ = false;
  BookStatus status_ = BookStatus::Empty;
  BookStatus begin_status_ = BookStatus::Empty; // status once BookBegin was handled
  BookError last_error_ = BookError::None;
  Mode mode_ = Mode::Idle;
  bool lost_sync_ = false;
  book::BinanceSpotSequence spot_seq_;
  book::BinanceFuturesSequence futures_seq_;
  book::OkxSequence stream_seq_;
  Event begin_{};                  // the batch in progress
  std::vector<Event> buffer_;      // Binance batches waiting for a snapshot (reserved)
  std::uint64_t last_update_id_ = 0; // `u` of the last applied Binance batch (bookTicker check)
  std::int64_t last_exch_ts_ns_ = 0;
  std::int64_t last_recv_ts_ns_ = 0;
  BookCounters counters_;
};

// What the caller should publish after an event.
struct BookNotice {
  enum Kind : std::uint8_t { None = 0, BookChanged, StatusChanged, Trade, Bbo };
  Kind kind = None;
  bool status_changed = false;
  const InstrumentBook* book = nullptr; // for BookChanged/StatusChanged/Trade/Bbo
};

class BookBuilder {
public:
  struct Options {
    std::size_t reserve_levels = 4096;       // per side, per instrument
    // Binance diff-depth books keep every level ever touched (BTCUSDT USD-M reaches ~10k per
    // side within minutes): reserve for that up front so the steady state never grows.
    std::size_t reserve_levels_binance = 16384;
    std::size_t reserve_buffer = 16384;      // buffered events per Binance instrument
    std::size_t max_buffer = 1u << 20;       // beyond this, buffered batches are discarded
    std::size_t reserve_orders = 4096;       // per order-level (L3) instrument
  };

  explicit BookBuilder(const InstrumentRegistry& registry);
  BookBuilder(const InstrumentRegistry& registry, Options options);

  // Hot path. Returns what changed so the caller can publish it.
  BookNotice on_event(const Event& e) noexcept;

  // The book of an instrument, nullptr if it never had an event here.
  const InstrumentBook* book(std::uint32_t instrument) const noexcept {
    return instrument < books_.size() ? books_[instrument].get() : nullptr;
  }
  std::size_t instrument_slots() const noexcept { return books_.size(); }

  // Instruments that need a fresh snapshot (gap, checksum failure). The control path drains
  // it; replay only counts. Bounded: a full queue drops the request (counted).
  bool pop_resync_request(std::uint32_t& instrument) noexcept;
  std::uint64_t resync_requests() const noexcept { return resync_requests_; }
  std::uint64_t resync_requests_dropped() const noexcept { return resync_dropped_; }
  const BookCounters& orphan_counters() const noexcept { return orphans_; }

  // Registers an instrument's book ahead of traffic (control path), so the first message
  // does not allocate.
  InstrumentBook& prepare(std::uint32_t instrument);

private:
  InstrumentBook* get(std::uint32_t instrument) noexcept;
  BookNotice on_begin(InstrumentBook& b, const Event& e) noexcept;
  void on_level(InstrumentBook& b, const Event& e) noexcept;
  BookNotice on_end(InstrumentBook& b, const Event& e) noexcept;
  BookNotice on_bbo(InstrumentBook& b, const Event& e) noexcept;

  void apply_level(InstrumentBook& b, const Event& e) noexcept;
  void apply_order(InstrumentBook& b, const Event& e) noexcept;
  // Cold: makes the instrument's book order-level (allocates the L3 book) or level-only.
  [[gnu::cold]] void set_order_level(InstrumentBook& b, bool orders) noexcept;
  void finish_binance_snapshot(InstrumentBook& b) noexcept;
  bool verify_checksum(InstrumentBook& b, const Event& end) noexcept;
  void buffer_event(InstrumentBook& b, const Event& e) noexcept;
  void mark_stale(InstrumentBook& b, BookError why) noexcept;
  void queue_resync(InstrumentBook& b) noexcept;
  void snapshot_unusable(InstrumentBook& b, BookError why) noexcept;
  void mark_synced(InstrumentBook& b) noexcept;
  void settle_crossed(InstrumentBook& b) noexcept;

  const InstrumentRegistry* registry_;
  Options options_;
  std::vector<std::unique_ptr<InstrumentBook>> books_;
  InstrumentBook* current_ = nullptr; // book of the batch in progress
  BookCounters orphans_;               // events that arrived outside a batch
  static constexpr std::size_t kResyncQueue = 1024;
  std::uint32_t resync_queue_[kResyncQueue] = {};
  std::size_t resync_head_ = 0, resync_tail_ = 0;
  std::uint64_t resync_requests_ = 0, resync_dropped_ = 0;
};

} // namespace fh
