// The C ABI (shm/fh_shm.h) over fh::shm::Reader. Why this shape: the reader already does
// every check, seqlock retry and lap count; this file only converts between the layout's C++
// structs and the ABI's C structs field by field (so the ABI is independent of the layout's
// padding and of later minor additions), maps enums to int codes and keeps messages in fixed
// buffers. Nothing here throws or allocates after fh_shm_open.
#include "shm/fh_shm.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>

#include "shm/journal.hpp"
#include "shm/layout.hpp"
#include "shm/reader.hpp"

namespace {

namespace shm = fh::shm;

constexpr std::size_t kMessageSize = 384;

// The last failure on this thread: the only place a failed fh_shm_open can leave its reason,
// and safe with read calls running on several threads at once.
thread_local char t_last_error[kMessageSize] = {};

[[gnu::format(printf, 2, 3)]] int fail(int code, const char* fmt, ...) noexcept {
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(t_last_error, sizeof t_last_error, fmt, args);
  va_end(args);
  return code;
}

// The ABI's constants are the layout's values; a change on either side fails to compile.
static_assert(FH_SHM_LAYOUT_MAJOR == shm::kLayoutMajor && FH_SHM_LAYOUT_MINOR == shm::kLayoutMinor);
static_assert(FH_SHM_MAX_DEPTH == shm::kMaxDepth);
static_assert(FH_SHM_VENUE_NAME_SIZE == shm::kVenueNameSize);
static_assert(FH_SHM_SYMBOL_SIZE == shm::kSymbolSize);
static_assert(FH_SHM_E_BAD_NAME == static_cast<int>(shm::AttachError::BadName));
static_assert(FH_SHM_E_NOT_FOUND == static_cast<int>(shm::AttachError::NotFound));
static_assert(FH_SHM_E_OPEN_FAILED == static_cast<int>(shm::AttachError::OpenFailed));
static_assert(FH_SHM_E_NOT_READY == static_cast<int>(shm::AttachError::NotReady));
static_assert(FH_SHM_E_MAP_FAILED == static_cast<int>(shm::AttachError::MapFailed));
static_assert(FH_SHM_E_BAD_MAGIC == static_cast<int>(shm::AttachError::BadMagic));
static_assert(FH_SHM_E_MAJOR_MISMATCH == static_cast<int>(shm::AttachError::MajorMismatch));
static_assert(FH_SHM_E_MINOR_TOO_OLD == static_cast<int>(shm::AttachError::MinorTooOld));
static_assert(FH_SHM_E_HEADER_SIZE_MISMATCH ==
              static_cast<int>(shm::AttachError::HeaderSizeMismatch));
static_assert(FH_SHM_E_SIZE_MISMATCH == static_cast<int>(shm::AttachError::SizeMismatch));
static_assert(FH_SHM_E_BAD_GEOMETRY == static_cast<int>(shm::AttachError::BadGeometry));
static_assert(FH_SHM_E_RECORD_SIZE_MISMATCH ==
              static_cast<int>(shm::AttachError::RecordSizeMismatch));
static_assert(FH_SHM_E_REGION_OUT_OF_BOUNDS ==
              static_cast<int>(shm::AttachError::RegionOutOfBounds));
static_assert(FH_SHM_BOOK_EMPTY == static_cast<int>(shm::BookStatus::Empty));
static_assert(FH_SHM_BOOK_WAITING_SNAPSHOT == static_cast<int>(shm::BookStatus::WaitingSnapshot));
static_assert(FH_SHM_BOOK_SYNCED == static_cast<int>(shm::BookStatus::Synced));
static_assert(FH_SHM_BOOK_STALE == static_cast<int>(shm::BookStatus::Stale));
static_assert(FH_SHM_BOOK_CROSSED == static_cast<int>(shm::BookStatus::Crossed));
static_assert(FH_SHM_WRITER_STARTING == static_cast<int>(shm::WriterState::Starting));
static_assert(FH_SHM_WRITER_RUNNING == static_cast<int>(shm::WriterState::Running));
static_assert(FH_SHM_WRITER_CLOSED == static_cast<int>(shm::WriterState::Closed));
static_assert(FH_SHM_WRITER_SUPERSEDED == static_cast<int>(shm::WriterState::Superseded));
static_assert(FH_SHM_RECORD_BOOK_BEGIN == static_cast<int>(shm::RecordType::BookBegin));
static_assert(FH_SHM_RECORD_BOOK_LEVEL == static_cast<int>(shm::RecordType::BookLevel));
static_assert(FH_SHM_RECORD_BOOK_END == static_cast<int>(shm::RecordType::BookEnd));
static_assert(FH_SHM_RECORD_TRADE == static_cast<int>(shm::RecordType::Trade));
static_assert(FH_SHM_RECORD_BBO == static_cast<int>(shm::RecordType::Bbo));
static_assert(FH_SHM_RECORD_STATUS == static_cast<int>(shm::RecordType::Status));
static_assert(FH_SHM_FLAG_SNAPSHOT == shm::kRecordFlagSnapshot &&
              FH_SHM_FLAG_REST == shm::kRecordFlagRest &&
              FH_SHM_FLAG_HAS_PREV_SEQ == shm::kRecordFlagHasPrevSeq &&
              FH_SHM_FLAG_HAS_SEQ == shm::kRecordFlagHasSeq &&
              FH_SHM_FLAG_HAS_CHECKSUM == shm::kRecordFlagHasChecksum &&
              FH_SHM_FLAG_BUYER_IS_MAKER == shm::kRecordFlagBuyerIsMaker);
static_assert(FH_SHM_AGGRESSOR_UNKNOWN == shm::kAggressorUnknown &&
              FH_SHM_AGGRESSOR_BUY == shm::kAggressorBuy &&
              FH_SHM_AGGRESSOR_SELL == shm::kAggressorSell);

// What a fh_shm_journal_t holds: the C++ cursor plus the attachment it belongs to.
struct Cursor {
  shm::JournalReader journal;
  const void* owner;      // the fh_shm_reader it was opened on
  std::uint64_t epoch;    // that reader's attachment count at the time
  std::uint64_t magic;    // kCursorMagic once opened
};
constexpr std::uint64_t kCursorMagic = 0x5253'5543'4d48'5346ULL; // "FSHMCURS"
static_assert(std::is_trivially_copyable_v<Cursor>);
static_assert(sizeof(Cursor) <= sizeof(fh_shm_journal_t));
static_assert(alignof(Cursor) <= alignof(fh_shm_journal_t));

fh_shm_level_t to_c(const shm::Level& l) noexcept {
  return fh_shm_level_t{l.price, l.qty, l.orders, 0};
}

void to_c(const shm::Top& t, fh_shm_top_t& o) noexcept {
  o.version = t.seq;
  o.instrument = t.instrument;
  o.status = t.status;
  o.trade_side = t.trade_side;
  o.depth = t.depth;
  o.n_bids = t.n_bids;
  o.n_asks = t.n_asks;
  o.reserved = 0;
  o.last_seq = t.last_seq;
  o.exch_ts_ns = t.exch_ts_ns;
  o.recv_ts_ns = t.recv_ts_ns;
  o.publish_ts_ns = t.publish_ts_ns;
  o.book_updates = t.book_updates;
  o.best_bid = to_c(t.best_bid);
  o.best_ask = to_c(t.best_ask);
  o.bbo_bid_price = t.bbo_bid_price;
  o.bbo_bid_qty = t.bbo_bid_qty;
  o.bbo_ask_price = t.bbo_ask_price;
  o.bbo_ask_qty = t.bbo_ask_qty;
  o.bbo_update_id = t.bbo_update_id;
  o.bbo_exch_ts_ns = t.bbo_exch_ts_ns;
  o.bbo_recv_ts_ns = t.bbo_recv_ts_ns;
  o.bbo_updates = t.bbo_updates;
  o.trade_price = t.trade_price;
  o.trade_qty = t.trade_qty;
  o.trade_id = t.trade_id;
  o.trade_exch_ts_ns = t.trade_exch_ts_ns;
  o.trade_recv_ts_ns = t.trade_recv_ts_ns;
  o.trades = t.trades;
  o.status_changes = t.status_changes;
  o.status_ts_ns = t.status_ts_ns;
}

void to_c(const shm::JournalRecord& r, std::uint64_t position, fh_shm_record_t& o) noexcept {
  o = fh_shm_record_t{};
  o.position = position;
  o.type = r.type;
  o.flags = r.flags;
  o.side = r.side;
  o.venue = r.venue;
  o.instrument = r.instrument;
  o.exch_ts_ns = r.exch_ts_ns;
  o.recv_ts_ns = r.recv_ts_ns;
  o.publish_ts_ns = r.publish_ts_ns;
  auto& p = o.payload;
  switch (static_cast<shm::RecordType>(r.type)) {
  case shm::RecordType::BookBegin:
    p.begin.first_seq = r.payload.begin.first_seq;
    p.begin.last_seq = r.payload.begin.last_seq;
    p.begin.prev_seq = r.payload.begin.prev_seq;
    p.begin.levels = r.payload.begin.levels;
    p.begin.depth = r.payload.begin.depth;
    break;
  case shm::RecordType::BookLevel:
    p.level.price = r.payload.level.price;
    p.level.qty = r.payload.level.qty;
    p.level.orders = r.payload.level.orders;
    p.level.price_text_dp = r.payload.level.price_text_dp;
    p.level.qty_text_dp = r.payload.level.qty_text_dp;
    break;
  case shm::RecordType::BookEnd:
    p.end.checksum = r.payload.end.checksum;
    break;
  case shm::RecordType::Trade:
    p.trade.price = r.payload.trade.price;
    p.trade.qty = r.payload.trade.qty;
    p.trade.trade_id = r.payload.trade.trade_id;
    break;
  case shm::RecordType::Bbo:
    p.bbo.bid_price = r.payload.bbo.bid_price;
    p.bbo.bid_qty = r.payload.bbo.bid_qty;
    p.bbo.ask_price = r.payload.bbo.ask_price;
    p.bbo.ask_qty = r.payload.bbo.ask_qty;
    break;
  case shm::RecordType::Status:
    p.status.status = r.payload.status.status;
    p.status.reason = r.payload.status.reason;
    p.status.last_seq = r.payload.status.last_seq;
    break;
  case shm::RecordType::None:
    break; // a type this library does not know: header fields only
  }
}

// Copies a NUL-terminated field of at most N bytes, always terminating the copy.
template <std::size_t N> void copy_name(char (&dst)[N], const char (&src)[N]) noexcept {
  std::size_t n = 0;
  while (n + 1 < N && src[n] != '\0') {
    dst[n] = src[n];
    ++n;
  }
  std::memset(dst + n, 0, N - n);
}

int read_status(shm::ReadStatus s, std::uint32_t id) noexcept {
  switch (s) {
  case shm::ReadStatus::Ok: return FH_SHM_OK;
  case shm::ReadStatus::NotAttached:
    return fail(FH_SHM_E_NOT_ATTACHED, "reader is not attached (a reattach failed)");
  case shm::ReadStatus::BadInstrument:
    return fail(FH_SHM_E_BAD_INSTRUMENT, "instrument id %u is outside the segment", id);
  case shm::ReadStatus::Busy:
    return fail(FH_SHM_E_BUSY, "slot of instrument %u stayed locked for the read budget "
                               "(writer died mid-write?)", id);
  }
  return fail(FH_SHM_E_INVALID_ARGUMENT, "unknown read status");
}

} // namespace

