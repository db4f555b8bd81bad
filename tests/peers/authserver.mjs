#!/usr/bin/env node
// An OpenID provider shaped like Microsoft Entra ID v2, built on oidc-provider (v9), for tests and the demo.
// Loopback only. Signing keys, cookie keys and the daemon's client secret are generated at every start.
//
// Usage: node authserver.mjs [--port N] [--tenant T] [--client-id ID] [--api-app-id ID]
//          [--access-token-ttl S] [--refresh-token-ttl S] [--entra-strict] [--auto-approve] [--coop]
//          [--registration] [--console-origin ORIGIN]... [--redirect-uri URI]... [--cors-origin ORIGIN]...
// Every option may also come from the environment: AUTHSERVER_PORT, AUTHSERVER_TENANT, ..., booleans as 1/true,
// repeatable ones comma separated. On start one line of JSON goes to stdout; everything else goes to stderr.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import express from 'express';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

// stdout carries exactly one line (the start line); oidc-provider's notices go to stderr.
console.log = console.error;
console.info = console.error;

const HOST = '127.0.0.1';
const DEFAULTS = {
  tenant: '5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d',
  clientId: '3c6e1b2a-7f4d-4e8b-a1c9-5d2f8e0b7a34',
  apiAppId: '96b0f495-3b65-4c8f-a0c6-c3767c3365ed',
  daemonClientId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  consoleOrigin: 'http://127.0.0.1:8080',
};

const OPTIONS = {
  port: { type: 'string', default: '0' },
  tenant: { type: 'string', default: DEFAULTS.tenant },
  'client-id': { type: 'string', default: DEFAULTS.clientId },
  'api-app-id': { type: 'string', default: DEFAULTS.apiAppId },
  'daemon-client-id': { type: 'string', default: DEFAULTS.daemonClientId },
  'access-token-ttl': { type: 'string', default: '3600' },
  'refresh-token-ttl': { type: 'string', default: '86400' },
  'entra-strict': { type: 'boolean', default: false },
  'auto-approve': { type: 'boolean', default: false },
  coop: { type: 'boolean', default: false },
  registration: { type: 'boolean', default: false },
  'console-origin': { type: 'string', multiple: true, default: [] },
  'redirect-uri': { type: 'string', multiple: true, default: [] },
  'cors-origin': { type: 'string', multiple: true, default: [] },
};

function readOptions() {
  const { values } = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false });
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const env = process.env[`AUTHSERVER_${name.toUpperCase().replaceAll('-', '_')}`];
    const given = process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (env === undefined || given) continue;
    if (spec.type === 'boolean') values[name] = /^(1|true|yes)$/i.test(env);
    else if (spec.multiple) values[name] = env.split(',').map((s) => s.trim()).filter(Boolean);
    else values[name] = env;
  }
  return values;
}

