#!/usr/bin/env bash
# Peer comparison in one run, on one pinned core, on the same recorded frames (frames.mjs):
#   ours:       fh-bench pipeline --json  (parse + normalize + validate + book + shm publish,
#               fused, median over passes; its last stdout line is JSON)
#   tardis-dev: tardis.mjs (its normalizer + OrderBook)
#   ccxt:       ccxt.mjs   (ccxt.pro handleMessage -> handleOrderBook -> WsOrderBook)
# Ours and the peers alternate for FH_ROUNDS rounds; each round gives one ratio per venue and
# peer (peer ns / ours ns, measured minutes apart at most), and the table shows their median and
# range, so load that comes and goes on a shared host shows up as spread instead of a skewed ratio.
# Untimed, once: one update frame dropped (frames.mjs frameToDrop) for each peer and for our
# fh-replay (on a copy of the capture without that line), and the final best bid/ask of every
# book cross-checked between ours and both peers.
# Prints a table, then one JSON line last. Builds nothing, installs nothing: run setup.sh first.
#
#   bench/peers/compare.sh [path/to/fh-bench]
#   env: FH_BENCH_CPU (core, default 1), FH_ROUNDS (default 3), FH_BENCH_PASSES (ours, default 21),
#        FH_PEER_PASSES (default 31), FH_PEER_WARMUP (default 20), FH_REPLAY (fh-replay binary,
#        default next to fh-bench), FH_PEERS_OUT (keep raw output there; default a temp dir)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cpu="${FH_BENCH_CPU:-1}"
rounds="${FH_ROUNDS:-3}"
ours_passes="${FH_BENCH_PASSES:-21}"
peer_passes="${FH_PEER_PASSES:-31}"
peer_warmup="${FH_PEER_WARMUP:-20}"

bin="${1:-}"
if [[ -z "$bin" ]]; then
  for c in build/bench/bench/fh-bench build/release/bench/fh-bench; do
    if [[ -x "$root/$c" ]]; then bin="$root/$c"; break; fi
  done
fi
[[ -n "$bin" && -x "$bin" ]] || { echo "compare.sh: no fh-bench binary; build the fh-bench target (Release) and pass its path" >&2; exit 2; }
replay="${FH_REPLAY:-$(dirname "$bin")/../tools/fh-replay}"
command -v node >/dev/null || { echo "compare.sh: node is required" >&2; exit 2; }
command -v taskset >/dev/null || { echo "compare.sh: taskset is required (util-linux)" >&2; exit 2; }
for p in tardis-dev ccxt; do
  [[ -f "$here/node_modules/$p/package.json" ]] || { echo "compare.sh: $p is not installed; run bench/peers/setup.sh" >&2; exit 2; }
done

out="${FH_PEERS_OUT:-$(mktemp -d)}"
mkdir -p "$out/gapped"
venues=(okx binance_usdm)

# The files each venue reads come from frames.mjs, so every side reads the same inputs.
fh_inputs() {
  node -e 'import(process.argv[1]).then(({ loadDataset }) => { for (const f of loadDataset(process.argv[2]).fhInputs) console.log(f); });' \
    "$here/frames.mjs" "$1"
}

# Untimed: ours on the intact and on the gapped capture.
if [[ -x "$replay" ]]; then
  for v in "${venues[@]}"; do
    mapfile -t inputs < <(fh_inputs "$v")
    node -e 'import(process.argv[1]).then(({ loadDataset, writeGappedCapture }) =>
               console.log(JSON.stringify(writeGappedCapture(loadDataset(process.argv[2]), process.argv[3]))));' \
      "$here/frames.mjs" "$v" "$out/gapped" >"$out/gapped_$v.json"
    mapfile -t ginputs < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["inputs"]))' "$out/gapped_$v.json")
    "$replay" --no-progress --depth 0 "${inputs[@]}" | tail -n 1 >"$out/replay_$v.json"
    "$replay" --no-progress --depth 0 "${ginputs[@]}" | tail -n 1 >"$out/replay_gapped_$v.json"
  done
else
  echo "compare.sh: no fh-replay at $replay (set FH_REPLAY): our dropped-frame row is skipped" >&2
fi

