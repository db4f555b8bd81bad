// Records the SSE bodies server-everything answers to a session's worth of POSTs, byte for byte, into one file:
// the recorded stream that tests/bench_sse.rs times the console's SSE decoder on. Run again only to re-record (for a
// new server-everything); the fixture is committed.
//
// Usage: node bench/record-sse.mjs URL OUT   (URL: a server-everything in streamableHttp mode, e.g. started by
//        scripts/peers.sh's start_everything; OUT: e.g. tests/fixtures/everything-2026.8.31.sse)
import { writeFileSync } from 'node:fs';

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: node bench/record-sse.mjs URL OUT');
  process.exit(2);
}

let nextId = 1;
let session;
let version;
async function post(method, params, { notification = false } = {}) {
  const body = { jsonrpc: '2.0', method, params, ...(notification ? {} : { id: nextId++ }) };
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (session) headers['mcp-session-id'] = session;
  if (version) headers['mcp-protocol-version'] = version;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${method}: ${res.status} ${bytes}`);
  return { res, bytes };
}

const init = await post('initialize', {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-console bench recorder', version: '0' },
});
session = init.res.headers.get('mcp-session-id');
version = '2025-11-25';
await post('notifications/initialized', {}, { notification: true });

// What a console session does: list everything, then call tools whose answers differ in shape (text, an image,
// structured content, resource links, progress notifications before the result).
const streams = [init.bytes];
for (const [method, params] of [
  ['tools/list', {}],
  ['resources/list', {}],
  ['prompts/list', {}],
  ['tools/call', { name: 'echo', arguments: { message: 'Hello from the benchmark' } }],
  ['tools/call', { name: 'get-tiny-image', arguments: {} }],
  ['tools/call', { name: 'get-structured-content', arguments: { location: 'New York' } }],
  ['tools/call', { name: 'get-resource-links', arguments: { count: 5 } }],
  ['tools/call', { name: 'get-annotated-message', arguments: { messageType: 'success', includeImage: true } }],
  ['tools/call', { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 5 }, _meta: { progressToken: 1 } }],
]) {
  const { res, bytes } = await post(method, params);
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    throw new Error(`${method} was answered with ${res.headers.get('content-type')}, not an event stream`);
  }
  streams.push(bytes);
}
const all = Buffer.concat(streams);
writeFileSync(out, all);
console.log(`recorded ${all.length} bytes in ${streams.length} streams to ${out}`);
