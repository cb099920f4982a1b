/* C ABI over the header-only segment reader (shm/reader.hpp), for strategies written in C,
 * Python (ctypes, shm/python/fh_shm.py) or anything else that can call C. Library:
 * libfh_shm.so (CMake target fh::shm_c); it exports only the fh_shm_* functions below.
 *
 * Why this shape:
 *  - An opaque handle (fh_shm_reader*) owns one fh::shm::Reader. fh_shm_open() is the only
 *    call that allocates; no call throws, starts a thread or blocks except open/reattach, which
 *    wait up to their timeout for a segment that does not exist yet or is still starting.
 *  - Plain C99 structs with fixed-width fields are filled field by field from the layout's
 *    structs (shm/layout.hpp), so a layout minor bump never changes this ABI; prices and
 *    quantities stay int64 mantissas at the instrument's decimals (exact; never a double).
 *  - Every call that can fail returns an int error code (FH_SHM_OK = 0). The one-line message
 *    of the last failure is kept per calling thread (fh_shm_last_error()), because a failed
 *    fh_shm_open() has no handle to hold it and read calls may run on several threads at once.
 *  - The journal cursor is caller-owned storage (fh_shm_journal_t, e.g. on the stack), so a
 *    strategy may have as many cursors as it likes without allocation. A cursor remembers the
 *    attachment it was opened on: after fh_shm_reattach() polling it fails with
 *    FH_SHM_E_STALE_CURSOR instead of reading an unmapped segment.
 *
 * Threads: the read calls (everything taking a const fh_shm_reader*) may run concurrently on
 * any number of threads; fh_shm_reattach/fh_shm_close/fh_shm_set_read_budget_ns must not run
 * concurrently with anything else on the same handle; a cursor belongs to one thread.
 * Pointers returned into the segment (names) stay valid until fh_shm_reattach or fh_shm_close.
 */
#ifndef FH_SHM_H
#define FH_SHM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FH_SHM_API __attribute__((visibility("default")))
#else
#define FH_SHM_API
#endif
/* C++ callers see every call as noexcept: no exception ever leaves the library. */
#ifdef __cplusplus
#define FH_SHM_NOEXCEPT noexcept
#else
#define FH_SHM_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Layout version this library reads (major must match the segment's; segment minor >= this). */
#define FH_SHM_LAYOUT_MAJOR 2
#define FH_SHM_LAYOUT_MINOR 0

/* ---- error codes ------------------------------------------------------------------------- */
/* 1..13: attach refusals, same values as fh::shm::AttachError. */
#define FH_SHM_OK 0
#define FH_SHM_E_BAD_NAME 1              /* empty, or the path is too long */
#define FH_SHM_E_NOT_FOUND 2             /* no segment of that name (when the timeout ran out) */
#define FH_SHM_E_OPEN_FAILED 3           /* open/fstat refused (permissions?) */
#define FH_SHM_E_NOT_READY 4             /* the writer is still starting */
#define FH_SHM_E_MAP_FAILED 5
#define FH_SHM_E_BAD_MAGIC 6             /* not a feedhandler segment */
#define FH_SHM_E_MAJOR_MISMATCH 7        /* incompatible layout version */
#define FH_SHM_E_MINOR_TOO_OLD 8
#define FH_SHM_E_HEADER_SIZE_MISMATCH 9
#define FH_SHM_E_SIZE_MISMATCH 10        /* file size differs from the header (truncated copy?) */
#define FH_SHM_E_BAD_GEOMETRY 11
#define FH_SHM_E_RECORD_SIZE_MISMATCH 12
#define FH_SHM_E_REGION_OUT_OF_BOUNDS 13
/* 20..: calls on an open handle. */
#define FH_SHM_E_INVALID_ARGUMENT 20     /* a NULL pointer where one is required, ... */
#define FH_SHM_E_NO_MEMORY 21            /* fh_shm_open could not allocate the handle */
#define FH_SHM_E_NOT_ATTACHED 22         /* a failed fh_shm_reattach left the handle detached */
#define FH_SHM_E_BAD_INSTRUMENT 23       /* id >= the segment's max_instruments */
#define FH_SHM_E_NO_SUCH_INSTRUMENT 24   /* no directory entry under that key or id */
#define FH_SHM_E_BUSY 25                 /* slot stayed locked for the read budget (dead writer?) */
#define FH_SHM_E_STALE_CURSOR 26         /* cursor from another handle or an earlier attachment */