for ((r = 1; r <= rounds; r++)); do
  for v in "${venues[@]}"; do
    mapfile -t inputs < <(fh_inputs "$v")
    echo "compare.sh: round $r/$rounds ours $v: fh-bench pipeline --core $cpu --passes $ours_passes ${inputs[*]##*/}" >&2
    "$bin" pipeline --json --core "$cpu" --passes "$ours_passes" "${inputs[@]}" | tail -n 1 >"$out/ours_${v}_$r.json"
  done
  drop_flag=()
  [[ $r -gt 1 ]] && drop_flag=(--no-drop-check)
  # One node process per peer and venue, so V8 compiles each peer's code for one venue's data
  # only and one venue's JIT and heap state cannot leak into the other's numbers.
  for p in tardis ccxt; do
    : >"$out/${p}_$r.jsonl"
    for v in "${venues[@]}"; do
      echo "compare.sh: round $r/$rounds taskset -c $cpu node $p.mjs --only $v --passes $peer_passes --warmup $peer_warmup" >&2
      taskset -c "$cpu" node "$here/$p.mjs" --only "$v" --passes "$peer_passes" --warmup "$peer_warmup" "${drop_flag[@]}" >>"$out/${p}_$r.jsonl"
    done
  done
done

python3 - "$out" "$cpu" "$rounds" "${venues[@]}" <<'PY'
import json, os, statistics, sys

