// Writer: segment creation (control path) and the seqlocked publish path. See writer.hpp.
#include "shm/writer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm/seqlock.hpp"

namespace fh::shm {
namespace {

// Word index of a SlotHead field.
#define FH_SLOT_WORD(field) (offsetof(SlotHead, field) / 8)

constexpr std::size_t kWordMeta = FH_SLOT_WORD(status); // instrument, status, trade_side, depth
constexpr std::size_t kWordCounts = FH_SLOT_WORD(n_bids);
static_assert(FH_SLOT_WORD(instrument) == kWordMeta && FH_SLOT_WORD(depth) == kWordMeta &&
              FH_SLOT_WORD(trade_side) == kWordMeta && FH_SLOT_WORD(n_asks) == kWordCounts);
// The counts word of a slot as its own struct, so publish_book builds it in a register.
struct CountsWord {
  std::uint16_t n_bids;
  std::uint16_t n_asks;
  std::uint32_t reserved0;
};
static_assert(sizeof(CountsWord) == 8 &&
              offsetof(SlotHead, n_asks) - offsetof(SlotHead, n_bids) ==
                  offsetof(CountsWord, n_asks) &&
              offsetof(SlotHead, n_bids) % 8 == 0);
constexpr std::size_t kStatusByte = offsetof(SlotHead, status) % 8;
constexpr std::size_t kTradeSideByte = offsetof(SlotHead, trade_side) % 8;

std::string errno_text(const char* what, const char* path, int err) {
  char buf[kMaxPath + 128];
  std::snprintf(buf, sizeof buf, "%s %s: %s", what, path, std::strerror(err));
  return buf;
}

CreateError fail(CreateErrc code, int err, std::string message) {
  return CreateError{code, err, std::move(message)};
}

// Byte `index` of a word, endian-independent (the layout is defined by struct offsets).
std::uint8_t byte_of(std::uint64_t word, std::size_t index) noexcept {
  std::uint8_t b;
  std::memcpy(&b, reinterpret_cast<const unsigned char*>(&word) + index, 1);
  return b;
}
std::uint64_t with_byte(std::uint64_t word, std::size_t index, std::uint8_t b) noexcept {
  std::memcpy(reinterpret_cast<unsigned char*>(&word) + index, &b, 1);
  return word;
}

// Three words straight from the caller's Level (no staging copy: a 16-byte stack store read
// back as 8-byte words costs a store-forwarding stall per level).
inline void store_level(std::uint64_t* dst, const Level& l) noexcept {
  static_assert(offsetof(Level, orders) == 16 && offsetof(Level, reserved) == 20);
  seqlock::store_release(dst[0], static_cast<std::uint64_t>(l.price));
  seqlock::store_release(dst[1], static_cast<std::uint64_t>(l.qty));
  std::uint64_t w = 0; // orders, then reserved = 0
  std::memcpy(&w, &l.orders, sizeof l.orders);
  seqlock::store_release(dst[2], w);
}

void increment(std::uint64_t& w) noexcept {
  seqlock::store_release(w, seqlock::load_relaxed(w) + 1);
}

template <std::size_t N> bool copy_name(char (&dst)[N], std::string_view src) noexcept {
  if (src.size() >= N)
    return false;
  std::memcpy(dst, src.data(), src.size());
  std::memset(dst + src.size(), 0, N - src.size());
  return true;
}

std::string check_options(const WriterOptions& o) {
  char buf[160];
  if (o.depth < 1 || o.depth > kMaxDepth) {
    std::snprintf(buf, sizeof buf, "depth %u out of range 1..%u", o.depth, kMaxDepth);
    return buf;
  }
  if (o.max_instruments < 1 || o.max_instruments > (1u << 24)) {
    std::snprintf(buf, sizeof buf, "max_instruments %u out of range 1..%u", o.max_instruments,
                  1u << 24);
    return buf;
  }
  if (!is_power_of_two(o.journal_capacity) || o.journal_capacity < 2 ||
      o.journal_capacity > kMaxJournalCapacity) {
    std::snprintf(buf, sizeof buf, "journal_capacity %u is not a power of two in 2..%u",
                  o.journal_capacity, kMaxJournalCapacity);
    return buf;
  }
  if (!is_power_of_two(o.size_alignment) || o.size_alignment < kRegionAlign) {
    std::snprintf(buf, sizeof buf, "size_alignment %llu is not a power of two >= %zu",
                  static_cast<unsigned long long>(o.size_alignment), kRegionAlign);
    return buf;
  }
  if ((o.mode & ~0777u) != 0) {
    std::snprintf(buf, sizeof buf, "mode %o has bits outside 0777", o.mode);
    return buf;
  }
  return {};
}

// Replaces the segment at `path`: unlinks it, then marks it Superseded so readers of the old
// mapping learn they must re-attach. In that order a reader that sees Superseded and opens the
// name again finds no file or the successor, never the old file. Returns the old generation
// (0 if there was no segment of ours); false if the name could not be unlinked.
bool retire_old(const char* path, std::uint64_t& generation) noexcept {
  generation = 0;
  const int fd = ::open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (::unlink(path) != 0 && errno != ENOENT) {
    const int err = errno;
    if (fd >= 0)
      ::close(fd);
    errno = err;
    return false;
  }
  if (fd < 0)
    return true;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(SegmentHeader))) {
    void* m = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
      auto* h = static_cast<SegmentHeader*>(m);
      if (std::atomic_ref<std::uint64_t>(h->magic).load(std::memory_order_acquire) == kMagic &&
          h->layout_major == kLayoutMajor) {
        generation = h->generation;
        std::atomic_ref<std::uint32_t>(h->state)
            .store(static_cast<std::uint32_t>(WriterState::Superseded),
                   std::memory_order_release);
      }
      ::munmap(m, static_cast<std::size_t>(st.st_size));
    }
  }
  ::close(fd);
  return true;
}

} // namespace

