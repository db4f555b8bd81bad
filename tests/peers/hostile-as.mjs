#!/usr/bin/env node
// An attacker's authorization server, for the mix-up tests (loopback only). Its OpenID configuration
// names itself as issuer at the real tenant's path, sends the person to the REAL authorization endpoint
// (so the sign-in page is the genuine one) and names itself as token endpoint: a console that trusted
// it would post the code and the PKCE verifier here. It answers every request, with CORS for any
// origin, and counts what it received; it never stores a code or a verifier, only that one came.
//
// Usage: node hostile-as.mjs --tenant T --real-authorize URL [--port N]
// On start one line of JSON goes to stdout: {"url","port","issuer"}.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    tenant: { type: 'string' },
    'real-authorize': { type: 'string' },
  },
  strict: true,
});
if (!opts.tenant || !opts['real-authorize']) {
  console.error('hostile-as: --tenant and --real-authorize are required');
  process.exit(2);
}

const stats = { requests: 0, tokenRequests: 0, codesReceived: 0, verifiersReceived: 0, paths: [] };

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
  process.stdout.write(`${JSON.stringify({ url: base, port, issuer: `${base}/${opts.tenant}/v2.0` })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
