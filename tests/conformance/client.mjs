#!/usr/bin/env node
// The "client command" that `@modelcontextprotocol/conformance client` runs for each client scenario:
//
//   conformance client --command "exec node tests/conformance/client.mjs" --scenario initialize
//
// The suite starts the scenario's test server and runs `<command> <server-url>` (through /bin/sh) with
// MCP_CONFORMANCE_SCENARIO=<scenario name> and, for some scenarios, MCP_CONFORMANCE_CONTEXT=<JSON>
// in the environment. It kills the command after its --timeout (30 s by default).
//
// This wrapper is the bridge from that to the console, which is a web page: it serves the built console
// (a copy of dist/) on a free 127.0.0.1 port with tests/peers/static.mjs, starts chromedriver and a
// headless Chromium, opens `<console>/?server=<server-url>&connect=1`, then plays the scenario's steps
// (SCENARIOS below) against the page through plain WebDriver HTTP calls. Everything it starts is stopped
// on every way out: done, failure, timeout, exception, SIGTERM/SIGINT/SIGHUP.
//
// The suite's test servers send no CORS headers, so Chromium runs with --disable-web-security. Only this
// wrapper does that, and only because the servers it talks to are the suite's own, inside a network
// namespace with nothing but loopback (run.sh).
//
// Environment:
//   MCP_CONFORMANCE_SCENARIO   scenario name (set by the suite); picks the steps. Default "initialize".
//   MCP_CONFORMANCE_CONTEXT    JSON with scenario data (set by the suite for some scenarios), e.g.
//                              {"name":"auth/pre-registration","client_id":"…","client_secret":"…"}.
//   CONSOLE_DIST               the built console to serve (default: <repo>/dist, i.e. /work/main/dist).
//   CONFORMANCE_CLIENT_BUDGET_MS  total time this wrapper may take (default 25000, under the suite's 30 s).
//   CONFORMANCE_ARTIFACTS      if set, a directory for a screenshot and the page's text at the end.
//   CONFORMANCE_DEBUG=1        also print the browser console, the page's requests to the MCP server
//                              (from Chromium's performance log) and chromedriver's log to stderr.
//   CONFORMANCE_ALLOW_NOTICES=1  an error notice the console showed while connecting does not fail the run.
//   CONFORMANCE_SKIP_TODO=1    skip the TODO steps instead of stopping with exit 4 (to see what the
//                              console does without them).
//   CHROMEDRIVER, CHROME_BIN   default /usr/bin/chromedriver and /usr/bin/chromium.
//
// Output: one JSON line per step and a final {"result": …} line on stdout (the suite saves stdout in
// its results directory); diagnostics on stderr.
//
// Exit codes: 0 the scenario's steps completed; 1 the console reported a failure (a refused sign-in
// too); 2 timed out; 3 the harness itself failed (no browser, no dist/, …); 4 the scenario needs console
// features that do not exist yet (TODO entries in SCENARIOS).

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");

const EXIT = { ok: 0, failed: 1, timeout: 2, harness: 3, todo: 4 };

// ---------------------------------------------------------------------------------------------
// The page's hooks (data-testid attributes). The ones marked "planned" do not exist yet; they are the
// names the TODO scenarios below expect the console to grow.
const HOOK = {
  status: "[data-testid=status]", // the status line: "Connected to …" or a failure sentence
  statusError: ".mc-status--error", // the status line's class when it holds a failure
  notice: "[data-testid=notice]", // a failed request after connecting (e.g. tools/list)
  tools: "[data-testid=tools]", // the tool list (present, maybe empty, once tools/list completed)
  toolName: "[data-testid=tool-name]",
  protocol: "[data-testid=protocol]",
  serverName: "[data-testid=server-name]",
  // planned; until it exists the <dd> after the <dt>Capabilities</dt> of [data-testid=server] is read
  capabilities: "[data-testid=capabilities]",
  // Tool calls (src/ui/tool_list.rs, src/ui/calls.rs, src/ui/content.rs):
  tool: "[data-testid=tool]", // one list item per tool, holding …
  toolPick: "[data-testid=tool-pick]", // … the button that opens the call form for it
  callForm: "[data-testid=call-form]", // the call panel of the chosen tool
  viewJson: "[data-testid=view-json]", // switches a tool with a schema from its form to JSON
  callArguments: "[data-testid=call-arguments]", // the arguments as JSON (a textarea, pre-filled)
  callButton: "[data-testid=call]", // the Call button
  callProblem: "[data-testid=call-problem]", // arguments that could not be sent
  callEntry: "[data-testid=call-entry]", // one per call made, newest first, holding one of …
  callDone: "[data-testid=call-done]", // … the result (content blocks: [data-testid=call-result])
  callFailed: "[data-testid=call-failed]", // … or the failure sentence (JSON-RPC error, transport)
  callResult: "[data-testid=call-result]",
  callToolError: ".mc-call--error", // the entry's class when the result has isError: true
  // Sign-in (src/ui/auth.rs):
  auth: "[data-testid=auth]", // the Auth view; its data-phase is signed-out|needed|working|signed-in|failed
  authStatus: "[data-testid=auth-status]", // the Auth view's sentence
  signIn: "[data-testid=sign-in]", // the Sign in button (shown when a sign-in is needed)
  confirm: "[data-testid=signin-confirm-accept]", // accepts settings the link proposed (data-phase="confirm")
  settings: "[data-testid=signin-settings]", // the sign-in settings (a <details> in that pane)
  clientSecret: "[data-testid=set-client-secret]", // the typed client secret (memory only)
};

