// Prints the benchmark's table (Markdown, to paste into the README) from bench/measure.mjs's samples, the lines
// scripts/sizes.sh printed, the hello page's bytes in the same columns, and the SSE decoder's line from
// tests/bench_sse.rs. Times are medians with their spread: min–max over the runs of a page load, p10–p90 over the
// many calls of a round trip.
//
// Usage: node table.mjs --results FILE --sizes FILE --hello-sizes FILE --sse FILE [--seconds N] [--nproc N]
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    results: { type: 'string' },
    sizes: { type: 'string' },
    'hello-sizes': { type: 'string' },
    sse: { type: 'string' },
    seconds: { type: 'string' },
    nproc: { type: 'string' },
  },
});
const r = JSON.parse(readFileSync(opt.results, 'utf8'));
const sizes = readFileSync(opt.sizes, 'utf8').trimEnd();
const helloSizes = readFileSync(opt['hello-sizes'], 'utf8').trimEnd();
const sse = readFileSync(opt.sse, 'utf8').trim();
const inspectorVersion = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
  .comparedWith['@modelcontextprotocol/inspector'].version;
const budget = Number(readFileSync(new URL('./size-budget', import.meta.url), 'utf8').match(/^\d+/m)[0]);

// ---------------------------------------------------------------------------------------------------------------
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  const s = sorted(xs);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const median = (xs) => quantile(xs, 0.5);
const n0 = (x) => Math.round(x).toLocaleString('en-US');
const ms = (x) => `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : n0(x)} ms`;
const bytes = (x) => `${n0(x)} B`;
const mib = (x) => `${(x / 1048576).toFixed(1)} MiB`;
const range = (xs, f) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))} (min–max, ${xs.length} runs)`;
const p1090 = (xs, f) => `${f(quantile(xs, 0.1))} – ${f(quantile(xs, 0.9))} (p10–p90, ${xs.length} calls)`;
const met = (ok) => (ok ? 'yes' : '**no**');

const rows = [];
const row = (...cells) => rows.push(`| ${cells.join(' | ')} |`);

// ---------------------------------------------------------------------------------------------------------------
// 1. Bytes: the totals of sizes.sh's lines (shown whole below the table) and of the hello page's.
function totals(text, label) {
  const line = text.split('\n').find((l) => l.startsWith(`${label} total`));
  if (!line) throw new Error(`no "${label} total" line in ${text}`);
  const [raw, gz, br] = line.slice(`${label} total`.length).trim().split(/\s+/).map(Number);
  return { raw, gz, br };
}
const first = totals(sizes, 'first');
const later = totals(sizes, 'later');
const hello = totals(helloSizes, 'hello');
const trio = (t) => `${bytes(t.raw)} raw, ${bytes(t.gz)} gzip -9, ${bytes(t.br)} brotli 11`;
row('First load, console (page, loader, wasm, stylesheet)', trio(first), 'exact', `≤ ${bytes(budget)} gzip (bench/size-budget; the goal is 183,000)`, met(first.gz <= budget));
row('Loaded later, console (callback.html, callback.js)', trio(later), 'exact', '—', '—');
row('First load, hello-world floor (page, loader, wasm)', trio(hello), 'exact', '—', '—');

// 2. Navigation start → interactive.
const linkName = { loopback: 'loopback', slow: '10 Mbit/s, 40 ms' };
const what = {
  console: 'console (Connect enabled: form mounted, config.json read)',
  hello: 'hello-world floor (its button present)',
  inspector: `MCP Inspector ${inspectorVersion} web client ("Add Servers" enabled; its backend absent)`,
};
for (const link of ['loopback', 'slow']) {
  const floor = median(r.load.hello[link].ms);
  for (const kind of ['console', 'hello', 'inspector']) {
    const s = r.load[kind]?.[link];
    if (!s) continue;
    const m = median(s.ms);
    const isConsole = kind === 'console';
    row(`Navigation → interactive, ${linkName[link]}: ${what[kind]}`, ms(m), range(s.ms, ms),
      isConsole ? `≤ 1.5 × hello = ${ms(1.5 * floor)} (×${(m / floor).toFixed(2)})` : '—',
      isConsole ? met(m <= 1.5 * floor) : '—');
  }
}
for (const kind of ['console', 'hello', 'inspector']) {
  const s = r.load[kind]?.loopback;
  if (!s) continue;
  row(`Bytes transferred, first load (gzip on): ${kind === 'inspector' ? `MCP Inspector ${inspectorVersion} (the issue measured 2.12.0: 751,079 B)` : kind}`,
    bytes(median(s.bytes)), range(s.bytes, bytes), '—', '—');
}

// 3. tools/call round trip.
const sides = {
  json: 'JSON reply (TypeScript SDK peer, --json-response)',
  sse: 'SSE reply (server-everything, streamableHttp)',
};
for (const [name, label] of Object.entries(sides)) {
  const t = r.roundTrip?.[name];
  if (!t) continue;
  const c = median(t.console);
  const raw = median(t.raw);
  row(`tools/call echo, ${label}: console — click Call → result in the DOM (engine, fold, render)`, ms(c), p1090(t.console, ms), '—', '—');
  row(`tools/call echo, ${label}: raw fetch POST from the same page (same body, headers and session) → body read and parsed`, ms(raw), p1090(t.raw, ms), '—', '—');
  row(`tools/call echo, ${label}: console ÷ raw`, `×${(c / raw).toFixed(2)}`, '—', '≤ ×1.10', met(c / raw <= 1.1));
}

// 4. SSE decode.
const sseMatch = sse.match(/median=([\d.]+) min=([\d.]+) max=([\d.]+) MB\/s runs=(\d+) bytes=(\d+) events=(\d+) chunk=(\d+)/);
if (sseMatch) {
  const [, med, lo, hi, runs, total, events, chunk] = sseMatch;
  row(`SSE decode in wasm (core::sse, release build, Chromium): a recorded server-everything stream, ${mib(Number(total))} (${n0(Number(events))} events) in ${Number(chunk) / 1024} KiB chunks`,
    `${med} MB/s`, `${lo} – ${hi} MB/s (min–max, ${runs} runs)`, '≥ 100 MB/s', met(Number(med) >= 100));
} else {
  row('SSE decode in wasm', `unreadable: ${sse}`, '—', '≥ 100 MB/s', '?');
}

// 5. 1,000 tools.
const many = r.manyTools;
if (many) {
  const m = median(many.listToPaint);
  const rows = many.rows ? `, the ${n0(Math.max(...many.rows))} rows that can be in sight drawn` : '';
  row(`1,000 tools: tools/list response end (Resource Timing) → list drawn (heading counts all ${n0(Math.min(...many.tools))}${rows})`, ms(m), range(many.listToPaint, ms), '≤ 16 ms', met(m <= 16));
  row('1,000 tools: click Connect → list drawn (whole connection, for reference)', ms(median(many.connectToPaint)), range(many.connectToPaint, ms), '—', '—');
  if (many.filter) {
    const f = median(many.filter);
    row('1,000 tools: keystroke in the search box → list drawn anew (the count of matches changed)', ms(f), `${ms(Math.min(...many.filter))} – ${ms(Math.max(...many.filter))} (min–max, ${many.filter.length} keystrokes)`, '≤ 16 ms', met(f <= 16));
  } else {
    row('1,000 tools: keystroke in the search box → filtered', 'no search box yet', '—', '≤ 16 ms', '—');
  }
}

// 6. Memory.
const heap = r.heap;
if (heap?.samples?.length >= 2) {
  const s = heap.samples;
  const warm = s[1];
  const end = s[s.length - 1];
  const calls = end.calls - warm.calls;
  const stopped = heap.stoppedBy === 'time'
    ? `stopped at the ${heap.limitSeconds} s limit after ${n0(end.calls)} of ${n0(heap.target)} calls`
    : `${n0(end.calls)} calls`;
  const at = (f) => s.map((x) => `${n0(x.calls)}: ${f(x)}`).join('; ');
  const growth = (a, b) => `${mib(a)} → ${mib(b)}${calls > 0 ? ` (${b >= a ? '+' : ''}${n0((b - a) / calls)} B a call)` : ''}`;
  // Flat: grows by at most 5 % (or 1 MiB, for small heaps) from the warm-up sample to the last.
  const flat = (a, b) => b - a <= Math.max(a * 0.05, 1048576);
  row(`JS heap after GC, warm-up (${n0(warm.calls)} echo calls) → end (${stopped}; the history then holds ${n0(end.entries)} entries)`,
    growth(warm.jsHeap, end.jsHeap), at((x) => mib(x.jsHeap)), 'flat after warm-up (≤ +5 %)', met(flat(warm.jsHeap, end.jsHeap)));
  if (end.wasm !== null) {
    row('wasm linear memory (the Rust heap), same calls', growth(warm.wasm, end.wasm), at((x) => mib(x.wasm)),
      'flat after warm-up (≤ +5 %)', met(flat(warm.wasm, end.wasm)));
  }
  row('DOM nodes and JS event listeners, same calls', `${n0(warm.domNodes)} → ${n0(end.domNodes)} nodes, ${n0(warm.listeners)} → ${n0(end.listeners)} listeners`,
    at((x) => `${n0(x.domNodes)} / ${n0(x.listeners)}`), '—', '—');
  const first = heap.chunks[0];
  const last = heap.chunks[heap.chunks.length - 1];
  row('Wall time per call while making them (clicked in bursts of 50 from inside the page)',
    `${ms(first.msPerCall)} (first ${n0(first.upTo)}) → ${ms(last.msPerCall)} (at ${n0(last.upTo)})`,
    `${Math.round(heap.seconds)} s in all`, '—', '—');
}
const big = r.big;
if (big) {
  const outcome = big.outcome === 'shown' ? `shown (${n0(big.shownBytes)} characters of text) in ${ms(big.ms)}`
    : `not shown: ${big.outcome}${big.ms === undefined ? '' : ` (after ${ms(big.ms)})`}`;
  row(`A ${mib(big.bytes)} result (peer's big tool, JSON reply): ${outcome}`, `JS heap ${mib(big.after.jsHeap)}, wasm ${big.after.wasm === null ? '?' : mib(big.after.wasm)}`,
    `before the call: JS heap ${mib(big.before.jsHeap)}, wasm ${big.before.wasm === null ? '?' : mib(big.before.wasm)}`, '—', '—');
}

// ---------------------------------------------------------------------------------------------------------------
let cpu = cpus()[0]?.model ?? 'unknown CPU';
try {
  cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpu;
} catch { /* not Linux */ }
const when = new Date(r.started).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
console.log(`Benchmark of ${when} on ${opt.nproc ?? cpus().length} cores (nproc; ${cpu}), Chromium ${r.chromium}, headless; `
  + `every server on 127.0.0.1, pages served with gzip (level 9); measuring took ${opt.seconds ?? '?'} s.`);
if (r.error) console.log(`\n**The measurements stopped early: ${r.error}** Rows after that point are missing.`);
console.log('');
console.log('| figure | median | spread | budget | met? |');
console.log('|---|---|---|---|---|');
for (const line of rows) console.log(line);
console.log('\nscripts/sizes.sh --no-build, and the hello page in the same columns:\n');
console.log('```');
console.log(sizes);
console.log(helloSizes);
console.log('```');
if (r.roundTrip?.json?.resultShown !== undefined) {
  console.log(`\nThe console's echo result, as shown: ${JSON.stringify(r.roundTrip.json.resultShown)} (JSON), ${JSON.stringify(r.roundTrip.sse?.resultShown)} (SSE).`);
}
