#pragma once
// One IEX multicast feed (DEEP 1.0 or TOPS 1.6) -> normalized events, segment by segment.
//
// Why this shape: the unit of input is one UDP payload (an IEX-TP segment), whatever brought
// it: a pcap record today, a DPDK rx burst or a kernel socket later (IexFrameIngest below
// takes the Ethernet frame). on_segment() is noexcept, allocates nothing once a symbol has
// been seen, and appends events to a pre-sized EventBatch like every venue parser.
//
// Books. A DEEP price level update carries the absolute displayed size at one price (0
// removes it). One order book event (an order that sweeps several levels) is a run of
// updates whose last one has the "event processing complete" flag; the book must only be
// seen before and after the whole run. Runs of different symbols interleave in the stream
// (trades and other symbols' updates arrive in between), so each symbol's open run waits in
// a fixed pool of pending slots and becomes one BookBegin/BookLevel.../BookEnd batch when its
// complete flag arrives: the builder's crossed check then runs on whole events only.
// DEEP has no snapshot. A stream received from its first message (sequence 1, offset 0)
// describes every book from empty: IEX books hold no orders before the start of messages
// (DAY and shorter orders only), so an instrument's first batch in such a stream is preceded
// by an empty snapshot, which is what makes the builder trust it. A stream joined later never
// makes a book trusted: there is nothing to start from.
// Continuity (TpSequencer). A gap (messages lost) may have touched any symbol: every book we
// made trusted is marked Stale at once (a Status event each) and stays so, since only a new
// start of the stream can rebuild it. A restart (the stream starts over at sequence 1) resets
// every book to empty, trusted again from there. Both count as sequence gaps (continuity
// breaks). Duplicates (A/B copies) are dropped, overlaps trimmed.
// Administrative messages (trading status, halts, short sale test, security directory and
// events, system events) update SecurityState; the normalized Event has no halted status
// (event.hpp), so they reach readers as counters only.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "feedhandler/book_error.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/iex/iex_deep.hpp"
#include "feedhandler/iex/iex_tp.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::iex {

struct IexCounters {
  std::uint64_t segments = 0;   // segments whose structure was valid
  std::uint64_t heartbeats = 0; // ... of which message count 0
  std::uint64_t messages = 0;   // messages decoded from non-duplicate segments
  std::array<std::uint64_t, 256> by_type{}; // messages by type byte (unknown types too)
  std::array<std::uint64_t, static_cast<std::size_t>(TpError::kCount)> segment_errors{};
  std::uint64_t wrong_protocol = 0;   // protocol id not this feed's (or not DEEP/TOPS)
  std::uint64_t short_messages = 0;   // shorter than the type's layout
  std::uint64_t bad_symbols = 0;      // symbol bytes not printable ASCII
  std::uint64_t unknown_types = 0;    // type byte the protocol does not define
  // Continuity
  std::uint64_t seq_gaps = 0;         // continuity breaks: gaps + restarts
  std::uint64_t gaps = 0;             // forward jumps (messages lost)
  std::uint64_t restarts = 0;         // back to sequence 1 / offset 0, or a new session id
  std::uint64_t lost_messages = 0;    // sequence numbers skipped by gaps
  std::uint64_t duplicate_segments = 0;
  std::uint64_t overlap_messages = 0; // already-seen messages skipped at the front of overlaps
  // Books
  std::uint64_t book_events = 0;      // complete price level events emitted as batches
  std::uint64_t empty_snapshots = 0;  // books started from empty (stream start / restart)
  std::uint64_t stale_marks = 0;      // Status(Stale) events emitted (gaps, pending overflow)
  std::uint64_t abandoned_events = 0; // open level runs dropped at a gap or restart
  std::uint64_t pending_overflow = 0; // a run longer than a slot, or no free slot
  std::uint64_t trades = 0;
  std::uint64_t trade_breaks = 0;
  std::uint64_t quotes = 0;           // TOPS quote updates (Bbo events)
  std::uint64_t unknown_instruments = 0; // instrument table full
  std::uint64_t batch_overflow = 0;   // segments whose events did not fit the batch
};

// What the administrative messages said about a security.
struct SecurityState {
  std::uint32_t book_generation = 0;    // feed generation whose empty snapshot this book had
  std::uint32_t blocked_generation = 0; // generation in which the book cannot be trusted
  std::uint32_t round_lot = 0;          // security directory
  std::int64_t adjusted_poc_price = 0;  // security directory, 4 decimals
  std::int64_t official_price = 0;      // last official price message
  std::uint8_t directory_flags = 0;
  std::uint8_t luld_tier = 0;
  std::uint8_t trading_status = 0;      // 'H' halted, 'O' order acceptance, 'P' paused, 'T'
  std::uint8_t operational_halt = 0;    // 'O' halted, 'N' not halted
  std::uint8_t short_sale_test = 0;     // 1 = restriction in effect
  std::uint8_t security_event = 0;      // last 'O' opening / 'C' closing process complete
  bool booked = false;                  // listed in the feed's booked instruments
};

