// The benchmark's browser half, run by scripts/bench.sh: drives headless Chromium (Debian's, through playwright-core)
// against the built console, the hello-world floor and MCP Inspector's web client, all served by bench/static.mjs
// with gzip on, and against real MCP peers on 127.0.0.1. Writes every sample, in milliseconds or bytes, to one JSON
// file that bench/table.mjs turns into the table. The summaries (medians, spreads) are the table's business.
//
// Every time is taken inside the page with performance.now(), whose zero is navigation start
// (performance.timeOrigin), and stops when the DOM first holds what was waited for: a MutationObserver callback runs
// right after the task that rendered it, before the browser paints, and the paint follows in the next frame.
//
// Usage: node measure.mjs --out FILE --pid-file FILE --console URL --hello URL [--inspector URL]
//          --sse-server URL --json-server URL --many-server URL --big-server URL
//          [--runs N] [--calls N] [--heap-calls N] [--heap-warmup N] [--heap-seconds N] [--big-bytes N]
import { rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({
  options: {
    out: { type: 'string' },
    'pid-file': { type: 'string' },
    console: { type: 'string' },
    hello: { type: 'string' },
    inspector: { type: 'string' },
    'sse-server': { type: 'string' },
    'json-server': { type: 'string' },
    'many-server': { type: 'string' },
    'big-server': { type: 'string' },
    runs: { type: 'string', default: '7' },
    calls: { type: 'string', default: '30' },
    'heap-calls': { type: 'string', default: '10000' },
    'heap-warmup': { type: 'string', default: '1000' },
    'heap-seconds': { type: 'string', default: '240' },
    'big-bytes': { type: 'string', default: String(50 * 1024 * 1024) },
  },
});
for (const required of ['out', 'console', 'hello', 'sse-server', 'json-server', 'many-server', 'big-server']) {
  if (!opt[required]) {
    console.error(`measure.mjs: --${required} is required`);
    process.exit(2);
  }
}
const RUNS = Number(opt.runs);
const CALLS = Number(opt.calls);
const HEAP_CALLS = Number(opt['heap-calls']);
const HEAP_WARMUP = Number(opt['heap-warmup']);
const HEAP_SECONDS = Number(opt['heap-seconds']);
const BIG_BYTES = Number(opt['big-bytes']);

// 10 Mbit/s both ways and 40 ms of latency, as Chrome DevTools' throttling applies it (per request).
const SLOW_LINK = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };

const log = (...a) => console.error('bench:', ...a);
const results = { started: new Date().toISOString(), load: {}, roundTrip: {}, notes: [] };
const save = () => writeFileSync(opt.out, `${JSON.stringify(results, null, 1)}\n`);

// ---------------------------------------------------------------------------------------------------------------
// The browser. launchServer rather than launch: its process id goes to --pid-file, so that bench.sh's trap can end
// Chromium's whole process group even if this script is killed outright. Playwright gives it a fresh profile (a new
// --user-data-dir under the temp dir, /tmp) and removes it on close. The host resolver rules keep every request on
// this machine: a name other than 127.0.0.1 (MCP Inspector's Google Fonts link) fails at once instead of waiting.
const server = await chromium.launchServer({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
});
if (opt['pid-file']) writeFileSync(opt['pid-file'], `${server.process().pid}\n`);
const browser = await chromium.connect(server.wsEndpoint());
results.chromium = browser.version();