const opts = readOptions();
const tenant = opts.tenant;
const spaClientId = opts['client-id'];
const apiAppId = opts['api-app-id'];
const apiAudience = `api://${apiAppId}`;
const apiScopeNames = ['mcp:tools', 'mcp:read'];
const apiScope = `${apiAudience}/mcp:tools`;
const daemonClientId = opts['daemon-client-id'];
const daemonClientSecret = crypto.randomBytes(32).toString('base64url');
const entraStrict = opts['entra-strict'];
const autoApprove = opts['auto-approve'];
const coop = opts.coop;
const registration = opts.registration;
const ttl = {
  access: positiveInt(opts['access-token-ttl'], 'access-token-ttl'),
  refresh: positiveInt(opts['refresh-token-ttl'], 'refresh-token-ttl'),
};
const port = Number.parseInt(opts.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${opts.port}`);

const consoleOrigins = opts['console-origin'].map((o) => new URL(o).origin);
const redirectUris = [...opts['redirect-uri']];
if (redirectUris.length === 0) {
  for (const origin of consoleOrigins.length ? consoleOrigins : [DEFAULTS.consoleOrigin]) {
    redirectUris.push(`${origin}/`);
  }
}
for (const uri of redirectUris) new URL(uri); // throws on garbage
// --cors-origin (repeatable) replaces the origins allowed to call the token endpoint, so a test can
// register a console's redirect URI and still refuse its origin.
const corsOrigins = opts['cors-origin'].length
  ? new Set(opts['cors-origin'].map((o) => new URL(o).origin))
  : new Set([...consoleOrigins, ...redirectUris.map((u) => new URL(u).origin)]);

function positiveInt(value, name) {
  const n = Number.parseInt(value, 10);
  if (!Number.isInteger(n) || n <= 0) fail(`bad --${name} ${value}`);
  return n;
}

function fail(message) {
  console.error(`authserver: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// Users. `sub` is an opaque, per-tenant value (like Entra's pairwise sub); `oid` is the user's object id.
function opaqueSub(username) {
  return crypto.createHash('sha256').update(`${tenant}:${spaClientId}:${username}`).digest('base64url').slice(0, 43);
}

const USERS = [
  {
    username: 'alice',
    name: 'Alice Example',
    preferred_username: 'alice@contoso.example',
    oid: '1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    withheld: [],
  },
  {
    username: 'bob',
    name: 'Bob Example',
    preferred_username: 'bob@contoso.example',
    oid: '6e7f8a9b-0c1d-4e2f-9a3b-4c5d6e7f8a9b',
    withheld: ['mcp:tools'], // consent for mcp:tools is withheld: his tokens never carry it
  },
].map((u) => ({ ...u, sub: opaqueSub(u.username) }));

const usersBySub = new Map(USERS.map((u) => [u.sub, u]));

function findUser(hint) {
  if (!hint) return undefined;
  const h = String(hint).trim().toLowerCase();
  return USERS.find((u) => u.username === h || u.preferred_username === h || u.sub === hint || u.oid === h
    || h.split('@')[0] === u.username);
}

const DAEMON = { oid: '0f1e2d3c-4b5a-4697-8877-665544332211', roles: ['mcp.app'] };

// ---------------------------------------------------------------------------------------------------------------
// Counters for tests.
function freshStats() {
  return {
    requests: 0, // every HTTP request but the /_test hooks
    browserRequests: 0, // those of them that came from a browser (the console, the sign-in window)
    paths: [], // "METHOD /path" of the last 50 of them
    authorizeRequests: 0,
    tokenRequests: { total: 0, byGrantType: {} },
    tokensIssued: { byGrantType: {} },
    tokenErrors: { byError: {} },
    refresh: { requests: 0, succeeded: 0, failed: 0, reuseDetected: 0 },
    grantsRevoked: 0,
    revocation: { requests: 0, succeeded: 0 },
    registrations: 0,
    // What dynamic registration handed out as registration access tokens: the tests check the console
    // shows and keeps none of them.
    registrationAccessTokens: [],
    rejected: { resourceParameter: 0, missingOrigin: 0 },
    interactions: { autoApproved: 0, formShown: 0, formSubmitted: 0 },
  };
}
let stats = freshStats();
const bump = (obj, key) => { obj[key] = (obj[key] ?? 0) + 1; };

const grantsByAccount = new Map(); // accountId -> Set(grantId)
const sessionsByAccount = new Map(); // accountId -> Set(session jti)

// ---------------------------------------------------------------------------------------------------------------
// Start listening first: with --port 0 the issuer depends on the port we get.
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, HOST, resolve);
});
const actualPort = server.address().port;
const base = `http://${HOST}:${actualPort}`;
const issuer = `${base}/${tenant}/v2.0`;

const routes = {
  authorization: `/${tenant}/oauth2/v2.0/authorize`,
  token: `/${tenant}/oauth2/v2.0/token`,
  revocation: `/${tenant}/oauth2/v2.0/revoke`,
  registration: `/${tenant}/oauth2/v2.0/register`,
  jwks: `/${tenant}/discovery/v2.0/keys`,
  end_session: `/${tenant}/oauth2/v2.0/logout`,
  userinfo: `/${tenant}/openid/userinfo`,
};
const discoveryPath = `/${tenant}/v2.0/.well-known/openid-configuration`;
const interactionPrefix = `/${tenant}/login`;

// Keys are generated at every start, never stored.
const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
signingJwk.kid = await jose.calculateJwkThumbprint(signingJwk);

// ---------------------------------------------------------------------------------------------------------------
// Resource (API) handling: the API is found from the scope prefix, the way Entra does it.
function resourceFromScope(scopeParam) {
  for (const s of String(scopeParam ?? '').split(' ')) {
    const m = /^(api:\/\/[^/]+)\/./.exec(s);
    if (m) return m[1];
    if (s.startsWith(`${apiAppId}/`)) return apiAudience; // "{app-id}/scope" form
  }
  return undefined;
}