// ---------------------------------------------------------------------------------------------
// What to do for each scenario: a list of steps. Step kinds the runner knows today:
//   { do: "open" }                         open <console>/?server=<url>&connect=1
//   { do: "waitConnected" }                wait until connected and tools listed (or no `tools`
//                                          capability) (done), or a failure status / error notice (failed)
//   { do: "expectTools", names: [...] }    the listed tool names include these
//   { do: "waitText", hook, text }         an element matching the CSS selector `hook` contains `text`
//                                          (within WAIT_TEXT_MS)
//   { do: "show", view }                   press the tab of a list or pane (`catalog-resources`, …)
//   { do: "callTool", name, args, wait }   pick the tool, replace the arguments JSON, press Call, and
//                                          (unless wait: false) wait until that call is done (result
//                                          shown) or failed (fails the step), within CALL_WAIT_MS
// "elicitation" {action}: answers the open elicitation form with accept, decline or cancel.
// Steps with `todo` describe what a later console will let us do; the runner stops there with exit 4.
const SCENARIOS = {
  // initialize → notifications/initialized. The test server (URL without a path) answers every POST
  // with 200 JSON (a notification too: {"jsonrpc":"2.0","result":{}}, no id), anything else with 400,
  // declares no capabilities (so the console lists no tools), and checks the initialize params:
  // protocolVersion ∈ {2025-06-18, 2025-11-25}, clientInfo.name and clientInfo.version present. It has
  // no "missing check" guard: a client that sends nothing and exits 0 passes, so the exit code matters.
  initialize: {
    steps: [{ do: "open" }, { do: "waitConnected" }, { do: "waitText", hook: HOOK.serverName, text: "test-server" }],
  },

  // tools_call: the server lists `add_numbers` {a: number, b: number} (required) and counts the
  // scenario passed when tools/call name=add_numbers arrives (any a/b; the reference client sends
  // {a: 5, b: 3} and gets the text "The sum of 5 and 3 is 8"). Stateless server: POST only (GET → 404),
  // replies as SSE.
  tools_call: {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["add_numbers"] },
      { do: "callTool", name: "add_numbers", args: { a: 5, b: 3 } },
      { do: "waitText", hook: HOOK.callResult, text: "The sum of 5 and 3 is 8" },
    ],
  },

  // sse-retry: initialize is answered with protocolVersion 2025-03-26 (must be accepted) and an
  // Mcp-Session-Id; tools/list gives `test_reconnection` (no arguments). tools/call gets an SSE
  // stream with only a priming event (`id: event-N`, `retry: 500`, empty data) that the server ends
  // 50 ms later. The client must then GET the same URL with `Accept: text/event-stream`,
  // `Last-Event-ID: event-N` and the session id, 450–700 ms after the close (700–1000 ms is a warning,
  // which fails the run too; < 450 or > 1000 ms fails), and read the tool result from that new GET
  // stream (priming event, then `event: message` with the result, then the stream stays open).
  // No UI hooks beyond the tool call ones. The console does this today (GET ≈ 505 ms after the close).
  "sse-retry": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["test_reconnection"] },
      { do: "callTool", name: "test_reconnection", args: {} },
      { do: "waitText", hook: HOOK.callResult, text: "Reconnection test completed successfully" },
    ],
  },

  // elicitation-sep1034-client-defaults: stateful server (Mcp-Session-Id). tools/list gives
  // `test_client_elicitation_defaults` (no arguments). On tools/call it sends an `elicitation/create`
  // request (JSON-RPC id 0) whose requestedSchema has five optional fields with defaults: name
  // "John Doe" (string), age 30 (integer), score 95.5 (number), status "active" (enum
  // active|inactive|pending), verified true (boolean). The request comes on the standalone GET stream,
  // not on the tools/call POST stream (the test server calls server.request() with no related request),
  // so without an open GET stream it is dropped and the call never ends. The client must POST the
  // JSON-RPC response (with the session id; 202) {action: "accept", content: {...}} with all five fields
  // present and of the right JSON type, i.e. pre-filled from `default`. The tool result then says
  // "Elicitation completed: {…}". The client should declare the `elicitation` capability (form mode)
  // in initialize (the console does). UI hooks (src/ui/asks.rs): [data-testid=elicitation] is the
  // form, with one [data-field-name=…] input per property pre-filled from `default`, and
  // [data-testid=elicitation-accept] / -decline / -cancel are the three answers.
  "elicitation-sep1034-client-defaults": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["test_client_elicitation_defaults"] },
      // the call stays running until the elicitation is answered, so do not wait for it to finish
      { do: "callTool", name: "test_client_elicitation_defaults", args: {}, wait: false },
      { do: "elicitation", action: "accept" },
      { do: "waitText", hook: HOOK.callResult, text: "Elicitation completed" },
    ],
  },

  // sep-2322-client-request-state (2026-07-28): multi-round-trip requests. Four tools without
  // arguments. test_mrtr_echo_state answers its first call with resultType "input_required": an
  // elicitation form (`confirmed`, a boolean) under the key `confirm`, and a requestState; the retry
  // must carry inputResponses, the byte-identical requestState and a new JSON-RPC id, and gets
  // "echo-state-ok". test_mrtr_no_state does the same without requestState (the retry must carry
  // none) and gets "no-state-ok". test_mrtr_unrelated, called while an input is still open, must carry
  // neither (the suite checks it). test_mrtr_no_result_type answers without resultType, which means
  // complete: it must not be sent again. Every tool must be called, or its checks fail.
  "sep-2322-client-request-state": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["test_mrtr_echo_state", "test_mrtr_no_state", "test_mrtr_unrelated", "test_mrtr_no_result_type"] },
      { do: "callTool", name: "test_mrtr_echo_state", args: {}, wait: false },
      { do: "callTool", name: "test_mrtr_unrelated", args: {} },
      { do: "elicitation", action: "accept" },
      { do: "waitText", hook: HOOK.callResult, text: "echo-state-ok" },
      { do: "callTool", name: "test_mrtr_no_state", args: {}, wait: false },
      { do: "elicitation", action: "accept" },
      { do: "waitText", hook: HOOK.callResult, text: "no-state-ok" },
      { do: "callTool", name: "test_mrtr_no_result_type", args: {} },
    ],
  },

  // http-standard-headers (2026-07-28): every POST must carry Mcp-Method equal to the body's method,
  // and tools/call, prompts/get and resources/read also Mcp-Name (the tool or prompt name, the
  // resource URI). A method never used is skipped, so the runner uses each: a call, a read, a prompt.
  // The server sends an Mcp-Session-Id on every reply, which a 2026-07-28 client ignores.
  "http-standard-headers": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["test_headers", "my-hyphenated-tool"] },
      { do: "callTool", name: "test_headers", args: {} },
      { do: "show", view: "catalog-resources" },
      { do: "click", hook: "[data-testid=resource-read]" },
      { do: "show", view: "catalog-prompts" },
      { do: "click", hook: "[data-testid=prompt-pick]" },
      { do: "click", hook: "[data-testid=prompt-get]" },
      { do: "waitSettled", count: 3 },
    ],
  },

  // http-custom-headers (2026-07-28): the two calls the suite's context names; each argument whose
  // property declares x-mcp-header goes in Mcp-Param-<Name> too (plain, or =?base64?…?= when unsafe),
  // a null one is left out.
  "http-custom-headers": { steps: "from-context" },

  // http-invalid-tool-headers (2026-07-28): of twelve tools only valid_tool has a valid x-mcp-header
  // declaration; the other eleven must be left out of the list and never called.
  "http-invalid-tool-headers": {
    steps: [
      { do: "open" },
      { do: "waitConnected", allowNotices: true },
      { do: "expectOnlyTools", names: ["valid_tool"] },
      { do: "callTool", name: "valid_tool", args: { region: "us-west1" } },
    ],
  },

  // json-schema-2020-12-preservation: json_schema_2020_12_tool's input schema uses $schema, $defs,
  // $anchor, $ref, allOf/anyOf, if/then/else and additionalProperties; the client must keep it as
  // received, which the runner proves by echoing the schema the page shows to json_schema_echo.
  "json-schema-2020-12-preservation": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "echoSchema", tool: "json_schema_2020_12_tool", echo: "json_schema_echo" },
    ],
  },

  // auth/*: the MCP server answers 401 (or 403 insufficient_scope) and the console asks for a sign-in. The
  // runner presses Sign in whenever the console asks ([data-testid=auth] data-phase="needed"), once per
  // request: the sign-in runs in a popup (signin=popup; a WebDriver click is a user gesture), through the
  // suite's authorization endpoint (it approves at once with a 302 to callback.html) and back over
  // BroadcastChannel. Scenarios that need settings get them in OPEN_PARAMS and SECRETS below. A sign-in
  // the console refuses (data-phase="failed") ends the run with exit 1, which the two scenarios that
  // expect a refusal allow (auth/resource-mismatch, auth/scope-retry-limit).
  "auth/scope-step-up": {
    steps: [
      { do: "open" },
      { do: "waitConnected" },
      { do: "expectTools", names: ["test-tool"] },
      { do: "callTool", name: "test-tool", args: {} },
      { do: "waitText", hook: HOOK.callResult, text: "test" },
    ],
  },
};

