// Tests of the test peers themselves: run with `node --test` in this directory.
// Starts authserver.mjs and protected-server.mjs as child processes on free loopback ports, does the browser's part
// of the OAuth flow with fetch (PKCE, Origin header, cookies), and talks MCP over Streamable HTTP and HTTP+SSE.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import * as jose from 'jose';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONSOLE_ORIGIN = 'http://127.0.0.1:48123'; // nothing listens there; it only names the console's origin
const OTHER_ORIGIN = 'http://127.0.0.1:48124';
const REDIRECT_URI = `${CONSOLE_ORIGIN}/callback`;

// ---------------------------------------------------------------------------------------------------------------
// Child processes.
const children = [];

function startPeer(args, { env = process.env, timeoutMs = 15000 } = {}) {
  const proc = spawn(process.execPath, args, { cwd: HERE, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no start line\n${stderr}`)), timeoutMs);
    const lines = createInterface({ input: proc.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ proc, info: JSON.parse(line), stderr: () => stderr });
      } catch (err) {
        reject(new Error(`bad start line ${line}: ${err.message}\n${stderr}`));
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before its start line\n${stderr}`));
    });
  });
}

async function stopAll() {
  await Promise.all(children.map(async (proc) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }));
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function poll(fn, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// OAuth helpers (the browser's part).
const b64url = (buf) => Buffer.from(buf).toString('base64url');

class CookieJar {
  #cookies = new Map();

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))
        || attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function parseChallenge(header) {
  assert.ok(header, 'WWW-Authenticate header present');
  const m = /^Bearer\s*(.*)$/i.exec(header);
  assert.ok(m, `Bearer challenge: ${header}`);
  const params = {};
  const re = /\s*([A-Za-z_]+)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
  let rest = m[1];
  re.lastIndex = 0;
  let hit;
  while (rest.length && (hit = re.exec(rest))) {
    params[hit[1]] = hit[2].replace(/\\(.)/g, '$1');
    rest = rest.slice(re.lastIndex);
    re.lastIndex = 0;
  }
  assert.equal(rest.trim(), '', `whole challenge parsed: ${header}`);
  return params;
}

let AS; // authserver start line
let PS; // protected server start line
let PS_WRONG_AUD; // protected server that expects another audience

