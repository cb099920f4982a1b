#pragma once
// The reading side of a segment, for strategy processes: header-only, standard library and
// POSIX only, no threads, no exceptions, no allocation (attach included: paths and messages
// live in fixed buffers inside the Reader).
//
// Why this shape (Aeron's CnC client side, yijinjing's page loader):
//  * attach() checks, never trusts: magic, layout major/minor, header size, file size, every
//    region's bounds, alignment and record size. A refusal names what failed (AttachError)
//    and says it in one line (error_message()): "layout major 2, this reader reads major 1".
//    A writer that is still starting (file too short or magic 0) or a name that does not exist
//    yet is waited for, up to `timeout_ns`.
//  * The mapping is PROT_READ from an O_RDONLY descriptor: a reader cannot write a shared line
//    even by accident (a stray store faults), so it can never slow or corrupt the writer.
//  * Reads are copies: top() and depth() retry inside a seqlock until they copied one
//    consistent version (never torn), and give up with Busy after a time budget if the slot
//    stays locked (a writer killed mid-write). Journal polling is JournalReader (journal.hpp):
//    laps are reported as a count of lost records.
//  * Liveness: writer_status() gives the writer's heartbeat age and state; writer_restarted()
//    notices that the name now refers to a new segment (the old one says Superseded, or the
//    file at the path is another inode) and reattach() maps the new one.
//  * The same reader works on a live /dev/shm segment and on a segment file copied to disk.
//
// Thread safety: the const members may be called from any number of threads at once; attach,
// reattach and detach may not run concurrently with anything else on the same Reader.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm/journal.hpp"
#include "shm/layout.hpp"
#include "shm/segment_file.hpp"
#include "shm/seqlock.hpp"

namespace fh::shm {

enum class AttachError : std::uint8_t {
  Ok = 0,
  BadName,            // empty, or the path does not fit kMaxPath
  NotFound,           // no file of that name (still none when the timeout ran out)
  OpenFailed,         // open/fstat refused (errno in the message: permissions?)
  NotReady,           // a writer is still starting: file shorter than the header, or magic 0
  MapFailed,          // mmap refused
  BadMagic,           // not a feedhandler segment
  MajorMismatch,      // incompatible layout version
  MinorTooOld,        // segment written by an older minor than this reader needs
  HeaderSizeMismatch, // header_size smaller than this reader's header
  SizeMismatch,       // header total_size differs from the file size (truncated copy?)
  BadGeometry,        // depth, capacity or counts out of range or inconsistent
  RecordSizeMismatch, // a region's record size or count differs from this reader's
  RegionOutOfBounds,  // a region lies outside the file, is misaligned or overlaps another
};

inline constexpr const char* to_cstring(AttachError e) noexcept {
  switch (e) {
  case AttachError::Ok: return "ok";
  case AttachError::BadName: return "bad_name";
  case AttachError::NotFound: return "not_found";
  case AttachError::OpenFailed: return "open_failed";
  case AttachError::NotReady: return "not_ready";
  case AttachError::MapFailed: return "map_failed";
  case AttachError::BadMagic: return "bad_magic";
  case AttachError::MajorMismatch: return "major_mismatch";
  case AttachError::MinorTooOld: return "minor_too_old";
  case AttachError::HeaderSizeMismatch: return "header_size_mismatch";
  case AttachError::SizeMismatch: return "size_mismatch";
  case AttachError::BadGeometry: return "bad_geometry";
  case AttachError::RecordSizeMismatch: return "record_size_mismatch";
  case AttachError::RegionOutOfBounds: return "region_out_of_bounds";
  }
  return "?";
}

enum class ReadStatus : std::uint8_t {
  Ok = 0,
  NotAttached,
  BadInstrument, // id >= max_instruments (or error index >= error_count)
  Busy,          // the slot stayed locked for the whole read budget: writer died mid-write?
};

inline constexpr const char* to_cstring(ReadStatus s) noexcept {
  switch (s) {
  case ReadStatus::Ok: return "ok";
  case ReadStatus::NotAttached: return "not_attached";
  case ReadStatus::BadInstrument: return "bad_instrument";
  case ReadStatus::Busy: return "busy";
  }
  return "?";
}

// A consistent copy of a slot's head: status, last sequence id and times, best bid/ask of the
// book, the venue BBO, the last trade and the update counters (layout.hpp, SlotHead).
using Top = SlotHead;

// A consistent copy of the head and the first n levels of each side.
struct Book {
  Top top;
  std::uint32_t n_bids; // levels copied: min(requested, top.n_bids)
  std::uint32_t n_asks;
  Level bids[kMaxDepth]; // best first
  Level asks[kMaxDepth];
};

using ErrorEntry = ErrorSlot;

struct WriterStatus {
  WriterState state;
  std::int32_t pid;
  std::uint64_t generation;
  std::int64_t start_time_ns;
  std::int64_t heartbeat_ns;
  std::int64_t heartbeat_age_ns; // now - heartbeat_ns
};

class Reader {
public:
  // How long top()/depth()/error() keep retrying a locked slot before returning Busy.
  static constexpr std::int64_t kDefaultReadBudgetNs = 50'000'000;

  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  Reader(Reader&& o) noexcept { take(o); }
  Reader& operator=(Reader&& o) noexcept {
    if (this != &o) {
      detach();
      take(o);
    }
    return *this;
  }
  ~Reader() = default;