/* ---- enumerations (values are the segment layout's) ------------------------------------- */
#define FH_SHM_BOOK_EMPTY 0
#define FH_SHM_BOOK_WAITING_SNAPSHOT 1
#define FH_SHM_BOOK_SYNCED 2
#define FH_SHM_BOOK_STALE 3
#define FH_SHM_BOOK_CROSSED 4

#define FH_SHM_WRITER_STARTING 0
#define FH_SHM_WRITER_RUNNING 1
#define FH_SHM_WRITER_CLOSED 2
#define FH_SHM_WRITER_SUPERSEDED 3 /* a restarted writer replaced the segment: reattach */

#define FH_SHM_RECORD_BOOK_BEGIN 1
#define FH_SHM_RECORD_BOOK_LEVEL 2
#define FH_SHM_RECORD_BOOK_END 3
#define FH_SHM_RECORD_TRADE 4
#define FH_SHM_RECORD_BBO 5
#define FH_SHM_RECORD_STATUS 6

#define FH_SHM_FLAG_SNAPSHOT 1
#define FH_SHM_FLAG_REST 2
#define FH_SHM_FLAG_HAS_PREV_SEQ 4
#define FH_SHM_FLAG_HAS_SEQ 8
#define FH_SHM_FLAG_HAS_CHECKSUM 16
#define FH_SHM_FLAG_BUYER_IS_MAKER 32

#define FH_SHM_AGGRESSOR_UNKNOWN 0
#define FH_SHM_AGGRESSOR_BUY 1
#define FH_SHM_AGGRESSOR_SELL 2

#define FH_SHM_MAX_DEPTH 64       /* most levels per side a segment can hold */
#define FH_SHM_VENUE_NAME_SIZE 16 /* NUL included */
#define FH_SHM_SYMBOL_SIZE 40     /* NUL included */

/* ---- plain data ------------------------------------------------------------------------- */
typedef struct fh_shm_reader fh_shm_reader;

typedef struct fh_shm_level_s {
  int64_t price; /* mantissa at the instrument's price_decimals */
  int64_t qty;   /* mantissa at the instrument's qty_decimals */
  uint32_t orders; /* order count where the venue gives it, else 0 */
  uint32_t reserved;
} fh_shm_level_t;

typedef struct fh_shm_instrument_s {
  uint32_t id;
  uint8_t venue_id;       /* fh::Venue value */
  uint8_t kind;           /* 0 spot, 1 perpetual, 2 future, 3 option */
  uint8_t price_decimals; /* price = mantissa * 10^-price_decimals */
  uint8_t qty_decimals;
  int64_t tick;           /* mantissa at price_decimals */
  int64_t lot;            /* mantissa at qty_decimals */
  char venue[FH_SHM_VENUE_NAME_SIZE];  /* "binance-usdm" */
  char native[FH_SHM_SYMBOL_SIZE];     /* "BTCUSDT" */
  char canonical[FH_SHM_SYMBOL_SIZE];  /* "BTC-USDT-PERP" */
} fh_shm_instrument_t;

/* One consistent copy of a book slot's head (layout SlotHead). */
typedef struct fh_shm_top_s {
  uint64_t version;       /* slot seqlock sequence: changes with every publish into the slot */
  uint32_t instrument;
  uint8_t status;         /* FH_SHM_BOOK_* */
  uint8_t trade_side;     /* FH_SHM_AGGRESSOR_* of the last trade */
  uint16_t depth;         /* levels per side the segment keeps */
  uint16_t n_bids;        /* levels published on each side (<= depth) */
  uint16_t n_asks;
  uint32_t reserved;
  uint64_t last_seq;      /* venue sequence id of the last published book */
  int64_t exch_ts_ns;     /* book: venue time, receive time, publish time (ns since epoch) */
  int64_t recv_ts_ns;
  int64_t publish_ts_ns;
  uint64_t book_updates;
  fh_shm_level_t best_bid; /* qty 0 when the side is empty */
  fh_shm_level_t best_ask;
  int64_t bbo_bid_price;   /* the venue's own BBO stream (bookTicker, tickers) */
  int64_t bbo_bid_qty;
  int64_t bbo_ask_price;
  int64_t bbo_ask_qty;
  uint64_t bbo_update_id;
  int64_t bbo_exch_ts_ns;
  int64_t bbo_recv_ts_ns;
  uint64_t bbo_updates;
  int64_t trade_price;     /* last trade */
  int64_t trade_qty;
  uint64_t trade_id;
  int64_t trade_exch_ts_ns;
  int64_t trade_recv_ts_ns;
  uint64_t trades;
  uint64_t status_changes;
  int64_t status_ts_ns;
} fh_shm_top_t;