const DEFAULT_STEPS = [{ do: "open" }, { do: "waitConnected" }];

// Launch parameters per scenario (added to ?server=…&connect=1), and what the scenario's context gives.
const OPEN_PARAMS = {
  "auth/basic-cimd": { client_metadata_url: "https://conformance-test.local/client-metadata.json" },
};
// The pre-registered client of auth/pre-registration: its id goes in the URL, its secret is typed into the
// sign-in settings (a secret never goes into a URL).
const preRegistered = (ctx) => (ctx?.client_id ? { client_id: ctx.client_id, secret: ctx.client_secret ?? "" } : null);

// ---------------------------------------------------------------------------------------------
const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO || "initialize";
const context = parseContext(process.env.MCP_CONFORMANCE_CONTEXT);
const dist = resolve(process.env.CONSOLE_DIST || join(REPO, "dist"));
const budgetMs = Number(process.env.CONFORMANCE_CLIENT_BUDGET_MS || 25000);
const debug = process.env.CONFORMANCE_DEBUG === "1";
const chromedriverBin = process.env.CHROMEDRIVER || "/usr/bin/chromedriver";
const chromeBin = process.env.CHROME_BIN || "/usr/bin/chromium";
const started = Date.now();
const deadline = started + budgetMs;

function parseContext(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const log = (...a) => console.error(`[client ${((Date.now() - started) / 1000).toFixed(2)}s]`, ...a);
const report = (obj) => console.log(JSON.stringify(obj));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const remaining = () => deadline - Date.now();

class Outcome extends Error {
  constructor(code, message, detail) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------------
// Children: each in its own process group, so that killing the group also ends what it started
// (chromedriver's Chromium and its helpers).
const children = new Set(); // running direct children
const groups = new Set(); // process group ids of everything started (a child's pid is its group's id)
const tempDirs = new Set();

function startChild(cmd, args, { quiet = false } = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", quiet ? "ignore" : "pipe", "pipe"] });
  children.add(child);
  groups.add(child.pid);
  child.on("exit", () => children.delete(child));
  child.on("error", () => children.delete(child));
  // Never let a full pipe stall a child: stderr is passed on in debug mode and drained otherwise.
  child.stderr.on("data", (d) => debug && process.stderr.write(`[${cmd.split("/").pop()}] ${d}`));
  return child;
}

// Signals a whole group, even when its leader is gone already (chromedriver may die and leave
// Chromium behind).
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is empty */
  }
}

