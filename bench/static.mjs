// The benchmark's web server: serves built sites on 127.0.0.1 with gzip on, as a production host would, so that
// every page the benchmark loads pays the same transfer. tests/peers/static.mjs (the demo's and the end-to-end
// tests' server) sends bodies as they are; this one compresses.
//
// Usage: node static.mjs --site NAME=DIR [--site NAME=DIR]...
//   Each site gets its own port (its own origin, so no two share a cache or a connection). Every file under DIR is
//   read and gzipped (level 9, the figure sizes.sh reports) once at start, so no request waits for compression.
//   A request that names no file gets 404, like a host that serves only the build (MCP Inspector's web client asks
//   its own backend for /api/…, which is absent here).
// Prints one JSON line {"sites": {"NAME": "http://127.0.0.1:PORT/"}, …} once listening; stops on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
// What a host would gzip: text and wasm. Images are compressed already.
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.json', '.svg']);

function fail(message) {
  console.error(`static.mjs: ${message}`);
  process.exit(2);
}

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

// URL path ("/assets/x.js") -> { type, raw, gzip }.
function load(root) {
  const files = new Map();
  for (const file of filesUnder(root)) {
    const raw = readFileSync(file);
    const ext = extname(file);
    const gzip = compressible.has(ext) ? gzipSync(raw, { level: constants.Z_BEST_COMPRESSION }) : null;
    files.set(`/${relative(root, file).split(sep).join('/')}`, { type: types[ext] ?? 'application/octet-stream', raw, gzip });
  }
  if (!files.has('/index.html')) fail(`${root} has no index.html`);
  return files;
}

function serve(files) {
  return createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = files.get(path === '/' ? '/index.html' : path) ?? files.get(`${path.replace(/\/$/, '')}/index.html`);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('not found');
      return;
    }
    const gzip = file.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const body = gzip ? file.gzip : file.raw;
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': body.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

const args = process.argv.slice(2);
const sites = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] !== '--site' || i + 1 >= args.length) fail(`unexpected argument ${args[i]}; usage: --site NAME=DIR ...`);
  const [name, dir] = args[(i += 1)].split(/=(.*)/s);
  if (!name || !dir) fail(`--site wants NAME=DIR, not ${args[i]}`);
  sites.push({ name, root: resolve(dir) });
}
if (sites.length === 0) fail('no --site given');

const servers = [];
const urls = {};
for (const { name, root } of sites) {
  const server = serve(load(root));
  servers.push(server);
  await new Promise((ok) => {
    server.once('error', (e) => fail(`cannot listen on 127.0.0.1: ${e.message}`));
    server.listen(0, '127.0.0.1', ok);
  });
  urls[name] = `http://127.0.0.1:${server.address().port}/`;
}
console.log(JSON.stringify({ sites: urls }));

function stop() {
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