/* One journal record (layout JournalRecord) and its position in the journal. */
typedef struct fh_shm_record_s {
  uint64_t position;      /* 0, 1, 2, ... over the segment's life */
  uint8_t type;           /* FH_SHM_RECORD_* */
  uint8_t flags;          /* FH_SHM_FLAG_* */
  uint8_t side;           /* BOOK_LEVEL: 0 bid / 1 ask; TRADE: FH_SHM_AGGRESSOR_* */
  uint8_t venue;
  uint32_t instrument;
  int64_t exch_ts_ns;
  int64_t recv_ts_ns;
  int64_t publish_ts_ns;
  union {
    struct { uint64_t first_seq, last_seq, prev_seq; uint32_t levels, depth; } begin;
    /* qty 0 deletes the level; *_text_dp: fractional digits of the venue's text (layout
     * 1.1; 0 from a 1.0 writer), to rebuild a checksum's text from the mantissas */
    struct { int64_t price, qty; uint32_t orders; uint8_t price_text_dp, qty_text_dp; } level;
    struct { int64_t checksum; } end;
    struct { int64_t price, qty; uint64_t trade_id; } trade;
    struct { int64_t bid_price, bid_qty, ask_price, ask_qty; } bbo;
    struct { uint8_t status, reason; uint64_t last_seq; } status;
  } payload;
} fh_shm_record_t;

typedef struct fh_shm_writer_status_s {
  uint32_t state;  /* FH_SHM_WRITER_* */
  int32_t pid;
  uint64_t generation; /* +1 each time a writer replaced the segment of this name */
  int64_t start_time_ns;
  int64_t heartbeat_ns;
  int64_t heartbeat_age_ns; /* CLOCK_REALTIME now - heartbeat_ns */
} fh_shm_writer_status_t;

typedef struct fh_shm_segment_info_s {
  uint16_t layout_major;
  uint16_t layout_minor;
  uint32_t depth;            /* levels per side in each slot */
  uint32_t max_instruments;  /* ids 0 .. max-1 */
  uint32_t journal_capacity; /* records */
  uint64_t total_size;       /* bytes */
  uint64_t generation;
} fh_shm_segment_info_t;

/* Caller-owned journal cursor: fill with fh_shm_journal_open, do not touch its bytes. */
typedef struct fh_shm_journal_s {
  uint64_t opaque[8];
} fh_shm_journal_t;

/* ---- calls -------------------------------------------------------------------------------- */

/* (FH_SHM_LAYOUT_MAJOR << 16) | FH_SHM_LAYOUT_MINOR of the library (check against the header). */
FH_SHM_API uint32_t fh_shm_layout_version(void) FH_SHM_NOEXCEPT;
/* Short name of an error code ("not_found", "major_mismatch", ...); never NULL. */
FH_SHM_API const char* fh_shm_strerror(int code) FH_SHM_NOEXCEPT;
/* One line about the most recent failed call on this thread ("" if none yet), e.g.
 * "/dev/shm/fh-main: layout major 2, this reader reads major 1". Valid until this thread's
 * next failed call. */
FH_SHM_API const char* fh_shm_last_error(void) FH_SHM_NOEXCEPT;

/* Maps the segment read-only ("fh-main" = /dev/shm/fh-main, or a path to a file) and checks
 * it, waiting up to timeout_ns for a missing name or a starting writer. On success *out is the
 * handle; on failure *out is NULL and fh_shm_last_error() says why. */
FH_SHM_API int fh_shm_open(const char* name_or_path, int64_t timeout_ns,
                           fh_shm_reader** out) FH_SHM_NOEXCEPT;
/* Unmaps and frees. NULL is ignored. Cursors and name pointers die with the handle. */
FH_SHM_API void fh_shm_close(fh_shm_reader* r) FH_SHM_NOEXCEPT;
/* Message of this handle's last failed open/reattach ("" after a success). */
FH_SHM_API const char* fh_shm_error_message(const fh_shm_reader* r) FH_SHM_NOEXCEPT;
/* Path the handle maps ("/dev/shm/fh-main"). */
FH_SHM_API const char* fh_shm_path(const fh_shm_reader* r) FH_SHM_NOEXCEPT;
/* How long top/depth retry a locked slot before FH_SHM_E_BUSY (default 50 ms). */
FH_SHM_API int fh_shm_set_read_budget_ns(fh_shm_reader* r, int64_t budget_ns) FH_SHM_NOEXCEPT;