  // Maps the segment `name_or_path` (segment_file.hpp) read-only and checks it. Waits up to
  // timeout_ns for a name that does not exist yet or a writer that is still starting.
  [[nodiscard]] AttachError attach(std::string_view name_or_path,
                                   std::int64_t timeout_ns = 0) noexcept {
    detach();
    message_[0] = '\0';
    if (!resolve_path(name_or_path, path_)) {
      path_[0] = '\0';
      return fail(AttachError::BadName, "segment name '%.*s' is empty or too long",
                  static_cast<int>(std::min<std::size_t>(name_or_path.size(), 200)),
                  name_or_path.data());
    }
    return attach_path(timeout_ns);
  }

  // Attaches to the same name again (after writer_restarted()).
  [[nodiscard]] AttachError reattach(std::int64_t timeout_ns = 0) noexcept {
    if (path_[0] == '\0')
      return fail(AttachError::BadName, "reattach: reader was not attached by name");
    clear_view();
    map_.reset();
    return attach_path(timeout_ns);
  }

  // Reads a segment already mapped in this process (e.g. Writer::data() of an in-process
  // writer). The memory is not owned; no path, so writer_restarted() only sees Superseded.
  [[nodiscard]] AttachError attach_memory(const void* base, std::size_t size) noexcept {
    detach();
    message_[0] = '\0';
    path_[0] = '\0';
    return adopt(static_cast<const std::byte*>(base), size);
  }

  void detach() noexcept {
    clear_view();
    map_.reset();
  }

  [[nodiscard]] bool attached() const noexcept { return base_ != nullptr; }
  // One line about the last attach failure ("" after success).
  [[nodiscard]] const char* error_message() const noexcept { return message_; }
  [[nodiscard]] const char* path() const noexcept { return path_; }
  [[nodiscard]] const SegmentHeader& header() const noexcept { return *header_; }
  [[nodiscard]] std::uint64_t generation() const noexcept { return header_->generation; }
  [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
  [[nodiscard]] std::uint32_t max_instruments() const noexcept { return max_instruments_; }
  void set_read_budget_ns(std::int64_t ns) noexcept { budget_ns_ = ns; }

  // ---- directory ----
  // Ids below this may have an entry (entries are write-once).
  [[nodiscard]] std::uint32_t instrument_count() const noexcept {
    if (header_ == nullptr)
      return 0;
    const std::uint32_t n =
        std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(header_->directory_count))
            .load(std::memory_order_acquire);
    return std::min(n, max_instruments_);
  }
  // The entry of `id`, or nullptr if none was published.
  [[nodiscard]] const DirectoryEntry* instrument(std::uint32_t id) const noexcept {
    if (id >= max_instruments_)
      return nullptr;
    const DirectoryEntry& e = directory_[id];
    return seqlock::load_acquire(e.state) == kEntryValid ? &e : nullptr;
  }
  // "venue:CANONICAL" or "venue:NATIVE" (e.g. "binance-usdm:BTC-USDT-PERP"), or a bare
  // canonical or native symbol (first match over all venues). nullptr if none.
  [[nodiscard]] const DirectoryEntry* find(std::string_view key) const noexcept {
    std::string_view venue;
    std::string_view symbol = key;
    if (const auto colon = key.find(':'); colon != std::string_view::npos) {
      venue = key.substr(0, colon);
      symbol = key.substr(colon + 1);
    }
    const std::uint32_t n = instrument_count();
    for (std::uint32_t id = 0; id < n; ++id) {
      const DirectoryEntry* e = instrument(id);
      if (e == nullptr || (!venue.empty() && venue != e->venue))
        continue;
      if (symbol == e->canonical || symbol == e->native)
        return e;
    }
    return nullptr;
  }

