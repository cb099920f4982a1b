#pragma once
// The writing side of a segment (layout.hpp): creates the file, fills the instrument directory
// and publishes books, venue BBOs, trades, statuses, journal records, counters, errors and a
// heartbeat.
//
// Why this shape:
//  * Plain data in. The API takes integers and shm::Level, never feedhandler types, so shm/
//    keeps depending on nothing but the standard library and POSIX; the feed handler adapts.
//  * Publish path (publish_*, append_journal, counters, heartbeat): noexcept, no allocation,
//    no locks, no system calls. Timestamps are passed in by the caller; a 0 publish time is
//    stamped from CLOCK_REALTIME, which is a vDSO call, not a system call. The file is
//    prefaulted (MAP_POPULATE) and its blocks allocated up front, so the first publish to a
//    page takes no page fault and a full /dev/shm fails create(), not a later store (SIGBUS).
//  * Control path (create, add_instrument, log_error): returns a status or an error with a
//    one-line message; create() allocates, the rest does not.
//  * Threads: a Writer is not synchronised. Each region has one writing thread: the book
//    slots and the journal belong to the publishing thread; the directory, the error log and
//    the heartbeat to the control thread; a venue's counters to one thread. Calls that touch
//    different regions may come from different threads.
//  * Restart: create() with IfExists::Replace marks a previous segment of the same name
//    Superseded (readers of the old mapping see it), unlinks it and creates a new file whose
//    generation is the old one + 1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "shm/journal.hpp"
#include "shm/layout.hpp"
#include "shm/segment_file.hpp"

namespace fh::shm {

enum class IfExists : std::uint8_t {
  Fail,    // O_CREAT | O_EXCL: refuse if a segment of that name exists
  Replace, // supersede and unlink the old file, create a new one (generation + 1)
};

// Only for tests: write a segment as a writer of another layout version would, or stop before
// the header is published (a writer that is still starting).
struct WriterTestHooks {
  std::uint16_t layout_major = kLayoutMajor;
  std::uint16_t layout_minor = kLayoutMinor;
  bool defer_ready = false; // leave magic 0 until publish_ready()
};

struct WriterOptions {
  std::string name;                          // segment name or path (segment_file.hpp)
  std::uint32_t max_instruments = 1024;      // instrument ids 0..max-1
  std::uint32_t depth = 10;                  // N levels per side, 1..kMaxDepth
  std::uint32_t journal_capacity = 1u << 16; // records, power of two
  std::uint32_t mode = 0640;                 // file mode, applied with fchmod (umask-proof)
  IfExists if_exists = IfExists::Fail;
  std::uint64_t size_alignment = kRegionAlign; // power of two >= 4096; 2 MiB on hugetlbfs
  bool remove_on_close = false;              // unlink the file when the writer closes
  bool prefault = true;                      // MAP_POPULATE
  WriterTestHooks test_hooks{};
};

enum class CreateErrc : std::uint8_t {
  BadOptions,    // geometry out of range (message says which)
  BadName,       // empty or too long
  AlreadyExists, // IfExists::Fail and the file exists
  ReplaceFailed, // could not unlink the old segment
  OpenFailed,
  ChmodFailed,
  ResizeFailed,  // ftruncate / fallocate (no room in /dev/shm?)
  MapFailed,
};

struct CreateError {
  CreateErrc code;
  int sys_errno; // errno of the failed call, 0 if none
  std::string message;
};

const char* to_cstring(CreateErrc e) noexcept;

enum class WriteStatus : std::uint8_t {
  Ok = 0,
  BadInstrument,  // id >= max_instruments
  BadVenue,       // venue id >= kMaxVenues
  AlreadyPresent, // write-once entry already holds something else
  NameTooLong,    // a name does not fit its field
  Full,           // error log: every slot holds another (code, instrument); counted as dropped
};

const char* to_cstring(WriteStatus s) noexcept;

// One directory entry (write-once). Names are copied; they must fit (see layout.hpp sizes).
struct InstrumentInfo {
  std::uint32_t id;
  std::uint8_t venue_id;
  std::uint8_t kind;
  std::uint8_t price_decimals;
  std::uint8_t qty_decimals;
  std::int64_t tick;
  std::int64_t lot;
  std::string_view venue;
  std::string_view native;
  std::string_view canonical;
};

class Writer {
public:
  [[nodiscard]] static std::variant<Writer, CreateError> create(const WriterOptions& options);

