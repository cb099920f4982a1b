"""Read a feedhandler shared-memory segment from Python (standard library only: ctypes).

A thin layer over libfh_shm.so, the C ABI of the segment reader (shm/fh_shm.h). Books and the
event journal are read exactly as a C++ strategy reads them (seqlocked consistent copies,
lap counts); prices and quantities come back as decimal.Decimal built from the integer
mantissas, never through a float.

    import fh_shm
    with fh_shm.Reader("fh-main", timeout_s=5) as r:
        btc = r.find("binance-usdm:BTC-USDT-PERP")
        top = r.top(btc)                        # top.best_bid.price -> Decimal('61800.20')
        book = r.depth(btc, 5)                  # book.bids[0].qty ...
        journal = r.journal(from_oldest=True)
        records, lost = journal.poll(256)       # lost > 0: lapped, re-read books with depth()
        if r.writer_restarted():
            r.reattach(5)                       # then open a new journal

Where the library is looked for, in order:
  1. $FH_SHM_LIB: the full path of libfh_shm.so;
  2. libfh_shm.so next to this file;
  3. <repo>/build/*/shm/libfh_shm.so (a build tree of this repository, newest first; trees
     configured with FH_SANITIZE are skipped: they need the sanitizer runtime preloaded);
  4. the dynamic loader's search path (LD_LIBRARY_PATH, ldconfig): "libfh_shm.so".

Errors raise ShmError (code, name and the library's one-line message). A Reader is not
thread-safe in Python terms: give each thread its own Reader or Journal.
"""

import ctypes
import decimal
import glob
import os

__all__ = ["ShmError", "Reader", "Journal", "Instrument", "Level", "Top", "Book", "Record",
           "WriterStatus", "load_library", "layout_version"]

# ---- constants (shm/fh_shm.h) ----------------------------------------------------------------

OK = 0
E_NOT_FOUND = 2
E_NOT_READY = 4
E_MAJOR_MISMATCH = 7
E_NO_SUCH_INSTRUMENT = 24
E_STALE_CURSOR = 26
MAX_DEPTH = 64

BOOK_STATUS = {0: "empty", 1: "waiting_snapshot", 2: "synced", 3: "stale", 4: "crossed"}
WRITER_STATE = {0: "starting", 1: "running", 2: "closed", 3: "superseded"}
RECORD_TYPE = {1: "book_begin", 2: "book_level", 3: "book_end", 4: "trade", 5: "bbo",
               6: "status"}
AGGRESSOR = {0: "unknown", 1: "buy", 2: "sell"}

# ---- ctypes mirrors of the C structs ---------------------------------------------------------

_i64, _u64, _u32, _i32, _u16, _u8 = (ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint32,
                                     ctypes.c_int32, ctypes.c_uint16, ctypes.c_uint8)


class _Level(ctypes.Structure):
    _fields_ = [("price", _i64), ("qty", _i64), ("orders", _u32), ("reserved", _u32)]


class _Instrument(ctypes.Structure):
    _fields_ = [("id", _u32), ("venue_id", _u8), ("kind", _u8), ("price_decimals", _u8),
                ("qty_decimals", _u8), ("tick", _i64), ("lot", _i64),
                ("venue", ctypes.c_char * 16), ("native", ctypes.c_char * 40),
                ("canonical", ctypes.c_char * 40)]


class _Top(ctypes.Structure):
    _fields_ = [("version", _u64), ("instrument", _u32), ("status", _u8), ("trade_side", _u8),
                ("depth", _u16), ("n_bids", _u16), ("n_asks", _u16), ("reserved", _u32),
                ("last_seq", _u64), ("exch_ts_ns", _i64), ("recv_ts_ns", _i64),
                ("publish_ts_ns", _i64), ("book_updates", _u64), ("best_bid", _Level),
                ("best_ask", _Level), ("bbo_bid_price", _i64), ("bbo_bid_qty", _i64),
                ("bbo_ask_price", _i64), ("bbo_ask_qty", _i64), ("bbo_update_id", _u64),
                ("bbo_exch_ts_ns", _i64), ("bbo_recv_ts_ns", _i64), ("bbo_updates", _u64),
                ("trade_price", _i64), ("trade_qty", _i64), ("trade_id", _u64),
                ("trade_exch_ts_ns", _i64), ("trade_recv_ts_ns", _i64), ("trades", _u64),
                ("status_changes", _u64), ("status_ts_ns", _i64)]