out, cpu, rounds, venues = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
targets = {"tardis-dev": 20.0, "ccxt": 30.0}
files = {"tardis-dev": "tardis", "ccxt": "ccxt"}
def load_opt(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None

peers, drops = {}, []          # peers[(peer, venue)] = [round results]
ours = {v: [] for v in venues}
for r in range(1, rounds + 1):
    for v in venues:
        ours[v].append(json.load(open(os.path.join(out, f"ours_{v}_{r}.json"))))
    for p, f in files.items():
        for line in open(os.path.join(out, f"{f}_{r}.jsonl")):
            l = json.loads(line)
            if "dropped_frame_check" in l:
                drops += l["dropped_frame_check"]
            else:
                peers.setdefault((p, l["venue"]), []).append(l)

med = statistics.median
load = os.getloadavg()
first = peers[("tardis-dev", venues[0])][0]
print(f"\nhost: {os.cpu_count()} cores ({ours[venues[0]][0]['cpu']}); ours and the peers pinned to cpu {cpu}; "
      f"load {load[0]:.2f} {load[1]:.2f}; node {first['node']}, "
      + ", ".join(f"{p} {peers[(p, venues[0])][0]['version']}" for p in targets))
print(f"{rounds} rounds; per round: ours = fh-bench ns_per_book_frame (median of its passes: fused parse + validate + "
      "book + shm publish, 1 core), peers = median of their passes; ratio = peer ns / ours ns in the same round. "
      "Columns show the median over rounds; 'range' = min-max ratio over rounds; 'no shm' = ratio against our "
      "parse+book stages; 'cpu' = ratio of CPU times (ours: thread, node: process).\n")
hdr = (f"{'venue':<13}{'frames':>7} {'ours ns':>8} {'ours frames/s':>14}  {'peer':<11}{'peer ns':>8} "
       f"{'peer frames/s':>14} {'ratio':>7} {'range':>12} {'no shm':>7} {'cpu':>6}  target")
print(hdr)
print("-" * len(hdr))
rows = []
for v in venues:
    o = ours[v]
    ons = med([x["ns_per_book_frame"] for x in o])
    for p, target in targets.items():
        t = peers[(p, v)]
        for x in o + t:
            n = x["book_frames"]
            if n != o[0]["book_frames"]:
                print(f"WARNING {v}: {x.get('peer', 'ours')} counted {n} book frames, ours {o[0]['book_frames']}")
        ratios = [b["ns_per_book_frame"] / a["ns_per_book_frame"] for a, b in zip(o, t)]
        noshm = [b["ns_per_book_frame"] / (a["stages_ns_per_book_frame"]["parse"] + a["stages_ns_per_book_frame"]["book"])
                 for a, b in zip(o, t)]
        cpur = [b["cpu_ns_per_book_frame"] / a["cpu_ns_per_book_frame"] for a, b in zip(o, t)]
        pns = med([x["ns_per_book_frame"] for x in t])
        ratio = med(ratios)
        verdict = f">= {target:.0f}x: {'met' if ratio >= target else 'MISSED'}"
        rng = f"{min(ratios):.1f}-{max(ratios):.1f}x"
        print(f"{v:<13}{o[0]['book_frames']:>7} {ons:>8,.0f} {1e9 / ons:>14,.0f}  {p:<11}{pns:>8,.0f} {1e9 / pns:>14,.0f} "
              f"{ratio:>6.1f}x {rng:>12} {med(noshm):>6.1f}x {med(cpur):>5.1f}x  {verdict}")
        rows.append({"venue": v, "peer": p, "peer_version": t[0]["version"], "book_frames": o[0]["book_frames"],
                     "ours_ns_per_book_frame": round(ons, 1), "peer_ns_per_book_frame": round(pns, 1),
                     "ours_book_frames_per_s": round(1e9 / ons), "peer_book_frames_per_s": round(1e9 / pns),
                     "ratio": round(ratio, 2), "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2),
                     "ratio_noshm": round(med(noshm), 2), "ratio_cpu": round(med(cpur), 2),
                     "target": target, "target_met": ratio >= target})

# Final best bid / ask per venue symbol: both peers and our fh-replay must agree.
print()
for v in venues:
    tops = {p: peers[(p, v)][0]["final_top_of_book"] for p in targets}
    if len({json.dumps(x, sort_keys=True) for x in tops.values()}) != 1:
        print(f"WARNING {v}: the peers' final best bid/ask differ: {tops}")
    r = load_opt(f"replay_{v}.json")
    if r is None:
        continue
    mismatch = []
    for inst in r["per_instrument"]:
        peer_top = tops["tardis-dev"].get(inst["native"])
        if peer_top is None:
            mismatch.append(f"{inst['native']}: no peer book")
            continue
        pb, pa = (None if x == "-" else float(x.split("@")[0]) for x in peer_top.split("|"))
        ob, oa = (None if x is None else float(x) for x in (inst["best_bid"], inst["best_ask"]))
        if (pb, pa) != (ob, oa):
            mismatch.append(f"{inst['native']}: ours {ob}|{oa} peers {pb}|{pa}")
    print(f"{v}: final best bid/ask of {len(r['per_instrument'])} books, ours (fh-replay) vs tardis-dev vs ccxt: "
          + ("all agree" if not mismatch else "DIFFER: " + "; ".join(mismatch)))
    g, gr = load_opt(f"gapped_{v}.json"), load_opt(f"replay_gapped_{v}.json")
    if g and gr:
        inst = next(i for i in gr["per_instrument"] if i["native"] == g["symbol"])
        drops.append({"venue": v, "peer": "ours", "noticed": inst["checksum_fail"] > 0 or inst["seq_gaps"] > 0,
                      "how": f"fh-replay: {g['symbol']} {inst['state']}, last_error={inst['last_error']}, "
                             f"checksum_fail={inst['checksum_fail']}, seq_gaps={inst['seq_gaps']} (capture line {g['line']} removed)",
                      "frames_with_wrong_book": None, "frames_after_drop": None,
                      "frames_with_wrong_top_of_book": None, "levels_wrong_at_end": None})

print("\none book update frame dropped (frames.mjs frameToDrop), untimed:")
for d in sorted(drops, key=lambda d: (d["venue"], d["peer"])):
    tail = "" if d["frames_with_wrong_book"] is None else (
        f"; book wrong after {d['frames_with_wrong_book']} of {d['frames_after_drop']} later frames "
        f"(top of book in {d['frames_with_wrong_top_of_book']}), {d['levels_wrong_at_end']} levels differ at the end")
    print(f"  {d['venue']:<13} {d['peer']:<11} noticed={str(d['noticed']).lower():<5} {d['how'][:120]}{tail}")
print(json.dumps({"mode": "peers", "host_cores": os.cpu_count(), "pinned_cpu": int(cpu), "rounds": rounds,
                  "load_avg": [round(x, 2) for x in load], "node": first["node"], "rows": rows,
                  "dropped_frame": [{k: d[k] for k in ("venue", "peer", "noticed", "how", "frames_with_wrong_book",
                                                       "frames_after_drop", "frames_with_wrong_top_of_book",
                                                       "levels_wrong_at_end")} for d in drops]}))
PY
echo "compare.sh: raw output in $out" >&2
