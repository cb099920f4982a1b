// The recorded book frames every peer (tardis.mjs, ccxt.mjs) is fed, loaded into memory untimed.
// The same inputs go to our `fh-bench pipeline` in compare.sh, so all three count the same
// book frames (fh-bench's book_frames: the records whose parse yields a book message).
//
// Captures are cryptofeed raw text (data/PROVENANCE.md, format A), gzip:
//   "<url> <-> <t>"        connection opened (first line)        -> skipped
//   "<url> <- <t>: <text>" text the recorder sent (subscribe)    -> skipped
//   "<t>: <text>"          one received WebSocket message        -> kept if it is a book frame
//   "<http-url> -> <t>: <body>"  one REST response (http files)  -> depth snapshots / metadata
// t is the recorder's receive time (Unix seconds). REST depth snapshots are merged into the
// stream by that time, which is where the recorder received them (our Replay does the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const defaultDataDir = path.resolve(here, '..', '..', 'data');

function gunzipLines(file) {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n');
}

// Received WebSocket frames: [{t, text}] in file order.
function receivedFrames(file) {
  const out = [];
  const lines = gunzipLines(file);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line.startsWith('wss://') || line.startsWith('ws://')) continue;
    const colon = line.indexOf(': ');
    if (colon < 0) continue;
    const t = Number(line.slice(0, colon));
    if (!Number.isFinite(t)) continue;
    out.push({ t, text: line.slice(colon + 2), line: n });
  }
  return out;
}

// REST responses of an http capture: [{url, t, body}].
export function httpResponses(file) {
  const out = [];
  for (const line of gunzipLines(file)) {
    const arrow = line.indexOf(' -> ');
    if (!line.startsWith('http') || arrow < 0) continue;
    const colon = line.indexOf(': ', arrow);
    out.push({ url: line.slice(0, arrow), t: Number(line.slice(arrow + 4, colon)), body: line.slice(colon + 2) });
  }
  return out;
}

// The first line of a ws capture: the URL the recorder connected to.
export function connectUrl(file) {
  const first = gunzipLines(file)[0];
  return first.slice(0, first.indexOf(' <-> '));
}

export const datasets = {
  // OKX v5 books-l2-tbt, 10 instruments (spot, swap, options): 20 snapshots + 3,659 updates.
  okx: (dataDir = defaultDataDir) => {
    const ws = path.join(dataDir, 'okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz');
    const instruments = path.join(dataDir, 'okx/cryptofeed/instruments_2022-02-27_http.txt.gz');
    const frames = [];
    for (const f of receivedFrames(ws)) {
      if (!f.text.includes('"channel":"books-l2-tbt"') || !f.text.includes('"action":"')) continue;
      const m = JSON.parse(f.text);
      frames.push({ ...f, kind: m.action, symbol: m.arg.instId });
    }
    return { venue: 'okx', ws, fhInputs: [ws, instruments], metadata: [instruments], frames };
  },
  // Binance USD-M diff depth @100ms with pu, 4 symbols, + the 4 REST depth snapshots the
  // recorder fetched during the run (limit=1000), merged by receive time.
  binance_usdm: (dataDir = defaultDataDir) => {
    const ws = path.join(dataDir, 'binance/cryptofeed/usdm_2021-07-22_ws.txt.gz');
    const snaps = path.join(dataDir, 'binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz');
    const info = path.join(dataDir, 'binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz');
    const frames = [];
    for (const f of receivedFrames(ws)) {
      if (!f.text.includes('"e":"depthUpdate"')) continue;
      const m = JSON.parse(f.text);
      frames.push({ ...f, kind: 'update', symbol: m.data.s });
    }
    for (const r of httpResponses(snaps)) {
      const symbol = new URL(r.url).searchParams.get('symbol');
      frames.push({ t: r.t, text: r.body, url: r.url, kind: 'snapshot', symbol });
    }
    // Stable sort: a snapshot lands after every stream frame received before it.
    frames.sort((a, b) => a.t - b.t);
    return { venue: 'binance_usdm', ws, fhInputs: [ws, snaps, info], metadata: [info], frames };
  },
};

export function loadDataset(venue, dataDir = defaultDataDir) {
  const ds = datasets[venue](dataDir);
  ds.kinds = {};
  for (const f of ds.frames) ds.kinds[f.kind] = (ds.kinds[f.kind] || 0) + 1;
  return ds;
}

// The frame a "dropped frame" check removes: the first book update at or after the middle of
// the update frames that carries at least one price level (mechanical, same rule for every peer).
export function frameToDrop(ds) {
  const updates = [];
  ds.frames.forEach((f, i) => { if (f.kind === 'update') updates.push(i); });
  for (let k = Math.floor(updates.length / 2); k < updates.length; k++) {
    const m = JSON.parse(ds.frames[updates[k]].text);
    const levels = ds.venue === 'okx'
      ? m.data.reduce((n, d) => n + d.bids.length + d.asks.length, 0)
      : m.data.b.length + m.data.a.length;
    if (levels > 0) return updates[k];
  }
  throw new Error('no update frame with levels');
}

// A copy of the ws capture without the line of frameToDrop(ds) (mechanical removal, every other
// byte as recorded), written gzip under dir with the same file name, for our fh-replay.
// Returns fhInputs with the ws capture replaced by the copy.
export function writeGappedCapture(ds, dir) {
  const drop = ds.frames[frameToDrop(ds)];
  const lines = gunzipSync(readFileSync(ds.ws)).toString('utf8').split('\n');
  if (lines[drop.line].slice(lines[drop.line].indexOf(': ') + 2) !== drop.text) throw new Error('line mismatch');
  lines.splice(drop.line, 1);
  const out = path.join(dir, path.basename(ds.ws));
  writeFileSync(out, gzipSync(Buffer.from(lines.join('\n'), 'utf8')));
  return { line: drop.line + 1, symbol: drop.symbol, inputs: ds.fhInputs.map((f) => (f === ds.ws ? out : f)) };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Shared argument parsing: --data DIR --passes N --warmup N --only VENUE[,VENUE] --no-drop-check
// Warm-up is generous: a Binance pass is ~10 ms, and V8 needs many to settle its JIT tiers.
export function parseArgs(argv) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
  };
  const only = opt('--only', '');
  return {
    dataDir: path.resolve(opt('--data', defaultDataDir)),
    passes: Number(opt('--passes', '31')),
    warmup: Number(opt('--warmup', '20')),
    dropCheck: !argv.includes('--no-drop-check'),
    venues: only ? only.split(',') : Object.keys(datasets),
  };
}