  // ---- books ----
  [[nodiscard]] ReadStatus top(std::uint32_t id, Top& out) const noexcept {
    if (ReadStatus s = check(id); s != ReadStatus::Ok)
      return s;
    const std::uint64_t* slot = slot_words(id);
    const bool ok = seqlock::read(
        slot[0], [&] { seqlock::load_into(&out, slot, kSlotHeadWords); }, budget_ns_);
    return ok ? ReadStatus::Ok : ReadStatus::Busy;
  }

  // Head plus the best min(n, published) levels of each side, from one version of the slot.
  [[nodiscard]] ReadStatus depth(std::uint32_t id, std::size_t n, Book& out) const noexcept {
    if (ReadStatus s = check(id); s != ReadStatus::Ok)
      return s;
    const std::uint64_t* slot = slot_words(id);
    n = std::min<std::size_t>(n, depth_);
    const bool ok = seqlock::read(
        slot[0],
        [&] {
          seqlock::load_into(&out.top, slot, kSlotHeadWords);
          // Counts from a torn head are bounded here and rejected by the sequence check.
          out.n_bids = static_cast<std::uint32_t>(std::min<std::size_t>(out.top.n_bids, n));
          out.n_asks = static_cast<std::uint32_t>(std::min<std::size_t>(out.top.n_asks, n));
          seqlock::load_into(out.bids, slot + bids_word_, std::size_t{out.n_bids} * kLevelWords);
          seqlock::load_into(out.asks, slot + asks_word_, std::size_t{out.n_asks} * kLevelWords);
        },
        budget_ns_);
    return ok ? ReadStatus::Ok : ReadStatus::Busy;
  }

  // ---- journal ----
  // A cursor over the journal, valid while this Reader stays attached to the same segment
  // (make a new one after reattach()).
  [[nodiscard]] JournalReader journal(JournalStart start = JournalStart::Now) const noexcept {
    if (journal_ == nullptr)
      return JournalReader{};
    return JournalReader(journal_, records_, start);
  }

  // ---- counters ----
  [[nodiscard]] std::uint64_t counter(std::uint32_t venue, VenueCounter c) const noexcept {
    return counter_value(venue, static_cast<std::uint32_t>(c));
  }
  [[nodiscard]] std::uint64_t counter_value(std::uint32_t venue,
                                            std::uint32_t index) const noexcept {
    if (venues_ == nullptr || venue >= kMaxVenues || index >= kCountersPerVenue)
      return 0;
    return seqlock::load_relaxed(venues_[venue].values[index]);
  }
  // Name the segment gives counter `index` ("" for unused indexes).
  [[nodiscard]] const char* counter_name(std::uint32_t index) const noexcept {
    if (counter_names_ == nullptr || index >= kCountersPerVenue)
      return "";
    return counter_names_->names[index];
  }
  // Name of venue `venue` ("" until the writer names it).
  [[nodiscard]] const char* venue_name(std::uint32_t venue) const noexcept {
    if (venues_ == nullptr || venue >= kMaxVenues ||
        seqlock::load_acquire(venues_[venue].state) != kEntryValid)
      return "";
    return venues_[venue].name;
  }

  // ---- error log ----
  [[nodiscard]] std::uint32_t error_count() const noexcept {
    if (errors_ == nullptr)
      return 0;
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(seqlock::load_acquire(errors_->used), kErrorSlots));
  }
  [[nodiscard]] std::uint64_t errors_dropped() const noexcept {
    return errors_ == nullptr ? 0 : seqlock::load_relaxed(errors_->dropped);
  }
  [[nodiscard]] ReadStatus error(std::uint32_t index, ErrorEntry& out) const noexcept {
    if (errors_ == nullptr)
      return ReadStatus::NotAttached;
    if (index >= error_count())
      return ReadStatus::BadInstrument;
    const auto* words = reinterpret_cast<const std::uint64_t*>(&error_slots_[index]);
    const bool ok = seqlock::read(
        words[0], [&] { seqlock::load_into(&out, words, sizeof(ErrorSlot) / 8); }, budget_ns_);
    out.text[kErrorTextSize - 1] = '\0';
    return ok ? ReadStatus::Ok : ReadStatus::Busy;
  }