let session = null; // { driver: "http://127.0.0.1:N", id }
let cleaning = null;

async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    if (session) {
      // Ask chromedriver to quit Chromium cleanly first; bounded, the group kill below is the backstop.
      await wd("DELETE", "", undefined, 3000).catch(() => {});
      session = null;
    }
    for (const pgid of groups) signalGroup(pgid, "SIGTERM");
    const until = Date.now() + 2000;
    while (children.size > 0 && Date.now() < until) await sleep(50);
    await sleep(100); // grandchildren (Chromium's helpers) exit just after their parents
    for (const pgid of groups) signalGroup(pgid, "SIGKILL");
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(sig, async () => {
    log(`got ${sig}; stopping everything`);
    await cleanup();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig] ?? 0));
  });
}

// Reads the first JSON line a child prints (static.mjs announces {"url","port"}).
function firstJsonLine(child, what, timeoutMs) {
  return new Promise((resolveLine, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Outcome(EXIT.harness, `${what} did not announce itself`)), timeoutMs);
    rl.on("line", (line) => {
      try {
        const v = JSON.parse(line);
        clearTimeout(timer);
        resolveLine(v);
      } catch {
        /* not the announcement */
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Outcome(EXIT.harness, `${what} exited with ${code} before announcing itself`));
    });
  });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startStatic() {
  if (!existsSync(join(dist, "index.html"))) {
    throw new Outcome(EXIT.harness, `no built console at ${dist} (index.html missing); set CONSOLE_DIST`);
  }
  const child = startChild(process.execPath, [join(REPO, "tests/peers/static.mjs"), "--dir", dist, "--port", "0"]);
  const { url } = await firstJsonLine(child, "static.mjs", 10000);
  return url;
}

async function startChromedriver() {
  for (const bin of [chromedriverBin, chromeBin]) {
    if (!existsSync(bin)) throw new Outcome(EXIT.harness, `${bin} is missing (Debian: apt-get install chromium chromium-driver)`);
  }
  const port = await freePort();
  const logFile = join(mkTemp("cd-log-"), "chromedriver.log");
  const child = startChild(chromedriverBin, [`--port=${port}`, "--allowed-ips=127.0.0.1", `--log-path=${logFile}`], {
    quiet: true,
  });
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Outcome(EXIT.harness, `chromedriver exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/status`, { signal: AbortSignal.timeout(1000) });
      const body = await r.json();
      if (body?.value?.ready) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) throw new Outcome(EXIT.harness, `chromedriver did not become ready on ${base}`);
    await sleep(50);
  }
  return { base, logFile };
}

function mkTemp(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `mcp-conformance-${prefix}`));
  tempDirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// WebDriver over fetch.
async function wd(method, path, body, timeoutMs = 10000) {
  const url = `${session.driver}/session/${session.id}${path}`;
  return wdRaw(method, url, body, timeoutMs);
}

async function wdRaw(method, url, body, timeoutMs) {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(Math.max(500, Math.min(timeoutMs, remaining() + 2000))),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { value: text };
  }
  if (!r.ok) {
    const v = json?.value ?? {};
    throw new Error(`WebDriver ${method} ${url.replace(/^.*\/session\/[^/]+/, "")}: ${v.error ?? r.status} ${v.message ?? ""}`.trim());
  }
  return json.value;
}

async function startBrowser(driver) {
  const profile = mkTemp("profile-");
  const args = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    `--user-data-dir=${profile}`,
    // The suite's servers send no CORS headers. This wrapper alone does this (see the top of the file).
    "--disable-web-security",
  ];
  const caps = {
    capabilities: {
      alwaysMatch: {
        browserName: "chrome",
        pageLoadStrategy: "normal",
        timeouts: { pageLoad: 15000, script: 10000, implicit: 0 },
        "goog:chromeOptions": { binary: chromeBin, args },
        "goog:loggingPrefs": { browser: "ALL", ...(debug ? { performance: "ALL" } : {}) },
      },
    },
  };
  const value = await wdRaw("POST", `${driver}/session`, caps, 20000);
  session = { driver, id: value.sessionId };
  await wd("POST", "/goog/cdp/execute", { cmd: "Page.addScriptToEvaluateOnNewDocument", params: { source: RECORDER } });
}

// Installed before any page script runs (CDP Page.addScriptToEvaluateOnNewDocument): records every
// status line and every notice the page shows, with times, so that a notice that the next render
// clears (a tool list clears the notice) is not missed between two polls.
const RECORDER = `
  (() => {
    const rec = { t0: Date.now(), statuses: [], notices: [] };
    window.__mcpConformance = rec;
    let status = null, notice = null;
    const look = () => {
      const s = document.querySelector(${JSON.stringify(HOOK.status)});
      const n = document.querySelector(${JSON.stringify(HOOK.notice)});
      const st = s ? s.textContent.trim() : null;
      const nt = n ? n.textContent.trim() : null;
      if (st !== status) { status = st; if (st) rec.statuses.push({ at: Date.now() - rec.t0, text: st }); }
      if (nt !== notice) { notice = nt; if (nt) rec.notices.push({ at: Date.now() - rec.t0, text: nt }); }
    };
    new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true });
  })();
`;

