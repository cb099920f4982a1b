#!/usr/bin/env python3
"""Checks shm/python/fh_shm.py against a segment written by tests/shm/python_test.cpp.

    test_fh_shm.py <expectations.json>

The JSON holds what the C++ test published, computed from real Binance USD-M data (decimal
text formatted from the venue's mantissas). Every check compares Decimal values. Midway the
script prints WAIT_RESTART; the C++ side then replaces the segment (a writer restart) and this
script must notice, re-attach and read the new book. Exit status 0 and "ALL OK" on success.
"""
import json
import os
import sys
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "shm", "python"))
import fh_shm  # noqa: E402

failures = []


def check(what, got, want):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))


def D(text):
    return Decimal(text)


def main():
    e = json.load(open(sys.argv[1]))

    # A missing segment raises with the library's message.
    try:
        fh_shm.Reader(e["segment"] + "-missing")
        failures.append("opening a missing segment did not raise")
    except fh_shm.ShmError as err:
        check("missing: code", err.code, fh_shm.E_NOT_FOUND)
        check("missing: name", err.name, "not_found")
        check("missing: message names the path",
              ("/dev/shm/" + e["segment"] + "-missing") in err.message, True)

    r = fh_shm.Reader(e["segment"], timeout_s=5)
    check("layout major", fh_shm.layout_version()[0], r.segment_info()["layout_major"])
    check("writer state", r.writer_status().state, "running")

    # Directory.
    inst = r.find(e["key"])
    check("find", inst is not None, True)
    check("find native", r.find(e["native"]).id, e["id"])
    check("find unknown", r.find("okx:" + e["canonical"]), None)
    check("id", inst.id, e["id"])
    check("canonical", inst.canonical, e["canonical"])
    check("native", inst.native, e["native"])
    check("venue", inst.venue, "binance-usdm")
    check("price decimals", inst.price_decimals, e["price_decimals"])
    check("qty decimals", inst.qty_decimals, e["qty_decimals"])
    check("tick", inst.tick, D(e["tick"]))
    check("lot", inst.lot, D(e["lot"]))
    check("instruments", len(r.instruments()), e["instrument_count"])

    # Top of book, venue BBO and last trade.
    t = r.top(inst)
    et = e["top"]
    check("status", t.status, et["status"])
    check("last_seq", t.last_seq, et["last_seq"])
    check("n_bids", t.n_bids, et["n_bids"])
    check("n_asks", t.n_asks, et["n_asks"])
    check("best bid price", t.best_bid.price, D(et["bids"][0][0]))
    check("best bid qty", t.best_bid.qty, D(et["bids"][0][1]))
    check("best ask price", t.best_ask.price, D(et["asks"][0][0]))
    check("best ask qty", t.best_ask.qty, D(et["asks"][0][1]))
    check("prices are Decimal", type(t.best_bid.price), Decimal)
    check("mid", t.mid(), D(et["mid"]))
    check("spread", t.spread(), D(et["spread"]))
    b, a = t.best_bid, t.best_ask
    check("microprice between bid and ask", b.price <= t.microprice() <= a.price, True)
    check("bbo", [t.bbo[0].price, t.bbo[0].qty, t.bbo[1].price, t.bbo[1].qty],
          [D(x) for x in e["bbo"]])
    check("last trade", [t.trade.price, t.trade.qty, t.trade_id],
          [D(e["last_trade"][0]), D(e["last_trade"][1]), e["last_trade"][2]])
    check("trades", t.trades, e["trades"])

    # Depth: five levels per side, and more than the segment keeps.
    book = r.depth(inst.id, 5)
    check("depth bids", [[l.price, l.qty] for l in book.bids],
          [[D(p), D(q)] for p, q in et["bids"]])
    check("depth asks", [[l.price, l.qty] for l in book.asks],
          [[D(p), D(q)] for p, q in et["asks"]])
    check("depth 64 is cut to the segment's", len(r.depth(inst, 64).bids), et["n_bids"])
    try:
        r.top(e["instrument_count"])
        failures.append("top of an id outside the segment did not raise")
    except fh_shm.ShmError as err:
        check("bad id code", err.code, fh_shm.E_NO_SUCH_INSTRUMENT)

    # Journal: the ring lapped the oldest records; the rest arrive in order.
    j = r.journal(from_oldest=True)
    records, lost = j.poll(1000)
    ej = e["journal"]
    check("journal lost", lost, ej["lost"])
    check("journal records", len(records), len(ej["records"]))
    for rec, (pos, trade_id, price, qty, side) in zip(records, ej["records"]):
        check("record %d" % pos, [rec.position, rec.type, rec.trade_id, rec.price, rec.qty,
                                  rec.aggressor, rec.instrument],
              [pos, "trade", trade_id, D(price), D(qty), side, e["id"]])
    check("journal caught up", j.poll(10), ([], 0))
    check("journal iterator empty when caught up", list(j), [])
    now = r.journal()
    check("journal from now", now.position, r.journal_tail())

    # Restart: the C++ side replaces the segment when it reads WAIT_RESTART.
    check("not restarted yet", r.writer_restarted(), False)
    print("WAIT_RESTART", flush=True)
    deadline = time.monotonic() + 10
    while not r.writer_restarted() and time.monotonic() < deadline:
        time.sleep(0.001)
    check("restart noticed", r.writer_restarted(), True)
    check("old segment says superseded", r.writer_status().state, "superseded")
    # Before the restart the old writer appended a ring and a half: the caught-up cursor on the
    # old mapping is lapped and told exactly how many records it lost.
    records, lost = j.poll(1000)
    el = e["lap"]
    check("lap lost", lost, el["lost"])
    check("lap delivered", len(records), el["count"])
    if records:
        check("lap first", [records[0].position, records[0].trade_id],
              [el["first"], el["first_trade_id"]])
        check("lap last", records[-1].trade_id, el["last_trade_id"])
    check("lap lost_total", j.lost_total, el["lost"])
    try:
        r.reattach(5)
        check("generation after restart", r.segment_info()["generation"],
              e["restart"]["generation"])
        inst = r.find(e["key"])
        deadline = time.monotonic() + 10
        while r.top(inst).book_updates == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        t = r.top(inst)
        check("new book last_seq", t.last_seq, e["restart"]["last_seq"])
        check("new book bid", t.best_bid.price, D(e["restart"]["bid"]))
        try:
            j.poll(1)
            failures.append("a cursor of the old attachment still polled")
        except fh_shm.ShmError as err:
            check("stale cursor", err.code, fh_shm.E_STALE_CURSOR)
    except fh_shm.ShmError as err:
        failures.append("restart: %s" % err)
    r.close()

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), flush=True)
        return 1
    print("ALL OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