  // ---- writer liveness ----
  [[nodiscard]] WriterStatus writer_status(std::int64_t now_ns = 0) const noexcept {
    WriterStatus s{};
    if (header_ == nullptr)
      return s;
    auto& h = const_cast<SegmentHeader&>(*header_);
    s.state = static_cast<WriterState>(
        std::atomic_ref<std::uint32_t>(h.state).load(std::memory_order_acquire));
    s.pid = h.writer_pid;
    s.generation = h.generation;
    s.start_time_ns = h.start_time_ns;
    s.heartbeat_ns = std::atomic_ref<std::int64_t>(h.heartbeat_ns).load(std::memory_order_acquire);
    s.heartbeat_age_ns = (now_ns != 0 ? now_ns : realtime_ns()) - s.heartbeat_ns;
    return s;
  }

  // True when the writer of this segment was replaced: the old segment says Superseded, or
  // the name now refers to another file. Costs a stat(2) when attached by name.
  [[nodiscard]] bool writer_restarted() const noexcept {
    if (header_ == nullptr)
      return false;
    if (writer_status().state == WriterState::Superseded)
      return true;
    if (path_[0] == '\0')
      return false;
    struct stat st {};
    if (::stat(path_, &st) != 0)
      return false; // gone, and no successor yet
    return static_cast<std::uint64_t>(st.st_dev) != dev_ ||
           static_cast<std::uint64_t>(st.st_ino) != ino_;
  }

private:
  // ---- attach ----
  AttachError attach_path(std::int64_t timeout_ns) noexcept {
    const std::int64_t deadline = seqlock::monotonic_ns() + (timeout_ns > 0 ? timeout_ns : 0);
    for (;;) {
      const AttachError e = open_once();
      if (e == AttachError::Ok)
        return e;
      if ((e != AttachError::NotFound && e != AttachError::NotReady) ||
          seqlock::monotonic_ns() >= deadline)
        return e;
      timespec pause{0, 1'000'000};
      ::nanosleep(&pause, nullptr);
    }
  }

  AttachError open_once() noexcept {
    clear_view();
    map_.reset();
    const int fd = ::open(path_, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == ENOENT)
        return fail(AttachError::NotFound, "%s: no such segment", path_);
      return fail(AttachError::OpenFailed, "open %s: %s", path_, std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return fail(AttachError::OpenFailed, "fstat %s: %s", path_, std::strerror(err));
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size < sizeof(SegmentHeader)) {
      ::close(fd);
      return fail(AttachError::NotReady, "%s is %zu bytes, shorter than the %zu-byte header "
                                         "(writer still starting?)",
                  path_, size, sizeof(SegmentHeader));
    }
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (m == MAP_FAILED)
      return fail(AttachError::MapFailed, "mmap %s: %s", path_, std::strerror(err));
    map_ = Mapping(m, size);
    const AttachError e = adopt(map_.data(), size);
    if (e != AttachError::Ok) {
      map_.reset();
      return e;
    }
    dev_ = static_cast<std::uint64_t>(st.st_dev);
    ino_ = static_cast<std::uint64_t>(st.st_ino);
    return e;
  }