const char* to_cstring(CreateErrc e) noexcept {
  switch (e) {
  case CreateErrc::BadOptions: return "bad_options";
  case CreateErrc::BadName: return "bad_name";
  case CreateErrc::AlreadyExists: return "already_exists";
  case CreateErrc::ReplaceFailed: return "replace_failed";
  case CreateErrc::OpenFailed: return "open_failed";
  case CreateErrc::ChmodFailed: return "chmod_failed";
  case CreateErrc::ResizeFailed: return "resize_failed";
  case CreateErrc::MapFailed: return "map_failed";
  }
  return "?";
}

const char* to_cstring(WriteStatus s) noexcept {
  switch (s) {
  case WriteStatus::Ok: return "ok";
  case WriteStatus::BadInstrument: return "bad_instrument";
  case WriteStatus::BadVenue: return "bad_venue";
  case WriteStatus::AlreadyPresent: return "already_present";
  case WriteStatus::NameTooLong: return "name_too_long";
  case WriteStatus::Full: return "full";
  }
  return "?";
}

std::variant<Writer, CreateError> Writer::create(const WriterOptions& o) {
  if (std::string why = check_options(o); !why.empty())
    return fail(CreateErrc::BadOptions, 0, "shm writer options: " + why);
  char path[kMaxPath];
  if (!resolve_path(o.name, path))
    return fail(CreateErrc::BadName, 0, "shm segment name '" + o.name + "' is empty or too long");

  std::uint64_t old_generation = 0;
  if (o.if_exists == IfExists::Replace && !retire_old(path, old_generation))
    return fail(CreateErrc::ReplaceFailed, errno, errno_text("unlink old segment", path, errno));

  const int fd = ::open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        static_cast<mode_t>(o.mode));
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST)
      return fail(CreateErrc::AlreadyExists, err,
                  std::string("shm segment ") + path +
                      " already exists (another writer, or a stale file: use IfExists::Replace)");
    return fail(CreateErrc::OpenFailed, err, errno_text("create", path, err));
  }
  const auto abandon = [&](CreateErrc code, const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(path);
    return fail(code, err, errno_text(what, path, err));
  };
  // open() applied the umask; fchmod sets exactly the requested mode.
  if (::fchmod(fd, static_cast<mode_t>(o.mode)) != 0)
    return abandon(CreateErrc::ChmodFailed, "fchmod");

  const LayoutPlan plan =
      plan_layout(o.max_instruments, o.depth, o.journal_capacity, o.size_alignment);
  if (::ftruncate(fd, static_cast<off_t>(plan.total_size)) != 0)
    return abandon(CreateErrc::ResizeFailed, "ftruncate");
  // Reserve the blocks now: on a full tmpfs this fails here instead of raising SIGBUS at a
  // later store. Filesystems without fallocate (EOPNOTSUPP) keep the sparse file.
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(plan.total_size));
      err != 0 && err != EOPNOTSUPP && err != EINVAL) {
    errno = err;
    return abandon(CreateErrc::ResizeFailed, "fallocate");
  }
  void* base = ::mmap(nullptr, plan.total_size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | (o.prefault ? MAP_POPULATE : 0), fd, 0);
  if (base == MAP_FAILED)
    return abandon(CreateErrc::MapFailed, "mmap");
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);

  Writer w;
  w.map_ = Mapping(base, plan.total_size);
  w.path_ = path;
  w.dev_ = static_cast<std::uint64_t>(st.st_dev);
  w.ino_ = static_cast<std::uint64_t>(st.st_ino);
  w.generation_ = old_generation + 1;
  w.depth_ = o.depth;
  w.max_instruments_ = o.max_instruments;
  w.slot_size_ = slot_size_for(o.depth);
  w.bids_word_ = slot_bids_offset() / 8;
  w.asks_word_ = slot_asks_offset(o.depth) / 8;
  w.remove_on_close_ = o.remove_on_close;

  std::byte* const b = w.map_.data();
  w.directory_ = reinterpret_cast<DirectoryEntry*>(b + plan.directory.offset);
  w.venues_ = reinterpret_cast<VenueCounters*>(b + plan.counters.offset + sizeof(CountersHeader));
  w.errors_ = reinterpret_cast<ErrorLogHeader*>(b + plan.error_log.offset);
  w.error_slots_ = reinterpret_cast<ErrorSlot*>(b + plan.error_log.offset + sizeof(ErrorLogHeader));
  w.slots_ = b + plan.slots.offset;

  // Everything below is invisible to readers until magic is stored (the file is all zeros).
  auto* counters = reinterpret_cast<CountersHeader*>(b + plan.counters.offset);
  for (std::uint32_t i = 0; i < kCountersPerVenue; ++i)
    (void)copy_name(counters->names[i], kVenueCounterNames[i]);

  for (std::uint32_t id = 0; id < o.max_instruments; ++id) {
    SlotHead meta{};
    meta.instrument = id;
    meta.depth = static_cast<std::uint16_t>(o.depth);
    std::uint64_t word;
    std::memcpy(&word, reinterpret_cast<const unsigned char*>(&meta) + kWordMeta * 8, 8);
    seqlock::store_relaxed(w.slot(id)[kWordMeta], word);
  }

  auto* jh = reinterpret_cast<JournalHeader*>(b + plan.journal.offset);
  jh->capacity = o.journal_capacity;
  jh->record_size = sizeof(JournalRecord);
  w.journal_ = JournalAppender(jh, reinterpret_cast<JournalRecord*>(b + plan.journal.offset +
                                                                    sizeof(JournalHeader)));

  SegmentHeader* h = w.header();
  h->layout_major = o.test_hooks.layout_major;
  h->layout_minor = o.test_hooks.layout_minor;
  h->header_size = sizeof(SegmentHeader);
  h->total_size = plan.total_size;
  h->generation = w.generation_;
  h->start_time_ns = realtime_ns();
  h->writer_pid = static_cast<std::int32_t>(::getpid());
  h->size_alignment = static_cast<std::uint32_t>(o.size_alignment);
  h->max_instruments = o.max_instruments;
  h->depth = o.depth;
  h->journal_capacity = o.journal_capacity;
  h->max_venues = kMaxVenues;
  h->counters_per_venue = kCountersPerVenue;
  h->error_slots = kErrorSlots;
  h->slot_head_size = sizeof(SlotHead);
  h->level_size = sizeof(Level);
  h->slot_bids_offset = slot_bids_offset();
  h->slot_asks_offset = slot_asks_offset(o.depth);
  h->directory = plan.directory;
  h->counters = plan.counters;
  h->error_log = plan.error_log;
  h->slots = plan.slots;
  h->journal = plan.journal;
  h->heartbeat_ns = h->start_time_ns;
  h->state = static_cast<std::uint32_t>(WriterState::Running);
  h->directory_count = 0;
  if (!o.test_hooks.defer_ready)
    w.publish_ready();
  return w;
}