class IexFeed {
public:
  static constexpr std::size_t kPendingSlots = 64;   // symbols with an open event at once
  static constexpr std::size_t kPendingLevels = 256; // updates in one open event
  // Events one segment can produce, a stream break aside: every pending level once, plus per
  // message at most BookBegin + level + BookEnd after an empty snapshot (2 events). A UDP
  // payload holds at most (65507 - 40) / 12 messages (the shortest block is 2 + 10 bytes).
  static constexpr std::size_t kMaxMessagesPerSegment = (65507 - kTpHeaderSize) / 12;
  static constexpr std::size_t kMaxEventsPerSegment =
      kPendingSlots * kPendingLevels + 5 * kMaxMessagesPerSegment;
  // A break adds up to 2 events per instrument ever booked.
  static constexpr std::size_t kBatchCapacity =
      kMaxEventsPerSegment + 2 * InstrumentRegistry::kMaxInstruments;

  explicit IexFeed(InstrumentRegistry& registry, Venue venue = Venue::Iex);
  IexFeed(const IexFeed&) = delete;
  IexFeed& operator=(const IexFeed&) = delete;

  // Hot path: one IEX-TP segment (a UDP payload). Events go to `out` (not cleared here).
  // Ok when events were appended, Ignored for heartbeats, admin-only segments and duplicates,
  // Malformed for a segment whose structure is broken (counted, nothing decoded),
  // BatchOverflow when `out` filled up (size it with kBatchCapacity).
  ParseStatus on_segment(const std::uint8_t* data, std::size_t len, std::int64_t recv_ts_ns,
                         EventBatch& out) noexcept;

  const IexCounters& counters() const noexcept { return counters_; }
  // State per registry id; nullptr for an id the feed never saw.
  const SecurityState* security(std::uint32_t instrument) const noexcept;
  std::uint16_t protocol() const noexcept { return protocol_; }
  std::uint8_t last_system_event() const noexcept { return system_event_; }
  // True while the stream has been received from its start with no gap since.
  bool trusted() const noexcept { return trusted_; }

  // The instrument this feed registers for a symbol it has no metadata for: native symbol as
  // sent, canonical SYMBOL-USD, prices at 4 decimals, sizes in shares.
  static Instrument default_instrument(Venue venue, std::string_view native);

private:
  struct PendingLevel {
    std::int64_t price;
    std::uint32_t size;
    std::uint8_t buy;
  };
  struct Pending {
    std::uint32_t instrument;
    std::uint32_t count;
    std::uint64_t first_seq;
    std::array<PendingLevel, kPendingLevels> levels;
  };

  void on_message(const Message& m, std::uint64_t seq, std::int64_t recv_ts_ns,
                  EventBatch& out) noexcept;
  void on_price_level(const Message& m, std::uint32_t id, std::uint64_t seq,
                      std::int64_t recv_ts_ns, EventBatch& out) noexcept;
  std::uint32_t instrument_of(std::uint64_t symbol) noexcept;
  std::uint32_t register_symbol(std::uint64_t symbol) noexcept;
  void emit_empty_snapshot(std::uint32_t id, std::int64_t recv_ts_ns, EventBatch& out) noexcept;
  void emit_stale(std::uint32_t id, BookError why, std::int64_t recv_ts_ns, EventBatch& out) noexcept;
  void on_break(SeqVerdict v, const TpHeader& h, std::int64_t recv_ts_ns, EventBatch& out) noexcept;
  Pending* pending_of(std::uint32_t id) noexcept;
  void close_pending(Pending* p) noexcept;

  InstrumentRegistry* registry_;
  Venue venue_;
  std::uint16_t protocol_ = 0;
  std::uint8_t system_event_ = 0;
  TpSequencer sequencer_;
  bool trusted_ = false;
  std::uint32_t generation_ = 1;
  IexCounters counters_;

  // Symbol word -> registry id, open addressing (no allocation per lookup or insert).
  static constexpr std::size_t kSymbolSlots = 1u << 16;
  struct SymbolSlot {
    std::uint64_t symbol;
    std::uint32_t id;
  };
  std::unique_ptr<SymbolSlot[]> symbols_;
  std::size_t symbol_count_ = 0;

  std::vector<SecurityState> securities_; // by registry id, sized once
  std::vector<std::uint32_t> booked_;     // ids with a book we made trusted (reserved)

  std::unique_ptr<Pending[]> pending_;
  std::array<Pending*, kPendingSlots> open_{};
  std::size_t open_count_ = 0;
  std::array<Pending*, kPendingSlots> free_{};
  std::size_t free_count_ = 0;
};

} // namespace fh::iex