let closing = false;
async function closeBrowser() {
  if (closing) return;
  closing = true;
  await browser.close().catch(() => {});
  await server.close().catch(() => {});
  // Chromium has exited: nothing is left for bench.sh to end, and its process group id may be reused.
  if (opt['pid-file']) rmSync(opt['pid-file'], { force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => closeBrowser().finally(() => process.exit(130)));
}

// ---------------------------------------------------------------------------------------------------------------
// In-page instruments, installed before any of the page's own scripts run.

/// Records in window.__bench.ready the performance.now() at which the page first shows `kind`'s ready element,
/// and keeps the wasm module's memory (Trunk's loader announces the instance) for the heap figures.
function instrument({ kind, recordFetches }) {
  const ready = {
    // The Connect button is disabled until the wasm has mounted the form and read config.json.
    console: () => document.querySelector('[data-testid=connect]:not([disabled])'),
    hello: () => document.querySelector('[data-testid=hello]:not([disabled])'),
    // Without its backend (absent: only the static build is served) Inspector lists no server to connect to; its
    // way to one starts at this button.
    inspector: () => [...document.querySelectorAll('button')].find((b) => !b.disabled && b.textContent.trim() === 'Add Servers'),
  }[kind];
  // The console's tool list heading, "Tools (N)" or "Tools (n of N)", read as numbers.
  const toolCount = () => {
    const m = /^Tools \((?:(\d+) of )?(\d+)\)$/.exec(document.querySelector('#tools-heading')?.textContent ?? '');
    return m ? { shown: Number(m[1] ?? m[2]), total: Number(m[2]) } : null;
  };
  const bench = { ready: null, wasmMemory: null, fetches: [], toolCount };
  window.__bench = bench;
  addEventListener('TrunkApplicationStarted', (e) => { bench.wasmMemory = e.detail?.wasm?.memory ?? null; });
  const observer = new MutationObserver(() => {
    if (bench.ready === null && ready()) {
      bench.ready = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
  // Which request carried what, with the time fetch() was called: only the 1,000-tool measurement asks for it, to
  // find the tools/list exchange among the page's Resource Timing entries (the console's requests are Request
  // objects, whose bodies are read from a clone). Left out elsewhere: it is work the console would not do.
  if (!recordFetches) return;
  const fetch = window.fetch;
  window.fetch = function benchFetch(input, init) {
    const record = { at: performance.now(), url: String(input?.url ?? input), body: null };
    bench.fetches.push(record);
    if (typeof init?.body === 'string') record.body = init.body.slice(0, 200);
    else if (input instanceof Request) input.clone().text().then((t) => { record.body = t.slice(0, 200); }, () => {});
    return fetch.apply(this, arguments);
  };
}

/// A fresh context and page (nothing cached, no connection reused), with the HTTP cache disabled through CDP and,
/// when `link` is given, the network throttled. Returns the page, its CDP session and the bytes it has received.
/// With `network: false` DevTools' network domain stays off (it keeps a record of every request, which the memory
/// figures should not count).
async function freshPage(kind, link, { recordFetches = false, network = true } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(instrument, { kind, recordFetches });
  const cdp = await context.newCDPSession(page);
  if (!network) return { context, page, cdp, traffic: null };
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (link) await cdp.send('Network.emulateNetworkConditions', link);
  // Bytes per request: the encoded length at loadingFinished, or, for a response whose body the page never reads
  // (a 404 for config.json: Chromium reports no loadingFinished then), its headers and the data seen so far.
  const traffic = { requests: [], perRequest: new Map(), waiting: new Set(), lastEvent: Date.now() };
  const touch = () => { traffic.lastEvent = Date.now(); };
  const entry = (id) => {
    if (!traffic.perRequest.has(id)) traffic.perRequest.set(id, { received: 0, finished: null });
    return traffic.perRequest.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => {
    traffic.requests.push(e);
    traffic.waiting.add(e.requestId);
    entry(e.requestId);
    touch();
  });
  cdp.on('Network.responseReceived', (e) => {
    entry(e.requestId).received += e.response.encodedDataLength ?? 0;
    traffic.waiting.delete(e.requestId);
    touch();
  });
  cdp.on('Network.dataReceived', (e) => {
    entry(e.requestId).received += e.encodedDataLength ?? 0;
    touch();
  });
  cdp.on('Network.loadingFinished', (e) => {
    entry(e.requestId).finished = e.encodedDataLength;
    traffic.waiting.delete(e.requestId);
    touch();
  });
  cdp.on('Network.loadingFailed', (e) => {
    traffic.waiting.delete(e.requestId);
    touch();
  });
  traffic.bytes = () => [...traffic.perRequest.values()].reduce((sum, r) => sum + (r.finished ?? r.received), 0);
  return { context, page, cdp, traffic };
}

/// Waits until every request has its response (or failed) and nothing has happened on the network for `ms`.
async function quiet(traffic, ms = 500, max = 10000) {
  const end = Date.now() + max;
  while (Date.now() < end && (traffic.waiting.size > 0 || Date.now() - traffic.lastEvent < ms)) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Navigation start → interactive, and the bytes of the first load.
async function loadOnce(kind, url, link) {
  const { context, page, traffic } = await freshPage(kind, link);
  try {
    await page.goto(url, { waitUntil: 'commit', timeout: 120000 });
    await page.waitForFunction(() => window.__bench.ready !== null, null, { timeout: 120000, polling: 50 });
    const ms = await page.evaluate(() => window.__bench.ready);
    // Bytes: everything the first load fetched, counted once the network has been quiet for half a second.
    await quiet(traffic);
    return { ms, bytes: traffic.bytes() };
  } finally {
    await context.close();
  }
}

const pages = [['console', opt.console], ['hello', opt.hello]];
if (opt.inspector) pages.push(['inspector', opt.inspector]);
const links = [['loopback', null], ['slow', SLOW_LINK]];

async function measureLoads() {
  // One untimed load each first: the static server and Chromium's processes are warm for every timed run alike.
  for (const [kind, url] of pages) await loadOnce(kind, url, null);
  for (const [kind] of pages) {
    results.load[kind] = {};
    for (const [name] of links) results.load[kind][name] = { ms: [], bytes: [] };
  }
  // Interleaved, so that whatever else the machine does falls on every page alike.
  for (let run = 0; run < RUNS; run += 1) {
    for (const [name, link] of links) {
      for (const [kind, url] of pages) {
        const { ms, bytes } = await loadOnce(kind, url, link);
        results.load[kind][name].ms.push(ms);
        results.load[kind][name].bytes.push(bytes);
      }
    }
    log(`loads: run ${run + 1} of ${RUNS}`);
  }
  save();
}

// ---------------------------------------------------------------------------------------------------------------
// The console, connected through its real UI, as the end-to-end tests do it (tests/e2e/support.rs).
async function connectConsole(server, { network = true } = {}) {
  const fresh = await freshPage('console', null, { network });
  const { page } = fresh;
  await page.goto(opt.console, { timeout: 120000 });
  await page.waitForSelector('[data-testid=connect]:not([disabled])', { timeout: 120000 });
  await page.fill('[data-testid=server-url]', server);
  await page.selectOption('[data-testid=transport]', 'streamable');
  fresh.clickedConnect = await page.evaluate(() => {
    const at = performance.now();
    document.querySelector('[data-testid=connect]').click();
    return at;
  });
  await page.waitForFunction(
    () => document.querySelector('[data-testid=status]')?.textContent.startsWith('Connected to'),
    null, { timeout: 60000, polling: 50 },
  );
  await page.waitForSelector('[data-testid=tool-name]', { timeout: 60000 });
  return fresh;
}

/// Opens `tool` in the call panel with `args` typed as JSON.
async function pickTool(page, tool, args) {
  const found = await page.evaluate((name) => {
    const pick = [...document.querySelectorAll('[data-testid=tool-pick]')]
      .find((b) => b.querySelector('[data-testid=tool-name]')?.textContent === name);
    pick?.click();
    return Boolean(pick);
  }, tool);
  if (!found) throw new Error(`the console lists no tool ${tool}`);
  await page.waitForSelector('[data-testid=call-form]');
  await page.evaluate(() => document.querySelector('[data-testid=view-json]')?.click());
  await page.fill('[data-testid=call-arguments]', JSON.stringify(args));
}

/// In the page: clicks Call `n` times, one after the other, each time with a message of its own typed into the
/// arguments first (outside the timing), and waits until the newest entry of the calls list shows that message
/// echoed back; returns each click → result time. Matching on the message, not on the list's length, keeps this
/// right when the history is capped and drops its oldest entry as a new one comes.
function clickCalls({ n, timeoutMs }) {
  const list = document.querySelector('[data-testid=calls]');
  const one = async () => {
    window.__benchSeq = (window.__benchSeq ?? 0) + 1;
    const message = `Hello from the benchmark [${window.__benchSeq}]`;
    const field = document.querySelector('[data-testid=call-arguments]');
    field.value = JSON.stringify({ message });
    field.dispatchEvent(new Event('input', { bubbles: true }));
    // Let the console settle what typing changed before the clock starts.
    await new Promise((r) => setTimeout(r, 0));
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { observer.disconnect(); reject(new Error(`no result after ${timeoutMs} ms`)); }, timeoutMs);
      const observer = new MutationObserver(() => {
        const entry = list.firstElementChild;
        const failed = entry?.querySelector('[data-testid=call-failed]');
        const shown = entry?.querySelector('[data-testid=call-result]')?.textContent.includes(message);
        if (!shown && !failed) return;
        const at = performance.now();
        observer.disconnect();
        clearTimeout(timer);
        if (shown) resolve(at);
        else reject(new Error(`the call failed: ${failed.textContent}`));
      });
      observer.observe(list, { childList: true, subtree: true, characterData: true });
    });
    const start = performance.now();
    document.querySelector('[data-testid=call]').click();
    return (await done) - start;
  };
  return (async () => {
    const times = [];
    for (let i = 0; i < n; i += 1) times.push(await one());
    return times;
  })();
}

/// In the page: `n` fetch POSTs of `body` (its id changed each time) with `headers`, each read whole and its
/// JSON-RPC answer parsed out of the JSON or SSE body; returns each one's time.
function rawCalls({ url, headers, body, n, firstId }) {
  return (async () => {
    const times = [];
    for (let i = 0; i < n; i += 1) {
      const text = JSON.stringify({ ...body, id: firstId + i });
      const start = performance.now();
      const res = await fetch(url, { method: 'POST', headers, body: text });
      const reply = await res.text();
      const json = (res.headers.get('content-type') ?? '').includes('text/event-stream')
        ? reply.split(/\r?\n/).filter((l) => l.startsWith('data:') && l.length > 6).map((l) => l.slice(5)).pop()
        : reply;
      const message = JSON.parse(json);
      times.push(performance.now() - start);
      if (!message.result) throw new Error(`raw call answered ${reply.slice(0, 200)}`);
    }
    return times;
  })();
}

// ---------------------------------------------------------------------------------------------------------------
// 3. tools/call round trip: the console's engine and UI against a bare fetch of the same request.
async function measureRoundTrip(name, server) {
  const { context, page, cdp, traffic } = await connectConsole(server);
  try {
    await pickTool(page, 'echo', { message: 'Hello from the benchmark' });
    const warm = await page.evaluate(clickCalls, { n: 5, timeoutMs: 30000 });
    // The console's own tools/call, as sent: the raw side repeats its body and headers (same session). CDP leaves
    // the body out of requestWillBeSent for a Request object's body; it is asked for.
    let sent = null;
    for (const r of traffic.requests.filter((x) => x.request.method === 'POST' && x.request.url === server).reverse()) {
      const body = r.request.postData
        ?? (await cdp.send('Network.getRequestPostData', { requestId: r.requestId }).catch(() => null))?.postData;
      if (body?.includes('"tools/call"')) {
        sent = { ...r, request: { ...r.request, postData: body } };
        break;
      }
    }
    if (!sent) throw new Error('no tools/call request was seen');
    const allowed = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'authorization'];
    const headers = Object.fromEntries(Object.entries(sent.request.headers)
      .filter(([k]) => allowed.includes(k.toLowerCase())));
    const body = JSON.parse(sent.request.postData);
    const raw = { url: sent.request.url, headers, body, firstId: 1_000_000 };
    await page.evaluate(rawCalls, { ...raw, n: 5 });
    const out = { console: [], raw: [], warm, headers, body };
    const block = Math.max(1, Math.round(CALLS / 6));
    // Alternating blocks, so that drift in the machine's load falls on both sides alike.
    while (out.console.length < CALLS) {
      const n = Math.min(block, CALLS - out.console.length);
      out.console.push(...await page.evaluate(clickCalls, { n, timeoutMs: 30000 }));
      out.raw.push(...await page.evaluate(rawCalls, { ...raw, n, firstId: raw.firstId + out.raw.length + 100 }));
    }
    const reply = await page.evaluate(() => document.querySelector('[data-testid=calls] [data-testid=call-result]')?.textContent);
    out.resultShown = reply;
    results.roundTrip[name] = out;
    log(`round trip (${name}): done`);
  } finally {
    await context.close();
  }
  save();
}

// ---------------------------------------------------------------------------------------------------------------
// 5. A server with 1,000 tools: tools/list's response end (Resource Timing) → the list drawn: its heading counts every
// tool and its first rows are in the DOM. (The console draws only the rows that can be in sight, so "every row in the
// DOM" is not the mark; the count in the heading is computed from the whole list.)
function watchTools(expected) {
  const { toolCount } = window.__bench;
  window.__bench.toolsAt = null;
  const check = () => {
    if (window.__bench.toolsAt === null && (toolCount()?.total ?? 0) >= expected
      && document.querySelector('[data-testid=tool]')) {
      window.__bench.toolsAt = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}

async function measureManyTools() {
  const expected = 1000;
  const samples = { listToPaint: [], connectToPaint: [], tools: [] };
  for (let run = 0; run < RUNS; run += 1) {
    const fresh = await freshPage('console', null, { recordFetches: true, network: false });
    const { context, page } = fresh;
    try {
      await page.goto(opt.console, { timeout: 120000 });
      await page.waitForSelector('[data-testid=connect]:not([disabled])', { timeout: 120000 });
      await page.fill('[data-testid=server-url]', opt['many-server']);
      await page.selectOption('[data-testid=transport]', 'streamable');
      await page.evaluate(watchTools, expected);
      const clicked = await page.evaluate(() => {
        const at = performance.now();
        document.querySelector('[data-testid=connect]').click();
        return at;
      });
      await page.waitForFunction(() => window.__bench.toolsAt !== null, null, { timeout: 60000, polling: 50 });
      const m = await page.evaluate((url) => {
        const list = window.__bench.fetches.filter((f) => f.body?.includes('"tools/list"'));
        if (list.length === 0) return { error: 'no tools/list request was seen' };
        const { at } = list[0];
        // The Resource Timing entry of that fetch: same URL, started when fetch() was called (within a millisecond).
        const entry = performance.getEntriesByType('resource')
          .filter((e) => e.name === url && e.startTime >= at - 1)
          .sort((a, b) => a.startTime - b.startTime)[0];
        return {
          responseEnd: entry?.responseEnd ?? null,
          toolsAt: window.__bench.toolsAt,
          tools: window.__bench.toolCount()?.total ?? 0,
          rows: document.querySelectorAll('[data-testid=tool]').length,
        };
      }, opt['many-server']);
      if (m.error || m.responseEnd === null) throw new Error(m.error ?? 'no Resource Timing entry for tools/list');
      samples.listToPaint.push(m.toolsAt - m.responseEnd);
      samples.connectToPaint.push(m.toolsAt - clicked);
      samples.tools.push(m.tools);
      (samples.rows ??= []).push(m.rows);
      if (run === 0) samples.filter = await measureFilter(page);
    } finally {
      await context.close();
    }
  }
  results.manyTools = samples;
  log('1,000 tools: done');
  save();
}

/// Keystroke in the tool search box → the list drawn anew: the heading's count of matching tools has changed (it is
/// set in the same task as the rows). Each keystroke is typed from outside, as a person would, after the page has
/// started watching: one digit, then Backspace, and so on.
async function measureFilter(page) {
  const box = await page.$('[data-testid=tool-filter]');
  if (!box) return null;
  await box.focus();
  const times = [];
  for (const key of ['7', 'Backspace', '3', 'Backspace', '5', 'Backspace', '9', 'Backspace', '1', 'Backspace']) {
    await page.evaluate(() => {
      const { toolCount } = window.__bench;
      const input = document.querySelector('[data-testid=tool-filter]');
      const before = toolCount()?.shown;
      let start = null;
      window.__benchFilter = new Promise((resolve) => {
        const timer = setTimeout(() => { observer.disconnect(); resolve({ error: 'the count of matching tools did not change' }); }, 10000);
        const observer = new MutationObserver(() => {
          if (start === null || toolCount()?.shown === before) return;
          const at = performance.now();
          observer.disconnect();
          clearTimeout(timer);
          resolve({ ms: at - start });
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        input.addEventListener('keydown', () => { start = performance.now(); }, { once: true, capture: true });
      });
    });
    await page.keyboard.press(key);
    const result = await page.evaluate(() => window.__benchFilter);
    if (result.error) throw new Error(`tool filter: ${result.error}`);
    times.push(result.ms);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Memory: the JS heap (after a forced GC) and the wasm module's linear memory, where Rust's heap lives.
async function memory(page, cdp) {
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const { nodes, jsEventListeners } = await cdp.send('Memory.getDOMCounters');
  const wasm = await page.evaluate(() => window.__bench.wasmMemory?.buffer.byteLength ?? null);
  const entries = await page.evaluate(() => document.querySelector('[data-testid=calls]')?.children.length ?? 0);
  return { jsHeap: usedSize, wasm, domNodes: nodes, listeners: jsEventListeners, entries };
}

/// In the page: makes `n` calls in bursts of `burst` clicks fired in one task, each click with a message of its own,
/// each burst waiting until the newest `burst` entries show all of its messages echoed back. For the memory figures
/// only: how fast the calls go does not change what they leave behind.
function burstCalls({ n, burst, timeoutMs }) {
  const list = document.querySelector('[data-testid=calls]');
  return (async () => {
    for (let made = 0; made < n;) {
      const b = Math.min(burst, n - made);
      const messages = new Set();
      await new Promise((resolve, reject) => {
        const check = () => {
          const entries = [...list.children].slice(0, b);
          const failed = entries.map((e) => e.querySelector('[data-testid=call-failed]')).find(Boolean);
          if (failed) return new Error(`a call failed: ${failed.textContent}`);
          const shown = entries.map((e) => e.querySelector('[data-testid=call-result]')?.textContent ?? '');
          return [...messages].every((m) => shown.some((t) => t.includes(m)));
        };
        const timer = setTimeout(() => { observer.disconnect(); reject(new Error(`no results after ${timeoutMs} ms`)); }, timeoutMs);
        const observer = new MutationObserver(() => {
          const state = check();
          if (state === false) return;
          observer.disconnect();
          clearTimeout(timer);
          if (state === true) resolve();
          else reject(state);
        });
        observer.observe(list, { childList: true, subtree: true, characterData: true });
        const field = document.querySelector('[data-testid=call-arguments]');
        for (let i = 0; i < b; i += 1) {
          window.__benchSeq = (window.__benchSeq ?? 0) + 1;
          const message = `Hello from the benchmark [${window.__benchSeq}]`;
          messages.add(message);
          field.value = JSON.stringify({ message });
          field.dispatchEvent(new Event('input', { bubbles: true }));
          document.querySelector('[data-testid=call]').click();
        }
      });
      made += b;
    }
  })();
}

async function measureHeap() {
  // 10,000 echo calls, clicked from a loop inside the page in bursts of 50 clicks in one task (burstCalls), which
  // is as fast as the console takes them. A history without a cap, re-rendered whole on every change, makes each
  // call slower than the last (0.1 ms more per call already made, on 2 cores: more than an hour for 10,000), so
  // once the warm-up is done the run also stops at HEAP_SECONDS; the table says how many calls were made and how
  // the memory grew per call between the warm-up and the end.
  const { context, page, cdp } = await connectConsole(opt['json-server'], { network: false });
  const out = { samples: [], chunks: [], target: HEAP_CALLS, limitSeconds: HEAP_SECONDS };
  try {
    await pickTool(page, 'echo', { message: 'Hello from the benchmark' });
    out.samples.push({ calls: 0, ...await memory(page, cdp) });
    const started = Date.now();
    const deadline = started + HEAP_SECONDS * 1000;
    let done = 0;
    while (done < HEAP_CALLS && (done < HEAP_WARMUP || Date.now() < deadline)) {
      const n = Math.min(250, HEAP_CALLS - done, done < HEAP_WARMUP ? HEAP_WARMUP - done : Infinity);
      const t0 = Date.now();
      await page.evaluate(burstCalls, { n, burst: 50, timeoutMs: 120000 });
      done += n;
      out.chunks.push({ upTo: done, msPerCall: (Date.now() - t0) / n });
      if (done === HEAP_WARMUP || done % 1000 === 0) {
        out.samples.push({ calls: done, ...await memory(page, cdp) });
        log(`heap: ${done} calls, ${Math.round((Date.now() - started) / 1000)} s`);
        save();
      }
    }
    if (out.samples[out.samples.length - 1].calls !== done) out.samples.push({ calls: done, ...await memory(page, cdp) });
    out.seconds = (Date.now() - started) / 1000;
    out.stoppedBy = done >= HEAP_CALLS ? 'count' : 'time';
  } finally {
    await context.close();
  }
  results.heap = out;
  save();
}

async function measureBig() {
  const { context, page, cdp } = await connectConsole(opt['big-server'], { network: false });
  const out = { bytes: BIG_BYTES };
  try {
    await pickTool(page, 'big', { bytes: BIG_BYTES });
    out.before = await memory(page, cdp);
    // The history is empty: the call's entry is the first, and it is over once it shows a result or a failure.
    const answer = await page.evaluate((timeoutMs) => new Promise((resolve) => {
      const list = document.querySelector('[data-testid=calls]');
      const timer = setTimeout(() => { observer.disconnect(); resolve({ error: `no result after ${timeoutMs} ms` }); }, timeoutMs);
      const observer = new MutationObserver(() => {
        const entry = list.firstElementChild;
        const failed = entry?.querySelector('[data-testid=call-failed]');
        const done = entry?.querySelector('[data-testid=call-done]');
        if (!failed && !done) return;
        const at = performance.now();
        observer.disconnect();
        clearTimeout(timer);
        resolve(failed ? { error: failed.textContent, ms: at - start }
          : { ms: at - start, shown: done.textContent.length, toolError: entry.classList.contains('mc-call--error') });
      });
      observer.observe(list, { childList: true, subtree: true });
      const start = performance.now();
      document.querySelector('[data-testid=call]').click();
    }), 180000);
    out.ms = answer.ms;
    if (answer.error) out.outcome = answer.error;
    else if (answer.toolError) out.outcome = 'the tool reported an error';
    else {
      out.outcome = 'shown';
      out.shownBytes = answer.shown;
    }
    out.after = await memory(page, cdp);
  } finally {
    await context.close();
  }
  results.big = out;
  log(`50 MB result: ${out.outcome}`);
  save();
}

// ---------------------------------------------------------------------------------------------------------------
let status = 0;
try {
  await measureLoads();
  await measureRoundTrip('json', opt['json-server']);
  await measureRoundTrip('sse', opt['sse-server']);
  await measureManyTools();
  await measureBig();
  await measureHeap();
} catch (e) {
  if (closing) process.exit(130); // interrupted: the browser went away under the measurement
  log(`failed: ${e.stack ?? e}`);
  results.error = String(e.message ?? e);
  save();
  status = 1;
} finally {
  results.finished = new Date().toISOString();
  save();
  await closeBrowser();
}
process.exit(status);