  // Checks the segment at `base` and sets up the views.
  AttachError adopt(const std::byte* base, std::size_t size) noexcept {
    const char* where = path_[0] != '\0' ? path_ : "segment in memory";
    if (base == nullptr || size < sizeof(SegmentHeader))
      return fail(AttachError::NotReady, "%s: %zu bytes, shorter than the %zu-byte header", where,
                  size, sizeof(SegmentHeader));
    const auto* h = reinterpret_cast<const SegmentHeader*>(base);
    const std::uint64_t magic = seqlock::load_acquire(h->magic);
    if (magic == 0)
      return fail(AttachError::NotReady, "%s: header not yet published (writer still starting)",
                  where);
    if (magic != kMagic)
      return fail(AttachError::BadMagic, "%s: magic 0x%016llx is not 0x%016llx (not a "
                                         "feedhandler segment)",
                  where, static_cast<unsigned long long>(magic),
                  static_cast<unsigned long long>(kMagic));
    if (h->layout_major != kLayoutMajor)
      return fail(AttachError::MajorMismatch, "%s: layout major %u, this reader reads major %u",
                  where, unsigned{h->layout_major}, unsigned{kLayoutMajor});
    if (h->layout_minor < kLayoutMinor)
      return fail(AttachError::MinorTooOld,
                  "%s: layout %u.%u is older than this reader's %u.%u", where,
                  unsigned{h->layout_major}, unsigned{h->layout_minor}, unsigned{kLayoutMajor},
                  unsigned{kLayoutMinor});
    if (h->header_size < sizeof(SegmentHeader))
      return fail(AttachError::HeaderSizeMismatch, "%s: header_size %u, this reader needs %zu",
                  where, h->header_size, sizeof(SegmentHeader));
    if (h->total_size != size)
      return fail(AttachError::SizeMismatch,
                  "%s: header says %llu bytes, the mapping has %zu (truncated copy?)", where,
                  static_cast<unsigned long long>(h->total_size), size);
    if (h->depth < 1 || h->depth > kMaxDepth || h->max_instruments < 1 ||
        !is_power_of_two(h->journal_capacity) || h->journal_capacity < 2 ||
        h->max_venues != kMaxVenues || h->counters_per_venue != kCountersPerVenue ||
        h->error_slots != kErrorSlots)
      return fail(AttachError::BadGeometry,
                  "%s: geometry depth=%u instruments=%u journal=%u venues=%u counters=%u "
                  "error_slots=%u is outside what this reader supports",
                  where, h->depth, h->max_instruments, h->journal_capacity, h->max_venues,
                  h->counters_per_venue, h->error_slots);
    if (h->slot_head_size != sizeof(SlotHead) || h->level_size != sizeof(Level) ||
        h->slot_bids_offset != slot_bids_offset() || h->slot_asks_offset != slot_asks_offset(h->depth))
      return fail(AttachError::RecordSizeMismatch,
                  "%s: slot head %u / level %u / bids@%u / asks@%u, expected %zu / %zu / %u / %u",
                  where, h->slot_head_size, h->level_size, h->slot_bids_offset,
                  h->slot_asks_offset, sizeof(SlotHead), sizeof(Level), slot_bids_offset(),
                  slot_asks_offset(h->depth));
    struct Expect {
      const char* name;
      const RegionDesc& r;
      std::uint64_t header;
      std::uint32_t record_size;
      std::uint32_t count;
    };
    const Expect regions[] = {
        {"directory", h->directory, 0, sizeof(DirectoryEntry), h->max_instruments},
        {"counters", h->counters, sizeof(CountersHeader), sizeof(VenueCounters), kMaxVenues},
        {"error_log", h->error_log, sizeof(ErrorLogHeader), sizeof(ErrorSlot), kErrorSlots},
        {"slots", h->slots, 0, slot_size_for(h->depth), h->max_instruments},
        {"journal", h->journal, sizeof(JournalHeader), sizeof(JournalRecord),
         h->journal_capacity},
    };
    for (const Expect& x : regions) {
      if (x.r.record_size != x.record_size || x.r.record_count != x.count)
        return fail(AttachError::RecordSizeMismatch,
                    "%s: region %s has %u records of %u bytes, expected %u of %u", where, x.name,
                    x.r.record_count, x.r.record_size, x.count, x.record_size);
      const std::uint64_t need = x.header + std::uint64_t{x.record_size} * x.count;
      if (x.r.offset % kFalseSharingRange != 0 || x.r.offset < h->header_size ||
          x.r.size < need || x.r.offset > size || x.r.size > size - x.r.offset)
        return fail(AttachError::RegionOutOfBounds,
                    "%s: region %s [%llu, +%llu) is misaligned, too small or outside the %zu-byte "
                    "file",
                    where, x.name, static_cast<unsigned long long>(x.r.offset),
                    static_cast<unsigned long long>(x.r.size), size);
    }
    for (const Expect& a : regions)
      for (const Expect& b : regions)
        if (&a != &b && a.r.offset < b.r.offset + b.r.size && b.r.offset < a.r.offset + a.r.size)
          return fail(AttachError::RegionOutOfBounds, "%s: regions %s and %s overlap", where,
                      a.name, b.name);
    const auto* jh = reinterpret_cast<const JournalHeader*>(base + h->journal.offset);
    if (jh->capacity != h->journal_capacity || jh->record_size != sizeof(JournalRecord))
      return fail(AttachError::BadGeometry,
                  "%s: journal header says %llu records of %u bytes, segment header %u of %zu",
                  where, static_cast<unsigned long long>(jh->capacity), jh->record_size,
                  h->journal_capacity, sizeof(JournalRecord));

    base_ = base;
    header_ = h;
    depth_ = h->depth;
    max_instruments_ = h->max_instruments;
    slot_size_ = slot_size_for(h->depth);
    bids_word_ = h->slot_bids_offset / 8;
    asks_word_ = h->slot_asks_offset / 8;
    directory_ = reinterpret_cast<const DirectoryEntry*>(base + h->directory.offset);
    counter_names_ = reinterpret_cast<const CountersHeader*>(base + h->counters.offset);
    venues_ = reinterpret_cast<const VenueCounters*>(base + h->counters.offset +
                                                     sizeof(CountersHeader));
    errors_ = reinterpret_cast<const ErrorLogHeader*>(base + h->error_log.offset);
    error_slots_ = reinterpret_cast<const ErrorSlot*>(base + h->error_log.offset +
                                                      sizeof(ErrorLogHeader));
    slots_ = base + h->slots.offset;
    journal_ = jh;
    records_ = reinterpret_cast<const JournalRecord*>(base + h->journal.offset +
                                                      sizeof(JournalHeader));
    message_[0] = '\0';
    return AttachError::Ok;
  }