class _Begin(ctypes.Structure):
    _fields_ = [("first_seq", _u64), ("last_seq", _u64), ("prev_seq", _u64), ("levels", _u32),
                ("depth", _u32)]


class _LevelRec(ctypes.Structure):
    _fields_ = [("price", _i64), ("qty", _i64), ("orders", _u32), ("price_text_dp", _u8),
                ("qty_text_dp", _u8)]


class _End(ctypes.Structure):
    _fields_ = [("checksum", _i64)]


class _Trade(ctypes.Structure):
    _fields_ = [("price", _i64), ("qty", _i64), ("trade_id", _u64)]


class _Bbo(ctypes.Structure):
    _fields_ = [("bid_price", _i64), ("bid_qty", _i64), ("ask_price", _i64), ("ask_qty", _i64)]


class _Status(ctypes.Structure):
    _fields_ = [("status", _u8), ("reason", _u8), ("last_seq", _u64)]


class _Payload(ctypes.Union):
    _fields_ = [("begin", _Begin), ("level", _LevelRec), ("end", _End), ("trade", _Trade),
                ("bbo", _Bbo), ("status", _Status)]


class _Record(ctypes.Structure):
    _fields_ = [("position", _u64), ("type", _u8), ("flags", _u8), ("side", _u8),
                ("venue", _u8), ("instrument", _u32), ("exch_ts_ns", _i64),
                ("recv_ts_ns", _i64), ("publish_ts_ns", _i64), ("payload", _Payload)]


class _WriterStatus(ctypes.Structure):
    _fields_ = [("state", _u32), ("pid", _i32), ("generation", _u64), ("start_time_ns", _i64),
                ("heartbeat_ns", _i64), ("heartbeat_age_ns", _i64)]


class _SegmentInfo(ctypes.Structure):
    _fields_ = [("layout_major", _u16), ("layout_minor", _u16), ("depth", _u32),
                ("max_instruments", _u32), ("journal_capacity", _u32), ("total_size", _u64),
                ("generation", _u64)]


class _Cursor(ctypes.Structure):
    _fields_ = [("opaque", _u64 * 8)]


# ---- library -----------------------------------------------------------------------------------

_LIB = None
_P = ctypes.POINTER


def _sanitized(build_dir):
    """True for a build tree configured with FH_SANITIZE: its library would abort a Python
    that was not started with the sanitizer runtime preloaded."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as cache:
            return any(line.startswith("FH_SANITIZE:") and line.strip().split("=", 1)[1]
                       for line in cache)
    except OSError:
        return False


def _candidates():
    env = os.environ.get("FH_SHM_LIB")
    if env:
        return [env]  # an explicit choice is never second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    found = [os.path.join(here, "libfh_shm.so")]
    repo = os.path.dirname(os.path.dirname(here))
    builds = [b for b in glob.glob(os.path.join(repo, "build", "*", "shm", "libfh_shm.so"))
              if not _sanitized(os.path.dirname(os.path.dirname(b)))]
    found += sorted(builds, key=os.path.getmtime, reverse=True)
    found.append("libfh_shm.so")
    return found


def load_library():
    """Loads libfh_shm.so once (see the module docstring for where it is looked for)."""
    global _LIB
    if _LIB is not None:
        return _LIB
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(path + ": no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise OSError("libfh_shm.so not found (set FH_SHM_LIB): " + "; ".join(errors))
    c_int, c_char_p, c_size_t = ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    rd = ctypes.c_void_p
    sigs = {
        "fh_shm_layout_version": (_u32, []),
        "fh_shm_strerror": (c_char_p, [c_int]),
        "fh_shm_last_error": (c_char_p, []),
        "fh_shm_open": (c_int, [c_char_p, _i64, _P(rd)]),
        "fh_shm_close": (None, [rd]),
        "fh_shm_error_message": (c_char_p, [rd]),
        "fh_shm_path": (c_char_p, [rd]),
        "fh_shm_set_read_budget_ns": (c_int, [rd, _i64]),
        "fh_shm_segment_info": (c_int, [rd, _P(_SegmentInfo)]),
        "fh_shm_writer_status": (c_int, [rd, _P(_WriterStatus)]),
        "fh_shm_writer_restarted": (c_int, [rd]),
        "fh_shm_reattach": (c_int, [rd, _i64]),
        "fh_shm_instrument_count": (_u32, [rd]),
        "fh_shm_find": (c_int, [rd, c_char_p, _P(_u32)]),
        "fh_shm_instrument": (c_int, [rd, _u32, _P(_Instrument)]),
        "fh_shm_top": (c_int, [rd, _u32, _P(_Top)]),
        "fh_shm_depth": (c_int, [rd, _u32, _u32, _P(_Top), _P(_Level), _P(_u32), _P(_Level),
                                 _P(_u32)]),
        "fh_shm_journal_open": (c_int, [rd, c_int, _P(_Cursor)]),
        "fh_shm_journal_poll": (c_int, [rd, _P(_Cursor), _P(_Record), c_size_t, _P(c_size_t),
                                        _P(_u64)]),
        "fh_shm_journal_position": (_u64, [_P(_Cursor)]),
        "fh_shm_journal_tail": (_u64, [rd]),
        "fh_shm_counter": (_u64, [rd, _u32, _u32]),
        "fh_shm_counter_name": (c_char_p, [rd, _u32]),
        "fh_shm_venue_name": (c_char_p, [rd, _u32]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _LIB = lib
    return lib


def layout_version():
    """(major, minor) of the segment layout the library reads."""
    v = load_library().fh_shm_layout_version()
    return v >> 16, v & 0xFFFF


# ---- values ------------------------------------------------------------------------------------

class ShmError(Exception):
    """A refused call: .code (FH_SHM_E_*), .name ("not_found") and the library's message."""

    def __init__(self, code, message):
        self.code = code
        self.name = load_library().fh_shm_strerror(code).decode()
        self.message = message
        super().__init__("%s: %s" % (self.name, message))