async function authorize({
  user = 'alice', scope, extra = {}, jar = new CookieJar(), pkce = true,
} = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const url = new URL(AS.authorizationEndpoint);
  const params = {
    client_id: AS.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: scope ?? `openid profile offline_access ${AS.scope}`,
    state,
    nonce,
    login_hint: user,
    ...(pkce ? { code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256' } : {}),
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const end = await follow(url, jar);
  if (!end.callback) throw new Error(`authorize stopped at ${end.url} with ${end.res.status}`);
  const q = end.callback.searchParams;
  return {
    code: q.get('code'), state: q.get('state'), iss: q.get('iss'), error: q.get('error'),
    errorDescription: q.get('error_description'), verifier, sentState: state, nonce, jar,
  };
}

// Follows redirects like a browser (with cookies) until the console's redirect URI or a page.
async function follow(start, jar, init = {}) {
  let next = new URL(start);
  let options = init;
  for (let hop = 0; hop < 12; hop += 1) {
    const res = await fetch(next, {
      redirect: 'manual', ...options, headers: { ...options.headers, cookie: jar.header() },
    });
    jar.store(res);
    options = {};
    if (res.status < 300 || res.status >= 400) return { url: next, res, body: await res.text() };
    await res.arrayBuffer();
    const location = new URL(res.headers.get('location'), next);
    if (location.href.startsWith(REDIRECT_URI)) return { callback: location };
    next = location;
  }
  throw new Error('too many redirects');
}

async function tokenRequest(params, { origin = CONSOLE_ORIGIN } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (origin) headers.origin = origin;
  const res = await fetch(AS.tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(params) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function redeem(auth, { origin = CONSOLE_ORIGIN, extra = {} } = {}) {
  return tokenRequest({
    grant_type: 'authorization_code',
    client_id: AS.clientId,
    code: auth.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: auth.verifier,
    ...extra,
  }, { origin });
}

function refresh(refreshToken, { origin = CONSOLE_ORIGIN, scope } = {}) {
  return tokenRequest({
    grant_type: 'refresh_token',
    client_id: AS.clientId,
    refresh_token: refreshToken,
    ...(scope ? { scope } : {}),
  }, { origin });
}

async function signIn(user = 'alice', opts = {}) {
  const auth = await authorize({ user, ...opts });
  assert.ok(auth.code, `got a code for ${user}: ${auth.error} ${auth.errorDescription}`);
  const res = await redeem(auth);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function appOnlyToken() {
  const res = await tokenRequest({
    grant_type: 'client_credentials',
    client_id: AS.daemonClientId,
    client_secret: AS.daemonClientSecret,
    scope: `${AS.audience}/.default`,
  }, { origin: null });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.access_token;
}

const asStats = async () => (await fetch(new URL('/_test/stats', AS.issuer))).json();
const psStats = async () => (await fetch(new URL('/_test/stats', PS.url))).json();

// ---------------------------------------------------------------------------------------------------------------
// MCP helpers.
function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const ev = { event: 'message', data: [], id: undefined };
    let any = false;
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
      any = true;
      if (field === 'event') ev.event = value;
      else if (field === 'data') ev.data.push(value);
      else if (field === 'id') ev.id = value;
    }
    if (any) events.push({ ...ev, data: ev.data.join('\n') });
  }
  return events;
}

async function* sseStream(body) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let m;
    while ((m = /\r?\n\r?\n/.exec(buffer))) {
      const block = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      yield* parseSse(`${block}\n\n`);
    }
  }
}

function mcpHeaders({ token, sessionId, protocolVersion, origin } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (sessionId) headers['mcp-session-id'] = sessionId;
  if (protocolVersion) headers['mcp-protocol-version'] = protocolVersion;
  if (origin) headers.origin = origin;
  return headers;
}

async function mcpPost(url, message, opts = {}) {
  const res = await fetch(url, { method: 'POST', headers: mcpHeaders(opts), body: JSON.stringify(message) });
  const type = res.headers.get('content-type') ?? '';
  let messages = [];
  let text = '';
  if (type.includes('text/event-stream')) {
    text = await res.text();
    messages = parseSse(text).filter((e) => e.data).map((e) => JSON.parse(e.data));
  } else if (type.includes('application/json')) {
    text = await res.text();
    const body = JSON.parse(text);
    messages = Array.isArray(body) ? body : [body];
  } else {
    text = await res.text();
  }
  return {
    status: res.status,
    headers: res.headers,
    messages,
    text,
    response: messages.find((m) => m.id !== undefined && m.id === message.id && (m.result || m.error)),
  };
}

let nextId = 1;
const request = (method, params = {}) => ({ jsonrpc: '2.0', id: nextId++, method, params });
const notification = (method, params = {}) => ({ jsonrpc: '2.0', method, params });

async function openSession(url, token, origin) {
  const init = await mcpPost(url, request('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'peers.test', version: '0' },
  }), { token, origin });
  assert.equal(init.status, 200, init.text);
  assert.ok(init.response?.result, init.text);
  const sessionId = init.headers.get('mcp-session-id');
  assert.ok(sessionId, 'Mcp-Session-Id on initialize');
  const protocolVersion = init.response.result.protocolVersion;
  const ack = await mcpPost(url, notification('notifications/initialized'), { token, sessionId, protocolVersion });
  assert.equal(ack.status, 202);
  return { url, token, sessionId, protocolVersion, init };
}

const call = (s, method, params) => mcpPost(s.url, request(method, params), s);

// ---------------------------------------------------------------------------------------------------------------
before(async () => {
  AS = (await startPeer([
    'authserver.mjs', '--port', '0', '--auto-approve', '--entra-strict',
    '--console-origin', CONSOLE_ORIGIN, '--redirect-uri', REDIRECT_URI,
  ])).info;
  [PS, PS_WRONG_AUD] = (await Promise.all([
    startPeer(['protected-server.mjs', '--port', '0', '--issuer', AS.issuer, '--audience', AS.audience,
      '--console-origin', CONSOLE_ORIGIN]),
    startPeer(['protected-server.mjs', '--port', '0', '--issuer', AS.issuer, '--audience', 'api://someone-else',
      '--console-origin', CONSOLE_ORIGIN]),
  ])).map((p) => p.info);
});

after(stopAll);

