// Peer benchmark: tardis-dev's own book normalizer + OrderBook fed the SAME recorded book
// frames that bench/pipeline_bench.cpp (BM_Pipeline) replays, from memory, on one thread.
//
// Frame selection mirrors pipeline_bench.cpp's load(): a received text frame is kept when it
// contains the venue's book marker or "lastUpdateId" (the inline REST snapshot), in file order.
//   binance_usdm: data/binance/hftbacktest/usdm_btcusdt_20240808.gz, lines "<ns> <json>";
//                 depthUpdate frames ({"stream":"btcusdt@depth@0ms","data":{...}}, passed as
//                 recorded) + the inline REST snapshot line, which is wrapped exactly the way
//                 tardis-dev's own Binance feed presents a REST snapshot
//                 (realtimefeeds/binance.js): {"stream":"btcusdt@depthSnapshot","generated":true,"data":<body>}
//   okx:          data/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz, received lines
//                 "<t>: <json>" containing "channel":"books-l2-tbt": 20 snapshots, 3659 updates
//                 and the 20 subscribe acks (our benchmark counts those too; tardis' mapper
//                 rejects them in canHandle()).
//
// Timed loop per frame: JSON.parse(frame text) -> mapper.canHandle -> mapper.map (tardis'
// normalizer: 'binance-futures' -> BinanceFuturesBookChangeMapper, 'okex' -> OkexV5BookChangeMapper,
// chosen by normalizeBookChanges() from the recording date) -> OrderBook.update per symbol.
// This calls the mapper synchronously, i.e. without the async-generator plumbing of
// tardis' replayNormalized()/normalizeMessages(): the cheapest way to use tardis, so the ratio
// is conservative for us. The async path is measured too (ns_per_frame_async_normalize).
//
// Output: one JSON object per line per dataset, then one line with the dropped-frame check.
// Usage: node tardis_bench.mjs [--data DIR] [--passes N=21] [--warmup N=10] [--async-passes N=5]
//                              [--only binance_usdm|okx]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { format } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tardis = require('tardis-dev');
const { normalizeBookChanges, OrderBook } = tardis;
const { normalizeMessages } = require('tardis-dev/dist/handy.js');
const tardisDebug = require('tardis-dev/dist/debug.js').debug;
const tardisVersion = require('tardis-dev/package.json').version;

// ---------------------------------------------------------------- arguments
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const dataDir = path.resolve(opt('--data', path.join(here, '..', '..', 'data')));
const passes = Number(opt('--passes', '21'));
const warmup = Number(opt('--warmup', '10'));
const asyncPasses = Number(opt('--async-passes', '5'));
const only = opt('--only', '');

// ---------------------------------------------------------------- loading (untimed)
const gunzipLines = (rel) =>
  gunzipSync(readFileSync(path.join(dataDir, rel))).toString('utf8').split('\n');

// hftbacktest: "<ns> <json>". Keeps what pipeline_bench keeps: depthUpdate frames and the inline
// REST snapshot (a bare object with lastUpdateId).
function loadBinanceUsdm() {
  const frames = [];
  let snapshots = 0;
  for (const line of gunzipLines('binance/hftbacktest/usdm_btcusdt_20240808.gz')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const payload = line.slice(sp + 1);
    const isDepth = payload.includes('"e":"depthUpdate"');
    const isSnapshot = payload.includes('"lastUpdateId"');
    if (!isDepth && !isSnapshot) continue;
    const localTimestamp = new Date(Number(BigInt(line.slice(0, sp)) / 1000000n));
    if (isSnapshot && !isDepth) {
      // Presented the way tardis-dev's live Binance feed injects its REST depth snapshot.
      const obj = JSON.parse(payload);
      if (obj.stream !== undefined) throw new Error('unexpected snapshot envelope');
      frames.push({ text: `{"stream":"btcusdt@depthSnapshot","generated":true,"data":${payload}}`,
                    localTimestamp, kind: 'snapshot' });
      snapshots++;
    } else {
      const obj = JSON.parse(payload);
      if (obj.stream !== 'btcusdt@depth@0ms') throw new Error(`unexpected stream ${obj.stream}`);
      frames.push({ text: payload, localTimestamp, kind: 'update' });
    }
  }
  if (snapshots !== 1) throw new Error(`expected 1 inline snapshot, found ${snapshots}`);
  return { venue: 'binance_usdm', exchange: 'binance-futures', frames };
}

// cryptofeed: received frames are "<t>: <json>"; sent ones start with the ws URL and are skipped
// (pipeline_bench keeps only received text).
function loadOkx() {
  const frames = [];
  for (const line of gunzipLines('okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz')) {
    if (line.startsWith('wss://') || line.startsWith('ws://')) continue;
    const colon = line.indexOf(': ');
    if (colon < 0) continue;
    const payload = line.slice(colon + 2);
    if (!payload.includes('"channel":"books-l2-tbt"')) continue;
    const obj = JSON.parse(payload);
    const kind = obj.event !== undefined ? 'ack' : obj.action;
    frames.push({ text: payload, localTimestamp: new Date(Number(line.slice(0, colon)) * 1000), kind });
  }
  return { venue: 'okx', exchange: 'okex', frames };
}