void Writer::publish_ready() noexcept {
  if (!map_.empty())
    std::atomic_ref<std::uint64_t>(header()->magic).store(kMagic, std::memory_order_release);
}

Writer::Writer(Writer&& other) noexcept { move_from(other); }

Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    close();
    move_from(other);
  }
  return *this;
}

void Writer::move_from(Writer& o) noexcept {
  map_ = std::move(o.map_);
  path_ = std::move(o.path_);
  dev_ = o.dev_;
  ino_ = o.ino_;
  generation_ = o.generation_;
  slots_ = std::exchange(o.slots_, nullptr);
  slot_size_ = o.slot_size_;
  depth_ = o.depth_;
  max_instruments_ = std::exchange(o.max_instruments_, 0);
  bids_word_ = o.bids_word_;
  asks_word_ = o.asks_word_;
  directory_ = std::exchange(o.directory_, nullptr);
  venues_ = std::exchange(o.venues_, nullptr);
  errors_ = std::exchange(o.errors_, nullptr);
  error_slots_ = std::exchange(o.error_slots_, nullptr);
  journal_ = std::exchange(o.journal_, JournalAppender{});
  remove_on_close_ = std::exchange(o.remove_on_close_, false);
}

Writer::~Writer() { close(); }

void Writer::close() noexcept {
  if (map_.empty())
    return;
  std::atomic_ref<std::uint32_t>(header()->state)
      .store(static_cast<std::uint32_t>(WriterState::Closed), std::memory_order_release);
  map_.reset();
  // Unlink only our own file: a restarted writer may already own the name.
  struct stat st {};
  if (remove_on_close_ && ::stat(path_.c_str(), &st) == 0 &&
      static_cast<std::uint64_t>(st.st_dev) == dev_ &&
      static_cast<std::uint64_t>(st.st_ino) == ino_)
    ::unlink(path_.c_str());
  max_instruments_ = 0;
  slots_ = nullptr;
  directory_ = nullptr;
  venues_ = nullptr;
  errors_ = nullptr;
  error_slots_ = nullptr;
  journal_ = JournalAppender{};
}