struct fh_shm_reader {
  shm::Reader reader;
  std::uint64_t epoch = 0; // successful attaches: cursors of an older one are stale
  char message[kMessageSize] = {};

  int attached(shm::AttachError e) noexcept {
    if (e == shm::AttachError::Ok) {
      ++epoch;
      message[0] = '\0';
      return FH_SHM_OK;
    }
    std::snprintf(message, sizeof message, "%s", reader.error_message());
    return fail(static_cast<int>(e), "%s", reader.error_message());
  }
};

namespace {

// Checks r (and that it is attached); the common prologue of the read calls.
int usable(const fh_shm_reader* r) noexcept {
  if (r == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "NULL reader");
  if (!r->reader.attached())
    return fail(FH_SHM_E_NOT_ATTACHED, "reader is not attached (a reattach failed)");
  return FH_SHM_OK;
}

} // namespace

extern "C" {

uint32_t fh_shm_layout_version(void) noexcept {
  return (std::uint32_t{shm::kLayoutMajor} << 16) | shm::kLayoutMinor;
}

const char* fh_shm_strerror(int code) noexcept {
  if (code >= 0 && code <= FH_SHM_E_REGION_OUT_OF_BOUNDS)
    return shm::to_cstring(static_cast<shm::AttachError>(code));
  switch (code) {
  case FH_SHM_E_INVALID_ARGUMENT: return "invalid_argument";
  case FH_SHM_E_NO_MEMORY: return "no_memory";
  case FH_SHM_E_NOT_ATTACHED: return "not_attached";
  case FH_SHM_E_BAD_INSTRUMENT: return "bad_instrument";
  case FH_SHM_E_NO_SUCH_INSTRUMENT: return "no_such_instrument";
  case FH_SHM_E_BUSY: return "busy";
  case FH_SHM_E_STALE_CURSOR: return "stale_cursor";
  default: return "unknown_error";
  }
}

const char* fh_shm_last_error(void) noexcept { return t_last_error; }

int fh_shm_open(const char* name_or_path, int64_t timeout_ns, fh_shm_reader** out) noexcept {
  if (out == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_open: NULL out");
  *out = nullptr;
  if (name_or_path == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_open: NULL name");
  auto* r = new (std::nothrow) fh_shm_reader;
  if (r == nullptr)
    return fail(FH_SHM_E_NO_MEMORY, "fh_shm_open: out of memory");
  const int code = r->attached(r->reader.attach(name_or_path, timeout_ns));
  if (code != FH_SHM_OK) {
    delete r;
    return code;
  }
  *out = r;
  return FH_SHM_OK;
}

void fh_shm_close(fh_shm_reader* r) noexcept { delete r; }

const char* fh_shm_error_message(const fh_shm_reader* r) noexcept {
  return r == nullptr ? "NULL reader" : r->message;
}

const char* fh_shm_path(const fh_shm_reader* r) noexcept {
  return r == nullptr ? "" : r->reader.path();
}

int fh_shm_set_read_budget_ns(fh_shm_reader* r, int64_t budget_ns) noexcept {
  if (r == nullptr || budget_ns < 0)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_set_read_budget_ns: NULL reader or budget < 0");
  r->reader.set_read_budget_ns(budget_ns);
  return FH_SHM_OK;
}

int fh_shm_segment_info(const fh_shm_reader* r, fh_shm_segment_info_t* out) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (out == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_segment_info: NULL out");
  const shm::SegmentHeader& h = r->reader.header();
  *out = fh_shm_segment_info_t{h.layout_major, h.layout_minor,     h.depth,       h.max_instruments,
                               h.journal_capacity, h.total_size, h.generation};
  return FH_SHM_OK;
}

int fh_shm_writer_status(const fh_shm_reader* r, fh_shm_writer_status_t* out) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (out == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_writer_status: NULL out");
  const shm::WriterStatus s = r->reader.writer_status();
  *out = fh_shm_writer_status_t{static_cast<std::uint32_t>(s.state), s.pid, s.generation,
                                s.start_time_ns, s.heartbeat_ns, s.heartbeat_age_ns};
  return FH_SHM_OK;
}

int fh_shm_writer_restarted(const fh_shm_reader* r) noexcept {
  return r != nullptr && r->reader.writer_restarted() ? 1 : 0;
}

int fh_shm_reattach(fh_shm_reader* r, int64_t timeout_ns) noexcept {
  if (r == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_reattach: NULL reader");
  return r->attached(r->reader.reattach(timeout_ns));
}

uint32_t fh_shm_instrument_count(const fh_shm_reader* r) noexcept {
  return r == nullptr ? 0 : r->reader.instrument_count();
}

int fh_shm_find(const fh_shm_reader* r, const char* key, uint32_t* id) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (key == nullptr || id == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_find: NULL key or id");
  const shm::DirectoryEntry* e = r->reader.find(std::string_view(key));
  if (e == nullptr)
    return fail(FH_SHM_E_NO_SUCH_INSTRUMENT, "no instrument '%.200s' in %s", key,
                r->reader.path());
  *id = e->id;
  return FH_SHM_OK;
}

int fh_shm_instrument(const fh_shm_reader* r, uint32_t id, fh_shm_instrument_t* out) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (out == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_instrument: NULL out");
  if (id >= r->reader.max_instruments())
    return fail(FH_SHM_E_BAD_INSTRUMENT, "instrument id %u is outside the segment", id);
  const shm::DirectoryEntry* e = r->reader.instrument(id);
  if (e == nullptr)
    return fail(FH_SHM_E_NO_SUCH_INSTRUMENT, "no directory entry for instrument id %u", id);
  out->id = e->id;
  out->venue_id = e->venue_id;
  out->kind = e->kind;
  out->price_decimals = e->price_decimals;
  out->qty_decimals = e->qty_decimals;
  out->tick = e->tick;
  out->lot = e->lot;
  copy_name(out->venue, e->venue);
  copy_name(out->native, e->native);
  copy_name(out->canonical, e->canonical);
  return FH_SHM_OK;
}

int fh_shm_top(const fh_shm_reader* r, uint32_t id, fh_shm_top_t* out) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (out == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_top: NULL out");
  shm::Top top;
  if (int e = read_status(r->reader.top(id, top), id); e != FH_SHM_OK)
    return e;
  to_c(top, *out);
  return FH_SHM_OK;
}

int fh_shm_depth(const fh_shm_reader* r, uint32_t id, uint32_t n, fh_shm_top_t* top,
                 fh_shm_level_t* bids, uint32_t* n_bids, fh_shm_level_t* asks,
                 uint32_t* n_asks) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (n_bids == nullptr || n_asks == nullptr || (n != 0 && (bids == nullptr || asks == nullptr)))
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_depth: NULL level array or count");
  shm::Book book; // 3.3 KB on the caller's stack: no allocation, and read calls stay reentrant
  if (int e = read_status(r->reader.depth(id, n, book), id); e != FH_SHM_OK)
    return e;
  if (top != nullptr)
    to_c(book.top, *top);
  for (std::uint32_t i = 0; i < book.n_bids; ++i)
    bids[i] = to_c(book.bids[i]);
  for (std::uint32_t i = 0; i < book.n_asks; ++i)
    asks[i] = to_c(book.asks[i]);
  *n_bids = book.n_bids;
  *n_asks = book.n_asks;
  return FH_SHM_OK;
}

int fh_shm_journal_open(const fh_shm_reader* r, int from_oldest,
                        fh_shm_journal_t* cursor) noexcept {
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (cursor == nullptr)
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_journal_open: NULL cursor");
  const Cursor c{r->reader.journal(from_oldest != 0 ? shm::JournalStart::Oldest
                                                    : shm::JournalStart::Now),
                 r, r->epoch, kCursorMagic};
  *cursor = fh_shm_journal_t{};
  std::memcpy(cursor->opaque, &c, sizeof c);
  return FH_SHM_OK;
}

int fh_shm_journal_poll(const fh_shm_reader* r, fh_shm_journal_t* cursor, fh_shm_record_t* out,
                        size_t max, size_t* delivered, uint64_t* lost) noexcept {
  if (delivered != nullptr)
    *delivered = 0;
  if (lost != nullptr)
    *lost = 0;
  if (int e = usable(r); e != FH_SHM_OK)
    return e;
  if (cursor == nullptr || delivered == nullptr || (max != 0 && out == nullptr))
    return fail(FH_SHM_E_INVALID_ARGUMENT, "fh_shm_journal_poll: NULL cursor, out or delivered");
  Cursor c;
  std::memcpy(&c, cursor->opaque, sizeof c);
  if (c.magic != kCursorMagic || c.owner != r || c.epoch != r->epoch)
    return fail(FH_SHM_E_STALE_CURSOR, "journal cursor was not opened on this reader's current "
                                       "attachment (open it again after fh_shm_reattach)");
  std::size_t n = 0;
  const shm::PollResult p =
      c.journal.poll(max, [&](const shm::JournalRecord& rec, std::uint64_t position) {
        to_c(rec, position, out[n++]);
      });
  std::memcpy(cursor->opaque, &c, sizeof c);
  *delivered = p.delivered;
  if (lost != nullptr)
    *lost = p.lost;
  return FH_SHM_OK;
}

uint64_t fh_shm_journal_position(const fh_shm_journal_t* cursor) noexcept {
  if (cursor == nullptr)
    return 0;
  Cursor c;
  std::memcpy(&c, cursor->opaque, sizeof c);
  return c.magic == kCursorMagic ? c.journal.position() : 0;
}

uint64_t fh_shm_journal_tail(const fh_shm_reader* r) noexcept {
  if (r == nullptr || !r->reader.attached())
    return 0;
  return r->reader.journal(shm::JournalStart::Now).tail();
}

uint64_t fh_shm_counter(const fh_shm_reader* r, uint32_t venue, uint32_t index) noexcept {
  return r == nullptr ? 0 : r->reader.counter_value(venue, index);
}

const char* fh_shm_counter_name(const fh_shm_reader* r, uint32_t index) noexcept {
  return r == nullptr ? "" : r->reader.counter_name(index);
}

const char* fh_shm_venue_name(const fh_shm_reader* r, uint32_t venue) noexcept {
  return r == nullptr ? "" : r->reader.venue_name(venue);
}

} // extern "C"
