// Peer: ccxt (ccxt.pro WebSocket classes, merged into the ccxt package) fed the recorded frames
// of frames.mjs through its own message handler and order books, from memory, no network.
//
// Per frame (timed): JSON.parse(text) -> exchange.handleMessage(client, message), which is what
// ccxt's WsClient.onMessage calls for every received frame: it routes to handleOrderBook, which
// applies the deltas to ccxt's WsOrderBook (sorted-array sides, float prices) and checks what
// ccxt checks (Binance futures: U/u/pu; OKX: seqId/prevSeqId when the venue sends them).
// The client is ccxt's own WsClient from exchange.client(url); it is never connected.
//
// What watchOrderBook() would do over the network is done untimed before each pass:
//   markets: loadMarkets() with exchange.fetch answering from the recorded REST metadata files
//            (exchangeInfo / OKX instruments of the same run); any other URL is an error.
//   okx:     client.subscriptions['books-l2-tbt:<symbol>'] for the 10 recorded instruments
//            (watchOrderBook(symbol, {depth:'books-l2-tbt'}) registers exactly that).
//   binance: handleOrderBookSubscription(client, ack, subscription), ccxt's own subscribe
//            handler: creates the books and spawns fetchOrderBookSnapshot, which calls
//            fetchOrderBook -> exchange.fetch(depth URL). That fetch is answered when the replay
//            reaches the recorded REST snapshot (timed: JSON.parse of the body, ccxt's
//            parseOrderBook, replay of its buffered deltas; the replay drains the
//            microtask queue until ccxt's promise chain has applied it).
//
// Output: one JSON line per venue, then {"dropped_frame_check": [...]}.
// Usage: node ccxt.mjs [--data DIR] [--passes N=31] [--warmup N=20] [--only okx,binance_usdm]
//                          [--no-drop-check]
import { readFileSync } from 'node:fs';
import ccxt from 'ccxt';
import { loadDataset, frameToDrop, median, parseArgs, httpResponses } from './frames.mjs';

// ccxt.version is a string baked into the bundle; the installed package's own version is authoritative.
const version = JSON.parse(readFileSync(new URL('./node_modules/ccxt/package.json', import.meta.url))).version;

const classOf = { okx: 'okx', binance_usdm: 'binanceusdm' };

// REST responses keyed by path + sorted query, so ccxt's own URL spelling matches the recording.
const urlKey = (u) => {
  const x = new URL(u);
  const q = [...x.searchParams.entries()].sort().map(([k, v]) => `${k}=${v}`).join('&');
  return `${x.pathname}?${q}`;
};

// One fresh exchange + client, markets loaded offline, subscriptions registered (untimed).
async function setup(ds, metadata, marketsCache) {
  const ex = new ccxt.pro[classOf[ds.venue]]({ enableRateLimit: false });
  const pending = new Map(); // depth URL key -> resolve (binance snapshots)
  ex.fetch = async (url) => {
    const k = urlKey(url);
    if (metadata.has(k)) return JSON.parse(metadata.get(k));
    if (k.includes('/depth?')) return new Promise((resolve) => pending.set(k, resolve));
    throw new Error(`offline: no recorded response for ${url}`);
  };
  if (marketsCache.markets) ex.setMarkets(marketsCache.markets, marketsCache.currencies);
  else {
    await ex.loadMarkets();
    marketsCache.markets = Object.values(ex.markets);
    marketsCache.currencies = ex.currencies;
  }
  let client;
  if (ds.venue === 'okx') {
    client = ex.client(ex.urls.api.ws + '/public'); // ccxt's public v5 URL
    for (const f of ds.frames) {
      if (f.kind !== 'snapshot') continue;
      const symbol = ex.safeSymbol(f.symbol);
      client.subscriptions['books-l2-tbt:' + symbol] = { symbol };
    }
  } else {
    client = ex.client(ex.urls.api.ws.future);
    const symbols = [...new Set(ds.frames.filter((f) => f.kind === 'snapshot').map((f) => ex.safeSymbol(f.symbol, undefined, undefined, 'swap')))];
    const subscription = { id: '1', name: 'depth', symbols, method: ex.handleOrderBookSubscription, limit: undefined, type: 'future', params: {} };
    ex.handleOrderBookSubscription(client, { result: null, id: 1 }, subscription);
    // spawn() starts fetchOrderBookSnapshot on a timer: let it reach its fetch.
    await new Promise((r) => setTimeout(r, 5));
    for (const f of ds.frames) if (f.kind === 'snapshot') f.ccxtSymbol = ex.safeSymbol(f.symbol, undefined, undefined, 'swap');
    if (pending.size !== symbols.length) throw new Error(`expected ${symbols.length} snapshot requests, ccxt made ${pending.size}`);
  }
  return { ex, client, pending };
}

// The timed replay. Binance snapshot records answer ccxt's pending REST request.
async function replay(ds, s, afterFrame) {
  const { ex, client, pending } = s;
  const frames = ds.frames;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (f.kind === 'snapshot' && ds.venue === 'binance_usdm') {
      const k = urlKey(f.url);
      const resolve = pending.get(k);
      if (resolve === undefined) throw new Error(`ccxt did not request ${f.url}`);
      pending.delete(k);
      resolve(JSON.parse(f.text));
      // ccxt's fetch -> fetchOrderBook -> fetchOrderBookSnapshot chain is promise-only: drain
      // microtasks until the book has taken the snapshot (no event-loop round trip).
      const book = ex.orderbooks[f.ccxtSymbol];
      for (let spins = 0; book.nonce === undefined; spins++) {
        if (spins > 10000) throw new Error(`ccxt did not apply the ${f.symbol} snapshot`);
        await null;
      }
    } else {
      ex.handleMessage(client, JSON.parse(f.text));
    }
    if (afterFrame !== undefined) afterFrame(i, ex, client);
  }
}

