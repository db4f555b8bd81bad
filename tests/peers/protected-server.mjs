#!/usr/bin/env node
// An OAuth-protected MCP server on @modelcontextprotocol/sdk, behaving like the seed .NET server: JWT bearer tokens
// from the authserver (issuer, audience, signature, expiry), delegated tokens only, scope mcp:tools required.
// Streamable HTTP at /mcp (stateful, Mcp-Session-Id) and legacy HTTP+SSE at /sse (POST /messages?sessionId=).
//
// Usage: node protected-server.mjs [--port N] --issuer URL --audience api://ID [--audience ...]
//          [--scope api://ID/mcp:tools] [--console-origin ORIGIN]... [--no-auth] [--resumable] [--page-size N]
//          [--json-response] [--extra-tools N] [--big]
// Environment fallbacks: PROTECTED_PORT, PROTECTED_ISSUER, PROTECTED_AUDIENCE, PROTECTED_CONSOLE_ORIGIN (comma
// separated), PROTECTED_NO_AUTH=1. On start one line of JSON goes to stdout; everything else goes to stderr.

import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import cors from 'cors';
import express from 'express';
import * as jose from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

console.log = console.error;
console.info = console.error;

const HOST = '127.0.0.1';
const OPTIONS = {
  port: { type: 'string', default: '0' },
  issuer: { type: 'string' },
  audience: { type: 'string', multiple: true, default: [] },
  scope: { type: 'string' },
  'console-origin': { type: 'string', multiple: true, default: [] },
  'no-auth': { type: 'boolean', default: false },
  resumable: { type: 'boolean', default: false },
  // Serve tools/list in pages of this many tools (0: one page), to test pagination.
  'page-size': { type: 'string', default: '0' },
  // For the benchmark (scripts/bench.sh): answer POSTs with application/json instead of an SSE stream, list N more
  // tools, and offer a `big` tool whose result is as large as asked.
  'json-response': { type: 'boolean', default: false },
  'extra-tools': { type: 'string', default: '0' },
  big: { type: 'boolean', default: false },
};

function readOptions() {
  const { values } = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false });
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const env = process.env[`PROTECTED_${name.toUpperCase().replaceAll('-', '_')}`];
    const given = process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (env === undefined || given) continue;
    if (spec.type === 'boolean') values[name] = /^(1|true|yes)$/i.test(env);
    else if (spec.multiple) values[name] = env.split(',').map((s) => s.trim()).filter(Boolean);
    else values[name] = env;
  }
  return values;
}

function fail(message) {
  console.error(`protected-server: ${message}`);
  process.exit(2);
}

const opts = readOptions();
const noAuth = opts['no-auth'];
const port = Number.parseInt(opts.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${opts.port}`);
if (!noAuth && !opts.issuer) fail('--issuer is required (or --no-auth)');
if (!noAuth && opts.audience.length === 0) fail('--audience is required (or --no-auth)');
const issuer = opts.issuer?.replace(/\/$/, '');
const audiences = opts.audience;
const requiredScope = opts.scope ?? `${audiences[0] ?? 'api://none'}/mcp:tools`;
const requiredScopeShort = requiredScope.slice(requiredScope.lastIndexOf('/') + 1);
const consoleOrigins = opts['console-origin'].map((o) => new URL(o).origin);
const extraTools = Number.parseInt(opts['extra-tools'], 10);
if (!Number.isInteger(extraTools) || extraTools < 0 || extraTools > 100000) fail(`bad --extra-tools ${opts['extra-tools']}`);

// ---------------------------------------------------------------------------------------------------------------
function freshStats() {
  return {
    httpRequests: 0,
    mcpRequests: 0, // JSON-RPC requests (with an id) received over /mcp and /messages
    mcpNotifications: 0,
    mcpResponses: 0,
    byMethod: {},
    rejected401: 0,
    rejected403: 0,
    cancellations: 0, // tool calls that observed their AbortSignal fire
    cancelled: [],
    cancelNotifications: 0,
    progressSent: 0,
    sessionsCreated: 0,
    sessionsDeleted: 0,
    sseStreams: 0,
    tokensSeen: 0, // distinct tokens (by jti, else by SHA-256 of the token); tokens themselves are never kept
    tokenInQuery: 0,
    protocolVersions: {},
    origins: {},
  };
}
let stats = freshStats();
let seenTokens = new Set();
// Tokens refused from now on (POST /_test/distrust), by the same keys; never the tokens themselves.
const distrusted = new Set();
const bump = (obj, key) => { obj[key] = (obj[key] ?? 0) + 1; };

// ---------------------------------------------------------------------------------------------------------------
// Token validation.
let jwksPromise;
function getJwks() {
  jwksPromise ??= (async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const meta = await res.json();
    if (meta.issuer !== issuer) throw new Error(`discovery issuer ${meta.issuer} is not ${issuer}`);
    return jose.createRemoteJWKSet(new URL(meta.jwks_uri));
  })().catch((err) => {
    jwksPromise = undefined;
    throw err;
  });
  return jwksPromise;
}

function quote(s) {
  return `"${String(s).replace(/[\\"]/g, '\\$&').replace(/[\r\n]+/g, ' ')}"`;
}