describe('authserver (Entra-shaped)', () => {
  test('start line', () => {
    assert.match(AS.issuer, /^http:\/\/127\.0\.0\.1:\d+\/[^/]+\/v2\.0$/);
    assert.equal(AS.issuer, `http://127.0.0.1:${AS.port}/${AS.tenant}/v2.0`);
    assert.equal(AS.scope, `api://${AS.apiAppId}/mcp:tools`);
    assert.ok(AS.clientId && AS.daemonClientId && AS.daemonClientSecret);
  });

  test('OIDC discovery under the issuer, Entra-like', async () => {
    const res = await fetch(`${AS.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const meta = await res.json();
    assert.equal(meta.issuer, AS.issuer);
    assert.equal(meta.authorization_endpoint, `http://127.0.0.1:${AS.port}/${AS.tenant}/oauth2/v2.0/authorize`);
    assert.equal(meta.token_endpoint, `http://127.0.0.1:${AS.port}/${AS.tenant}/oauth2/v2.0/token`);
    assert.equal(meta.code_challenge_methods_supported, undefined);
    assert.equal(meta.authorization_response_iss_parameter_supported, undefined, 'strict: no iss, like Entra');
    assert.equal(meta.revocation_endpoint, `http://127.0.0.1:${AS.port}/${AS.tenant}/oauth2/v2.0/revoke`);
    assert.equal(meta.registration_endpoint, undefined, 'no dynamic registration unless asked for');
    const jwks = await (await fetch(meta.jwks_uri)).json();
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.equal(jwks.keys[0].d, undefined, 'no private parts in the JWKS');
    // No RFC 8414 document and nothing at the root, like Entra.
    for (const p of [`/.well-known/oauth-authorization-server/${AS.tenant}/v2.0`, '/.well-known/openid-configuration',
      `/.well-known/openid-configuration/${AS.tenant}/v2.0`]) {
      assert.equal((await fetch(`http://127.0.0.1:${AS.port}${p}`)).status, 404, p);
    }
  });

  test('auth code + PKCE S256 for alice gives an API JWT and a refresh token', async () => {
    const auth = await authorize({ user: 'alice' });
    assert.ok(auth.code, `${auth.error}: ${auth.errorDescription}`);
    assert.equal(auth.state, auth.sentState);
    assert.equal(auth.iss, null, 'strict: no RFC 9207 iss, like Entra');
    const res = await redeem(auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const { access_token: at, refresh_token: rt, id_token: idt, token_type: type, expires_in: expiresIn } = res.body;
    assert.equal(type, 'Bearer');
    assert.ok(rt, 'refresh token without prompt=consent from the client');
    assert.ok(idt, 'id token');
    assert.equal(expiresIn, 3600);
    const header = jose.decodeProtectedHeader(at);
    assert.equal(header.typ, 'JWT');
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    const claims = jose.decodeJwt(at);
    assert.equal(claims.aud, AS.audience);
    assert.equal(claims.iss, AS.issuer);
    assert.equal(claims.scp, 'mcp:tools');
    assert.equal(claims.tid, AS.tenant);
    assert.match(claims.oid, /^[0-9a-f-]{36}$/);
    assert.ok(claims.sub);
    assert.equal(claims.name, 'Alice Example');
    assert.equal(claims.preferred_username, 'alice@contoso.example');
    assert.equal(claims.azp, AS.clientId);
    assert.equal(claims.scope, undefined);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.equal(claims.roles, undefined);
    const id = jose.decodeJwt(idt);
    assert.equal(id.nonce, auth.nonce);
    assert.equal(id.aud, AS.clientId);
    // The token verifies against the published keys.
    const jwks = jose.createRemoteJWKSet(new URL(`http://127.0.0.1:${AS.port}/${AS.tenant}/discovery/v2.0/keys`));
    await jose.jwtVerify(at, jwks, { issuer: AS.issuer, audience: AS.audience });
  });

  test('no offline_access, no refresh token', async () => {
    const auth = await authorize({ scope: `openid profile ${AS.scope}` });
    const res = await redeem(auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(jose.decodeJwt(res.body.access_token).scp, 'mcp:tools');
  });

  test('SPA code redemption without Origin is refused (AADSTS9002327), before the code is used', async () => {
    const auth = await authorize();
    const bad = await redeem(auth, { origin: null });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_request');
    assert.match(bad.body.error_description, /^AADSTS9002327:/);
    const good = await redeem(auth);
    assert.equal(good.status, 200, JSON.stringify(good.body));
  });

  test('a resource parameter is refused (AADSTS901002) at authorize and token', async () => {
    const auth = await authorize({ extra: { resource: AS.audience } });
    assert.equal(auth.code, null);
    assert.equal(auth.error, 'invalid_target');
    assert.match(auth.errorDescription, /^AADSTS901002:/);
    assert.equal(auth.state, auth.sentState);

    const ok = await authorize();
    const res = await redeem(ok, { extra: { resource: AS.audience } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_target');
    assert.match(res.body.error_description, /^AADSTS901002:/);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN, 'errors readable cross-origin');
  });

  test('PKCE is required and checked', async () => {
    const noPkce = await authorize({ pkce: false });
    assert.equal(noPkce.error, 'invalid_request');
    const auth = await authorize();
    const res = await redeem({ ...auth, verifier: b64url(crypto.randomBytes(32)) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(res.body.error_description, /^AADSTS501481:/);
  });

  test('token endpoint CORS: console origin allowed, other origins refused', async () => {
    const pre = await fetch(AS.tokenEndpoint, {
      method: 'OPTIONS',
      headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.ok(pre.status === 204 || pre.status === 200, String(pre.status));
    assert.equal(pre.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const auth = await authorize();
    const res = await redeem(auth, { origin: OTHER_ORIGIN });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('refresh rotates; reusing the old refresh token fails and revokes the grant', async () => {
    const before = await asStats();
    const first = await signIn('alice');
    const r1 = await refresh(first.refresh_token, { scope: `openid profile offline_access ${AS.scope}` });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token);
    assert.notEqual(r1.body.refresh_token, first.refresh_token);
    assert.equal(jose.decodeJwt(r1.body.access_token).scp, 'mcp:tools');
    assert.equal(r1.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);

    const noOrigin = await refresh(r1.body.refresh_token, { origin: null });
    assert.equal(noOrigin.status, 400);
    assert.match(noOrigin.body.error_description, /^AADSTS9002327:/);

    const reuse = await refresh(first.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.match(reuse.body.error_description, /^AADSTS50173:/);
    const revoked = await refresh(r1.body.refresh_token);
    assert.equal(revoked.status, 400, 'the rotated token died with the grant');
    assert.equal(revoked.body.error, 'invalid_grant');

    const after = await asStats();
    assert.equal(after.refresh.requests - before.refresh.requests, 4);
    assert.equal(after.refresh.succeeded - before.refresh.succeeded, 1);
    assert.equal(after.refresh.reuseDetected - before.refresh.reuseDetected, 1);
    assert.ok(after.grantsRevoked > before.grantsRevoked);
    assert.ok(after.tokenRequests.byGrantType.refresh_token >= 4);
  });

  test('POST /_test/revoke kills the user\'s refresh tokens', async () => {
    const tokens = await signIn('alice');
    const res = await fetch(new URL('/_test/revoke?sub=alice', AS.issuer), { method: 'POST' });
    assert.equal(res.status, 200);
    assert.ok((await res.json()).revokedGrants >= 1);
    const r = await refresh(tokens.refresh_token);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('bob\'s token lacks mcp:tools; an app-only token carries roles and no scp', async () => {
    const bob = await signIn('bob');
    const claims = jose.decodeJwt(bob.access_token);
    assert.equal(claims.aud, AS.audience);
    assert.equal(claims.name, 'Bob Example');
    assert.ok(!String(claims.scp ?? '').split(' ').includes('mcp:tools'));
    const app = jose.decodeJwt(await appOnlyToken());
    assert.deepEqual(app.roles, ['mcp.app']);
    assert.equal(app.idtyp, 'app');
    assert.equal(app.scp, undefined);
    assert.equal(app.aud, AS.audience);
  });
});

describe('protected MCP server', () => {
  let alice;
  before(async () => {
    alice = (await signIn('alice')).access_token;
  });

  test('start line', () => {
    assert.equal(PS.url, `http://127.0.0.1:${PS.port}/mcp`);
    assert.equal(PS.sseUrl, `http://127.0.0.1:${PS.port}/sse`);
  });

  test('protected resource metadata (RFC 9728)', async () => {
    for (const [p, resource] of [['/mcp', PS.url], ['/sse', PS.sseUrl], ['', `http://127.0.0.1:${PS.port}/`]]) {
      const res = await fetch(`http://127.0.0.1:${PS.port}/.well-known/oauth-protected-resource${p}`, {
        headers: { origin: CONSOLE_ORIGIN },
      });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
      const meta = await res.json();
      assert.equal(meta.resource, resource);
      assert.deepEqual(meta.authorization_servers, [AS.issuer]);
      assert.deepEqual(meta.scopes_supported, [AS.scope]);
      assert.deepEqual(meta.bearer_methods_supported, ['header']);
    }
  });

  test('401 without a token: challenge with resource_metadata and scope, no error code, CORS-readable', async () => {
    const res = await mcpPost(PS.url, request('initialize', {}), { origin: CONSOLE_ORIGIN });
    assert.equal(res.status, 401);
    const header = res.headers.get('www-authenticate');
    assert.equal(header, `Bearer resource_metadata="http://127.0.0.1:${PS.port}/.well-known/oauth-protected-resource/mcp", scope="${AS.scope}"`);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    assert.match(res.headers.get('access-control-expose-headers'), /WWW-Authenticate/i);
    const sse = await fetch(PS.sseUrl, { headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 401);
    assert.equal(parseChallenge(sse.headers.get('www-authenticate')).resource_metadata,
      `http://127.0.0.1:${PS.port}/.well-known/oauth-protected-resource/sse`);
  });

  test('401 invalid_token for garbage and for a token meant for another audience (quotes escaped)', async () => {
    const garbage = await mcpPost(PS.url, request('initialize', {}), { token: 'not-a-jwt' });
    assert.equal(garbage.status, 401);
    assert.equal(parseChallenge(garbage.headers.get('www-authenticate')).error, 'invalid_token');

    const wrong = await mcpPost(PS_WRONG_AUD.url, request('initialize', {}), { token: alice });
    assert.equal(wrong.status, 401);
    const header = wrong.headers.get('www-authenticate');
    assert.match(header, /\\"aud\\"/, 'the quote in jose\'s message is escaped');
    const c = parseChallenge(header);
    assert.equal(c.error, 'invalid_token');
    assert.match(c.error_description, /"aud"/);
    assert.equal(c.scope, 'api://someone-else/mcp:tools');
  });

  test('403 insufficient_scope for bob and for an app-only token', async () => {
    const bob = (await signIn('bob')).access_token;
    for (const token of [bob, await appOnlyToken()]) {
      const res = await mcpPost(PS.url, request('initialize', {}), { token, origin: CONSOLE_ORIGIN });
      assert.equal(res.status, 403);
      const c = parseChallenge(res.headers.get('www-authenticate'));
      assert.equal(c.error, 'insufficient_scope');
      assert.equal(c.scope, AS.scope);
      assert.equal(c.resource_metadata, `http://127.0.0.1:${PS.port}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    }
  });

  test('an expired token gets 401 invalid_token', async () => {
    let token;
    try {
      await fetch(new URL('/_test/config?access_token_ttl=1', AS.issuer), { method: 'POST' });
      token = (await signIn('alice')).access_token;
    } finally {
      await fetch(new URL('/_test/config?access_token_ttl=3600', AS.issuer), { method: 'POST' });
    }
    const { exp } = jose.decodeJwt(token);
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 50); // wait for the token's own expiry, nothing else
    const res = await mcpPost(PS.url, request('initialize', {}), { token });
    assert.equal(res.status, 401);
    const c = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(c.error, 'invalid_token');
    assert.match(c.error_description, /expired/);
  });

  test('alice: initialize, tools/list, tools/call (whoami, add, echo, image), resources, prompts, DELETE', async () => {
    const s = await openSession(PS.url, alice, CONSOLE_ORIGIN);
    assert.equal(s.protocolVersion, '2025-11-25');
    assert.equal(s.init.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    assert.match(s.init.headers.get('access-control-expose-headers'), /Mcp-Session-Id/i);

    const list = await call(s, 'tools/list');
    const names = list.response.result.tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['add', 'echo', 'image', 'slow', 'whoami']);
    assert.ok(list.response.result.tools.find((t) => t.name === 'add').outputSchema);

    const who = await call(s, 'tools/call', { name: 'whoami', arguments: {} });
    const claims = who.response.result.structuredContent.claims;
    assert.equal(claims.scp, 'mcp:tools');
    assert.equal(claims.name, 'Alice Example');
    assert.equal(claims.aud, AS.audience);
    assert.deepEqual(JSON.parse(who.response.result.content[0].text), claims);

    const add = await call(s, 'tools/call', { name: 'add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(add.response.result.structuredContent, { sum: 42 });
    assert.equal(add.response.result.content[0].text, '42');

    const echo = await call(s, 'tools/call', { name: 'echo', arguments: { message: 'hi "there"' } });
    assert.equal(echo.response.result.content[0].text, 'hi "there"');

    const image = await call(s, 'tools/call', { name: 'image', arguments: {} });
    const block = image.response.result.content.find((c) => c.type === 'image');
    assert.equal(block.mimeType, 'image/png');
    assert.deepEqual([...Buffer.from(block.data, 'base64').subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    const res = await call(s, 'resources/read', { uri: 'peer://readme' });
    assert.match(res.response.result.contents[0].text, /test peer/);
    const prompt = await call(s, 'prompts/get', { name: 'greet', arguments: { name: 'Ada' } });
    assert.match(prompt.response.result.messages[0].content.text, /Ada/);

    const del = await fetch(PS.url, { method: 'DELETE', headers: mcpHeaders(s) });
    assert.equal(del.status, 200);
    const gone = await call(s, 'tools/list');
    assert.equal(gone.status, 404);
  });

  test('CORS preflight from the console origin', async () => {
    const res = await fetch(PS.url, {
      method: 'OPTIONS',
      headers: {
        origin: CONSOLE_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const allowed = res.headers.get('access-control-allow-headers').toLowerCase().split(',').map((h) => h.trim());
    for (const h of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'accept']) {
      assert.ok(allowed.includes(h), h);
    }
    assert.match(res.headers.get('access-control-allow-methods'), /DELETE/);
    const other = await fetch(PS.url, {
      method: 'OPTIONS',
      headers: { origin: OTHER_ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('slow: progress notifications, then cancellation is observed', async () => {
    const s = await openSession(PS.url, alice);
    const before = await psStats();
    const req = request('tools/call', { name: 'slow', arguments: { steps: 100, delay_ms: 50 }, _meta: { progressToken: 'p-1' } });
    const abort = new AbortController();
    const res = await fetch(PS.url, {
      method: 'POST', headers: mcpHeaders(s), body: JSON.stringify(req), signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const progress = [];
    try {
      for await (const ev of sseStream(res.body)) {
        if (!ev.data) continue;
        const msg = JSON.parse(ev.data);
        if (msg.method === 'notifications/progress') {
          assert.equal(msg.params.progressToken, 'p-1');
          progress.push(msg.params.progress);
          if (progress.length === 2) break;
        }
      }
    } finally {
      abort.abort();
    }
    assert.deepEqual(progress, [1, 2]);
    const cancel = await mcpPost(PS.url, notification('notifications/cancelled', { requestId: req.id, reason: 'test' }), s);
    assert.equal(cancel.status, 202);
    const after = await poll(async () => {
      const st = await psStats();
      return st.cancellations > before.cancellations && st;
    }, { what: 'cancellation' });
    assert.equal(after.cancelled.at(-1).requestId, req.id);
    assert.ok(after.progressSent - before.progressSent >= 2);
  });

  test('legacy HTTP+SSE with a bearer token', async () => {
    const abort = new AbortController();
    const res = await fetch(PS.sseUrl, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${alice}` }, signal: abort.signal,
    });
    assert.equal(res.status, 200);
    const events = sseStream(res.body);
    try {
      const first = (await events.next()).value;
      assert.equal(first.event, 'endpoint');
      const endpoint = new URL(first.data, PS.sseUrl);
      assert.equal(endpoint.origin, new URL(PS.sseUrl).origin);
      const post = (msg, token = alice) => fetch(endpoint, {
        method: 'POST', headers: mcpHeaders({ token }), body: JSON.stringify(msg),
      });
      const unauth = await post(request('ping'), null);
      assert.equal(unauth.status, 401);
      const init = request('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '0' } });
      assert.equal((await post(init)).status, 202);
      const reply = async (id) => {
        for (;;) {
          const { value } = await events.next();
          const msg = JSON.parse(value.data);
          if (msg.id === id) return msg;
        }
      };
      assert.equal((await reply(init.id)).result.protocolVersion, '2024-11-05');
      assert.equal((await post(notification('notifications/initialized'))).status, 202);
      const echo = request('tools/call', { name: 'echo', arguments: { message: 'over sse' } });
      assert.equal((await post(echo)).status, 202);
      assert.equal((await reply(echo.id)).result.content[0].text, 'over sse');
    } finally {
      abort.abort();
    }
  });

  test('stats count requests and rejections, never store tokens', async () => {
    const res = await fetch(new URL('/_test/stats', PS.url));
    const text = await res.text();
    const st = JSON.parse(text);
    assert.ok(st.mcpRequests > 0);
    assert.ok(st.rejected401 > 0);
    assert.ok(st.rejected403 >= 2);
    assert.ok(st.tokensSeen >= 2);
    assert.ok(st.byMethod['tools/call'] > 0);
    assert.ok(!text.includes(alice), 'no token in stats');
  });

  test('POST /_test/distrust refuses the tokens seen so far, not later ones', async () => {
    await openSession(PS.url, alice, CONSOLE_ORIGIN);
    const res = await fetch(new URL('/_test/distrust', PS.url), { method: 'POST' });
    assert.ok((await res.json()).distrusted >= 1);
    const after = await mcpPost(PS.url, request('initialize', {}), { token: alice });
    assert.equal(after.status, 401);
    assert.match(parseChallenge(after.headers.get('www-authenticate')).error_description, /revoked/);
    await openSession(PS.url, (await signIn('alice')).access_token, CONSOLE_ORIGIN);
  });
});

describe('authserver demo mode (login form, COOP)', () => {
  let demo;
  before(async () => {
    demo = await startPeer(['authserver.mjs', '--port', '0', '--coop', '--console-origin', CONSOLE_ORIGIN,
      '--redirect-uri', REDIRECT_URI]);
  });

  test('the form signs bob in without any script; SIGTERM exits cleanly', async () => {
    const { info } = demo;
    const verifier = b64url(crypto.randomBytes(32));
    const url = new URL(info.authorizationEndpoint);
    for (const [k, v] of Object.entries({
      client_id: info.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, state: 's1',
      scope: `openid offline_access ${info.scope}`, prompt: 'select_account',
      code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);
    const jar = new CookieJar();
    const page = await follow(url, jar);
    assert.equal(page.res.status, 200, page.body);
    assert.match(page.res.headers.get('content-type'), /text\/html/);
    assert.match(page.res.headers.get('content-security-policy'), /default-src 'none'/);
    assert.equal(page.res.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.doesNotMatch(page.body, /<script|style=|on[a-z]+=/i);
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(page.body)[1], page.url);

    const done = await follow(action, jar, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'bob', action: 'signin' }),
    });
    // With --coop the interaction ends on a page (carrying COOP) that moves on by meta refresh.
    assert.equal(done.res.status, 200);
    assert.equal(done.res.headers.get('cross-origin-opener-policy'), 'same-origin');
    const refreshTo = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(done.body)[1].replaceAll('&amp;', '&');
    const end = await follow(new URL(refreshTo, done.url), jar);
    assert.ok(end.callback, 'reached the redirect URI');
    const code = end.callback.searchParams.get('code');
    assert.ok(code);

    const res = await fetch(info.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: CONSOLE_ORIGIN },
      body: new URLSearchParams({
        grant_type: 'authorization_code', client_id: info.clientId, code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
      }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(jose.decodeJwt(body.access_token).name, 'Bob Example');
    assert.ok(body.refresh_token);

    // Same browser session again: no form, only the COOP hop (consent for offline_access is given silently).
    url.searchParams.delete('prompt');
    url.searchParams.set('state', 's2');
    const again = await follow(url, jar);
    assert.equal(again.res?.status, 200);
    assert.doesNotMatch(again.body, /<form/);
    const hop = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(again.body)[1].replaceAll('&amp;', '&');
    const end2 = await follow(new URL(hop, again.url), jar);
    assert.equal(end2.callback?.searchParams.get('state'), 's2');
    assert.ok(end2.callback.searchParams.get('code'));

    const exited = new Promise((resolve) => demo.proc.once('exit', (c, s) => resolve({ c, s })));
    demo.proc.kill('SIGTERM');
    assert.deepEqual(await exited, { c: 0, s: null });
  });
});

describe('revocation, dynamic registration and iss', () => {
  test('a revoked refresh token is counted and refused afterwards', async () => {
    const tokens = await signIn('alice');
    const before = (await asStats()).revocation;
    const res = await fetch(AS.revocationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: CONSOLE_ORIGIN },
      body: new URLSearchParams({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: AS.clientId }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const after = (await asStats()).revocation;
    assert.deepEqual(after, { requests: before.requests + 1, succeeded: before.succeeded + 1 });
    const again = await refresh(tokens.refresh_token);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('--registration registers a browser client with CORS and records its registration access token; without --entra-strict answers carry iss', async () => {
    const reg = await startPeer(['authserver.mjs', '--port', '0', '--registration', '--auto-approve',
      '--console-origin', CONSOLE_ORIGIN, '--redirect-uri', REDIRECT_URI]);
    const meta = await (await fetch(`${reg.info.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(meta.registration_endpoint, `http://127.0.0.1:${reg.info.port}/${reg.info.tenant}/oauth2/v2.0/register`);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    const preflight = await fetch(meta.registration_endpoint, {
      method: 'OPTIONS',
      headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const res = await fetch(meta.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: CONSOLE_ORIGIN },
      body: JSON.stringify({
        client_name: 'peers.test', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], token_endpoint_auth_method: 'none',
      }),
    });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    assert.ok(body.client_id && body.registration_access_token);
    const stats = await (await fetch(new URL('/_test/stats', reg.info.issuer))).json();
    assert.equal(stats.registrations, 1);
    assert.deepEqual(stats.registrationAccessTokens, [body.registration_access_token]);
    // The registered client signs in; the answer names the issuer (RFC 9207).
    const verifier = b64url(crypto.randomBytes(32));
    const url = new URL(reg.info.authorizationEndpoint);
    for (const [k, v] of Object.entries({
      client_id: body.client_id, response_type: 'code', redirect_uri: REDIRECT_URI, state: 's', scope: reg.info.scope,
      code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);
    const end = await follow(url, new CookieJar());
    assert.equal(end.callback?.searchParams.get('iss'), reg.info.issuer);
    assert.ok(end.callback.searchParams.get('code'));
  });
});

describe('attacker peers', () => {
  test('hostile-as sends the person to the real sign-in page and counts the codes posted to it', async () => {
    const hostile = (await startPeer(['hostile-as.mjs', '--port', '0', '--tenant', AS.tenant,
      '--real-authorize', AS.authorizationEndpoint])).info;
    const meta = await (await fetch(`${hostile.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(meta.issuer, hostile.issuer);
    assert.equal(meta.authorization_endpoint, AS.authorizationEndpoint);
    assert.ok(meta.token_endpoint.startsWith(hostile.url));
    await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c', code_verifier: 'v' }),
    });
    const stats = await (await fetch(`${hostile.url}/_test/stats`)).json();
    assert.deepEqual([stats.requests, stats.tokenRequests, stats.codesReceived, stats.verifiersReceived], [2, 1, 1, 1]);
  });

  test('hostile-as --relay is consistent with itself and bounces the window to the real sign-in page', async () => {
    const relay = (await startPeer(['hostile-as.mjs', '--port', '0', '--tenant', 'x', '--real-authorize', AS.authorizationEndpoint,
      '--relay', '--relay-client-id', AS.clientId, '--relay-redirect-uri', REDIRECT_URI, '--relay-scope', AS.scope])).info;
    const meta = await (await fetch(`${relay.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.issuer, relay.issuer);
    for (const e of [meta.authorization_endpoint, meta.token_endpoint, meta.registration_endpoint]) assert.ok(e.startsWith(relay.url), e);
    const reg = await fetch(meta.registration_endpoint, { method: 'POST', body: '{}' });
    assert.equal(reg.status, 201);
    const bounce = await fetch(`${meta.authorization_endpoint}?state=s1&client_id=hostile-client`, { redirect: 'manual' });
    assert.equal(bounce.status, 302);
    const to = new URL(bounce.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, AS.authorizationEndpoint);
    assert.deepEqual([to.searchParams.get('client_id'), to.searchParams.get('redirect_uri'), to.searchParams.get('state')],
      [AS.clientId, REDIRECT_URI, 's1']);
  });

  test('recording-proxy forwards as it came and counts Authorization headers, never keeping one', async () => {
    const proxy = (await startPeer(['recording-proxy.mjs', '--port', '0', '--target', PS.url])).info;
    const direct = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', PS.url));
    const through = await fetch(`${proxy.url}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(through.status, direct.status);
    assert.deepEqual(await through.json(), await direct.json());
    const refused = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(request('tools/list')),
    });
    assert.equal(refused.status, 401);
    const stats = await (await fetch(`${proxy.url}/_test/stats`)).json();
    assert.deepEqual([stats.requests, stats.withAuthorization], [2, 1]);
    assert.doesNotMatch(JSON.stringify(stats), /not-a-token/);
  });
});

describe('protected MCP server, benchmark flags', () => {
  test('without the flags: SSE answers, no extra tools, no big tool', async () => {
    const peer = (await startPeer(['protected-server.mjs', '--port', '0', '--no-auth'])).info;
    const s = await openSession(peer.url);
    const list = await call(s, 'tools/list');
    assert.match(list.headers.get('content-type'), /text\/event-stream/);
    const names = list.response.result.tools.map((t) => t.name);
    assert.ok(names.includes('echo'));
    assert.ok(!names.includes('big') && !names.some((n) => n.startsWith('extra-')), names.join());
  });

  test('--json-response --extra-tools N --big: JSON answers, N more tools, a result of the size asked for', async () => {
    const peer = (await startPeer(['protected-server.mjs', '--port', '0', '--no-auth', '--json-response',
      '--extra-tools', '1000', '--big'])).info;
    const s = await openSession(peer.url);
    const list = await call(s, 'tools/list');
    assert.match(list.headers.get('content-type'), /application\/json/);
    const names = list.response.result.tools.map((t) => t.name);
    assert.equal(names.filter((n) => n.startsWith('extra-')).length, 1000);
    assert.ok(names.includes('extra-0001') && names.includes('extra-1000') && names.includes('big'));
    const extra = await call(s, 'tools/call', { name: 'extra-0500', arguments: { message: 'hi' } });
    assert.equal(extra.response.result.content[0].text, 'hi');
    const big = await call(s, 'tools/call', { name: 'big', arguments: { bytes: 3_000_000 } });
    assert.equal(big.response.result.content[0].text.length, 3_000_000);
  });
});

describe('loopback preload and server-everything', () => {
  test('listen without a host binds 127.0.0.1; explicit hosts are kept', async () => {
    const script = `
      import net from 'node:net';
      const forms = [(s) => s.listen(0), (s) => s.listen(0, () => {}), (s) => s.listen({ port: 0 }), (s) => s.listen(),
        (s) => s.listen('0'), (s) => s.listen(0, 511, () => {}), (s) => s.listen(0, '127.0.0.2')];
      const out = [];
      for (const f of forms) {
        const s = net.createServer(); f(s);
        await new Promise((r) => s.once('listening', r));
        out.push(s.address().address); s.close();
      }
      console.log(JSON.stringify(out));`;
    const child = spawn(process.execPath, ['--import', './loopback.mjs', '--input-type=module', '-e', script],
      { cwd: HERE, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out), ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.2']);
  });

  test('server-everything streamableHttp on 127.0.0.1 only, clean environment', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', './loopback.mjs',
      'node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'streamableHttp'], {
      cwd: HERE, env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'],
    });
    children.push(proc);
    const url = `http://127.0.0.1:${port}/mcp`;
    const init = await poll(async () => {
      const r = await mcpPost(url, request('initialize', {
        protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' },
      }));
      return r.status === 200 && r;
    }, { timeoutMs: 20000, intervalMs: 100, what: 'server-everything' });
    assert.ok(init.headers.get('mcp-session-id'));
    // Every listening socket on that port is 127.0.0.1 (0100007F in /proc/net/tcp), none on 0.0.0.0 or ::.
    const listeners = [];
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try { text = readFileSync(file, 'utf8'); } catch { continue; }
      for (const line of text.trim().split('\n').slice(1)) {
        const [, local, , st] = line.trim().split(/\s+/);
        const [addr, hexPort] = local.split(':');
        if (st === '0A' && Number.parseInt(hexPort, 16) === port) listeners.push(addr);
      }
    }
    assert.deepEqual(listeners, ['0100007F']);
  });
});
