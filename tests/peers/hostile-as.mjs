#!/usr/bin/env node
// An attacker's authorization server, for the mix-up tests (loopback only). Its OpenID configuration
// names itself as issuer at the real tenant's path, sends the person to the REAL authorization endpoint
// (so the sign-in page is the genuine one) and names itself as token endpoint: a console that trusted
// it would post the code and the PKCE verifier here. It answers every request, with CORS for any
// origin, and counts what it received; it never stores a code or a verifier, only that one came.
//
// With --relay it is instead consistent with itself — issuer, endpoints and dynamic registration all
// its own — and its authorization endpoint bounces the window to the real one with the deployer's
// (public) client id, the console's registered callback and the console's own `state`, hoping the
// real server's code comes back to the console and is posted here (a mix-up without a borrowed
// issuer, which only RFC 9207 `iss` or distinct redirect URIs can catch).
//
// Usage: node hostile-as.mjs --tenant T --real-authorize URL [--port N]
//          [--relay --relay-client-id ID --relay-redirect-uri URI --relay-scope SCOPE]
// On start one line of JSON goes to stdout: {"url","port","issuer"}.
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    tenant: { type: 'string' },
    'real-authorize': { type: 'string' },
    relay: { type: 'boolean', default: false },
    'relay-client-id': { type: 'string' },
    'relay-redirect-uri': { type: 'string' },
    'relay-scope': { type: 'string' },
  },
  strict: true,
});
if (!opts.tenant || !opts['real-authorize']) {
  console.error('hostile-as: --tenant and --real-authorize are required');
  process.exit(2);
}

const stats = {
  requests: 0, tokenRequests: 0, codesReceived: 0, verifiersReceived: 0, registrations: 0, relayed: 0, paths: [],
};
const issuerOf = () => (opts.relay ? base : `${base}/${opts.tenant}/v2.0`);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
  res.setHeader('Access-Control-Allow-Headers', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
  if (url.pathname === '/_test/stats') return res.end(JSON.stringify(stats));
  stats.requests += 1;
  stats.paths.push(`${req.method} ${url.pathname}`);
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    if (opts.relay && url.pathname === '/.well-known/oauth-authorization-server') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      }));
    }
    if (opts.relay && req.method === 'POST' && url.pathname === '/register') {
      stats.registrations += 1;
      res.setHeader('content-type', 'application/json');
      return res.writeHead(201).end(JSON.stringify({ client_id: 'hostile-client', token_endpoint_auth_method: 'none' }));
    }
    if (opts.relay && url.pathname === '/authorize') {
      // Bounce to the real sign-in page as the deployer's client, to the callback registered there.
      stats.relayed += 1;
      const to = new URL(opts['real-authorize']);
      const verifier = crypto.randomBytes(32).toString('base64url');
      const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
      for (const [k, v] of Object.entries({
        client_id: opts['relay-client-id'], redirect_uri: opts['relay-redirect-uri'], response_type: 'code',
        scope: opts['relay-scope'], state: url.searchParams.get('state') ?? '', code_challenge: challenge,
        code_challenge_method: 'S256',
      })) to.searchParams.set(k, v);
      return res.writeHead(302, { location: to.href }).end();
    }
    if (url.pathname === `/${opts.tenant}/v2.0/.well-known/openid-configuration`) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({
        issuer: `${base}/${opts.tenant}/v2.0`,
        authorization_endpoint: opts['real-authorize'],
        token_endpoint: `${base}/${opts.tenant}/oauth2/v2.0/token`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      }));
    }
    if (req.method === 'POST' && url.pathname.endsWith('/token')) {
      stats.tokenRequests += 1;
      const form = new URLSearchParams(body);
      if (form.has('code')) stats.codesReceived += 1;
      if (form.has('code_verifier')) stats.verifiersReceived += 1;
      res.setHeader('content-type', 'application/json');
      return res.writeHead(400).end(JSON.stringify({ error: 'invalid_grant' }));
    }
    return res.writeHead(404).end();
  });
});

let base;
server.listen(Number(opts.port), '127.0.0.1', () => {
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ url: base, port, issuer: issuerOf() })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
