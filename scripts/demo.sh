#!/usr/bin/env bash
# The main job on bundled real data: builds the release preset and replays real captures
# from data/ through the full pipeline (parse -> ring -> book builder), printing the books
# and the summary JSON of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target fh-replay
bin=build/release/tools/fh-replay

echo "### OKX books-l2-tbt 2022-02-27 (CRC32 checksum on every book message)"
$bin --threaded --depth 3 data/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz \
  data/okx/cryptofeed/instruments_2022-02-27_http.txt.gz
echo "### Kraken book-1000 2021-04-17 (CRC32 checksum on every update)"
$bin --threaded --depth 3 data/kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz \
  data/kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz
echo "### Binance USD-M BTCUSDT 2024-08-08 (pu chain + bookTicker cross-check)"
$bin --threaded --depth 5 data/binance/hftbacktest/usdm_btcusdt_20240808.gz