// ---- control path --------------------------------------------------------------------------

WriteStatus Writer::set_venue_name(std::uint8_t venue, std::string_view name) noexcept {
  if (venue >= kMaxVenues || venues_ == nullptr)
    return WriteStatus::BadVenue;
  VenueCounters& v = venues_[venue];
  if (v.state == kEntryValid)
    return std::string_view(v.name) == name ? WriteStatus::Ok : WriteStatus::AlreadyPresent;
  if (!copy_name(v.name, name))
    return WriteStatus::NameTooLong;
  seqlock::store_release(v.state, kEntryValid);
  return WriteStatus::Ok;
}

WriteStatus Writer::add_instrument(const InstrumentInfo& info) noexcept {
  if (info.id >= max_instruments_)
    return WriteStatus::BadInstrument;
  if (info.venue_id >= kMaxVenues)
    return WriteStatus::BadVenue;
  DirectoryEntry& e = directory_[info.id];
  if (e.state == kEntryValid) {
    const bool same = e.venue_id == info.venue_id && std::string_view(e.native) == info.native &&
                      std::string_view(e.canonical) == info.canonical &&
                      e.price_decimals == info.price_decimals &&
                      e.qty_decimals == info.qty_decimals && e.tick == info.tick &&
                      e.lot == info.lot && e.kind == info.kind;
    return same ? WriteStatus::Ok : WriteStatus::AlreadyPresent;
  }
  if (info.venue.size() >= kVenueNameSize || info.native.size() >= kSymbolSize ||
      info.canonical.size() >= kSymbolSize)
    return WriteStatus::NameTooLong;
  const WriteStatus venue_status = set_venue_name(info.venue_id, info.venue);
  if (venue_status != WriteStatus::Ok)
    return venue_status;
  e.id = info.id;
  e.venue_id = info.venue_id;
  e.kind = info.kind;
  e.price_decimals = info.price_decimals;
  e.qty_decimals = info.qty_decimals;
  e.tick = info.tick;
  e.lot = info.lot;
  (void)copy_name(e.venue, info.venue);
  (void)copy_name(e.native, info.native);
  (void)copy_name(e.canonical, info.canonical);
  seqlock::store_release(e.state, kEntryValid);
  std::atomic_ref<std::uint32_t> count(header()->directory_count);
  if (count.load(std::memory_order_relaxed) <= info.id)
    count.store(info.id + 1, std::memory_order_release);
  return WriteStatus::Ok;
}

