#!/usr/bin/env node
// An MCP server that speaks only the 2026-07-28 revision, for the console's end-to-end tests.
//
// @modelcontextprotocol/server 2.4 serves the wire (`createMcpHandler` with `legacy: 'reject'`): the per-request
// `_meta` envelope, `server/discover`, the standard and `Mcp-Param-*` header checks, -32020/-32021/-32022,
// `input_required` results, `subscriptions/listen`, cache hints and `serverInfo`. This file is the HTTP side
// the SDK leaves to its user (Node's http server, CORS for a console on another origin, optional sign-in,
// a pretend sign-in page); features.mjs is what the peer serves and tasks.mjs the Tasks extension's store.
//
// Usage: node server.mjs [--port N] [--state-file F] [--console-origin ORIGIN]...
//                        [--auth ISSUER --audience api://ID [--audience …] [--scope api://ID/mcp:tools]]
// Once listening it prints one line of JSON to stdout ({"url", "port", …}); everything else goes to stderr.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import {
  McpServer,
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
} from '@modelcontextprotocol/server';

import { bearerAuth } from './auth.mjs';
import { paramHeaders, registerFeatures } from './features.mjs';
import { TASKS_EXTENSION, TaskStore } from './tasks.mjs';

console.log = console.error;
console.info = console.error;

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 4 * 1024 * 1024; // the SDK's own default bound

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'state-file': { type: 'string' },
    'console-origin': { type: 'string', multiple: true, default: [] },
    auth: { type: 'string' },
    audience: { type: 'string', multiple: true, default: [] },
    scope: { type: 'string' },
  },
  strict: true,
  allowPositionals: false,
});

function fail(message) {
  console.error(`modern-peer: ${message}`);
  process.exit(2);
}

const port = Number.parseInt(opts.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${opts.port}`);
const issuer = opts.auth?.replace(/\/$/, '');
if (issuer && opts.audience.length === 0) fail('--auth needs --audience (the api://… its tokens are issued for)');
const consoleOrigins = opts['console-origin'].map((o) => new URL(o).origin);
let actualPort = port; // known once listening

const urlOf = (path) => `http://${HOST}:${actualPort}${path}`;
const stats = { httpRequests: 0, preflights: 0, byMethod: {}, statuses: {}, loginPageVisits: 0, rejected401: 0, rejected403: 0 };
const count = (obj, key) => { obj[key] = (obj[key] ?? 0) + 1; };

// What outlives one request. Each request gets a fresh McpServer from `buildServer`.
const peer = {
  state: { counter: 0, extraTool: false },
  tasks: new TaskStore({ file: opts['state-file'], ttlMs: 30 * 60 * 1000, pollIntervalMs: 500 }),
  // requestState comes back from the client as attacker-controlled input, so it is sealed with an HMAC (the
  // SDK's codec) under a key that lives only in this process, and bound to the signed-in person.
  requestStates: createRequestStateCodec({
    key: randomBytes(32),
    bind: (ctx) => String(ctx.http?.authInfo?.extra?.sub ?? 'anonymous'),
  }),
  notify: {
    resourceUpdated: (uri) => handler.notify.resourceUpdated(uri),
    toolsChanged: () => handler.notify.toolsChanged(),
  },
  loginPageUrl: () => urlOf('/login-page'),
  loginPageVisits: () => stats.loginPageVisits,
};

const cacheScope = issuer ? 'private' : 'public'; // answers for one signed-in person must not be shared

function buildServer() {
  const mcp = new McpServer(
    { name: 'mcp-console-modern-peer', version: '1.0.0', title: 'Modern-only test peer (2026-07-28)' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: {},
        extensions: { [TASKS_EXTENSION]: {} },
      },
      instructions: 'A test peer that speaks only MCP 2026-07-28. Nothing it does has effects outside itself.',
      cacheHints: {
        'server/discover': { ttlMs: 60_000, cacheScope },
        'tools/list': { ttlMs: 10_000, cacheScope },
        'prompts/list': { ttlMs: 10_000, cacheScope },
        'resources/list': { ttlMs: 10_000, cacheScope },
        'resources/templates/list': { ttlMs: 10_000, cacheScope },
      },
      requestState: { verify: peer.requestStates.verify },
    },
  );
  registerFeatures(mcp, peer);
  return mcp;
}

const handler = createMcpHandler(buildServer, {
  legacy: 'reject', // modern only: initialize and other envelope-less POSTs get -32022 naming 2026-07-28
  onerror: (err) => console.error(`modern-peer: ${err.message}`),
});

const auth = issuer && bearerAuth({
  issuer,
  audiences: opts.audience,
  scope: opts.scope ?? `${opts.audience[0]}/mcp:tools`,
  resourceUrl: () => urlOf('/mcp'),
  metadataUrl: () => urlOf('/.well-known/oauth-protected-resource/mcp'),
});

// Listed one by one: `*` never covers Authorization, and is not honoured at all for credentialed requests.
const ALLOWED_HEADERS = ['Content-Type', 'Accept', 'Authorization', 'MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', ...paramHeaders()];