def _check(code):
    if code != OK:
        raise ShmError(code, load_library().fh_shm_last_error().decode(errors="replace"))


_EXACT = decimal.Context(prec=40)  # an int64 mantissa has at most 19 digits: never rounds


def _dec(mantissa, decimals):
    return decimal.Decimal(mantissa).scaleb(-decimals, context=_EXACT)


class Instrument:
    __slots__ = ("id", "venue_id", "kind", "venue", "native", "canonical", "price_decimals",
                 "qty_decimals", "tick", "lot")

    def __init__(self, c):
        self.id = c.id
        self.venue_id, self.kind = c.venue_id, c.kind
        self.venue, self.native = c.venue.decode(), c.native.decode()
        self.canonical = c.canonical.decode()
        self.price_decimals, self.qty_decimals = c.price_decimals, c.qty_decimals
        self.tick = _dec(c.tick, c.price_decimals)
        self.lot = _dec(c.lot, c.qty_decimals)

    def price(self, mantissa):
        return _dec(mantissa, self.price_decimals)

    def qty(self, mantissa):
        return _dec(mantissa, self.qty_decimals)

    def __repr__(self):
        return "Instrument(%d, %s:%s)" % (self.id, self.venue, self.canonical)


class Level:
    __slots__ = ("price", "qty", "orders")

    def __init__(self, price, qty, orders):
        self.price, self.qty, self.orders = price, qty, orders

    def __repr__(self):
        return "Level(%s x %s)" % (self.price, self.qty)


class Top:
    """One consistent copy of a book slot's head. Prices/quantities are Decimal."""

    def __init__(self, c, inst):
        p, q = inst.price, inst.qty
        self.instrument = inst
        self.version = c.version
        self.status = BOOK_STATUS.get(c.status, str(c.status))
        self.depth, self.n_bids, self.n_asks = c.depth, c.n_bids, c.n_asks
        self.last_seq = c.last_seq
        self.exch_ts_ns, self.recv_ts_ns, self.publish_ts_ns = (c.exch_ts_ns, c.recv_ts_ns,
                                                                c.publish_ts_ns)
        self.book_updates = c.book_updates
        self.best_bid = Level(p(c.best_bid.price), q(c.best_bid.qty), c.best_bid.orders) \
            if c.n_bids else None
        self.best_ask = Level(p(c.best_ask.price), q(c.best_ask.qty), c.best_ask.orders) \
            if c.n_asks else None
        self.bbo = None
        if c.bbo_updates:
            self.bbo = (Level(p(c.bbo_bid_price), q(c.bbo_bid_qty), 0),
                        Level(p(c.bbo_ask_price), q(c.bbo_ask_qty), 0))
        self.bbo_update_id, self.bbo_updates = c.bbo_update_id, c.bbo_updates
        self.trade = None
        if c.trades:
            self.trade = Level(p(c.trade_price), q(c.trade_qty), 0)
        self.trade_id, self.trade_side = c.trade_id, AGGRESSOR.get(c.trade_side, "?")
        self.trades, self.status_changes = c.trades, c.status_changes

    def mid(self):
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid.price + self.best_ask.price) / 2

    def spread(self):
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask.price - self.best_bid.price

    def microprice(self):
        """Size-weighted mid (leans towards the side with less size)."""
        b, a = self.best_bid, self.best_ask
        if b is None or a is None or b.qty + a.qty == 0:
            return None
        return (b.price * a.qty + a.price * b.qty) / (b.qty + a.qty)