// A snapshot of what the page shows; null while the page is (re)loading.
const SNAPSHOT = `
  const q = (s) => document.querySelector(s);
  const text = (s) => { const e = q(s); return e ? e.textContent.trim() : null; };
  const status = q(${JSON.stringify(HOOK.status)});
  let capabilities = text(${JSON.stringify(HOOK.capabilities)});
  if (capabilities === null) {
    const dt = [...document.querySelectorAll("[data-testid=server] dt")].find((e) => e.textContent.trim() === "Capabilities");
    capabilities = dt && dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : null;
  }
  const rec = window.__mcpConformance || null;
  return {
    href: location.href,
    status: status ? status.textContent.trim() : null,
    statusError: !!q(${JSON.stringify(HOOK.statusError)}),
    notice: text(${JSON.stringify(HOOK.notice)}),
    toolsShown: !!q(${JSON.stringify(HOOK.tools)}),
    tools: [...document.querySelectorAll(${JSON.stringify(HOOK.toolName)})].map((e) => e.textContent.trim()),
    protocol: text(${JSON.stringify(HOOK.protocol)}),
    serverName: text(${JSON.stringify(HOOK.serverName)}),
    capabilities: capabilities === null ? null : capabilities === "none" ? [] : capabilities.split(/,\\s*/),
    authPhase: q(${JSON.stringify(HOOK.auth)}) ? q(${JSON.stringify(HOOK.auth)}).dataset.phase : null,
    authStatus: text(${JSON.stringify(HOOK.authStatus)}),
    seenNotices: rec ? rec.notices : [],
    seenStatuses: rec ? rec.statuses : [],
  };
`;

// Presses Sign in when the console asks for one, once per request, and accepts the confirmation the
// console shows for sign-in settings that came from the link (client_id, client_metadata_url): the
// wrapper opened that link on purpose, for the suite's own server. Fails the run when the console
// reports a failed sign-in. Called from every waiting loop with the latest snapshot.
let answered = null; // the phase last answered, so each request is answered once
async function answerSignIn(s) {
  if (!s) return;
  if (s.authPhase === "failed") throw new Outcome(EXIT.failed, `the sign-in failed: ${s.authStatus}`, s);
  if (s.authPhase !== "needed" && s.authPhase !== "confirm") {
    answered = null;
    return;
  }
  if (answered === s.authPhase) return;
  answered = s.authPhase;
  const confirming = s.authPhase === "confirm";
  log(`the console asks ${confirming ? "to confirm the link's sign-in settings" : "for a sign-in"} (${JSON.stringify(s.authStatus)}); pressing ${confirming ? "the confirmation" : "Sign in"}`);
  await wd("POST", `/element/${await waitElement(confirming ? HOOK.confirm : HOOK.signIn, 3000)}/click`, {});
  // The press moves the phase on at once; a sign-in can then end and the next request ask again before
  // any later snapshot sees a phase in between, so the next ask counts as new from here.
  for (const end = Date.now() + 3000; Date.now() < end; await sleep(50)) {
    const now = await snapshot();
    if (now && now.authPhase !== s.authPhase) {
      answered = null;
      return;
    }
  }
}

async function snapshot() {
  try {
    return await wd("POST", "/execute/sync", { script: SNAPSHOT, args: [] }, 5000);
  } catch (e) {
    if (debug) log(`snapshot: ${e.message}`);
    return null;
  }
}

// A WebDriver element reference's id.
const elementId = (ref) => ref["element-6066-11e4-a52e-4f735466cecf"];

// The first element matching `css`, waited for up to `ms`; its WebDriver id.
async function waitElement(css, ms) {
  const until = Math.min(deadline, Date.now() + ms);
  for (;;) {
    try {
      return elementId(await wd("POST", "/element", { using: "css selector", value: css }, 3000));
    } catch (e) {
      if (Date.now() >= until) throw new Outcome(EXIT.failed, `no ${css} on the page (${e.message})`, last);
    }
    await sleep(100);
  }
}

async function countOf(css) {
  return wd("POST", "/execute/sync", { script: "return document.querySelectorAll(arguments[0]).length;", args: [css] });
}

// ---------------------------------------------------------------------------------------------
// Steps.
let consoleUrl = null;
let last = null;

