#pragma once
// The shared-memory segment: one file per feedhandler instance (/dev/shm/<name>, a hugetlbfs
// path, or a copy on disk), written by one process and mapped read-only by any number of
// strategy processes. This header is the layout's single source of truth; tests/shm/
// layout_test.cpp pins every offset, so a layout change is a visible diff and a version bump.
//
// Why this shape (Aeron's CnC file and broadcast buffer, yijinjing's journal pages):
//  * Self-describing. The header names the layout version and the offset, byte size, record
//    size and record count of every region, so a reader (or fh-inspect, or Python) checks the
//    file instead of trusting that it was built with the same constants. Major = incompatible;
//    minor = fields added in reserved space (a reader accepts any minor >= its own).
//  * Written last. The writer fills every region, then stores `magic` with release ordering;
//    a reader that acquires a valid magic sees a complete segment. magic 0 = still starting.
//  * A restart is a new file. A restarted writer marks the old file superseded, unlinks it and
//    creates a new one (new inode, generation + 1), so a reader of the old mapping never sees
//    bytes change under it and can tell it must re-attach.
//  * One writer per line, readers never write. Every region below is written by one writer
//    thread; readers map PROT_READ. Nothing a reader does can slow or block the writer.
//  * Book slots are seqlocked (rigtorp/Seqlock): one slot per instrument, aligned to the
//    128-byte false-sharing range, holding a 256-byte head (status, sequence, times, best
//    levels, venue BBO, last trade, counters) and then N bid and N ask levels, N chosen when
//    the segment is created. Every seqlocked field is an 8-byte word so the writer and the
//    readers touch it only through 8-byte atomics (see seqlock.hpp).
//  * The journal is a single-writer broadcast ring of 64-byte records (one cache line each).
//    Like Aeron's broadcast buffer it has no per-reader state in shared memory: the writer
//    never waits, and a reader that falls a whole ring behind is told how many records it lost.
//  * Directory entries and venue names are write-once (published by a release store of their
//    `state` word); counters are single-writer 8-byte words; the error log is deduplicated on
//    (code, instrument) like Aeron's distinct error log.
//
// Region order: header | directory | venue counters | error log | book slots | journal, each
// region starting on a 4 KiB boundary. Every number is little-endian host order; prices and
// quantities are int64 mantissas at the instrument's price/qty decimals.
//
// Depends on nothing but the standard library: strategy processes include it.
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace fh::shm {

// ---- identity and version --------------------------------------------------------------------

// "FHSHMSEG" read as a little-endian u64 (a hexdump of the file starts with the text).
inline constexpr std::uint64_t kMagic = 0x4745'534D'4853'4846ULL;
inline constexpr std::uint16_t kLayoutMajor = 2; // 2.0: 32 venue ids (was 16)
inline constexpr std::uint16_t kLayoutMinor = 0;

// ---- geometry --------------------------------------------------------------------------------

inline constexpr std::size_t kCacheLine = 64;
// Adjacent-line prefetch pulls lines in 128-byte pairs: separately written things sit at least
// this far apart.
inline constexpr std::size_t kFalseSharingRange = 128;
inline constexpr std::size_t kRegionAlign = 4096;
inline constexpr std::uint32_t kMaxDepth = 64;     // N (levels per side) is 1..kMaxDepth
inline constexpr std::uint32_t kMaxVenues = 32;    // venue ids 0..31 (fh::Venue values)
inline constexpr std::uint32_t kCountersPerVenue = 13;
inline constexpr std::uint32_t kErrorSlots = 64;
inline constexpr std::uint32_t kMaxJournalCapacity = 1u << 30; // records

constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t align) noexcept {
  return (v + align - 1) / align * align;
}
constexpr bool is_power_of_two(std::uint64_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

// ---- enumerations (values are part of the layout) --------------------------------------------

// Same values as fh::BookStatus (feedhandler/event.hpp).
enum class BookStatus : std::uint8_t {
  Empty = 0,           // never had data
  WaitingSnapshot = 1, // buffering updates until a snapshot arrives
  Synced = 2,          // exactly the venue's book
  Stale = 3,           // uncertain (gap, checksum failure): do not trust
  Crossed = 4,         // sequence intact but best bid >= best ask
};

inline constexpr const char* to_cstring(BookStatus s) noexcept {
  switch (s) {
  case BookStatus::Empty: return "empty";
  case BookStatus::WaitingSnapshot: return "waiting_snapshot";
  case BookStatus::Synced: return "synced";
  case BookStatus::Stale: return "stale";
  case BookStatus::Crossed: return "crossed";
  }
  return "?";
}

// Journal record types: same values as fh::EventType (feedhandler/event.hpp).
enum class RecordType : std::uint8_t {
  None = 0,
  BookBegin = 1, // start of one venue book message (payload.begin)
  BookLevel = 2, // absolute size at a price, qty 0 deletes (payload.level, side 0 bid / 1 ask)
  BookEnd = 3,   // end of the message (payload.end: venue checksum)
  Trade = 4,     // one trade print (payload.trade, side = aggressor 0 unknown / 1 buy / 2 sell)
  Bbo = 5,       // venue top of book (payload.bbo)
  Status = 6,    // instrument status change (payload.status)
};

// JournalRecord::flags: same bits as fh::kFlag* (feedhandler/event.hpp).
inline constexpr std::uint8_t kRecordFlagSnapshot = 1u << 0;
inline constexpr std::uint8_t kRecordFlagRest = 1u << 1;
inline constexpr std::uint8_t kRecordFlagHasPrevSeq = 1u << 2;
inline constexpr std::uint8_t kRecordFlagHasSeq = 1u << 3;
inline constexpr std::uint8_t kRecordFlagHasChecksum = 1u << 4;
inline constexpr std::uint8_t kRecordFlagBuyerIsMaker = 1u << 5;

// Aggressor side of a trade (slot trade_side, journal Trade side): same values as fh::Aggressor.
inline constexpr std::uint8_t kAggressorUnknown = 0;
inline constexpr std::uint8_t kAggressorBuy = 1;
inline constexpr std::uint8_t kAggressorSell = 2;

// SegmentHeader::state
enum class WriterState : std::uint32_t {
  Starting = 0,   // never visible together with a valid magic
  Running = 1,    // a writer owns the segment
  Closed = 2,     // the writer shut down cleanly; the data stays readable
  Superseded = 3, // a restarted writer replaced this file: re-attach to the name
};

inline constexpr const char* to_cstring(WriterState s) noexcept {
  switch (s) {
  case WriterState::Starting: return "starting";
  case WriterState::Running: return "running";
  case WriterState::Closed: return "closed";
  case WriterState::Superseded: return "superseded";
  }
  return "?";
}

// Per-venue counters. The names are also written into the segment (CountersHeader) so a tool
// prints them without knowing this enum.
enum class VenueCounter : std::uint32_t {
  Messages = 0,   // venue messages parsed
  Bytes,          // payload bytes received
  ParseErrors,    // messages refused by the parser
  ChecksumOk,     // checksums verified
  ChecksumFail,   // checksum mismatches
  Gaps,           // sequence gaps detected
  Resyncs,        // books resynchronised from a snapshot
  Snapshots,      // snapshots applied
  Reconnects,     // connections re-established
  Crossed,        // books seen crossed
  kCount,
};
static_assert(static_cast<std::uint32_t>(VenueCounter::kCount) <= kCountersPerVenue);

inline constexpr const char* kVenueCounterNames[kCountersPerVenue] = {
    "messages", "bytes",   "parse_errors", "checksum_ok", "checksum_fail", "gaps", "resyncs",
    "snapshots", "reconnects", "crossed", "", "", ""};

// ---- header (offset 0) -----------------------------------------------------------------------

struct RegionDesc {
  std::uint64_t offset;       // from the start of the file; kRegionAlign-aligned
  std::uint64_t size;         // bytes, including the region's own header if any
  std::uint32_t record_size;  // bytes per record
  std::uint32_t record_count; // records in the region
};
static_assert(sizeof(RegionDesc) == 24);

struct SegmentHeader {
  // -- identity, written once before `magic` (bytes 0..127)
  std::uint64_t magic;          // kMagic, stored last with release ordering; 0 while starting
  std::uint16_t layout_major;   // kLayoutMajor
  std::uint16_t layout_minor;   // kLayoutMinor
  std::uint32_t header_size;    // sizeof(SegmentHeader)
  std::uint64_t total_size;     // file size in bytes
  std::uint64_t generation;     // +1 each time a writer replaces the segment of this name
  std::int64_t start_time_ns;   // CLOCK_REALTIME when the writer created the segment
  std::int32_t writer_pid;
  std::uint32_t size_alignment; // the file size is a multiple of this (2 MiB on hugetlbfs)
  std::uint32_t max_instruments;    // directory entries = book slots; instrument ids < this
  std::uint32_t depth;              // N: levels per side in each slot
  std::uint32_t journal_capacity;   // records, a power of two
  std::uint32_t max_venues;         // kMaxVenues
  std::uint32_t counters_per_venue; // kCountersPerVenue
  std::uint32_t error_slots;        // kErrorSlots
  std::uint32_t slot_head_size;     // sizeof(SlotHead)
  std::uint32_t level_size;         // sizeof(Level)
  std::uint32_t slot_bids_offset;   // bids[0] within a slot
  std::uint32_t slot_asks_offset;   // asks[0] within a slot
  std::uint64_t reserved0[5];
  // -- region table (bytes 128..255)
  RegionDesc directory;
  RegionDesc counters;
  RegionDesc error_log;
  RegionDesc slots;
  RegionDesc journal;
  std::uint64_t reserved1[1];
  // -- room for minor additions (bytes 256..383)
  std::uint64_t reserved2[16];
  // -- live fields, written by the writer's control thread (bytes 384..511)
  std::int64_t heartbeat_ns;        // CLOCK_REALTIME of the writer's last heartbeat()
  std::uint32_t state;              // WriterState
  std::uint32_t directory_count;    // ids below this may have a directory entry (release)
  std::uint64_t reserved3[14];
};
static_assert(sizeof(SegmentHeader) == 512);
static_assert(offsetof(SegmentHeader, directory) == 128, "region table starts on its own line");
static_assert(offsetof(SegmentHeader, heartbeat_ns) == 384,
              "live fields share no 128-byte block with the write-once fields");
static_assert(std::is_trivially_copyable_v<SegmentHeader>);

// ---- instrument directory (DirectoryEntry[max_instruments], indexed by instrument id) ---------

inline constexpr std::size_t kVenueNameSize = 16;
inline constexpr std::size_t kSymbolSize = 40; // 39 characters + NUL

struct DirectoryEntry {
  std::uint64_t state;    // 0 empty, 1 valid: stored last with release; entries are write-once
  std::uint32_t id;       // == index
  std::uint8_t venue_id;  // fh::Venue value
  std::uint8_t kind;      // fh::InstrumentKind value (0 spot, 1 perpetual, 2 future, 3 option)
  std::uint8_t price_decimals; // price = mantissa * 10^-price_decimals
  std::uint8_t qty_decimals;
  std::int64_t tick;      // tick size as a mantissa at price_decimals
  std::int64_t lot;       // lot size as a mantissa at qty_decimals
  char venue[kVenueNameSize];  // "binance-usdm", NUL-terminated
  char native[kSymbolSize];    // "BTCUSDT"
  char canonical[kSymbolSize]; // "BTC-USDT-PERP"
};
static_assert(sizeof(DirectoryEntry) == 128);
inline constexpr std::uint64_t kEntryValid = 1;

// ---- venue counters ----------------------------------------------------------------------------

inline constexpr std::size_t kCounterNameSize = 24;

struct CountersHeader {
  char names[kCountersPerVenue][kCounterNameSize]; // VenueCounter names, "" for unused
  std::uint8_t reserved[512 - kCountersPerVenue * kCounterNameSize];
};
static_assert(sizeof(CountersHeader) == 512);

struct VenueCounters {
  std::uint64_t state;                      // 0 unused, 1 named: release, written once
  char name[kVenueNameSize];                // venue name
  std::uint64_t values[kCountersPerVenue];  // single writer each, relaxed 8-byte stores
};
static_assert(sizeof(VenueCounters) == kFalseSharingRange, "one venue per 128-byte block");

// ---- error log ---------------------------------------------------------------------------------

inline constexpr std::size_t kErrorTextSize = 88;

struct ErrorLogHeader {
  std::uint64_t used;    // slots in use (release); a slot below `used` has its key set
  std::uint64_t dropped; // errors not logged because every slot held another key
  std::uint64_t reserved[14];
};
static_assert(sizeof(ErrorLogHeader) == 128);

// Seqlocked: count, times and text change together.
struct ErrorSlot {
  std::uint64_t seq;
  std::uint32_t code;
  std::uint32_t instrument; // 0xffffffff: not about one instrument
  std::uint64_t count;      // occurrences of (code, instrument)
  std::int64_t first_ns;
  std::int64_t last_ns;
  char text[kErrorTextSize]; // most recent text, NUL-terminated
};
static_assert(sizeof(ErrorSlot) == 128);

// ---- book slots ----------------------------------------------------------------------------------

struct Level {
  std::int64_t price;     // mantissa at the instrument's price decimals
  std::int64_t qty;       // mantissa at the instrument's qty decimals
  std::uint32_t orders;   // order count where the venue gives it, else 0
  std::uint32_t reserved; // 0
};
static_assert(sizeof(Level) == 24 && alignof(Level) == 8);

// The first 256 bytes of a slot. Readers get a consistent copy of it as `Top`.
struct SlotHead {
  std::uint64_t seq;           // seqlock sequence: odd while the writer is inside
  std::uint32_t instrument;
  std::uint8_t status;         // BookStatus
  std::uint8_t trade_side;     // aggressor of the last trade (kAggressor*)
  std::uint16_t depth;         // N of the segment
  std::uint16_t n_bids;        // levels valid in bids[] (<= N)
  std::uint16_t n_asks;
  std::uint32_t reserved0;
  std::uint64_t last_seq;      // venue sequence id of the last published book
  std::int64_t exch_ts_ns;     // of the last book publish: venue time (0 if none)
  std::int64_t recv_ts_ns;     //   local receive time
  std::int64_t publish_ts_ns;  //   time the writer published it
  std::uint64_t book_updates;  // publish_book calls
  Level best_bid;              // == bids[0] (qty 0 when the side is empty)
  Level best_ask;              // == asks[0]
  std::int64_t bbo_bid_price;  // venue BBO (bookTicker / tickers), separate from the book
  std::int64_t bbo_bid_qty;
  std::int64_t bbo_ask_price;
  std::int64_t bbo_ask_qty;
  std::uint64_t bbo_update_id; // venue's id for it, 0 if none
  std::int64_t bbo_exch_ts_ns;
  std::int64_t bbo_recv_ts_ns;
  std::uint64_t bbo_updates;
  std::int64_t trade_price;    // last trade
  std::int64_t trade_qty;
  std::uint64_t trade_id;
  std::int64_t trade_exch_ts_ns;
  std::int64_t trade_recv_ts_ns;
  std::uint64_t trades;
  std::uint64_t status_changes;
  std::int64_t status_ts_ns;   // when the status last changed
  std::uint64_t reserved1[2];
};
static_assert(sizeof(SlotHead) == 256);
static_assert(std::is_trivially_copyable_v<SlotHead>);

inline constexpr std::uint32_t kSlotHeadWords = sizeof(SlotHead) / 8;
inline constexpr std::uint32_t kLevelWords = sizeof(Level) / 8;

// Slot = SlotHead, Level bids[N], Level asks[N], padded to the false-sharing range.
constexpr std::uint32_t slot_size_for(std::uint32_t depth) noexcept {
  return static_cast<std::uint32_t>(
      round_up(sizeof(SlotHead) + 2ULL * depth * sizeof(Level), kFalseSharingRange));
}
constexpr std::uint32_t slot_bids_offset() noexcept { return sizeof(SlotHead); }
constexpr std::uint32_t slot_asks_offset(std::uint32_t depth) noexcept {
  return static_cast<std::uint32_t>(sizeof(SlotHead) + depth * sizeof(Level));
}

// ---- journal -------------------------------------------------------------------------------------

// Journal region = JournalHeader, then JournalRecord[capacity]. The record at absolute
// position p lives at index p & (capacity - 1).
struct JournalHeader {
  std::uint64_t capacity;     // records, power of two (== SegmentHeader::journal_capacity)
  std::uint32_t record_size;  // sizeof(JournalRecord)
  std::uint32_t reserved0;
  std::uint64_t reserved1[14];
  // -- written per record by the writer (bytes 128..255)
  std::uint64_t tail;         // records published: positions < tail are readable (release)
  std::uint64_t tail_intent;  // tail + 1 while record `tail` is being written, else tail
  std::uint64_t reserved2[14];
};
static_assert(sizeof(JournalHeader) == 256);
static_assert(offsetof(JournalHeader, tail) == kFalseSharingRange);

struct JournalBookBegin {
  std::uint64_t first_seq;
  std::uint64_t last_seq;
  std::uint64_t prev_seq;
  std::uint32_t levels; // BookLevel records that follow
  std::uint32_t depth;  // depth the venue maintains, 0 = full
};
struct JournalLevel {
  std::int64_t price;
  std::int64_t qty; // 0 deletes
  std::uint32_t orders;
  // Since 1.1: fractional digits of the venue's price / size text ("0.10" -> 2), so a reader
  // can rebuild the venue's checksum text (OKX, Kraken) from the mantissas. 0 in 1.0.
  std::uint8_t price_text_dp;
  std::uint8_t qty_text_dp;
  std::uint16_t reserved0;
  std::uint64_t reserved1;
};
struct JournalBookEnd {
  std::int64_t checksum; // venue checksum as sent
  std::uint64_t reserved[3];
};
struct JournalTrade {
  std::int64_t price;
  std::int64_t qty;
  std::uint64_t trade_id;
  std::uint64_t reserved;
};
struct JournalBbo {
  std::int64_t bid_price;
  std::int64_t bid_qty;
  std::int64_t ask_price;
  std::int64_t ask_qty;
};
struct JournalStatus {
  std::uint8_t status; // BookStatus
  std::uint8_t reason; // writer's reason code (fh::BookError)
  std::uint8_t reserved0[6];
  std::uint64_t last_seq;
  std::uint64_t reserved1[2];
};

struct alignas(kCacheLine) JournalRecord {
  std::uint8_t type;  // RecordType
  std::uint8_t flags; // kRecordFlag*
  std::uint8_t side;  // BookLevel: 0 bid / 1 ask; Trade: aggressor
  std::uint8_t venue; // fh::Venue value
  std::uint32_t instrument;
  std::int64_t exch_ts_ns;    // venue time, 0 if none
  std::int64_t recv_ts_ns;    // local receive time of the frame
  std::int64_t publish_ts_ns; // time the writer appended it
  union {
    JournalBookBegin begin;
    JournalLevel level;
    JournalBookEnd end;
    JournalTrade trade;
    JournalBbo bbo;
    JournalStatus status;
  } payload;
};
static_assert(sizeof(JournalRecord) == kCacheLine, "one record per cache line");
static_assert(offsetof(JournalRecord, payload) == 32);
static_assert(std::is_trivially_copyable_v<JournalRecord>);
inline constexpr std::uint32_t kRecordWords = sizeof(JournalRecord) / 8;

// ---- region plan ---------------------------------------------------------------------------------

struct LayoutPlan {
  RegionDesc directory;
  RegionDesc counters;
  RegionDesc error_log;
  RegionDesc slots;
  RegionDesc journal;
  std::uint64_t total_size;
};

// Where the writer puts each region for a geometry. Readers do not recompute this: they check
// the region table in the header (bounds, record sizes, no overlap), so a later minor version
// may place regions differently.
constexpr LayoutPlan plan_layout(std::uint32_t max_instruments, std::uint32_t depth,
                                 std::uint32_t journal_capacity,
                                 std::uint64_t size_alignment = kRegionAlign) noexcept {
  LayoutPlan p{};
  std::uint64_t at = round_up(sizeof(SegmentHeader), kRegionAlign);
  const auto region = [&at](std::uint64_t header, std::uint32_t record_size,
                            std::uint32_t count) {
    RegionDesc r{at, header + std::uint64_t{record_size} * count, record_size, count};
    at = round_up(at + r.size, kRegionAlign);
    return r;
  };
  p.directory = region(0, sizeof(DirectoryEntry), max_instruments);
  p.counters = region(sizeof(CountersHeader), sizeof(VenueCounters), kMaxVenues);
  p.error_log = region(sizeof(ErrorLogHeader), sizeof(ErrorSlot), kErrorSlots);
  p.slots = region(0, slot_size_for(depth), max_instruments);
  p.journal = region(sizeof(JournalHeader), sizeof(JournalRecord), journal_capacity);
  p.total_size = round_up(at, size_alignment);
  return p;
}

} // namespace fh::shm