  [[gnu::format(printf, 3, 4)]] AttachError fail(AttachError e, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(message_, sizeof message_, fmt, args);
    va_end(args);
    return e;
  }

  [[nodiscard]] ReadStatus check(std::uint32_t id) const noexcept {
    if (base_ == nullptr)
      return ReadStatus::NotAttached;
    return id < max_instruments_ ? ReadStatus::Ok : ReadStatus::BadInstrument;
  }
  [[nodiscard]] const std::uint64_t* slot_words(std::uint32_t id) const noexcept {
    return reinterpret_cast<const std::uint64_t*>(slots_ + std::size_t{id} * slot_size_);
  }

  void clear_view() noexcept {
    base_ = nullptr;
    header_ = nullptr;
    depth_ = max_instruments_ = slot_size_ = bids_word_ = asks_word_ = 0;
    directory_ = nullptr;
    counter_names_ = nullptr;
    venues_ = nullptr;
    errors_ = nullptr;
    error_slots_ = nullptr;
    slots_ = nullptr;
    journal_ = nullptr;
    records_ = nullptr;
    dev_ = ino_ = 0;
  }

  void take(Reader& o) noexcept {
    map_ = std::move(o.map_);
    std::memcpy(path_, o.path_, sizeof path_);
    std::memcpy(message_, o.message_, sizeof message_);
    base_ = o.base_;
    header_ = o.header_;
    depth_ = o.depth_;
    max_instruments_ = o.max_instruments_;
    slot_size_ = o.slot_size_;
    bids_word_ = o.bids_word_;
    asks_word_ = o.asks_word_;
    directory_ = o.directory_;
    counter_names_ = o.counter_names_;
    venues_ = o.venues_;
    errors_ = o.errors_;
    error_slots_ = o.error_slots_;
    slots_ = o.slots_;
    journal_ = o.journal_;
    records_ = o.records_;
    dev_ = o.dev_;
    ino_ = o.ino_;
    budget_ns_ = o.budget_ns_;
    o.clear_view();
  }

  Mapping map_;
  const std::byte* base_ = nullptr;
  const SegmentHeader* header_ = nullptr;
  std::uint32_t depth_ = 0;
  std::uint32_t max_instruments_ = 0;
  std::uint32_t slot_size_ = 0;
  std::uint32_t bids_word_ = 0;
  std::uint32_t asks_word_ = 0;
  const DirectoryEntry* directory_ = nullptr;
  const CountersHeader* counter_names_ = nullptr;
  const VenueCounters* venues_ = nullptr;
  const ErrorLogHeader* errors_ = nullptr;
  const ErrorSlot* error_slots_ = nullptr;
  const std::byte* slots_ = nullptr;
  const JournalHeader* journal_ = nullptr;
  const JournalRecord* records_ = nullptr;
  std::uint64_t dev_ = 0;
  std::uint64_t ino_ = 0;
  std::int64_t budget_ns_ = kDefaultReadBudgetNs;
  char path_[kMaxPath] = {};
  char message_[320] = {};
};

} // namespace fh::shm