WriteStatus Writer::log_error(std::uint32_t code, std::uint32_t instrument, std::string_view text,
                              std::int64_t now_ns) noexcept {
  if (errors_ == nullptr)
    return WriteStatus::Full;
  if (now_ns == 0)
    now_ns = realtime_ns();
  // The key word (code, instrument) as the slot stores it.
  ErrorSlot next{};
  next.code = code;
  next.instrument = instrument;
  constexpr std::size_t kKeyWord = offsetof(ErrorSlot, code) / 8;
  static_assert(offsetof(ErrorSlot, instrument) / 8 == kKeyWord);
  std::uint64_t key;
  std::memcpy(&key, reinterpret_cast<const unsigned char*>(&next) + kKeyWord * 8, 8);
  const std::uint64_t used = seqlock::load_relaxed(errors_->used);
  std::uint64_t i = 0;
  while (i < used &&
         seqlock::load_relaxed(reinterpret_cast<std::uint64_t*>(&error_slots_[i])[kKeyWord]) != key)
    ++i;
  if (i == kErrorSlots) {
    increment(errors_->dropped);
    return WriteStatus::Full;
  }
  auto* words = reinterpret_cast<std::uint64_t*>(&error_slots_[i]);
  if (i < used) {
    next.count = seqlock::load_relaxed(words[offsetof(ErrorSlot, count) / 8]) + 1;
    next.first_ns = static_cast<std::int64_t>(
        seqlock::load_relaxed(words[offsetof(ErrorSlot, first_ns) / 8]));
  } else {
    next.count = 1;
    next.first_ns = now_ns;
  }
  next.last_ns = now_ns;
  const std::size_t n = std::min(text.size(), kErrorTextSize - 1);
  std::memcpy(next.text, text.data(), n);
  const std::uint64_t odd = seqlock::write_begin(words[0]);
  seqlock::store_from(words + 1, reinterpret_cast<const unsigned char*>(&next) + 8,
                      sizeof(ErrorSlot) / 8 - 1);
  seqlock::write_end(words[0], odd);
  if (i == used)
    seqlock::store_release(errors_->used, used + 1);
  return WriteStatus::Ok;
}

