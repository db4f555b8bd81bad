#!/usr/bin/env node
// A recording reverse proxy for the tests (loopback only): forwards every request to --target's origin
// as it came (streaming both ways, so SSE works) and counts what it saw — in particular every request
// that carried an Authorization header, which a server the console did not sign in to must never get.
// It keeps no header value, only counts.
//
// Usage: node recording-proxy.mjs --target URL [--port N]
// GET /_test/stats (answered by the proxy itself): {"requests","withAuthorization","methods"}.
// On start one line of JSON goes to stdout: {"url","port"}.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { port: { type: 'string', default: '0' }, target: { type: 'string' } },
  strict: true,
});
if (!opts.target) {
  console.error('recording-proxy: --target is required');
  process.exit(2);
}
const target = new URL(opts.target);
const stats = { requests: 0, withAuthorization: 0, methods: {} };

const server = http.createServer((req, res) => {
  if (req.url === '/_test/stats') {
    res.setHeader('Access-Control-Allow-Origin', '*');
    return res.end(JSON.stringify(stats));
  }
  stats.requests += 1;
  stats.methods[req.method] = (stats.methods[req.method] ?? 0) + 1;
  if (req.headers.authorization !== undefined) stats.withAuthorization += 1;
  const headers = { ...req.headers, host: target.host };
  const upstream = http.request(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
  req.pipe(upstream);
  res.on('close', () => upstream.destroy());
});

server.listen(Number(opts.port), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
