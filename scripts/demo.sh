#!/usr/bin/env bash
# The main job on bundled real data: builds the release preset, replays real OKX, Kraken and
# Binance USD-M captures from data/ through the full pipeline (parse -> ring -> book builder
# -> shared memory), then reads the books back out of the shm segment the way a strategy
# process does, with fh-inspect. The segment (/dev/shm/fh-demo) stays for you to explore:
#   build/release/tools/fh-inspect --shm fh-demo list | book okx:ELON-USDT | tail | stats | top
#   python3 shm/examples/strategy_top.py fh-demo binance-usdm:BTC-USDT-PERP
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target fh-replay fh-inspect
bin=build/release/tools
seg=${FH_DEMO_SHM:-fh-demo}

echo "### replay into shm segment '$seg': OKX books-l2-tbt 2022-02-27 (CRC32 checksum on every"
echo "### message), Kraken book-1000 2021-04-17 (CRC32 on every update), Binance USD-M BTCUSDT"
echo "### 2024-08-08 (pu chain + bookTicker cross-check)"
$bin/fh-replay --threaded --depth 3 --shm "$seg" \
  data/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz \
  data/okx/cryptofeed/instruments_2022-02-27_http.txt.gz \
  data/kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz \
  data/kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz \
  data/binance/hftbacktest/usdm_btcusdt_20240808.gz

echo
echo "### what a strategy process sees in shared memory (fh-inspect, read-only mapping)"
$bin/fh-inspect --shm "$seg" list
echo
$bin/fh-inspect --shm "$seg" book binance-usdm:BTC-USDT-PERP --depth 5
echo
$bin/fh-inspect --shm "$seg" book okx:ELON-USDT --depth 3 --json
echo
$bin/fh-inspect --shm "$seg" stats | sed -n '1,12p'