function shortScopes(scope) {
  const prefix = `${apiAudience}/`;
  return String(scope ?? '').split(' ').filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
}

function allowedCorsOrigin(origin) {
  return !!origin && origin !== 'null' && corsOrigins.has(origin);
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: spaClientId,
      client_name: 'mcp-console (SPA)',
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
    },
    {
      client_id: daemonClientId,
      client_name: 'mcp daemon (app-only)',
      client_secret: daemonClientSecret,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  routes,
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'oid', 'tid'],
    email: ['email'],
  },
  async findAccount(_ctx, id) {
    const user = usersBySub.get(id);
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: user.name,
          preferred_username: user.preferred_username,
          email: user.preferred_username,
          oid: user.oid,
          tid: tenant,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Unlike Entra, RFC 7009 revocation, so that sign-out can revoke the refresh token.
    revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    registration: { enabled: registration, initialAccessToken: false, issueRegistrationAccessToken: true },
    introspection: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    pushedAuthorizationRequests: { enabled: false },
    dPoP: { enabled: false },
    resourceIndicators: {
      enabled: true,
      async defaultResource(ctx, _client, oneOf) {
        if (oneOf) return Array.isArray(oneOf) ? oneOf[0] : oneOf;
        return resourceFromScope(ctx.oidc.params.scope);
      },
      useGrantedResource: () => true,
      async getResourceServerInfo(_ctx, resourceIndicator, client) {
        if (resourceIndicator !== apiAudience) {
          throw new errors.InvalidTarget(
            `AADSTS500011: The resource principal named ${resourceIndicator} was not found in the tenant named ${tenant}.`,
          );
        }
        const scopes = apiScopeNames.map((s) => `${apiAudience}/${s}`);
        if (client.clientId === daemonClientId) scopes.push(`${apiAudience}/.default`);
        return {
          scope: scopes.join(' '),
          audience: apiAudience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: ttl.access,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async extraTokenClaims(_ctx, token) {
    if (token.kind === 'ClientCredentials') {
      return {
        roles: DAEMON.roles, idtyp: 'app', oid: DAEMON.oid, tid: tenant, azp: token.clientId, azpacr: '1', ver: '2.0',
      };
    }
    if (token.kind === 'AccessToken' && token.accountId) {
      const user = usersBySub.get(token.accountId);
      const scp = shortScopes(token.scope);
      return {
        ...(scp.length ? { scp: scp.join(' ') } : {}),
        oid: user?.oid,
        tid: tenant,
        name: user?.name,
        preferred_username: user?.preferred_username,
        azp: token.clientId,
        azpacr: '0',
        ver: '2.0',
      };
    }
    return undefined;
  },
  formats: {
    customizers: {
      // Entra's access tokens say typ JWT, carry scp/roles instead of scope, and no client_id.
      async jwt(_ctx, token, jwt) {
        jwt.header = { typ: 'JWT' };
        delete jwt.payload.scope;
        delete jwt.payload.client_id;
        jwt.payload.nbf = jwt.payload.iat;
        if (token.kind === 'ClientCredentials') jwt.payload.sub = DAEMON.oid;
      },
    },
  },
  clientBasedCORS(_ctx, origin, client) {
    if (client.clientAuthMethod !== 'none') return false;
    return allowedCorsOrigin(origin);
  },
  interactions: {
    url: (_ctx, interaction) => `${interactionPrefix}/${interaction.uid}`,
  },
  ttl: {
    AccessToken: () => ttl.access,
    ClientCredentials: () => ttl.access,
    AuthorizationCode: 300,
    IdToken: 3600,
    RefreshToken: () => ttl.refresh,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Sign in error</title></head>`
      + `<body><h1>Sorry, but we're having trouble signing you in.</h1><p>${escapeHtml(out.error)}: `
      + `${escapeHtml(out.error_description ?? '')}</p></body></html>`;
  },
});

provider.on('server_error', (_ctx, err) => console.error('authserver: server_error', err));
provider.on('grant.saved', (grant) => {
  if (!grant.accountId) return;
  if (!grantsByAccount.has(grant.accountId)) grantsByAccount.set(grant.accountId, new Set());
  grantsByAccount.get(grant.accountId).add(grant.jti);
});
provider.on('session.saved', (session) => {
  if (!session.accountId) return;
  if (!sessionsByAccount.has(session.accountId)) sessionsByAccount.set(session.accountId, new Set());
  sessionsByAccount.get(session.accountId).add(session.jti);
});
provider.on('grant.revoked', () => { stats.grantsRevoked += 1; });
provider.on('registration_create.success', (ctx) => {
  stats.registrations += 1;
  if (ctx.body?.registration_access_token) stats.registrationAccessTokens.push(ctx.body.registration_access_token);
});
provider.on('grant.success', (ctx) => {
  const gty = ctx.oidc.params.grant_type;
  bump(stats.tokensIssued.byGrantType, gty);
  if (gty === 'refresh_token') stats.refresh.succeeded += 1;
});
provider.on('grant.error', (ctx, err) => {
  ctx.state.grantError = err;
  bump(stats.tokenErrors.byError, err.error ?? 'server_error');
  if (ctx.oidc?.params?.grant_type === 'refresh_token') {
    stats.refresh.failed += 1;
    if (err.error_detail === 'refresh token already used') stats.refresh.reuseDetected += 1;
  }
});

// Entra-like error descriptions at the token endpoint, and discovery without code_challenge_methods_supported.
const AADSTS_BY_DETAIL = [
  [/refresh token is expired/, 'AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page.'],
  [/refresh token already used|refresh token not found|grant not found|grant is expired/, 'AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed.'],
  [/code_verifier|PKCE/, 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.'],
  [/authorization code/, 'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'],
];

provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
    delete ctx.body.code_challenge_methods_supported; // Entra does not list it
    if (entraStrict) delete ctx.body.authorization_response_iss_parameter_supported; // nor RFC 9207
    ctx.body.tenant_region_scope = 'EU';
    ctx.body.cloud_instance_name = 'microsoftonline.com';
  }
  // Entra sends no RFC 9207 `iss` with its answers; in strict mode neither does this server, so that
  // nothing at the callback can notice a mix-up and the console's rules before the request must.
  const location = ctx.response.get('Location');
  if (entraStrict && location && redirectUris.some((uri) => location.startsWith(uri))) {
    const back = new URL(location);
    back.searchParams.delete('iss');
    ctx.set('Location', back.href);
  }
  if (route === 'token' && ctx.body?.error) {
    const detail = ctx.state.grantError?.error_detail;
    if (entraStrict && ctx.body.error === 'invalid_grant') {
      const hit = AADSTS_BY_DETAIL.find(([re]) => re.test(detail ?? ''));
      ctx.body = { ...ctx.body, error_description: hit ? hit[1] : `AADSTS70000: ${detail ?? ctx.body.error_description}` };
    } else if (detail) {
      ctx.body = { ...ctx.body, error_description: `${ctx.body.error_description} (${detail})` };
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Interactions: auto-approve, or a plain HTML form (no script, no inline styles).
function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function pageHeaders(res) {
  res.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  res.set('X-Frame-Options', 'DENY');
  res.set('Cache-Control', 'no-store');
  if (coop) res.set('Cross-Origin-Opener-Policy', 'same-origin');
}

async function approve(details, user) {
  const { params, prompt } = details;
  const clientId = params.client_id;
  let grant;
  if (details.grantId && details.session?.accountId === user.sub) {
    grant = await provider.Grant.find(details.grantId);
  }
  grant ??= new provider.Grant({ accountId: user.sub, clientId });
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  const oidcScopes = requested.filter((s) => ['openid', 'profile', 'email', 'offline_access'].includes(s));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const missingClaims = prompt?.details?.missingOIDCClaims;
  if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
  const resource = resourceFromScope(params.scope);
  if (resource) {
    for (const s of requested.filter((x) => resourceFromScope(x) === resource)) {
      const full = s.startsWith(`${apiAppId}/`) ? `${apiAudience}/${s.slice(apiAppId.length + 1)}` : s;
      const short = full.slice(resource.length + 1);
      if (user.withheld.includes(short)) grant.rejectResourceScope(resource, full);
      else grant.addResourceScope(resource, full);
    }
  }
  const grantId = await grant.save();
  return {
    login: { accountId: user.sub, amr: ['pwd'] },
    consent: { grantId },
  };
}

function renderForm(res, uid, details, message) {
  const hinted = findUser(details.params.login_hint) ?? findUser(details.session?.accountId);
  const options = USERS.map((u) => `<option value="${escapeHtml(u.username)}"${u === hinted ? ' selected' : ''}>`
    + `${escapeHtml(u.name)} (${escapeHtml(u.preferred_username)})</option>`).join('');
  pageHeaders(res);
  res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<h1>Sign in</h1>
<p>Test identity provider for tenant ${escapeHtml(tenant)}. Application: ${escapeHtml(details.params.client_id)}.</p>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${interactionPrefix}/${escapeHtml(uid)}">
<label for="username">Account</label>
<select id="username" name="username">${options}</select>
<button type="submit" name="action" value="signin" id="signin">Sign in</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form>
</body></html>`);
}

async function finish(req, res, result) {
  if (coop) {
    // A page (not a redirect) carrying COOP, so a popup that passes here loses window.opener like at Entra.
    const returnTo = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    pageHeaders(res);
    res.type('html').send(`<!doctype html><html><head><meta charset="utf-8">`
      + `<meta http-equiv="refresh" content="0;url=${escapeHtml(returnTo)}"><title>Signing in</title></head>`
      + `<body><p><a href="${escapeHtml(returnTo)}">Continue</a></p></body></html>`);
    return;
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------------------------
const app = express();
app.disable('x-powered-by');
app.set('etag', false);

app.use((req, _res, next) => {
  if (!req.path.startsWith('/_test')) {
    stats.requests += 1;
    if (/Mozilla/.test(req.headers['user-agent'] ?? '')) stats.browserRequests += 1;
    stats.paths = [...stats.paths.slice(-49), `${req.method} ${req.path}`];
  }
  next();
});
app.post(routes.revocation, (_req, res, next) => {
  stats.revocation.requests += 1;
  res.on('finish', () => { if (res.statusCode === 200) stats.revocation.succeeded += 1; });
  next();
});
// oidc-provider's registration endpoint sends no CORS headers; a browser console registering itself
// needs them (the console's origins only).
app.use(routes.registration, (req, res, next) => {
  if (!allowedCorsOrigin(req.headers.origin)) return next();
  res.set('Access-Control-Allow-Origin', req.headers.origin);
  res.set('Vary', 'Origin');
  if (req.method !== 'OPTIONS') return next();
  res.set('Access-Control-Allow-Methods', 'POST');
  res.set('Access-Control-Allow-Headers', 'content-type, accept');
  return res.status(204).end();
});
// oidc-provider refuses a registered `scope` that names an API (`api://…/mcp:tools`), which is what an
// MCP client registers with; like many servers, this one ignores the registered scope instead.
app.post(routes.registration, express.json({ limit: '16kb' }), (req, _res, next) => {
  if (req.body && typeof req.body === 'object') delete req.body.scope;
  next();
});

// Test controls.
app.use('/_test', (req, res, next) => {
  if (allowedCorsOrigin(req.headers.origin)) {
    res.set('Access-Control-Allow-Origin', req.headers.origin);
    res.set('Vary', 'Origin');
  }
  next();
});
app.get('/_test/stats', (_req, res) => {
  res.json({
    ...stats,
    ttl: { accessToken: ttl.access, refreshToken: ttl.refresh },
    activeGrants: Object.fromEntries([...grantsByAccount].map(([sub, set]) => [usersBySub.get(sub)?.username ?? sub, set.size])),
  });
});
app.post('/_test/reset', (_req, res) => {
  stats = freshStats();
  res.json({ ok: true });
});
// POST /_test/config?access_token_ttl=N&refresh_token_ttl=N — change lifetimes of tokens issued from now on.
app.post('/_test/config', (req, res) => {
  const next = { access: ttl.access, refresh: ttl.refresh };
  for (const [param, key] of [['access_token_ttl', 'access'], ['refresh_token_ttl', 'refresh']]) {
    if (req.query[param] === undefined) continue;
    const n = Number.parseInt(req.query[param], 10);
    if (!Number.isInteger(n) || n <= 0) return res.status(400).json({ error: `bad ${param}` });
    next[key] = n;
  }
  Object.assign(ttl, next);
  return res.json({ accessTokenTtl: ttl.access, refreshTokenTtl: ttl.refresh });
});
// POST /_test/token?sub=alice — an access token for the API as if the user had signed in with the
// single-page-app client (for a test that runs a copied curl command with a real token).
app.post('/_test/token', async (req, res) => {
  const user = findUser(req.query.sub ?? 'alice');
  if (!user) return res.status(404).json({ error: 'unknown user' });
  const client = await provider.Client.find(spaClientId);
  const scope = apiScopeNames.map((s) => `${apiAudience}/${s}`).join(' ');
  const grant = new provider.Grant({ accountId: user.sub, clientId: spaClientId });
  grant.addResourceScope(apiAudience, scope);
  const grantId = await grant.save();
  const resourceServer = new provider.ResourceServer(apiAudience, {
    scope, audience: apiAudience, accessTokenFormat: 'jwt', accessTokenTTL: ttl.access, jwt: { sign: { alg: 'RS256' } },
  });
  const token = new provider.AccessToken({
    accountId: user.sub, client, grantId, scope, gty: 'authorization_code', resourceServer,
  });
  return res.json({ access_token: await token.save() });
});
// POST /_test/revoke?sub=alice — revoke the user's grants (all refresh tokens) and sign-in sessions. No sub: everyone.
app.post('/_test/revoke', async (req, res) => {
  const who = req.query.sub ?? req.query.user;
  let accounts;
  if (who === undefined) accounts = USERS.map((u) => u.sub);
  else {
    const user = findUser(who);
    if (!user) return res.status(404).json({ error: 'unknown user' });
    accounts = [user.sub];
  }
  let grants = 0;
  let sessions = 0;
  for (const accountId of accounts) {
    for (const grantId of grantsByAccount.get(accountId) ?? []) {
      await Promise.all([
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AccessToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
      grants += 1;
      stats.grantsRevoked += 1;
    }
    grantsByAccount.delete(accountId);
    for (const jti of sessionsByAccount.get(accountId) ?? []) {
      await provider.Session.adapter.destroy(jti);
      sessions += 1;
    }
    sessionsByAccount.delete(accountId);
  }
  return res.json({ revokedGrants: grants, revokedSessions: sessions });
});

// Discovery lives under the issuer ({tenant}/v2.0); oidc-provider serves it at its root, so rewrite. There is no
// RFC 8414 document and no root discovery, like Entra.
app.get(discoveryPath, (req, _res, next) => {
  req.url = '/.well-known/openid-configuration';
  req.originalUrl = req.url;
  req.discoveryRewritten = true;
  next();
});
app.options(discoveryPath, (req, _res, next) => {
  req.url = '/.well-known/openid-configuration';
  req.originalUrl = req.url;
  req.discoveryRewritten = true;
  next();
});
app.use('/.well-known', (req, res, next) => {
  if (req.discoveryRewritten) return next();
  return res.status(404).json({ error: 'not_found' });
});

function entraError(res, status, error, description, code, origin) {
  if (allowedCorsOrigin(origin)) {
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Vary', 'Origin');
  }
  res.set('Cache-Control', 'no-store');
  res.status(status).json({
    error,
    error_description: `${description}\r\nTrace ID: ${crypto.randomUUID()}\r\nCorrelation ID: ${crypto.randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: crypto.randomUUID(),
    correlation_id: crypto.randomUUID(),
  });
}

const RESOURCE_REJECTED = "AADSTS901002: The 'resource' request parameter is not supported.";

app.get(routes.authorization, (req, res, next) => {
  stats.authorizeRequests += 1;
  const url = new URL(req.originalUrl, base);
  const q = url.searchParams;
  if (entraStrict && q.has('resource')) {
    stats.rejected.resourceParameter += 1;
    const redirectUri = q.get('redirect_uri');
    if (q.get('client_id') === spaClientId && redirectUri && redirectUris.includes(redirectUri)) {
      const back = new URL(redirectUri);
      back.searchParams.set('error', 'invalid_target');
      back.searchParams.set('error_description', RESOURCE_REJECTED);
      if (q.has('state')) back.searchParams.set('state', q.get('state'));
      return res.redirect(302, back.href);
    }
    return res.status(400).type('html').send(`<!doctype html><p>invalid_target: ${escapeHtml(RESOURCE_REJECTED)}</p>`);
  }
  // oidc-provider drops offline_access unless prompt=consent; Entra does not need it. Add it on the way in.
  // Entra's prompt=select_account is not an oidc-provider prompt; it becomes login (the account picker is the form).
  const scopes = String(q.get('scope') ?? '').split(' ');
  const original = q.get('prompt');
  let prompts = String(original ?? '').split(' ').filter(Boolean);
  prompts = [...new Set(prompts.map((p) => (p === 'select_account' ? 'login' : p)))];
  if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
    prompts.push('consent');
  }
  const rewritten = prompts.join(' ');
  if (rewritten !== (original ?? '')) {
    q.set('prompt', rewritten);
    req.url = `${url.pathname}?${q}`;
    req.originalUrl = req.url;
  }
  return next();
});

// Token endpoint: parse the form ourselves (oidc-provider accepts a pre-read body), count, and apply Entra's rules.
app.post(routes.token, express.raw({ type: 'application/x-www-form-urlencoded', limit: '56kb' }), (req, res, next) => {
  const params = Buffer.isBuffer(req.body) ? new URLSearchParams(req.body.toString('utf8')) : new URLSearchParams();
  const grantType = params.get('grant_type') ?? '(none)';
  const origin = req.headers.origin;
  stats.tokenRequests.total += 1;
  bump(stats.tokenRequests.byGrantType, grantType);
  if (grantType === 'refresh_token') stats.refresh.requests += 1;
  if (entraStrict && params.has('resource')) {
    stats.rejected.resourceParameter += 1;
    return entraError(res, 400, 'invalid_target', RESOURCE_REJECTED, 901002, origin);
  }
  if (entraStrict && params.get('client_id') === spaClientId && !origin) {
    stats.rejected.missingOrigin += 1;
    return entraError(res, 400, 'invalid_request',
      "AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
      9002327, origin);
  }
  return next();
});

app.get(`${interactionPrefix}/:uid`, async (req, res, next) => {
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== req.params.uid) return res.status(400).send('interaction mismatch');
    if (autoApprove) {
      const hint = details.params.login_hint;
      const user = hint ? findUser(hint) : (usersBySub.get(details.session?.accountId) ?? USERS[0]);
      if (!user) {
        return await finish(req, res, {
          error: 'access_denied',
          error_description: `AADSTS50034: The user account ${hint} does not exist in the ${tenant} directory.`,
        });
      }
      stats.interactions.autoApproved += 1;
      return await finish(req, res, await approve(details, user));
    }
    // A signed-in user who only needs consent (for example the prompt=consent we add for offline_access) gets it
    // without a page, like a tenant with admin consent.
    if (details.prompt.name === 'consent' && details.session?.accountId) {
      const user = usersBySub.get(details.session.accountId);
      if (user) return await finish(req, res, await approve(details, user));
    }
    stats.interactions.formShown += 1;
    return renderForm(res, req.params.uid, details);
  } catch (err) {
    return next(err);
  }
});

app.post(`${interactionPrefix}/:uid`, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res, next) => {
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== req.params.uid) return res.status(400).send('interaction mismatch');
    stats.interactions.formSubmitted += 1;
    if (req.body?.action === 'cancel') {
      return await finish(req, res, {
        error: 'access_denied',
        error_description: 'AADSTS65004: User declined to consent to access the app.',
      });
    }
    const user = findUser(req.body?.username);
    if (!user) return renderForm(res, req.params.uid, details, 'Unknown account.');
    return await finish(req, res, await approve(details, user));
  } catch (err) {
    return next(err);
  }
});

app.use(provider.callback());

app.use((err, _req, res, _next) => {
  console.error('authserver: error', err);
  if (!res.headersSent) res.status(err.statusCode ?? 500).type('text').send(String(err.message ?? err));
});

handler = app;

process.stdout.write(`${JSON.stringify({
  issuer,
  port: actualPort,
  tenant,
  clientId: spaClientId,
  apiAppId,
  scope: apiScope,
  audience: apiAudience,
  discoveryUrl: `${issuer}/.well-known/openid-configuration`,
  authorizationEndpoint: `${base}${routes.authorization}`,
  tokenEndpoint: `${base}${routes.token}`,
  revocationEndpoint: `${base}${routes.revocation}`,
  jwksUri: `${base}${routes.jwks}`,
  redirectUris,
  consoleOrigins,
  daemonClientId,
  daemonClientSecret,
  users: USERS.map((u) => u.username),
  entraStrict,
  autoApprove,
})}\n`);

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
