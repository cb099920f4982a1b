#!/usr/bin/env bash
# Installs the peers (tardis-dev, ccxt; exact versions pinned in package.json and
# package-lock.json) into bench/peers/node_modules. Needs Node >= 20, npm and the npm registry
# once; everything after this runs offline. Not run by CI (network install).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "setup.sh: node and npm are required (Debian: apt-get install nodejs npm)" >&2; exit 2; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 20 )); then echo "setup.sh: Node >= 20 required, found $(node --version)" >&2; exit 2; fi
cd "$here"
npm ci --no-audit --no-fund
node -e 'for (const p of ["tardis-dev", "ccxt"]) { const v = JSON.parse(require("fs").readFileSync(`node_modules/${p}/package.json`)).version; console.log(`setup.sh: ${p} ${v}`); }'