const STEPS = {
  async open() {
    const target = new URL(consoleUrl);
    target.searchParams.set("server", serverUrl);
    target.searchParams.set("connect", "1");
    target.searchParams.set("signin", "popup");
    for (const [k, v] of Object.entries(OPEN_PARAMS[scenario] ?? {})) target.searchParams.set(k, v);
    const client = preRegistered(context);
    if (client) target.searchParams.set("client_id", client.client_id);
    log(`opening ${target}`);
    await wd("POST", "/url", { url: target.toString() }, 15000);
    if (client) {
      // The settings live in the Sign-in pane, shown as a person would: by pressing its tab.
      await STEPS.show({ view: "pane-Sign-in" });
      await wd("POST", "/execute/sync", { script: "document.querySelector(arguments[0]).open = true;", args: [HOOK.settings] });
      const box = await waitElement(HOOK.clientSecret, 5000);
      await wd("POST", `/element/${box}/value`, { text: client.secret });
      // The value is taken on change: move the focus away.
      await wd("POST", "/execute/sync", { script: "document.querySelector(arguments[0]).dispatchEvent(new Event('change'));", args: [HOOK.clientSecret] });
      log("typed the pre-registered client's secret into the sign-in settings");
    }
    return { url: target.toString() };
  },

  // Done when the status says "Connected to …" and either the tool list is on the page or the server
  // declared no `tools` capability (the console then does not ask; the initialize scenario's server
  // declares none). Then SETTLE_MS more, for late errors. A failure status ends it at once. Any notice
  // the page showed on the way (a failed request or an unreadable reply, even one that a later render
  // cleared) fails it too, unless CONFORMANCE_ALLOW_NOTICES=1; it is reported either way. Connected
  // with a notice and no tool list NOTICE_GRACE_MS later fails (e.g. tools/list answered 401).
  async waitConnected(step = {}) {
    const SETTLE_MS = 1000;
    const NOTICE_GRACE_MS = 3000;
    let noticeSeenAt = null;
    const allowNotices = step.allowNotices || process.env.CONFORMANCE_ALLOW_NOTICES === "1";
    let lastStatus = null;
    let doneSince = null;
    let loggedNotices = 0;
    while (remaining() > 0) {
      const s = await snapshot();
      if (s) {
        last = s;
        if (s.status !== lastStatus) {
          log(`status: ${JSON.stringify(s.status)}`);
          lastStatus = s.status;
        }
        for (const n of s.seenNotices.slice(loggedNotices)) log(`notice at ${n.at} ms: ${JSON.stringify(n.text)}`);
        loggedNotices = Math.max(loggedNotices, s.seenNotices.length);
        if (s.seenNotices.length > 0) noticeSeenAt ??= Date.now();
        const connected = s.status?.startsWith("Connected") ?? false;
        await answerSignIn(s);
        if (s.statusError || (s.status && !connected && !/^(Connecting|Not connected|The server asks for a sign-in)/.test(s.status))) {
          throw new Outcome(EXIT.failed, `the console reported a failure: ${s.status}`, s);
        }
        const noToolsToList = s.capabilities !== null && !s.capabilities.includes("tools");
        if (connected && (s.toolsShown || noToolsToList)) {
          doneSince ??= Date.now();
          if (Date.now() - doneSince >= SETTLE_MS) {
            const notices = s.seenNotices.map((n) => n.text);
            if (notices.length && !allowNotices) {
              throw new Outcome(EXIT.failed, `connected, but the console showed an error: ${notices.join(" | ")}`, s);
            }
            return {
              status: s.status,
              protocol: s.protocol,
              server: s.serverName,
              capabilities: s.capabilities,
              tools: s.toolsShown ? s.tools : null,
              ...(notices.length ? { notices } : {}),
            };
          }
        } else {
          doneSince = null;
          // A notice and still no tool list NOTICE_GRACE_MS later: the list is not coming.
          if (connected && noticeSeenAt !== null && Date.now() - noticeSeenAt >= NOTICE_GRACE_MS) {
            throw new Outcome(EXIT.failed, `connected, but the tool list did not come: ${s.seenNotices.map((n) => n.text).join(" | ")}`, s);
          }
        }
      }
      await sleep(100);
    }
    throw new Outcome(EXIT.timeout, `timed out waiting for the tool list (last status: ${JSON.stringify(lastStatus)})`, last);
  },

  async waitText({ hook, text }) {
    const WAIT_TEXT_MS = 10000;
    const until = Math.min(deadline, Date.now() + WAIT_TEXT_MS);
    const script = "const e = document.querySelectorAll(arguments[0]); return [...e].map((x) => x.textContent);";
    let seen = [];
    while (Date.now() < until) {
      try {
        seen = await wd("POST", "/execute/sync", { script, args: [hook] }, 5000);
        if (seen.some((t) => t.includes(text))) return { hook, text };
      } catch {
        /* page (re)loading */
      }
      await sleep(100);
    }
    throw new Outcome(EXIT.failed, `no ${hook} containing ${JSON.stringify(text)} (saw ${JSON.stringify(seen)})`, last);
  },

  async callTool({ name, args, wait = true }) {
    const CALL_WAIT_MS = 10000;
    await pickTool(name);
    // Tools with a schema open as a form; the harness types JSON.
    await wd("POST", "/execute/sync", { script: "const b = document.querySelector(arguments[0]); if (b) b.click();", args: [HOOK.viewJson] });
    const box = await waitElement(HOOK.callArguments, 5000);
    await wd("POST", `/element/${box}/clear`, {});
    await wd("POST", `/element/${box}/value`, { text: JSON.stringify(args) });
    const before = await countOf(HOOK.callEntry);
    await wd("POST", `/element/${await waitElement(HOOK.callButton, 2000)}/click`, {});
    log(`called ${name} with ${JSON.stringify(args)}`);
    const until = Math.min(deadline, Date.now() + (wait ? CALL_WAIT_MS : 5000));
    const script = `const [entryHook, doneHook, failedHook, resultHook, problemHook, errorClass, before] = arguments;
      const problem = document.querySelector(problemHook);
      const entries = document.querySelectorAll(entryHook);
      if (entries.length <= before) return { started: false, problem: problem ? problem.textContent.trim() : null };
      const e = entries[0];
      const done = e.querySelector(doneHook), failed = e.querySelector(failedHook);
      return {
        started: true,
        state: done ? "done" : failed ? "failed" : "running",
        failed: failed ? failed.textContent.trim() : null,
        results: [...e.querySelectorAll(resultHook)].map((r) => r.textContent),
        isError: e.matches(errorClass),
      };`;
    let seen = null;
    while (Date.now() < until) {
      seen = await wd("POST", "/execute/sync", {
        script,
        args: [HOOK.callEntry, HOOK.callDone, HOOK.callFailed, HOOK.callResult, HOOK.callProblem, HOOK.callToolError, before],
      }).catch(() => null);
      if (seen?.problem) throw new Outcome(EXIT.failed, `the console refused the call: ${seen.problem}`, seen);
      await answerSignIn(await snapshot());
      if (seen?.started && !wait) return { name, args, state: seen.state };
      if (seen?.state === "done") return { name, args, state: "done", isError: seen.isError, results: seen.results };
      if (seen?.state === "failed") throw new Outcome(EXIT.failed, `the call failed: ${seen.failed}`, seen);
      await sleep(100);
    }
    throw new Outcome(
      seen?.started ? EXIT.failed : EXIT.timeout,
      seen?.started ? `the ${name} call did not finish in ${CALL_WAIT_MS} ms` : `no call entry appeared for ${name}`,
      seen,
    );
  },

  // Echoes tool `tool`'s input schema, as the page shows it, to tool `echo` as {schema}.
  async echoSchema({ tool, echo }) {
    await pickTool(tool);
    const text = await wd("POST", "/execute/sync", { script: "const e = document.querySelector('[data-testid=tool-schema]'); return e ? e.textContent : null;", args: [] });
    if (!text) throw new Outcome(EXIT.failed, `no input schema shown for ${tool}`, last);
    return STEPS.callTool({ name: echo, args: { schema: JSON.parse(text) } });
  },

  // Shows `view` in the tab in front, as a person presses its tab: a list beside the work pane
  // (catalog-tools, catalog-resources, catalog-prompts) or a pane below it (pane-History, …).
  async show({ view }) {
    const hook = `[data-testid=tab-panel]:not([hidden]) [data-testid=${view}]`;
    await waitElement(hook, 5000);
    await wd("POST", "/execute/sync", {
      script: "const b = document.querySelector(arguments[0]); if (b.getAttribute('aria-selected') !== 'true') b.click();",
      args: [hook],
    });
    return { view };
  },

  // Clicks the first element matching `hook` (a resource to read, a prompt to get).
  async click({ hook }) {
    const el = await waitElement(hook, 5000);
    await wd("POST", "/execute/sync", { script: "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });", args: [hook] });
    await wd("POST", `/element/${el}/click`, {});
    return { hook };
  },

  // Waits until `count` requests are in the history and none is still running.
  async waitSettled({ count }) {
    const until = Math.min(deadline, Date.now() + 10000);
    const script = "const e = [...document.querySelectorAll(arguments[0])]; return { n: e.length, running: e.filter((x) => !x.querySelector(arguments[1]) && !x.querySelector(arguments[2])).length };";
    let seen = null;
    while (Date.now() < until) {
      seen = await wd("POST", "/execute/sync", { script, args: [HOOK.callEntry, HOOK.callDone, HOOK.callFailed] }).catch(() => null);
      if (seen && seen.n >= count && seen.running === 0) return seen;
      await sleep(100);
    }
    throw new Outcome(EXIT.failed, `expected ${count} finished requests in the history (saw ${JSON.stringify(seen)})`, last);
  },

  async elicitation({ action }) {
    await waitElement("[data-testid=elicitation]", 10000);
    const button = await waitElement(`[data-testid=elicitation-${action}]`, 2000);
    await wd("POST", `/element/${button}/click`, {});
    log(`answered the elicitation: ${action}`);
    return { action };
  },

  async expectOnlyTools({ names }) {
    const shown = last?.tools ?? [];
    if (JSON.stringify([...shown].sort()) !== JSON.stringify([...names].sort())) {
      throw new Outcome(EXIT.failed, `the page lists ${shown.join(", ")}; expected only ${names.join(", ")}`, last);
    }
    return { tools: shown };
  },

  async expectTools({ names }) {
    const missing = names.filter((n) => !(last?.tools ?? []).includes(n));
    if (missing.length) throw new Outcome(EXIT.failed, `tools missing from the list: ${missing.join(", ")}`, last);
    return { tools: last.tools };
  },
};

