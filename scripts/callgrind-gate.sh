#!/usr/bin/env bash
# Instruction-count regression gate for `fh-bench pipeline`. Wall time on a shared CI host moves
# by tens of percent with the neighbours; callgrind's instruction count (Ir) of the same code on
# the same input does not, so it can be held to a tight threshold.
#
# For each capture in bench/callgrind_baseline.json: runs the release fh-bench in pipeline mode
# under `valgrind --tool=callgrind --instr-atstart=no`, which counts only the CallgrindRegion in
# bench/fh-bench/pipeline_mode.cpp (the fused parse -> book -> shm pass over the book frames,
# `passes` times), divides by passes x book_frames and compares with the baseline.
#
# usage: scripts/callgrind-gate.sh [--update] [--bench PATH] [--baseline PATH]
#   --update    measure and rewrite the baseline's counts (keeps threshold and captures); commit
#               the result with the change that moved them, saying why in the commit message
#   --bench     fh-bench binary (default build/release/bench/fh-bench)
#   --baseline  baseline file (default bench/callgrind_baseline.json)
# exit: 0 within threshold (or updated), 1 regression or broken measurement, 2 bad usage,
#       77 valgrind is not installed (CTest SKIP_RETURN_CODE)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="$repo/build/release/bench/fh-bench"
baseline="$repo/bench/callgrind_baseline.json"
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --bench) bench="$2"; shift ;;
    --baseline) baseline="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "callgrind-gate: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v valgrind >/dev/null 2>&1; then
  echo "callgrind-gate: SKIPPED: valgrind is not installed (scripts/setup.sh installs it)"
  exit 77
fi
[ -x "$bench" ] || { echo "callgrind-gate: no fh-bench at $bench (build the release preset)" >&2; exit 1; }
[ -f "$baseline" ] || { echo "callgrind-gate: no baseline at $baseline" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Captures and passes come from the baseline file: one line per capture, "name<TAB>inputs...".
passes="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["passes"])' "$baseline")"
python3 - "$baseline" >"$work/captures" <<'EOF'
import json, sys
for c in json.load(open(sys.argv[1]))["captures"]:
    print("\t".join([c["name"]] + c["inputs"]))
EOF

# One callgrind run per capture -> "$work/<name>.result": "ir book_frames".
while IFS=$'\t' read -r -a fields; do
  name="${fields[0]}"
  inputs=()
  for f in "${fields[@]:1}"; do inputs+=("$repo/$f"); done
  out="$work/$name.callgrind"
  if ! valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$bench" pipeline --passes "$passes" --core -1 --json "${inputs[@]}" \
        >"$work/$name.stdout" 2>"$work/$name.stderr"; then
    echo "callgrind-gate: $name: fh-bench failed under valgrind" >&2
    cat "$work/$name.stderr" >&2
    exit 1
  fi
  # "totals: <Ir>" at the end of the file (its header's "summary:" line can read 0 when
  # instrumentation starts late); Ir is the only event collected.
  ir="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | tail -n1)"
  frames="$(tail -n1 "$work/$name.stdout" | sed -n 's/.*"book_frames":\([0-9]*\),.*/\1/p')"
  echo "${ir:-0} ${frames:-0}" >"$work/$name.result"
done <"$work/captures"

python3 - "$baseline" "$work" "$update" "$(valgrind --version)" <<'EOF'
import json, sys
path, work, update, vg = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
base = json.load(open(path))
passes, limit = base["passes"], base["threshold_pct"]
failed = False
for c in base["captures"]:
    ir, frames = (int(x) for x in open(f"{work}/{c['name']}.result").read().split())
    if ir == 0 or frames == 0:
        # fh-bench built without valgrind/callgrind.h counts nothing; a changed JSON line too.
        print(f"callgrind-gate: {c['name']}: nothing measured (Ir {ir}, book_frames {frames}); "
              "is fh-bench built with valgrind/callgrind.h?")
        failed = True
        continue
    per = ir / (passes * frames)
    if update:
        c.update(book_frames=frames, ir_total=ir, ir_per_book_frame=round(per, 1))
        print(f"callgrind-gate: {c['name']}: {per:.1f} Ir/book frame ({ir} Ir, {passes} passes x "
              f"{frames} book frames) -> baseline")
        continue
    if frames != c["book_frames"]:
        # A different frame count is a different workload: compare nothing, say what changed.
        print(f"callgrind-gate: {c['name']}: {frames} book frames, baseline has {c['book_frames']}: "
              "the parse result changed; review it, then scripts/callgrind-gate.sh --update")
        failed = True
        continue
    ref = c["ir_per_book_frame"]
    delta = (per / ref - 1) * 100
    verdict = "ok"
    if delta > limit:
        verdict, failed = "REGRESSION", True
    elif delta < -limit:
        verdict = "ok (faster than baseline by more than the threshold: consider --update)"
    print(f"callgrind-gate: {c['name']}: {per:.1f} Ir/book frame ({ir} Ir), baseline {ref:.1f}, "
          f"{delta:+.3f}% (limit +{limit:.1f}%) {verdict}")
if update and not failed:
    base["valgrind"] = vg
    with open(path, "w") as f:
        json.dump(base, f, indent=2)
        f.write("\n")
    print(f"callgrind-gate: wrote {path}")
sys.exit(1 if failed else 0)
EOF
