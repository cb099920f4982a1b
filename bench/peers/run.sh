#!/usr/bin/env bash
# Peer comparison, measured in one run on one core: our pipeline_bench (BM_Pipeline + its
# simdjson floor BM_Floor) against tardis-dev's normalizer + OrderBook fed the same recorded
# frames (tardis_bench.mjs). Builds nothing: pass the pipeline_bench binary, or let it find one.
#
#   bench/peers/run.sh [path/to/pipeline_bench]
#   env: FH_BENCH_CPU (core to pin to, default 1), FH_BENCH_REPS (our repetitions, default 5),
#        FH_TARDIS_PASSES (default 21), FH_PEERS_OUT (keep raw JSON there; default: temp dir)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cpu="${FH_BENCH_CPU:-1}"
reps="${FH_BENCH_REPS:-5}"
passes="${FH_TARDIS_PASSES:-21}"

bin="${1:-}"
if [[ -z "$bin" ]]; then
  for c in build/bench/bench/pipeline_bench build/release/bench/pipeline_bench build/h-peers/bench/pipeline_bench; do
    if [[ -x "$root/$c" ]]; then bin="$root/$c"; break; fi
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "run.sh: no pipeline_bench binary found; build one (Release, -DFH_BUILD_BENCH=ON) and pass its path" >&2
  exit 2
fi

command -v node >/dev/null || { echo "run.sh: node is required (Debian: apt-get install nodejs npm)" >&2; exit 2; }
command -v taskset >/dev/null || { echo "run.sh: taskset is required (util-linux)" >&2; exit 2; }
if [[ ! -f "$here/node_modules/tardis-dev/package.json" ]]; then
  echo "run.sh: installing tardis-dev (npm ci) in $here" >&2
  (cd "$here" && npm ci --no-audit --no-fund >&2)
fi

out="${FH_PEERS_OUT:-$(mktemp -d)}"
mkdir -p "$out"

echo "run.sh: ours:   taskset -c $cpu $bin ($reps repetitions)" >&2
taskset -c "$cpu" "$bin" --benchmark_format=json --benchmark_filter='BM_(Pipeline|Floor)' \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true >"$out/ours.json"
echo "run.sh: tardis: taskset -c $cpu node tardis_bench.mjs ($passes passes)" >&2
taskset -c "$cpu" node "$here/tardis_bench.mjs" --data "$root/data" --passes "$passes" >"$out/tardis.jsonl"

python3 - "$out/ours.json" "$out/tardis.jsonl" <<'PY'
import json, sys

ours = json.load(open(sys.argv[1]))
lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
tardis = {l["venue"]: l for l in lines if "venue" in l}
drops = next(l["dropped_frame_check"] for l in lines if "dropped_frame_check" in l)

# Median aggregate of each of our benchmarks: name -> {cpu_ns, wall_ns, frames, error}.
def ours_entry(name):
    rows = [b for b in ours["benchmarks"] if b.get("run_name", b["name"]).startswith(name)]
    err = next((b.get("error_message") for b in rows if b.get("error_occurred")), None)
    med = next((b for b in rows if b.get("aggregate_name") == "median"), None)
    if med is None:  # a single repetition reports no aggregates
        med = next((b for b in rows if b.get("run_type", "iteration") == "iteration" and "items_per_second" in b), None)
    if err or med is None or "items_per_second" not in med:
        return {"error": err or "missing"}
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[med["time_unit"]]
    cpu_iter_ns = med["cpu_time"] * scale
    frames = round(med["items_per_second"] * cpu_iter_ns / 1e9)
    return {"cpu_ns": cpu_iter_ns / frames, "wall_ns": med["real_time"] * scale / frames, "frames": frames}

def fmt(x, nd=0):
    return "-" if x is None else f"{x:,.{nd}f}"

ctx = ours["context"]
t0 = next(iter(tardis.values()))
print(f"\nhost {ctx.get('host_name')} ({ctx.get('num_cpus')} cpus, load {ctx.get('load_avg')}), "
      f"node {t0['node_version']}, tardis-dev {t0['tardis_version']}")
print("ratio = tardis ns/frame / ours ns/frame (same frames, same run, one core); floor = BM_Floor "
      "(simdjson walking every value of the same frames)\n")
hdr = f"{'venue':<13} {'time':<5} {'frames us/them':>15} {'ours ns/frame':>14} {'tardis ns/frame':>16} {'ratio':>8} {'floor ns/frame':>15} {'ours/floor':>11}"
print(hdr)
print("-" * len(hdr))
verdicts = []
for venue in ("binance_usdm", "okx"):
    p, f, t = ours_entry(f"BM_Pipeline/{venue}"), ours_entry(f"BM_Floor/{venue}"), tardis.get(venue)
    for basis, tkey in (("cpu", "cpu_ns_per_frame"), ("wall", "ns_per_frame")):
        key = f"{basis}_ns"
        o = p.get(key)
        fl = f.get(key)
        th = t[tkey] if t else None
        ratio = th / o if (o and th) else None
        frames = f"{p.get('frames', '-')}/{t['frames'] if t else '-'}"
        note = f"  ours: {p['error']}" if "error" in p else ""
        print(f"{venue:<13} {basis:<5} {frames:>15} {fmt(o):>14} {fmt(th):>16} {fmt(ratio, 1) + 'x' if ratio else '-':>8} "
              f"{fmt(fl):>15} {fmt(o / fl, 2) + 'x' if (o and fl) else '-':>11}{note}")
        if basis == "cpu" and ratio:
            verdicts.append(f"{venue}: {ratio:.1f}x tardis-dev ({'meets' if ratio >= 20 else 'BELOW'} the 20x bar, "
                            f"{'meets' if ratio >= 50 else 'below'} the 50x aim)")
print()
for v in verdicts:
    print(v)
print("\ntardis-dev with one book frame dropped from the middle (untimed):")
for d in drops:
    print(f"  {d['venue']}: threw={d['dropped_run']['threw']!s}, debug messages={d['dropped_run']['debug_messages']}, "
          f"flagged={d['tardis_flagged_gap']}; {d['levels_wrong_after_next_frame']}/{d['levels_in_dropped_frame']} levels wrong "
          f"after the next frame, wrong for {d['frames_until_levels_reconverged']} frames, "
          f"top of book wrong in {d['frames_with_wrong_top_of_book']} frames")
PY
echo "raw results: $out" >&2