class Book:
    def __init__(self, top, bids, asks):
        self.top, self.bids, self.asks = top, bids, asks


class WriterStatus:
    def __init__(self, c):
        self.state = WRITER_STATE.get(c.state, str(c.state))
        self.pid, self.generation = c.pid, c.generation
        self.start_time_ns, self.heartbeat_ns = c.start_time_ns, c.heartbeat_ns
        self.heartbeat_age_ns = c.heartbeat_age_ns


class Record:
    """One journal record; payload fields depend on .type (prices as Decimal)."""

    def __init__(self, c, inst):
        self.position = c.position
        self.type = RECORD_TYPE.get(c.type, str(c.type))
        self.flags, self.side, self.venue = c.flags, c.side, c.venue
        self.instrument = c.instrument
        self.exch_ts_ns, self.recv_ts_ns, self.publish_ts_ns = (c.exch_ts_ns, c.recv_ts_ns,
                                                                c.publish_ts_ns)
        pl = c.payload
        price = inst.price if inst is not None else (lambda m: m)  # unknown id: mantissas
        qty = inst.qty if inst is not None else (lambda m: m)
        if c.type == 1:
            b = pl.begin
            self.first_seq, self.last_seq, self.prev_seq = b.first_seq, b.last_seq, b.prev_seq
            self.levels, self.depth = b.levels, b.depth
        elif c.type == 2:
            self.price, self.qty, self.orders = (price(pl.level.price), qty(pl.level.qty),
                                                 pl.level.orders)
            self.price_text_dp, self.qty_text_dp = pl.level.price_text_dp, pl.level.qty_text_dp
        elif c.type == 3:
            self.checksum = pl.end.checksum
        elif c.type == 4:
            self.price, self.qty = price(pl.trade.price), qty(pl.trade.qty)
            self.trade_id = pl.trade.trade_id
            self.aggressor = AGGRESSOR.get(c.side, "?")
        elif c.type == 5:
            b = pl.bbo
            self.bid_price, self.bid_qty = price(b.bid_price), qty(b.bid_qty)
            self.ask_price, self.ask_qty = price(b.ask_price), qty(b.ask_qty)
        elif c.type == 6:
            self.status = BOOK_STATUS.get(pl.status.status, str(pl.status.status))
            self.reason, self.last_seq = pl.status.reason, pl.status.last_seq

    def __repr__(self):
        return "Record(%d %s instrument %d)" % (self.position, self.type, self.instrument)


# ---- reader --------------------------------------------------------------------------------

class Journal:
    """A cursor over the journal; stale after Reader.reattach() (open a new one)."""

    def __init__(self, reader, from_oldest):
        self._reader = reader
        self._cursor = _Cursor()
        self._buf_size = 0
        self._buf = None
        self.lost_total = 0
        _check(reader._lib.fh_shm_journal_open(reader._handle(), 1 if from_oldest else 0,
                                               ctypes.byref(self._cursor)))

    def poll(self, max_records=256):
        """(records, lost): up to max_records in order, and how many the writer overwrote
        before this cursor read them (they come right before the returned records)."""
        if self._buf_size < max_records:
            self._buf = (_Record * max_records)()
            self._buf_size = max_records
        delivered, lost = ctypes.c_size_t(0), _u64(0)
        r = self._reader
        _check(r._lib.fh_shm_journal_poll(r._handle(), ctypes.byref(self._cursor), self._buf,
                                          max_records, ctypes.byref(delivered),
                                          ctypes.byref(lost)))
        self.lost_total += lost.value
        return [Record(self._buf[i], r._instrument_cached(self._buf[i].instrument))
                for i in range(delivered.value)], lost.value

    def __iter__(self):
        """The records available now, in order; stops when caught up. Laps do not raise:
        records lost to them are added to .lost_total."""
        while True:
            records, _ = self.poll()
            if not records:
                return
            yield from records

    @property
    def position(self):
        return self._reader._lib.fh_shm_journal_position(ctypes.byref(self._cursor))