async function runSteps(steps) {
  for (const [i, step] of steps.entries()) {
    if (step.todo && process.env.CONFORMANCE_SKIP_TODO === "1") {
      log(`skipping TODO step ${step.do}: ${step.todo}`);
      continue;
    }
    if (step.todo) {
      const pending = steps.slice(i).filter((s) => s.todo).map((s) => `${s.do}: ${s.todo}`);
      throw new Outcome(EXIT.todo, `scenario ${scenario} needs console features that are not there yet: ${pending.join("; ")}`);
    }
    const fn = STEPS[step.do];
    if (!fn) throw new Outcome(EXIT.harness, `unknown step ${step.do}`);
    const result = await fn(step);
    report({ step: step.do, ok: true, ...result });
  }
}

// The calls a scenario's context lists ({toolCalls: [{name, arguments}]}), after connecting.
function stepsFromContext(ctx) {
  const calls = ctx?.toolCalls ?? [];
  if (!calls.length) throw new Outcome(EXIT.harness, `scenario ${scenario} gave no toolCalls in its context`);
  return [{ do: "open" }, { do: "waitConnected" }, ...calls.map((c) => ({ do: "callTool", name: c.name, args: c.arguments }))];
}

// Opens tool `name`'s call form.
async function pickTool(name) {
  // The tool's pick button, as a WebDriver element reference.
  const pick = await wd("POST", "/execute/sync", {
    script: `const [tool, nameHook, pickHook, name] = arguments;
      const item = [...document.querySelectorAll(tool)].find((li) => {
        const n = li.querySelector(nameHook);
        return n && n.textContent.trim() === name;
      });
      return item ? item.querySelector(pickHook) : null;`,
    args: [HOOK.tool, HOOK.toolName, HOOK.toolPick, name],
  });
  if (!pick) throw new Outcome(EXIT.failed, `no ${HOOK.toolPick} for tool ${name}`, last);
  // An open call form or ask may cover the list where WebDriver scrolls to: centre it first.
  await wd("POST", "/execute/sync", { script: "arguments[0].scrollIntoView({ block: 'center' });", args: [pick] });
  await wd("POST", `/element/${elementId(pick)}/click`, {});
  await waitElement(HOOK.callForm, 5000);
}