  Writer(Writer&& other) noexcept;
  Writer& operator=(Writer&& other) noexcept;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  // ---- control path ----
  [[nodiscard]] WriteStatus add_instrument(const InstrumentInfo& info) noexcept;
  // Names a venue's counter block (add_instrument does it on first sight of the venue).
  [[nodiscard]] WriteStatus set_venue_name(std::uint8_t venue, std::string_view name) noexcept;
  // Deduplicated on (code, instrument): the same key increments count and updates the last
  // time and text. Pass kNoInstrument for errors about no single instrument.
  WriteStatus log_error(std::uint32_t code, std::uint32_t instrument, std::string_view text,
                        std::int64_t now_ns = 0) noexcept;
  static constexpr std::uint32_t kNoInstrument = 0xffffffffu;
  // Writer liveness for readers: call every few ms from the control thread.
  void heartbeat(std::int64_t now_ns = 0) noexcept;
  // Marks the segment Closed (readers keep reading the last state) and unmaps it. Also done
  // by the destructor.
  void close() noexcept;
  // Test hook: publish the header of a segment created with defer_ready.
  void publish_ready() noexcept;

  // ---- publish path (noexcept, no allocation, no system calls, no locks) ----
  // Top N of each side, best first (bids descending, asks ascending); more than N are cut.
  // status: BookStatus value. publish_ts_ns 0 = now.
  [[nodiscard]] WriteStatus publish_book(std::uint32_t instrument, std::uint8_t status,
                                         const Level* bids, std::size_t nb, const Level* asks,
                                         std::size_t na, std::uint64_t seq, std::int64_t exch_ts,
                                         std::int64_t recv_ts,
                                         std::int64_t publish_ts = 0) noexcept;
  [[nodiscard]] WriteStatus publish_status(std::uint32_t instrument, std::uint8_t status,
                                           std::int64_t ts_ns = 0) noexcept;
  // side: kAggressor*.
  [[nodiscard]] WriteStatus publish_trade(std::uint32_t instrument, std::int64_t price,
                                          std::int64_t qty, std::uint8_t side,
                                          std::uint64_t trade_id, std::int64_t exch_ts,
                                          std::int64_t recv_ts) noexcept;
  // The venue's own BBO (bookTicker, tickers): stored next to the book, not into it.
  [[nodiscard]] WriteStatus publish_bbo(std::uint32_t instrument, std::int64_t bid_price,
                                        std::int64_t bid_qty, std::int64_t ask_price,
                                        std::int64_t ask_qty, std::uint64_t update_id,
                                        std::int64_t exch_ts, std::int64_t recv_ts) noexcept;
  // Appends one record (publish_ts_ns 0 = now) and returns its position (kNoPosition once
  // the writer is closed).
  std::uint64_t append_journal(const JournalRecord& record) noexcept;
  static constexpr std::uint64_t kNoPosition = ~std::uint64_t{0};
  // Single writer per venue block: plain load + store, no atomic read-modify-write.
  void add_counter(std::uint8_t venue, VenueCounter c, std::uint64_t delta) noexcept;
  void set_counter(std::uint8_t venue, VenueCounter c, std::uint64_t value) noexcept;

  // ---- introspection ----
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }
  [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
  [[nodiscard]] std::uint32_t max_instruments() const noexcept { return max_instruments_; }
  [[nodiscard]] std::uint64_t journal_tail() const noexcept { return journal_.tail(); }
  // The writer's own mapping, for an in-process reader (Reader::attach_memory).
  [[nodiscard]] const void* data() const noexcept { return map_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

private:
  Writer() = default;
  [[nodiscard]] SegmentHeader* header() const noexcept {
    return reinterpret_cast<SegmentHeader*>(map_.data());
  }
  [[nodiscard]] std::uint64_t* slot(std::uint32_t id) const noexcept {
    return reinterpret_cast<std::uint64_t*>(slots_ + std::size_t{id} * slot_size_);
  }
  void move_from(Writer& other) noexcept;

  Mapping map_;
  std::string path_;
  std::uint64_t dev_ = 0, ino_ = 0; // of the file we created (remove_on_close checks it)
  std::uint64_t generation_ = 0;
  std::byte* slots_ = nullptr;
  std::uint32_t slot_size_ = 0;
  std::uint32_t depth_ = 0;
  std::uint32_t max_instruments_ = 0;
  std::uint32_t bids_word_ = 0; // word offsets of bids[0] / asks[0] in a slot
  std::uint32_t asks_word_ = 0;
  DirectoryEntry* directory_ = nullptr;
  VenueCounters* venues_ = nullptr;
  ErrorLogHeader* errors_ = nullptr;
  ErrorSlot* error_slots_ = nullptr;
  JournalAppender journal_;
  bool remove_on_close_ = false;
};

} // namespace fh::shm