class Reader:
    """A read-only mapping of one segment ("fh-main" = /dev/shm/fh-main, or a file path)."""

    def __init__(self, name, timeout_s=0.0):
        self._lib = load_library()
        self._h = ctypes.c_void_p()
        self._instruments = {}
        _check(self._lib.fh_shm_open(name.encode(), int(timeout_s * 1e9), ctypes.byref(self._h)))

    def _handle(self):
        if not self._h:
            raise ShmError(20, "reader is closed")
        return self._h

    def close(self):
        if self._h:
            self._lib.fh_shm_close(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_lib", None) is not None:
            self.close()

    @property
    def path(self):
        return self._lib.fh_shm_path(self._handle()).decode()

    def segment_info(self):
        c = _SegmentInfo()
        _check(self._lib.fh_shm_segment_info(self._handle(), ctypes.byref(c)))
        return {f: getattr(c, f) for f, _ in _SegmentInfo._fields_}

    def writer_status(self):
        c = _WriterStatus()
        _check(self._lib.fh_shm_writer_status(self._handle(), ctypes.byref(c)))
        return WriterStatus(c)

    def writer_restarted(self):
        return self._lib.fh_shm_writer_restarted(self._handle()) != 0

    def reattach(self, timeout_s=0.0):
        """Maps the same name again after a writer restart; journals must be reopened."""
        self._instruments = {}
        _check(self._lib.fh_shm_reattach(self._handle(), int(timeout_s * 1e9)))

    def instrument(self, id):
        c = _Instrument()
        _check(self._lib.fh_shm_instrument(self._handle(), id, ctypes.byref(c)))
        inst = Instrument(c)
        self._instruments[id] = inst
        return inst

    def _instrument_cached(self, id):
        inst = self._instruments.get(id)
        if inst is None:
            try:
                inst = self.instrument(id)
            except ShmError:
                return None
        return inst

    def instruments(self):
        out = []
        for id in range(self._lib.fh_shm_instrument_count(self._handle())):
            inst = self._instrument_cached(id)
            if inst is not None:
                out.append(inst)
        return out

    def find(self, key):
        """Instrument for "venue:CANONICAL", "venue:NATIVE" or a bare symbol; None if absent."""
        id = _u32(0)
        code = self._lib.fh_shm_find(self._handle(), key.encode(), ctypes.byref(id))
        if code == E_NO_SUCH_INSTRUMENT:
            return None
        _check(code)
        return self.instrument(id.value)

    def _inst(self, which):
        if isinstance(which, Instrument):
            return which
        inst = self._instrument_cached(which)
        if inst is None:
            raise ShmError(E_NO_SUCH_INSTRUMENT, "no directory entry for instrument %r" % which)
        return inst

    def top(self, instrument):
        inst = self._inst(instrument)
        c = _Top()
        _check(self._lib.fh_shm_top(self._handle(), inst.id, ctypes.byref(c)))
        return Top(c, inst)

    def depth(self, instrument, n):
        """Book with the best min(n, published) levels per side, from one version of the slot."""
        inst = self._inst(instrument)
        n = max(0, min(int(n), MAX_DEPTH))
        bids, asks = (_Level * max(n, 1))(), (_Level * max(n, 1))()
        nb, na, c = _u32(0), _u32(0), _Top()
        _check(self._lib.fh_shm_depth(self._handle(), inst.id, n, ctypes.byref(c), bids,
                                      ctypes.byref(nb), asks, ctypes.byref(na)))
        side = lambda levels, k: [Level(inst.price(levels[i].price), inst.qty(levels[i].qty),
                                        levels[i].orders) for i in range(k)]
        return Book(Top(c, inst), side(bids, nb.value), side(asks, na.value))

    def journal(self, from_oldest=False):
        return Journal(self, from_oldest)

    def journal_tail(self):
        return self._lib.fh_shm_journal_tail(self._handle())

    def counter(self, venue, index):
        return self._lib.fh_shm_counter(self._handle(), venue, index)

    def counter_name(self, index):
        return self._lib.fh_shm_counter_name(self._handle(), index).decode()

    def venue_name(self, venue):
        return self._lib.fh_shm_venue_name(self._handle(), venue).decode()