function serverUrl(path) {
  return `http://${HOST}:${actualPort}${path}`;
}

function resourcePathFor(reqPath) {
  return reqPath.startsWith('/sse') || reqPath.startsWith('/messages') ? '/sse' : '/mcp';
}

function prmUrlFor(reqPath) {
  return serverUrl(`/.well-known/oauth-protected-resource${resourcePathFor(reqPath)}`);
}

function challenge(res, reqPath, status, error, description) {
  const parts = [];
  if (error) parts.push(`error=${quote(error)}`);
  if (description) parts.push(`error_description=${quote(description)}`);
  parts.push(`resource_metadata=${quote(prmUrlFor(reqPath))}`, `scope=${quote(requiredScope)}`);
  res.set('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
  if (status === 401) stats.rejected401 += 1;
  else stats.rejected403 += 1;
  res.status(status).json({ error: error ?? 'unauthorized', error_description: description ?? 'Bearer token required' });
}

function describeJoseError(err) {
  if (err instanceof jose.errors.JWTExpired) return `The token expired (${err.message})`;
  if (err instanceof jose.errors.JWTClaimValidationFailed) return `The token failed validation: ${err.message}`;
  if (err instanceof jose.errors.JWKSNoMatchingKey) return 'The signature key was not found';
  if (err instanceof jose.errors.JWSSignatureVerificationFailed) return 'The signature is invalid';
  return `The token is malformed or invalid: ${err.message}`;
}

async function authenticate(req, res, next) {
  if (req.method === 'OPTIONS') return next();
  if (noAuth) return next();
  const url = new URL(req.originalUrl, 'http://x');
  if (url.searchParams.has('access_token')) stats.tokenInQuery += 1;
  const header = req.headers.authorization;
  if (!header || !/^bearer\s/i.test(header)) return challenge(res, req.path, 401);
  const token = header.slice(header.indexOf(' ') + 1).trim();
  if (!token || /\s/.test(token)) return challenge(res, req.path, 401, 'invalid_token', 'Malformed Authorization header');
  let payload;
  try {
    const jwks = await getJwks();
    ({ payload } = await jose.jwtVerify(token, jwks, {
      issuer,
      audience: audiences,
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
      clockTolerance: 0,
    }));
  } catch (err) {
    if (!(err instanceof jose.errors.JOSEError)) console.error('protected-server: token validation error', err);
    return challenge(res, req.path, 401, 'invalid_token', describeJoseError(err));
  }
  const key = payload.jti ?? crypto.createHash('sha256').update(token).digest('base64url');
  if (distrusted.has(key)) return challenge(res, req.path, 401, 'invalid_token', 'The token was revoked');
  if (!seenTokens.has(key)) {
    seenTokens.add(key);
    stats.tokensSeen = seenTokens.size;
  }
  const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
  const appOnly = payload.idtyp === 'app' || (Array.isArray(payload.roles) && payload.scp === undefined);
  if (appOnly) {
    return challenge(res, req.path, 403, 'insufficient_scope', 'App-only tokens are not accepted; a delegated (user) token is required');
  }
  if (!scopes.includes(requiredScopeShort)) {
    return challenge(res, req.path, 403, 'insufficient_scope', `The token lacks the scope "${requiredScopeShort}"`);
  }
  req.auth = {
    token,
    clientId: String(payload.azp ?? payload.appid ?? payload.client_id ?? ''),
    scopes,
    expiresAt: payload.exp,
    extra: { claims: payload },
  };
  return next();
}

// ---------------------------------------------------------------------------------------------------------------
// The MCP server: one McpServer per session.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function claimsFor(extra) {
  return extra.authInfo?.extra?.claims ?? null;
}

