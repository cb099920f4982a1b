#!/usr/bin/env bash
# Refreshes data/ from the vetted corpus in ../shared/data: byte-for-byte copies, never
# edited. Run after the corpus changes; commit the result so a fresh clone is self-contained.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$here/../shared/data}
[ -f "$src/PROVENANCE.md" ] || { echo "refresh-data: no corpus at $src" >&2; exit 1; }
rm -rf "$here/data"
mkdir -p "$here/data"
cp -a "$src"/. "$here/data/"
chmod -R u+w "$here/data"
# Verify: every file identical to its source.
(cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > /tmp/fh-src.sha
(cd "$here/data" && sha256sum -c --quiet /tmp/fh-src.sha)
echo "refresh-data: $(find "$here/data" -type f | wc -l) files copied from $src and verified"