// ---------------------------------------------------------------------------------------------
async function saveArtifacts(outcome) {
  const dir = process.env.CONFORMANCE_ARTIFACTS;
  if (!dir || !session) return;
  try {
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `${scenario.replace(/[^A-Za-z0-9_.-]+/g, "_")}`);
    const png = await wd("GET", "/screenshot", undefined, 5000);
    writeFileSync(`${base}.png`, Buffer.from(png, "base64"));
    const page = await wd("POST", "/execute/sync", { script: "return document.body ? document.body.innerText : ''", args: [] }, 5000);
    writeFileSync(`${base}.txt`, `${outcome}\n\n${page}\n`);
  } catch (e) {
    log(`could not save artifacts: ${e.message}`);
  }
}

async function browserLog() {
  if (!session) return;
  try {
    const entries = await wd("POST", "/se/log", { type: "browser" }, 3000);
    for (const e of entries ?? []) log(`browser ${e.level}: ${e.message}`);
  } catch (e) {
    log(`no browser log: ${e.message}`);
  }
  if (debug) await networkLog();
}

// With CONFORMANCE_DEBUG=1: what the page sent to the MCP server and what came back, from Chromium's
// performance log (DevTools Network events), one line each.
async function networkLog() {
  try {
    const entries = await wd("POST", "/se/log", { type: "performance" }, 5000);
    const reqs = new Map();
    const get = (id) => reqs.get(id) ?? reqs.set(id, { headers: {} }).get(id);
    for (const e of entries ?? []) {
      const { method, params } = JSON.parse(e.message).message;
      if (method === "Network.requestWillBeSent") {
        Object.assign(get(params.requestId), {
          method: params.request.method,
          url: params.request.url,
          body: params.request.postData,
          t: params.timestamp,
        });
        Object.assign(get(params.requestId).headers, params.request.headers);
      } else if (method === "Network.requestWillBeSentExtraInfo") {
        Object.assign(get(params.requestId).headers, params.headers);
      } else if (method === "Network.responseReceived") {
        Object.assign(get(params.requestId), { status: params.response.status, mime: params.response.mimeType });
      } else if (method === "Network.loadingFailed") {
        get(params.requestId).error = `${params.errorText} ${params.corsErrorStatus?.corsError ?? params.blockedReason ?? ""}`.trim();
      }
    }
    const wanted = ["accept", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id", "authorization"];
    const list = [...reqs.values()].filter((r) => /^https?:/.test(r.url ?? "") && !(consoleUrl && r.url.startsWith(consoleUrl)));
    list.sort((a, b) => a.t - b.t);
    const t0 = list[0]?.t ?? 0;
    for (const r of list) {
      const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const shown = wanted
        .filter((k) => h[k] !== undefined)
        .map((k) => `${k}: ${k === "authorization" ? h[k].slice(0, 14) + "…" : h[k]}`);
      const answer = `${r.status ?? "(no answer)"} ${r.mime ?? ""}${r.error ? ` ✗ ${r.error}` : ""}`;
      log(`net +${((r.t - t0) * 1000).toFixed(0)}ms ${r.method} ${r.url} [${shown.join("; ")}] ${r.body ?? ""} → ${answer}`);
    }
  } catch (e) {
    log(`no network log: ${e.message}`);
  }
}

async function main() {
  if (!/^https?:\/\//.test(serverUrl ?? "")) {
    throw new Outcome(EXIT.harness, `usage: client.mjs <server-url> (got ${JSON.stringify(serverUrl)})`);
  }
  const entry = SCENARIOS[scenario];
  const steps = entry?.steps === "from-context" ? stepsFromContext(context) : (entry?.steps ?? DEFAULT_STEPS);
  log(`scenario ${scenario}${entry ? "" : " (no entry: default steps)"}, server ${serverUrl}, budget ${budgetMs} ms`);
  if (context) log(`context keys: ${Object.keys(context).join(", ")}`);

  const timer = new Promise((_, reject) => {
    const t = setTimeout(() => reject(new Outcome(EXIT.timeout, `gave up after ${budgetMs} ms`, last)), Math.max(0, remaining()));
    t.unref();
  });
  const [staticUrl, driver] = await Promise.race([Promise.all([startStatic(), startChromedriver()]), timer]);
  consoleUrl = staticUrl;
  log(`console at ${consoleUrl}, chromedriver at ${driver.base}`);
  try {
    await Promise.race([startBrowser(driver.base), timer]);
    await Promise.race([runSteps(steps), timer]);
  } finally {
    driverLog = driver.logFile;
  }
}

let driverLog = null;
let code = EXIT.ok;
let message = "done";
try {
  await main();
} catch (e) {
  if (e instanceof Outcome) {
    code = e.code;
    message = e.message;
  } else {
    code = EXIT.harness;
    message = `harness error: ${e?.stack ?? e}`;
  }
}
if (debug || (code !== EXIT.ok && code !== EXIT.todo)) await browserLog();
await saveArtifacts(message);
if (debug && driverLog && existsSync(driverLog)) {
  // chromedriver's own log, less the polling noise.
  const lines = readFileSync(driverLog, "utf8").split("\n").filter((l) => /\]\[(WARNING|SEVERE|INFO)\]:/.test(l) && !/Done waiting|COMMAND ExecuteScript|RESPONSE ExecuteScript/.test(l));
  process.stderr.write(lines.slice(-80).map((l) => `[chromedriver] ${l}\n`).join(""));
}
await cleanup();
report({ result: code === EXIT.ok ? "done" : "failed", exit: code, scenario, message, last });
log(`${code === EXIT.ok ? "done" : "failed"}: ${message}`);
process.exit(code);
