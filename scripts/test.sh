#!/usr/bin/env bash
# Builds and runs the test suite. Default: the release preset (which also compiles the
# benchmarks), the asan preset (AddressSanitizer + UndefinedBehaviorSanitizer) and the tsan
# preset for the tests labelled `concurrent`. Warnings are errors in every preset.
# usage: scripts/test.sh [release] [asan] [tsan] [debug]
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(release asan tsan)
jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== preset $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  if [ "$p" = tsan ]; then
    ctest --preset "$p" -L concurrent -j "$jobs"
  else
    ctest --preset "$p" -j "$jobs"
  fi
done