FH_SHM_API int fh_shm_segment_info(const fh_shm_reader* r,
                                   fh_shm_segment_info_t* out) FH_SHM_NOEXCEPT;
FH_SHM_API int fh_shm_writer_status(const fh_shm_reader* r,
                                    fh_shm_writer_status_t* out) FH_SHM_NOEXCEPT;
/* 1 when the writer was replaced (segment superseded, or the name is another file now), else
 * 0 (also for NULL). Costs a stat(2) for a handle opened by name. */
FH_SHM_API int fh_shm_writer_restarted(const fh_shm_reader* r) FH_SHM_NOEXCEPT;
/* Maps the same name again (after a restart). Every cursor of the handle becomes stale. On
 * failure the handle stays valid but detached: reads return FH_SHM_E_NOT_ATTACHED until a
 * later reattach succeeds. */
FH_SHM_API int fh_shm_reattach(fh_shm_reader* r, int64_t timeout_ns) FH_SHM_NOEXCEPT;

/* Ids below this may have a directory entry (0 for NULL or a detached handle). */
FH_SHM_API uint32_t fh_shm_instrument_count(const fh_shm_reader* r) FH_SHM_NOEXCEPT;
/* "venue:CANONICAL", "venue:NATIVE", or a bare canonical or native symbol (first match). */
FH_SHM_API int fh_shm_find(const fh_shm_reader* r, const char* key, uint32_t* id) FH_SHM_NOEXCEPT;
FH_SHM_API int fh_shm_instrument(const fh_shm_reader* r, uint32_t id,
                                 fh_shm_instrument_t* out) FH_SHM_NOEXCEPT;

/* A consistent copy of instrument id's slot head. */
FH_SHM_API int fh_shm_top(const fh_shm_reader* r, uint32_t id, fh_shm_top_t* out) FH_SHM_NOEXCEPT;
/* The head (top may be NULL) and the best min(n, published) levels of each side, all from one
 * version of the slot. bids and asks must each have room for min(n, FH_SHM_MAX_DEPTH) levels;
 * *n_bids / *n_asks receive how many were copied. */
FH_SHM_API int fh_shm_depth(const fh_shm_reader* r, uint32_t id, uint32_t n, fh_shm_top_t* top,
                            fh_shm_level_t* bids, uint32_t* n_bids, fh_shm_level_t* asks,
                            uint32_t* n_asks) FH_SHM_NOEXCEPT;

/* Starts a cursor at the oldest record still retained (from_oldest != 0) or at the next
 * record to be appended. */
FH_SHM_API int fh_shm_journal_open(const fh_shm_reader* r, int from_oldest,
                                   fh_shm_journal_t* cursor) FH_SHM_NOEXCEPT;
/* Copies up to max records, in order, into out[]; *delivered = how many. *lost (may be NULL)
 * = records the writer overwrote before this cursor read them; they come right before the
 * delivered run. After a lap re-read the books you care about with fh_shm_depth. */
FH_SHM_API int fh_shm_journal_poll(const fh_shm_reader* r, fh_shm_journal_t* cursor,
                                   fh_shm_record_t* out, size_t max, size_t* delivered,
                                   uint64_t* lost) FH_SHM_NOEXCEPT;
/* Next position the cursor delivers, and the writer's tail (records ever appended). */
FH_SHM_API uint64_t fh_shm_journal_position(const fh_shm_journal_t* cursor) FH_SHM_NOEXCEPT;
FH_SHM_API uint64_t fh_shm_journal_tail(const fh_shm_reader* r) FH_SHM_NOEXCEPT;

/* Per-venue counters (index: 0 messages, 1 bytes, ... as named by fh_shm_counter_name). */
FH_SHM_API uint64_t fh_shm_counter(const fh_shm_reader* r, uint32_t venue,
                                   uint32_t index) FH_SHM_NOEXCEPT;
FH_SHM_API const char* fh_shm_counter_name(const fh_shm_reader* r, uint32_t index) FH_SHM_NOEXCEPT;
FH_SHM_API const char* fh_shm_venue_name(const fh_shm_reader* r, uint32_t venue) FH_SHM_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FH_SHM_H */