void Writer::heartbeat(std::int64_t now_ns) noexcept {
  if (map_.empty())
    return;
  std::atomic_ref<std::int64_t>(header()->heartbeat_ns)
      .store(now_ns != 0 ? now_ns : realtime_ns(), std::memory_order_release);
}

// ---- publish path --------------------------------------------------------------------------

namespace {
// Status byte update plus the change counter, inside an open write.
inline void set_status(std::uint64_t* s, std::uint8_t status, std::int64_t ts) noexcept {
  const std::uint64_t meta = seqlock::load_relaxed(s[kWordMeta]);
  if (byte_of(meta, kStatusByte) == status)
    return;
  seqlock::store_release(s[kWordMeta], with_byte(meta, kStatusByte, status));
  increment(s[FH_SLOT_WORD(status_changes)]);
  seqlock::store_release(s[FH_SLOT_WORD(status_ts_ns)], static_cast<std::uint64_t>(ts));
}
} // namespace

WriteStatus Writer::publish_book(std::uint32_t instrument, std::uint8_t status, const Level* bids,
                                 std::size_t nb, const Level* asks, std::size_t na,
                                 std::uint64_t seq, std::int64_t exch_ts, std::int64_t recv_ts,
                                 std::int64_t publish_ts) noexcept {
  if (instrument >= max_instruments_) [[unlikely]]
    return WriteStatus::BadInstrument;
  if (publish_ts == 0)
    publish_ts = realtime_ns();
  nb = std::min<std::size_t>(nb, depth_);
  na = std::min<std::size_t>(na, depth_);
  std::uint64_t* const s = slot(instrument);
  const std::uint64_t odd = seqlock::write_begin(s[0]);
  set_status(s, status, publish_ts);
  const CountsWord counts{static_cast<std::uint16_t>(nb), static_cast<std::uint16_t>(na), 0};
  seqlock::store_from(s + kWordCounts, &counts, 1);
  seqlock::store_release(s[FH_SLOT_WORD(last_seq)], seq);
  seqlock::store_release(s[FH_SLOT_WORD(exch_ts_ns)], static_cast<std::uint64_t>(exch_ts));
  seqlock::store_release(s[FH_SLOT_WORD(recv_ts_ns)], static_cast<std::uint64_t>(recv_ts));
  seqlock::store_release(s[FH_SLOT_WORD(publish_ts_ns)], static_cast<std::uint64_t>(publish_ts));
  increment(s[FH_SLOT_WORD(book_updates)]);
  store_level(s + FH_SLOT_WORD(best_bid), nb != 0 ? bids[0] : Level{});
  store_level(s + FH_SLOT_WORD(best_ask), na != 0 ? asks[0] : Level{});
  std::uint64_t* dst = s + bids_word_;
  for (std::size_t i = 0; i < nb; ++i, dst += kLevelWords)
    store_level(dst, bids[i]);
  dst = s + asks_word_;
  for (std::size_t i = 0; i < na; ++i, dst += kLevelWords)
    store_level(dst, asks[i]);
  seqlock::write_end(s[0], odd);
  return WriteStatus::Ok;
}

WriteStatus Writer::publish_status(std::uint32_t instrument, std::uint8_t status,
                                   std::int64_t ts_ns) noexcept {
  if (instrument >= max_instruments_) [[unlikely]]
    return WriteStatus::BadInstrument;
  if (ts_ns == 0)
    ts_ns = realtime_ns();
  std::uint64_t* const s = slot(instrument);
  const std::uint64_t odd = seqlock::write_begin(s[0]);
  set_status(s, status, ts_ns);
  seqlock::write_end(s[0], odd);
  return WriteStatus::Ok;
}