/** CORS for a console on another origin: any origin when no --console-origin was given, else only those. */
function corsHeaders(origin) {
  if (!origin || (consoleOrigins.length > 0 && !consoleOrigins.includes(origin))) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    // A script reads only CORS-safelisted response headers unless told; the challenge is what it needs.
    'Access-Control-Expose-Headers': 'WWW-Authenticate',
    Vary: 'Origin',
  };
}

function rpcError(status, id, code, message, data) {
  return Response.json({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } }, { status });
}

/** The message in the body, or undefined when the body is not JSON (the SDK answers that itself). */
function parseMessage(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The Tasks extension's rule that asking for task notifications without declaring the extension is -32021,
 * which the SDK cannot know. (Its listen router leaves `taskIds` out of the acknowledgement, which tells a
 * declaring client that this server sends no task notifications.) */
function refuseTaskNotifications(message) {
  if (message?.method !== 'subscriptions/listen') return undefined;
  const params = message.params ?? {};
  const caps = params._meta?.['io.modelcontextprotocol/clientCapabilities'];
  if (params.notifications?.taskIds === undefined || caps?.extensions?.[TASKS_EXTENSION] !== undefined) return undefined;
  return rpcError(400, message.id ?? null, -32021, `Task notifications need the ${TASKS_EXTENSION} extension`, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });
}

async function serveMcp(req, body, signal) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  const request = new Request(`http://${req.headers.host ?? HOST}${req.url}`, {
    method: req.method,
    headers,
    body: req.method === 'POST' ? body : undefined,
    signal, // the connection closing cancels the request, and ends a listen stream
  });
  // The SDK's handler validates no Host itself; a loopback server must, against DNS rebinding.
  const rebinding = hostHeaderValidationResponse(request, localhostAllowedHostnames());
  if (rebinding) return rebinding;
  let authInfo;
  if (auth) {
    const outcome = await auth.authenticate(request);
    if (outcome instanceof Response) {
      count(stats, outcome.status === 401 ? 'rejected401' : 'rejected403');
      return outcome;
    }
    authInfo = outcome;
  }
  const message = req.method === 'POST' ? parseMessage(body) : undefined;
  if (typeof message?.method === 'string') count(stats.byMethod, message.method);
  return refuseTaskNotifications(message) ?? handler.fetch(request, { authInfo });
}

function loginPage() {
  stats.loginPageVisits += 1;
  const html = '<!doctype html><title>Test sign-in</title><h1>Signed in</h1><p>The modern peer\'s pretend sign-in page. You can close this window.</p>';
  return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' } });
}

async function route(req, body, signal) {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/mcp') {
    const origin = req.headers.origin;
    if (origin && consoleOrigins.length > 0 && !consoleOrigins.includes(origin)) {
      // The spec's rule against DNS rebinding: an Origin that is present and not allowed gets 403.
      return rpcError(403, null, -32000, `Origin ${origin} is not allowed`);
    }
    return serveMcp(req, body, signal);
  }
  if (req.method !== 'GET') return new Response(null, { status: 405, headers: { Allow: 'GET' } });
  if (path === '/login-page') return loginPage();
  if (path === '/_test/stats') return Response.json({ ...stats, tasks: peer.tasks.size, ...peer.state });
  if (auth && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) {
    return Response.json(auth.metadata());
  }
  return new Response('not found', { status: 404 });
}

function preflight(res, origin) {
  stats.preflights += 1;
  res.writeHead(204, {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** Copies a web Response onto the Node response, chunk by chunk so that SSE events leave at once. */
async function send(res, response, extraHeaders) {
  count(stats.statuses, response.status);
  res.writeHead(response.status, { ...Object.fromEntries(response.headers), ...extraHeaders });
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on('close', () => reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away mid-stream; there is nobody left to tell.
  }
  res.end();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const httpServer = createServer(async (req, res) => {
  stats.httpRequests += 1;
  const origin = req.headers.origin;
  if (req.method === 'OPTIONS') return preflight(res, origin);
  const aborter = new AbortController();
  res.on('close', () => { if (!res.writableFinished) aborter.abort(); });
  try {
    const body = await readBody(req);
    const response = body === undefined
      ? rpcError(413, null, -32600, 'The request body is too large')
      : await route(req, body, aborter.signal);
    await send(res, response, corsHeaders(origin));
  } catch (err) {
    console.error('modern-peer: request failed', err);
    if (!res.headersSent) await send(res, rpcError(500, null, -32603, 'Internal server error'), corsHeaders(origin));
    else res.end();
  }
});

httpServer.listen(port, HOST);
await new Promise((resolve, reject) => {
  httpServer.once('listening', resolve);
  httpServer.once('error', reject);
});
actualPort = httpServer.address().port;

process.stdout.write(`${JSON.stringify({
  url: urlOf('/mcp'),
  port: actualPort,
  protocolVersion: '2026-07-28',
  auth: Boolean(auth),
  issuer: issuer ?? null,
  resourceMetadataUrl: auth ? urlOf('/.well-known/oauth-protected-resource/mcp') : null,
  loginPageUrl: urlOf('/login-page'),
  stateFile: opts['state-file'] ?? null,
  allowedHeaders: ALLOWED_HEADERS,
})}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(0), 1000).unref();
  await handler.close().catch(() => {}); // ends open listen streams
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
