// Peer: tardis-dev's own book normalizer + OrderBook, fed the recorded frames of frames.mjs
// from memory on one thread, no network.
//
// Per frame (timed): JSON.parse(text) -> mapper.canHandle -> mapper.map -> OrderBook.update per
// book_change. Mappers come from tardis' normalizeBookChanges(exchange, recording date):
//   okx          'okex'            -> OkexV5BookChangeMapper (books-l2-tbt frames verbatim)
//   binance_usdm 'binance-futures' -> BinanceFuturesBookChangeMapper (combined-stream frames
//                verbatim; each REST depth snapshot wrapped the way tardis' own live Binance feed
//                injects it, realtimefeeds/binance.js: {"stream":"<sym>@depthSnapshot","generated":true,"data":<body>})
// The mapper is called synchronously (no async-generator plumbing of replayNormalized()): the
// cheapest way to use tardis. Fresh mapper and books every pass. Untimed: gunzip, line split,
// Date objects, the snapshot wrapping text.
//
// Output: one JSON line per venue, then {"dropped_frame_check": [...]}.
// Usage: node tardis.mjs [--data DIR] [--passes N=31] [--warmup N=20] [--only okx,binance_usdm]
//                          [--no-drop-check]
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { loadDataset, frameToDrop, median, parseArgs } from './frames.mjs';

const require = createRequire(import.meta.url);
const { normalizeBookChanges, OrderBook } = require('tardis-dev');
const tardisDebug = require('tardis-dev/dist/debug.js').debug;
const version = require('tardis-dev/package.json').version;

const exchangeOf = { okx: 'okex', binance_usdm: 'binance-futures' };

// Frames as tardis consumes them (built untimed).
function prepare(ds) {
  return ds.frames.map((f) => ({
    text: f.kind === 'snapshot' && ds.venue === 'binance_usdm'
      ? `{"stream":"${f.symbol.toLowerCase()}@depthSnapshot","generated":true,"data":${f.text}}`
      : f.text,
    localTimestamp: new Date(Math.round(f.t * 1000)),
  }));
}

function runPass(exchange, frames, afterFrame) {
  const mapper = normalizeBookChanges(exchange, frames[0].localTimestamp);
  const books = new Map();
  let changes = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const message = JSON.parse(f.text);
    if (mapper.canHandle(message)) {
      for (const change of mapper.map(message, f.localTimestamp)) {
        let book = books.get(change.symbol);
        if (book === undefined) books.set(change.symbol, (book = new OrderBook()));
        book.update(change);
        changes++;
      }
    }
    if (afterFrame !== undefined) afterFrame(i, books);
  }
  return { books, changes };
}

// Book state of one symbol as text (every level), for intact-vs-gapped comparison.
function bookText(books, symbol) {
  const b = books.get(symbol);
  if (b === undefined) return { top: '', levels: new Map() };
  const levels = new Map();
  for (const l of b.bids()) levels.set('b' + l.price, l.amount);
  for (const l of b.asks()) levels.set('a' + l.price, l.amount);
  const bb = b.bestBid(), ba = b.bestAsk();
  return { top: `${bb ? bb.price + '@' + bb.amount : '-'}|${ba ? ba.price + '@' + ba.amount : '-'}`, levels };
}
const levelDiff = (x, y) => {
  let n = 0;
  for (const [k, v] of x) if (y.get(k) !== v) n++;
  for (const k of y.keys()) if (!x.has(k)) n++;
  return n;
};

function withDiagnostics(fn) {
  const captured = [];
  const saved = [tardisDebug.log, tardisDebug.enabled];
  tardisDebug.log = (...a) => captured.push(format(...a).slice(0, 200));
  tardisDebug.enabled = true;
  let result, error;
  try { result = fn(); } catch (e) { error = String(e?.message ?? e).slice(0, 200); }
  finally { [tardisDebug.log, tardisDebug.enabled] = saved; }
  return { result, error, debug: captured };
}

// Drops one real update frame (frames.mjs frameToDrop), replays intact and gapped, and reports
// whether tardis threw or logged (its debug channel), and how its book of that symbol differs.
function droppedFrameCheck(ds, exchange, frames) {
  const drop = frameToDrop(ds);
  const symbol = ds.frames[drop].symbol;
  const want = [];
  const intact = withDiagnostics(() => runPass(exchange, frames, (i, books) => { if (i >= drop) want[i] = bookText(books, symbol); }));
  const gapped = frames.filter((_, i) => i !== drop);
  let topWrong = 0, bookWrong = 0;
  const gap = withDiagnostics(() => runPass(exchange, gapped, (j, books) => {
    if (j < drop) return;
    const got = bookText(books, symbol), w = want[j + 1];
    if (got.top !== w.top) topWrong++;
    if (levelDiff(got.levels, w.levels) > 0) bookWrong++;
  }));
  const endDiff = gap.result && intact.result
    ? levelDiff(bookText(intact.result.books, symbol).levels, bookText(gap.result.books, symbol).levels) : null;
  const flagged = gap.error !== undefined || gap.debug.length > intact.debug.length;
  return {
    venue: ds.venue, peer: 'tardis-dev', dropped_frame_index: drop, symbol,
    noticed: flagged,
    how: flagged ? (gap.error ? `threw: ${gap.error}` : `debug: ${gap.debug[intact.debug.length]}`) : 'nothing (no throw, no debug log)',
    frames_with_wrong_top_of_book: topWrong,
    frames_with_wrong_book: bookWrong,
    frames_after_drop: gapped.length - drop,
    levels_wrong_at_end: endDiff,
  };
}

const a = parseArgs(process.argv.slice(2));
const drops = [];
for (const venue of a.venues) {
  const ds = loadDataset(venue, a.dataDir);
  const exchange = exchangeOf[venue];
  const frames = prepare(ds);
  for (let i = 0; i < a.warmup; i++) runPass(exchange, frames);
  const wall = [], cpu = [];
  let r;
  for (let i = 0; i < a.passes; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    r = runPass(exchange, frames);
    const t1 = process.hrtime.bigint();
    const c = process.cpuUsage(c0);
    wall.push(Number(t1 - t0));
    cpu.push((c.user + c.system) * 1000);
  }
  const ns = median(wall) / frames.length;
  console.log(JSON.stringify({
    peer: 'tardis-dev', version, node: process.version, venue, mapper: exchange,
    book_frames: frames.length, frame_kinds: ds.kinds, book_changes: r.changes, books: r.books.size,
    ns_per_book_frame: ns, cpu_ns_per_book_frame: median(cpu) / frames.length,
    min_ns_per_book_frame: Math.min(...wall) / frames.length,
    book_frames_per_s: 1e9 / ns, passes: a.passes, warmup: a.warmup,
    // Best bid|ask per venue symbol after the last frame: compare.sh checks the peers agree.
    final_top_of_book: Object.fromEntries([...r.books.keys()].sort().map((sym) => [sym, bookText(r.books, sym).top])),
  }));
  if (a.dropCheck) drops.push(droppedFrameCheck(ds, exchange, frames));
}
console.log(JSON.stringify({ dropped_frame_check: drops }));