function buildServer() {
  const server = new McpServer(
    { name: 'mcp-console-protected-peer', version: '1.0.0', title: 'Protected test peer' },
    { capabilities: { logging: {} }, instructions: 'A test peer protected by an Entra-shaped authorization server.' },
  );

  server.registerTool('echo', {
    title: 'Echo',
    description: 'Echoes the message back.',
    inputSchema: { message: z.string().describe('Text to echo') },
    annotations: { readOnlyHint: true, idempotentHint: true },
  }, async ({ message }) => ({ content: [{ type: 'text', text: message }] }));

  server.registerTool('add', {
    title: 'Add',
    description: 'Adds two numbers.',
    inputSchema: { a: z.number(), b: z.number() },
    outputSchema: { sum: z.number() },
    annotations: { readOnlyHint: true, idempotentHint: true },
  }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));

  server.registerTool('slow', {
    title: 'Slow',
    description: 'Takes `steps` steps of `delay_ms` each, reporting progress; honours cancellation.',
    inputSchema: {
      steps: z.number().int().min(1).max(1000).default(5),
      delay_ms: z.number().int().min(0).max(60000).default(200),
    },
  }, async ({ steps, delay_ms: delayMs }, extra) => {
    const progressToken = extra._meta?.progressToken;
    let step = 0;
    try {
      for (step = 0; step < steps; step += 1) {
        await sleep(delayMs, undefined, { signal: extra.signal });
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: step + 1, total: steps, message: `step ${step + 1} of ${steps}` },
          });
          stats.progressSent += 1;
        }
      }
    } catch (err) {
      if (extra.signal.aborted) {
        stats.cancellations += 1;
        stats.cancelled.push({
          requestId: extra.requestId, sessionId: extra.sessionId ?? null, step, reason: String(extra.signal.reason ?? ''),
        });
      }
      throw err;
    }
    return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
  });

  server.registerTool('image', {
    title: 'Image',
    description: 'Returns a small PNG image.',
    annotations: { readOnlyHint: true },
  }, async () => ({
    content: [
      { type: 'text', text: 'A 1x1 PNG:' },
      { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
    ],
  }));

  server.registerTool('whoami', {
    title: 'Who am I',
    description: 'Returns the validated access token claims the server saw.',
    annotations: { readOnlyHint: true },
  }, async (extra) => {
    const claims = claimsFor(extra);
    return {
      content: [{ type: 'text', text: JSON.stringify(claims) }],
      structuredContent: { claims },
    };
  });

  server.registerResource('readme', 'peer://readme', {
    title: 'Read me',
    description: 'What this server is.',
    mimeType: 'text/plain',
  }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'A protected MCP test peer for mcp-console.' }],
  }));

  server.registerPrompt('greet', {
    title: 'Greet',
    description: 'Greets someone.',
    argsSchema: { name: z.string().describe('Who to greet') },
  }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Please greet ${name} warmly.` } }],
  }));

  // Zero-padded numbers, so that the names are all as long as each other: extra-0001 … extra-1000.
  const width = String(extraTools).length;
  for (let i = 1; i <= extraTools; i += 1) {
    const n = String(i).padStart(width, '0');
    server.registerTool(`extra-${n}`, {
      title: `Extra ${n}`,
      description: `Extra tool number ${i}: echoes its message, like echo.`,
      inputSchema: { message: z.string().describe('Text to echo') },
      annotations: { readOnlyHint: true, idempotentHint: true },
    }, async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  }

  if (opts.big) {
    server.registerTool('big', {
      title: 'Big',
      description: 'Returns one text block of `bytes` bytes (ASCII), to measure large results.',
      inputSchema: { bytes: z.number().int().min(0).max(256 * 1024 * 1024) },
      annotations: { readOnlyHint: true, idempotentHint: true },
    }, async ({ bytes }) => {
      const line = 'All work and no play makes a large result. 0123456789 abcdefghijklmnopqrstuvwxyz\n';
      return { content: [{ type: 'text', text: line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes) }] };
    });
  }

  const pageSize = Number.parseInt(opts['page-size'], 10) || 0;
  if (pageSize > 0) {
    // McpServer lists every tool at once; wrap its handler to hand them out page by page, with
    // the offset as an opaque cursor.
    const handlers = server.server._requestHandlers;
    const listAll = handlers.get('tools/list');
    handlers.set('tools/list', async (request, extra) => {
      const all = await listAll(request, extra);
      const start = Number.parseInt(request.params?.cursor ?? '0', 10) || 0;
      const tools = all.tools.slice(start, start + pageSize);
      const next = start + pageSize;
      return { ...all, tools, ...(next < all.tools.length ? { nextCursor: String(next) } : {}) };
    });
  }

  return server;
}

// ---------------------------------------------------------------------------------------------------------------
const app = express();
app.disable('x-powered-by');
app.set('etag', false);

app.use((req, _res, next) => {
  stats.httpRequests += 1;
  if (req.headers.origin) bump(stats.origins, req.headers.origin);
  const pv = req.headers['mcp-protocol-version'];
  if (pv) bump(stats.protocolVersions, pv);
  next();
});

app.use(cors({
  origin: consoleOrigins.length ? consoleOrigins : true,
  methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowedHeaders: ['Authorization', 'Content-Type', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID', 'Accept'],
  exposedHeaders: ['Mcp-Session-Id', 'MCP-Protocol-Version', 'WWW-Authenticate'],
  maxAge: 600,
}));

app.get('/_test/stats', (_req, res) => res.json({ ...stats, activeSessions: transports.size, activeSseSessions: sseTransports.size }));
// POST /_test/distrust — from now on every token seen so far is refused with 401 invalid_token (as when an
// access token is revoked at the resource); tokens issued later are accepted.
app.post('/_test/distrust', (_req, res) => {
  for (const key of seenTokens) distrusted.add(key);
  res.json({ distrusted: distrusted.size });
});
app.post('/_test/reset', (_req, res) => {
  stats = freshStats();
  seenTokens = new Set();
  res.json({ ok: true });
});

// RFC 9728 protected resource metadata.
function prm(resourcePath) {
  return {
    resource: resourcePath ? serverUrl(resourcePath) : serverUrl('/'),
    authorization_servers: [issuer],
    scopes_supported: [requiredScope],
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-console protected test peer',
  };
}
if (!noAuth) {
  app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => res.json(prm('/mcp')));
  app.get('/.well-known/oauth-protected-resource/sse', (_req, res) => res.json(prm('/sse')));
  app.get('/.well-known/oauth-protected-resource', (_req, res) => res.json(prm(null)));
}

function countMessages(body) {
  for (const msg of Array.isArray(body) ? body : [body]) {
    if (!msg || typeof msg !== 'object') continue;
    if (msg.method !== undefined && msg.id !== undefined) {
      stats.mcpRequests += 1;
      bump(stats.byMethod, msg.method);
    } else if (msg.method !== undefined) {
      stats.mcpNotifications += 1;
      bump(stats.byMethod, msg.method);
      if (msg.method === 'notifications/cancelled') stats.cancelNotifications += 1;
    } else {
      stats.mcpResponses += 1;
    }
  }
}

function rpcError(res, status, code, message) {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

// Streamable HTTP.
const transports = new Map(); // session id -> StreamableHTTPServerTransport

app.post('/mcp', authenticate, express.json({ limit: '4mb' }), async (req, res) => {
  countMessages(req.body);
  const sessionId = req.headers['mcp-session-id'];
  try {
    if (sessionId) {
      const transport = transports.get(sessionId);
      if (!transport) return rpcError(res, 404, -32001, 'Session not found');
      return await transport.handleRequest(req, res, req.body);
    }
    if (!isInitializeRequest(req.body)) {
      return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      eventStore: opts.resumable ? new InMemoryEventStore() : undefined,
      enableJsonResponse: opts['json-response'],
      onsessioninitialized: (id) => {
        transports.set(id, transport);
        stats.sessionsCreated += 1;
      },
      onsessionclosed: (id) => {
        transports.delete(id);
        stats.sessionsDeleted += 1;
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) transports.delete(transport.sessionId);
    };
    await buildServer().connect(transport);
    return await transport.handleRequest(req, res, req.body);
  } catch (err) {
    console.error('protected-server: /mcp POST failed', err);
    if (!res.headersSent) return rpcError(res, 500, -32603, 'Internal server error');
    return undefined;
  }
});

async function sessionRequest(req, res) {
  const sessionId = req.headers['mcp-session-id'];
  if (!sessionId) return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  const transport = transports.get(sessionId);
  if (!transport) return rpcError(res, 404, -32001, 'Session not found');
  try {
    return await transport.handleRequest(req, res);
  } catch (err) {
    console.error(`protected-server: /mcp ${req.method} failed`, err);
    if (!res.headersSent) return rpcError(res, 500, -32603, 'Internal server error');
    return undefined;
  }
}
app.get('/mcp', authenticate, sessionRequest);
app.delete('/mcp', authenticate, sessionRequest);

// Legacy HTTP+SSE (2024-11-05).
const sseTransports = new Map();

app.get('/sse', authenticate, async (req, res) => {
  try {
    const transport = new SSEServerTransport('/messages', res);
    sseTransports.set(transport.sessionId, transport);
    stats.sseStreams += 1;
    res.on('close', () => sseTransports.delete(transport.sessionId));
    await buildServer().connect(transport);
  } catch (err) {
    console.error('protected-server: /sse failed', err);
    if (!res.headersSent) res.status(500).end();
  }
});

app.post('/messages', authenticate, express.json({ limit: '4mb' }), async (req, res) => {
  countMessages(req.body);
  const transport = sseTransports.get(String(req.query.sessionId ?? ''));
  if (!transport) return rpcError(res, 404, -32001, 'Session not found');
  try {
    return await transport.handlePostMessage(req, res, req.body);
  } catch (err) {
    console.error('protected-server: /messages failed', err);
    if (!res.headersSent) return rpcError(res, 500, -32603, 'Internal server error');
    return undefined;
  }
});

app.use((err, _req, res, _next) => {
  if (err?.type === 'entity.parse.failed') return rpcError(res, 400, -32700, 'Parse error');
  console.error('protected-server: error', err);
  if (!res.headersSent) return rpcError(res, err.status ?? 500, -32603, 'Internal server error');
  return undefined;
});

const server = app.listen(port, HOST);
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
const actualPort = server.address().port;

if (!noAuth) {
  getJwks().catch((err) => console.error(`protected-server: discovery not reachable yet (${err.message}); will retry on demand`));
}

process.stdout.write(`${JSON.stringify({
  url: serverUrl('/mcp'),
  sseUrl: serverUrl('/sse'),
  port: actualPort,
  auth: !noAuth,
  issuer: issuer ?? null,
  audience: audiences,
  scope: noAuth ? null : requiredScope,
  resourceMetadataUrl: noAuth ? null : serverUrl('/.well-known/oauth-protected-resource/mcp'),
})}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(0), 1000).unref();
  for (const t of [...transports.values(), ...sseTransports.values()]) {
    try { await t.close(); } catch { /* closing anyway */ }
  }
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
