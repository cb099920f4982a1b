#!/usr/bin/env python3
"""Example strategy in Python: the same loop as strategy_top.cpp over shm/python/fh_shm.py.

    strategy_top.py <segment> <symbol> [seconds]
    FH_SHM_LIB=build/release/shm/libfh_shm.so strategy_top.py fh-main BTCUSDT 30

Prints best levels, mid, spread and microprice (Decimal, exact) when the book changed, at
most every 100 ms; counts journal records and laps; re-attaches when the feed handler
restarts; stops after `seconds` (default 10) or when the writer closes.
"""
import os
import sys
import time
from decimal import ROUND_DOWN, Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import fh_shm  # noqa: E402

PRINT_EVERY_S = 0.1
RESTART_CHECK_S = 0.01


def find_until(reader, symbol, deadline):
    while True:
        inst = reader.find(symbol)
        if inst is not None or time.monotonic() >= deadline:
            return inst
        time.sleep(0.001)


def show(inst, top, stats):
    if top.best_bid is None or top.best_ask is None:
        print("%s %s one side empty (bids %d, asks %d) journal %d records %d lost %d laps"
              % (inst.native, top.status, top.n_bids, top.n_asks, stats["records"],
                 stats["lost"], stats["laps"]), flush=True)
        return
    b, a = top.best_bid, top.best_ask
    # Decimal throughout; the microprice is cut to price decimals + 2 like the C++ example.
    micro = top.microprice().quantize(Decimal(1).scaleb(-(inst.price_decimals + 2)),
                                      rounding=ROUND_DOWN)
    print("%s %s bid %s x %s ask %s x %s mid %s spread %s micro %s seq %d journal %d records "
          "%d trades %d lost %d laps"
          % (inst.native, top.status, b.price, b.qty, a.price, a.qty, top.mid(), top.spread(),
             micro, top.last_seq, stats["records"],
             stats["trades"], stats["lost"], stats["laps"]), flush=True)


def main(argv):
    if len(argv) < 3:
        print("usage: %s <segment> <symbol> [seconds]" % argv[0], file=sys.stderr)
        return 2
    segment, symbol = argv[1], argv[2]
    deadline = time.monotonic() + (float(argv[3]) if len(argv) > 3 else 10.0)
    try:
        reader = fh_shm.Reader(segment, timeout_s=5)
    except fh_shm.ShmError as e:
        print("attach: %s" % e, file=sys.stderr)
        return 1
    print("attached %s generation %d" % (reader.path, reader.segment_info()["generation"]),
          flush=True)
    inst = find_until(reader, symbol, deadline)
    if inst is None:
        print("%s: no instrument %s" % (reader.path, symbol), file=sys.stderr)
        return 1
    journal = reader.journal(from_oldest=True)
    stats = dict(records=0, trades=0, lost=0, laps=0, prints=0, reattaches=0)
    printed_version, printed_records = None, 0
    last_print, last_check = 0.0, time.monotonic()
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        records, lost = journal.poll(256)
        stats["records"] += len(records)
        stats["trades"] += sum(1 for r in records if r.type == "trade" and r.instrument == inst.id)
        if lost:  # lapped: the book itself is always current, only events were missed
            stats["lost"] += lost
            stats["laps"] += 1
        top = reader.top(inst)
        changed = top.version != printed_version or stats["records"] != printed_records
        if changed and top.book_updates and now - last_print >= PRINT_EVERY_S:
            show(inst, top, stats)
            printed_version, printed_records, last_print = top.version, stats["records"], now
            stats["prints"] += 1
        if records:
            continue
        if now - last_check >= RESTART_CHECK_S:
            last_check = now
            if reader.writer_restarted():
                reader.reattach(5)
                stats["reattaches"] += 1
                print("writer restarted: reattached generation %d"
                      % reader.segment_info()["generation"], flush=True)
                inst = find_until(reader, symbol, deadline)
                if inst is None:
                    print("no instrument %s after restart" % symbol, file=sys.stderr)
                    return 1
                journal = reader.journal(from_oldest=True)
                printed_version, last_print = None, 0.0
                continue
            if reader.writer_status().state == "closed":
                top = reader.top(inst)
                if top.book_updates and top.version != printed_version:
                    show(inst, top, stats)
                print("writer closed", flush=True)
                break
        time.sleep(0.0002)
    print("done: %d prints %d records %d lost %d laps %d reattaches"
          % (stats["prints"], stats["records"], stats["lost"], stats["laps"],
             stats["reattaches"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