// ---------------------------------------------------------------- the measured work
// One pass: fresh mapper (tardis keeps per-connection state in it) and fresh books.
// afterFrame (untimed runs only) sees the books after each frame.
function runSync(ds, frames, afterFrame) {
  const mapper = normalizeBookChanges(ds.exchange, frames[0].localTimestamp);
  const books = new Map();
  let changes = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const message = JSON.parse(f.text);
    if (mapper.canHandle(message)) {
      const mapped = mapper.map(message, f.localTimestamp);
      if (mapped) {
        for (const change of mapped) {
          let book = books.get(change.symbol);
          if (book === undefined) {
            book = new OrderBook();
            books.set(change.symbol, book);
          }
          book.update(change);
          changes++;
        }
      }
    }
    if (afterFrame !== undefined) afterFrame(i, books);
  }
  return { books, changes };
}

// The same through tardis' own async normalizeMessages() (what replayNormalized() runs).
async function runAsync(ds, frames) {
  const createMappers = (ts) => [normalizeBookChanges(ds.exchange, ts)];
  async function* source() {
    for (const f of frames) yield { message: JSON.parse(f.text), localTimestamp: f.localTimestamp };
  }
  const books = new Map();
  let changes = 0;
  for await (const change of normalizeMessages(ds.exchange, undefined, source(),
                                               createMappers(frames[0].localTimestamp), createMappers)) {
    let book = books.get(change.symbol);
    if (book === undefined) {
      book = new OrderBook();
      books.set(change.symbol, book);
    }
    book.update(change);
    changes++;
  }
  return { books, changes };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Wall time and process CPU time (all of node's threads; pinned to one core they share it).
function timeIt(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = fn();
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  return { r, wallNs: Number(t1 - t0), cpuNs: (c1.user + c1.system) * 1000 };
}
async function timeItAsync(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  return { r, wallNs: Number(t1 - t0), cpuNs: (c1.user + c1.system) * 1000 };
}

// ---------------------------------------------------------------- dropped-frame check
// The price levels one book frame touches: [symbol, side, price][] (prices as tardis maps them).
function touchedLevels(ds, message) {
  const out = [];
  if (ds.venue === 'okx') {
    for (const d of message.data) {
      for (const l of d.bids) out.push([message.arg.instId, 'bid', Number(l[0])]);
      for (const l of d.asks) out.push([message.arg.instId, 'ask', Number(l[0])]);
    }
  } else {
    for (const l of message.data.b) out.push([message.data.s, 'bid', Number(l[0])]);
    for (const l of message.data.a) out.push([message.data.s, 'ask', Number(l[0])]);
  }
  return out;
}
function amountAt(books, [symbol, side, price]) {
  const book = books.get(symbol);
  if (book === undefined) return 0;
  const node = (side === 'bid' ? book._bids : book._asks).find({ price });
  return node === null ? 0 : node.amount;
}
function topOfBook(books, symbol) {
  const book = books.get(symbol);
  if (book === undefined) return '';
  const b = book.bestBid(), a = book.bestAsk();
  return `${b ? b.price + '@' + b.amount : '-'}|${a ? a.price + '@' + a.amount : '-'}`;
}

// Removes the middle book update that changes at least one level, replays intact and gapped
// in lockstep (untimed) and reports whether tardis-dev threw, logged (its debug() channel) or
// warned, and how long its book stayed wrong at the levels the lost frame carried.
function droppedFrameCheck(ds) {
  const frames = ds.frames;
  const updates = [];
  frames.forEach((f, i) => { if (f.kind === 'update') updates.push(i); });
  let drop = -1, touched = [];
  for (let k = Math.floor(updates.length / 2); k < updates.length && drop < 0; k++) {
    const t = touchedLevels(ds, JSON.parse(frames[updates[k]].text));
    if (t.length > 0) { drop = updates[k]; touched = t; }
  }
  const symbol = touched[0][0];
  // Intact run: remember the touched levels and the top of book after every frame >= drop.
  const want = new Map();
  const intact = withCapturedDiagnostics(() => runSync(ds, frames, (i, books) => {
    if (i >= drop) want.set(i, { levels: touched.map((l) => amountAt(books, l)), top: topOfBook(books, symbol) });
  }));
  let wrongAfterDrop = null, lastWrongFrame = -1, topWrongFrames = 0, framesCompared = 0;
  const gapped = frames.filter((_, i) => i !== drop);
  const gap = withCapturedDiagnostics(() => runSync(ds, gapped, (j, books) => {
    if (j < drop) return;
    const i = j + 1; // index of the same frame in the intact sequence
    const w = want.get(i);
    const wrong = touched.reduce((n, l, k) => n + (amountAt(books, l) !== w.levels[k] ? 1 : 0), 0);
    if (wrongAfterDrop === null) wrongAfterDrop = wrong;
    if (wrong > 0) lastWrongFrame = i;
    if (topOfBook(books, symbol) !== w.top) topWrongFrames++;
    framesCompared++;
  }));
  const droppedMsg = JSON.parse(frames[drop].text);
  return {
    venue: ds.venue,
    dropped_frame_index: drop,
    dropped_frame: ds.venue === 'okx'
      ? { instId: droppedMsg.arg.instId, action: droppedMsg.action, checksum: droppedMsg.data[0].checksum }
      : { U: droppedMsg.data.U, u: droppedMsg.data.u, pu: droppedMsg.data.pu },
    levels_in_dropped_frame: touched.length,
    intact_run: { threw: intact.error ?? null, debug_messages: intact.debug.length, first_debug: intact.debug[0] ?? null },
    dropped_run: {
      threw: gap.error ?? null,
      debug_messages: gap.debug.length,
      first_debug: gap.debug[0] ?? null,
      process_warnings: gap.warnings.length,
      book_changes_applied: gap.result ? gap.result.changes : null,
    },
    tardis_flagged_gap: gap.error !== undefined || gap.debug.length > intact.debug.length || gap.warnings.length > 0,
    // Divergence of tardis' book (gapped vs intact run) at the lost frame's levels:
    levels_wrong_after_next_frame: wrongAfterDrop,
    frames_until_levels_reconverged: lastWrongFrame < 0 ? 0 : (lastWrongFrame === frames.length - 1 ? null : lastWrongFrame - drop),
    frames_with_wrong_top_of_book: topWrongFrames,
    frames_compared: framesCompared,
  };
}

// Runs fn with tardis-dev's debug() channel switched on and captured; reports any throw.
function withCapturedDiagnostics(fn) {
  const captured = [];
  const savedLog = tardisDebug.log;
  const savedEnabled = tardisDebug.enabled;
  tardisDebug.log = (...a) => captured.push(format(...a).slice(0, 300));
  tardisDebug.enabled = true;
  const warnings = [];
  const onWarning = (w) => warnings.push(String(w));
  process.on('warning', onWarning);
  let result, error;
  try {
    result = fn();
  } catch (e) {
    error = String(e && e.message ? e.message : e).slice(0, 300);
  } finally {
    tardisDebug.log = savedLog;
    tardisDebug.enabled = savedEnabled;
    process.off('warning', onWarning);
  }
  return { result, error, debug: captured, warnings };
}

// ---------------------------------------------------------------- main
const datasets = [];
if (!only || only === 'binance_usdm') datasets.push(loadBinanceUsdm());
if (!only || only === 'okx') datasets.push(loadOkx());

const dropReport = [];
for (const ds of datasets) {
  const frames = ds.frames;
  const kinds = {};
  for (const f of frames) kinds[f.kind] = (kinds[f.kind] || 0) + 1;

  for (let i = 0; i < warmup; i++) runSync(ds, frames);
  const wall = [], cpu = [];
  let changes = 0, symbols = 0;
  for (let i = 0; i < passes; i++) {
    const t = timeIt(() => runSync(ds, frames));
    wall.push(t.wallNs);
    cpu.push(t.cpuNs);
    changes = t.r.changes;
    symbols = t.r.books.size;
  }
  const asyncWall = [], asyncCpu = [];
  for (let i = 0; i < asyncPasses; i++) {
    const t = await timeItAsync(() => runAsync(ds, frames));
    if (i === 0 && t.r.changes !== changes) throw new Error('async path applied a different number of changes');
    asyncWall.push(t.wallNs);
    asyncCpu.push(t.cpuNs);
  }
  const wallMed = median(wall), cpuMed = median(cpu);
  console.log(JSON.stringify({
    venue: ds.venue,
    tardis_exchange: ds.exchange,
    frames: frames.length,
    frame_kinds: kinds,
    book_changes_applied: changes,
    books: symbols,
    frames_per_s: Math.round(frames.length / (wallMed / 1e9)),
    ns_per_frame: wallMed / frames.length,
    cpu_ns_per_frame: cpuMed / frames.length,
    ns_per_frame_min: Math.min(...wall) / frames.length,
    ns_per_frame_async_normalize: median(asyncWall) / frames.length,
    cpu_ns_per_frame_async_normalize: median(asyncCpu) / frames.length,
    passes,
    warmup_passes: warmup,
    node_version: process.version,
    tardis_version: tardisVersion,
  }));

  dropReport.push(droppedFrameCheck(ds));
}
console.log(JSON.stringify({ dropped_frame_check: dropReport }));