function metadataMap(ds) {
  const m = new Map();
  for (const file of ds.metadata) for (const r of httpResponses(file)) m.set(urlKey(r.url), r.body);
  return m;
}

// Top of book and every level of one symbol's ccxt book.
function bookState(ex, symbol) {
  const b = ex.orderbooks[symbol];
  if (b === undefined) return { top: 'no book', levels: new Map() };
  const levels = new Map();
  for (const [p, q] of b.bids) levels.set('b' + p, q);
  for (const [p, q] of b.asks) levels.set('a' + p, q);
  const bb = b.bids[0], ba = b.asks[0];
  return { top: `${bb ? bb[0] + '@' + bb[1] : '-'}|${ba ? ba[0] + '@' + ba[1] : '-'}`, levels };
}
const levelDiff = (x, y) => {
  let n = 0;
  for (const [k, v] of x) if (y.get(k) !== v) n++;
  for (const k of y.keys()) if (!x.has(k)) n++;
  return n;
};

// Drops one real update frame and reports whether ccxt rejected the book's watcher (what a
// watchOrderBook() caller sees: InvalidNonce / ChecksumError) and how its book differs.
async function droppedFrameCheck(ds, metadata, cache) {
  const drop = frameToDrop(ds);
  const intactS = await setup(ds, metadata, cache);
  const symbol = ds.venue === 'okx' ? intactS.ex.safeSymbol(ds.frames[drop].symbol)
    : intactS.ex.safeSymbol(ds.frames[drop].symbol, undefined, undefined, 'swap');
  const want = [];
  await replay(ds, intactS, (i, ex) => { if (i >= drop) want[i] = bookState(ex, symbol); });
  const gapS = await setup(ds, metadata, cache);
  const gappedDs = { ...ds, frames: ds.frames.filter((_, i) => i !== drop) };
  let topWrong = 0, bookWrong = 0;
  await replay(gappedDs, gapS, (j, ex) => {
    if (j < drop) return;
    const got = bookState(ex, symbol), w = want[j + 1];
    if (got.top !== w.top) topWrong++;
    if (levelDiff(got.levels, w.levels) > 0) bookWrong++;
  });
  const rejections = Object.entries(gapS.client.rejections).map(([h, e]) => `${h}: ${e?.constructor?.name}: ${String(e?.message ?? e).slice(0, 160)}`);
  const intactRejections = Object.keys(intactS.client.rejections).length;
  return {
    venue: ds.venue, peer: 'ccxt', dropped_frame_index: drop, symbol,
    noticed: rejections.length > intactRejections,
    how: rejections.length > intactRejections ? `watchOrderBook rejected: ${rejections[0]}` : 'nothing (no rejection)',
    intact_run_rejections: intactRejections,
    frames_with_wrong_top_of_book: topWrong,
    frames_with_wrong_book: bookWrong,
    frames_after_drop: gappedDs.frames.length - drop,
    levels_wrong_at_end: levelDiff(bookState(intactS.ex, symbol).levels, bookState(gapS.ex, symbol).levels),
  };
}

const a = parseArgs(process.argv.slice(2));
const drops = [];
for (const venue of a.venues) {
  const ds = loadDataset(venue, a.dataDir);
  const metadata = metadataMap(ds);
  const cache = {};
  for (let i = 0; i < a.warmup; i++) await replay(ds, await setup(ds, metadata, cache));
  const wall = [], cpu = [];
  let last;
  for (let i = 0; i < a.passes; i++) {
    const s = await setup(ds, metadata, cache);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await replay(ds, s);
    const t1 = process.hrtime.bigint();
    const c = process.cpuUsage(c0);
    wall.push(Number(t1 - t0));
    cpu.push((c.user + c.system) * 1000);
    last = s;
  }
  const rejected = Object.keys(last.client.rejections);
  if (rejected.length) throw new Error(`ccxt rejected intact ${venue} books: ${rejected.join(', ')}`);
  const ns = median(wall) / ds.frames.length;
  console.log(JSON.stringify({
    peer: 'ccxt', version, node: process.version, venue, exchange_class: classOf[venue],
    book_frames: ds.frames.length, frame_kinds: ds.kinds, books: Object.keys(last.ex.orderbooks).length,
    ns_per_book_frame: ns, cpu_ns_per_book_frame: median(cpu) / ds.frames.length,
    min_ns_per_book_frame: Math.min(...wall) / ds.frames.length,
    book_frames_per_s: 1e9 / ns, passes: a.passes, warmup: a.warmup,
    // Best bid|ask per venue symbol after the last frame: compare.sh checks the peers agree.
    final_top_of_book: Object.fromEntries(Object.keys(last.ex.orderbooks).sort()
      .map((sym) => [last.ex.market(sym).id, bookState(last.ex, sym).top])),
  }));
  if (a.dropCheck) drops.push(await droppedFrameCheck(ds, metadata, cache));
}
console.log(JSON.stringify({ dropped_frame_check: drops }));