WriteStatus Writer::publish_trade(std::uint32_t instrument, std::int64_t price, std::int64_t qty,
                                  std::uint8_t side, std::uint64_t trade_id, std::int64_t exch_ts,
                                  std::int64_t recv_ts) noexcept {
  if (instrument >= max_instruments_) [[unlikely]]
    return WriteStatus::BadInstrument;
  std::uint64_t* const s = slot(instrument);
  const std::uint64_t odd = seqlock::write_begin(s[0]);
  seqlock::store_release(s[kWordMeta],
                         with_byte(seqlock::load_relaxed(s[kWordMeta]), kTradeSideByte, side));
  seqlock::store_release(s[FH_SLOT_WORD(trade_price)], static_cast<std::uint64_t>(price));
  seqlock::store_release(s[FH_SLOT_WORD(trade_qty)], static_cast<std::uint64_t>(qty));
  seqlock::store_release(s[FH_SLOT_WORD(trade_id)], trade_id);
  seqlock::store_release(s[FH_SLOT_WORD(trade_exch_ts_ns)], static_cast<std::uint64_t>(exch_ts));
  seqlock::store_release(s[FH_SLOT_WORD(trade_recv_ts_ns)], static_cast<std::uint64_t>(recv_ts));
  increment(s[FH_SLOT_WORD(trades)]);
  seqlock::write_end(s[0], odd);
  return WriteStatus::Ok;
}

WriteStatus Writer::publish_bbo(std::uint32_t instrument, std::int64_t bid_price,
                                std::int64_t bid_qty, std::int64_t ask_price, std::int64_t ask_qty,
                                std::uint64_t update_id, std::int64_t exch_ts,
                                std::int64_t recv_ts) noexcept {
  if (instrument >= max_instruments_) [[unlikely]]
    return WriteStatus::BadInstrument;
  std::uint64_t* const s = slot(instrument);
  const std::uint64_t odd = seqlock::write_begin(s[0]);
  seqlock::store_release(s[FH_SLOT_WORD(bbo_bid_price)], static_cast<std::uint64_t>(bid_price));
  seqlock::store_release(s[FH_SLOT_WORD(bbo_bid_qty)], static_cast<std::uint64_t>(bid_qty));
  seqlock::store_release(s[FH_SLOT_WORD(bbo_ask_price)], static_cast<std::uint64_t>(ask_price));
  seqlock::store_release(s[FH_SLOT_WORD(bbo_ask_qty)], static_cast<std::uint64_t>(ask_qty));
  seqlock::store_release(s[FH_SLOT_WORD(bbo_update_id)], update_id);
  seqlock::store_release(s[FH_SLOT_WORD(bbo_exch_ts_ns)], static_cast<std::uint64_t>(exch_ts));
  seqlock::store_release(s[FH_SLOT_WORD(bbo_recv_ts_ns)], static_cast<std::uint64_t>(recv_ts));
  increment(s[FH_SLOT_WORD(bbo_updates)]);
  seqlock::write_end(s[0], odd);
  return WriteStatus::Ok;
}

std::uint64_t Writer::append_journal(const JournalRecord& record) noexcept {
  if (slots_ == nullptr) [[unlikely]]
    return kNoPosition; // closed
  if (record.publish_ts_ns != 0)
    return journal_.append(record);
  JournalRecord stamped = record;
  stamped.publish_ts_ns = realtime_ns();
  return journal_.append(stamped);
}

void Writer::add_counter(std::uint8_t venue, VenueCounter c, std::uint64_t delta) noexcept {
  if (venue >= kMaxVenues || venues_ == nullptr) [[unlikely]]
    return;
  std::uint64_t& w = venues_[venue].values[static_cast<std::uint32_t>(c)];
  seqlock::store_relaxed(w, seqlock::load_relaxed(w) + delta);
}

void Writer::set_counter(std::uint8_t venue, VenueCounter c, std::uint64_t value) noexcept {
  if (venue >= kMaxVenues || venues_ == nullptr) [[unlikely]]
    return;
  seqlock::store_relaxed(venues_[venue].values[static_cast<std::uint32_t>(c)], value);
}

#undef FH_SLOT_WORD

} // namespace fh::shm
