// Checks the modern peer over plain fetch, with the wire written out as the 2026-07-28 spec shows it: every
// request carries its `_meta` envelope and the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers, and each
// failure case names the exact status, code and data the spec prescribes.
//
// Run: npm ci && node --test

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';

import * as jose from 'jose';

const VERSION = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const SERVER = new URL('./server.mjs', import.meta.url).pathname;

/** Starts the peer and waits for its start line. */
async function start(args = []) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the peer exited (${code}) before announcing itself: ${stderr}`)));
  });
  const info = JSON.parse(line);
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  return { ...info, child, stop };
}

function envelope(caps = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': VERSION,
    'io.modelcontextprotocol/clientCapabilities': caps,
    'io.modelcontextprotocol/clientInfo': { name: 'modern-peer-test', version: '1.0.0' },
  };
}

/** The standard headers a conforming client derives from the body (streamable-http.mdx, Standard Request
 * Headers; ext-tasks, Routing Headers). */
function standardHeaders(message) {
  const h = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': message.params?._meta?.['io.modelcontextprotocol/protocolVersion'] ?? VERSION,
    'Mcp-Method': message.method,
  };
  const p = message.params ?? {};
  if (message.method === 'tools/call' || message.method === 'prompts/get') h['Mcp-Name'] = p.name;
  if (message.method === 'resources/read') h['Mcp-Name'] = p.uri;
  if (message.method.startsWith('tasks/')) h['Mcp-Name'] = p.taskId;
  return h;
}

/** Reads an SSE body into its JSON messages. */
function sseMessages(body) {
  return body.split(/\r?\n\r?\n/).map((event) => event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter(Boolean).map((data) => JSON.parse(data));
}

let nextId = 1;

/** POSTs one JSON-RPC message. `headers` adds or overrides headers (null removes one). Returns the status, the
 * headers, every message in the body and the response to our id. */
async function post(url, message, { headers = {}, token } = {}) {
  const h = { ...standardHeaders(message), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers };
  for (const [k, v] of Object.entries(h)) if (v === null) delete h[k];
  // A bounded wait: an answer that turns into an endless stream must fail the test, not hang it.
  const res = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify(message), signal: AbortSignal.timeout(15000) });
  const body = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const messages = type.startsWith('text/event-stream') ? sseMessages(body) : body ? [JSON.parse(body)] : [];
  const response = messages.find((m) => m.id === message.id && (m.result || m.error));
  return { status: res.status, headers: res.headers, messages, response, result: response?.result, error: response?.error };
}

/** A request with a full envelope; `caps` are the client capabilities declared on this request only. */
function rpc(url, method, params = {}, { caps = {}, headers, token, meta = {} } = {}) {
  const message = { jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: { ...envelope(caps), ...meta } } };
  return post(url, message, { headers, token });
}

const callTool = (url, name, args = {}, options = {}) => rpc(url, 'tools/call', { name, arguments: args, ...options.extra }, options);
const textOf = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('');
const ELICIT = { elicitation: { form: {}, url: {} } };
const WITH_TASKS = { ...ELICIT, extensions: { [TASKS]: {} } };

describe('the modern peer', () => {
  let peer;
  before(async () => { peer = await start(); });
  after(async () => { await peer.stop(); });

  test('announces a loopback /mcp URL on its first stdout line', () => {
    const url = new URL(peer.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.pathname, '/mcp');
    assert.equal(Number(url.port), peer.port);
    assert.ok(peer.allowedHeaders.includes('Mcp-Param-Region'));
  });

  describe('versions and transport', () => {
    test('server/discover lists 2026-07-28 only, the capabilities and the tasks extension', async () => {
      const { status, result } = await rpc(peer.url, 'server/discover');
      assert.equal(status, 200);
      assert.equal(result.resultType, 'complete');
      assert.deepEqual(result.supportedVersions, [VERSION]);
      assert.deepEqual(result.capabilities.tools, { listChanged: true });
      assert.deepEqual(result.capabilities.resources, { subscribe: true, listChanged: true });
      assert.ok(result.capabilities.prompts);
      assert.deepEqual(result.capabilities.extensions, { [TASKS]: {} });
      assert.equal(result.ttlMs, 60000);
      assert.equal(result.cacheScope, 'public');
      assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcp-console-modern-peer');
    });

    test('list results carry resultType and cache hints', async () => {
      for (const method of ['tools/list', 'resources/list', 'prompts/list']) {
        const { result } = await rpc(peer.url, method);
        assert.equal(result.resultType, 'complete', method);
        assert.equal(result.ttlMs, 10000, method);
        assert.equal(result.cacheScope, 'public', method);
        assert.ok(result._meta['io.modelcontextprotocol/serverInfo'], method);
      }
    });

    test('erase_note declares itself destructive, and count_words breaks the output schema it declares', async () => {
      const { result: list } = await rpc(peer.url, 'tools/list');
      const erase = list.tools.find((t) => t.name === 'erase_note');
      assert.equal(erase.annotations.destructiveHint, true);
      const count = list.tools.find((t) => t.name === 'count_words');
      assert.equal(count.outputSchema.properties.count.type, 'integer');
      const { result } = await callTool(peer.url, 'count_words', { text: 'one two three' });
      assert.equal(result.structuredContent.count, '3 words');
    });

    test('echo answers with its text', async () => {
      const { result } = await callTool(peer.url, 'echo', { text: 'hello 2026' });
      assert.equal(result.resultType, 'complete');
      assert.equal(textOf(result), 'hello 2026');
    });

    test('GET and DELETE are 405 with Allow: POST', async () => {
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(peer.url, { method, headers: { Accept: 'text/event-stream' } });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'POST', method);
      }
    });

    test('initialize is refused with -32022 naming the supported version', async () => {
      const message = {
        jsonrpc: '2.0', id: nextId++, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } },
      };
      const { status, error } = await post(peer.url, message, { headers: { 'MCP-Protocol-Version': null, 'Mcp-Method': null } });
      assert.equal(status, 400);
      assert.equal(error.code, -32022);
      assert.deepEqual(error.data, { supported: [VERSION], requested: '2025-11-25' });
    });

    test('an unknown version is -32022 with data {supported, requested}', async () => {
      const { status, error } = await rpc(peer.url, 'tools/list', {}, {
        meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' },
      });
      assert.equal(status, 400);
      assert.equal(error.code, -32022);
      assert.deepEqual(error.data, { supported: [VERSION], requested: '2099-01-01' });
    });

    test('a header that disagrees with _meta, or is missing, is 400 -32020', async () => {
      const cases = [
        { 'MCP-Protocol-Version': '2025-11-25' },
        { 'MCP-Protocol-Version': null },
        { 'Mcp-Method': 'tools/call' },
        { 'Mcp-Method': null },
      ];
      for (const headers of cases) {
        const { status, error } = await rpc(peer.url, 'tools/list', {}, { headers });
        assert.equal(status, 400, JSON.stringify(headers));
        assert.equal(error.code, -32020, JSON.stringify(headers));
      }
      const wrongName = await callTool(peer.url, 'echo', { text: 'x' }, { headers: { 'Mcp-Name': 'bump' } });
      assert.equal(wrongName.status, 400);
      assert.equal(wrongName.error.code, -32020);
    });

    test('a request without the required _meta keys is 400 -32602', async () => {
      const message = {
        jsonrpc: '2.0', id: nextId++, method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': VERSION } },
      };
      const { status, error } = await post(peer.url, message);
      assert.equal(status, 400);
      assert.equal(error.code, -32602);
    });

    test('unknown methods, and the tasks methods the extension removed, are 404 -32601', async () => {
      for (const method of ['no/such', 'ping', 'tasks/list', 'tasks/result']) {
        const { status, error } = await rpc(peer.url, method, method.startsWith('tasks/') ? { taskId: 'x' } : {}, { caps: WITH_TASKS });
        assert.equal(status, 404, method);
        assert.equal(error.code, -32601, method);
      }
    });

    test('an Mcp-Session-Id is ignored and never echoed', async () => {
      const { status, headers } = await rpc(peer.url, 'tools/list', {}, { headers: { 'Mcp-Session-Id': 'left-over-from-2025' } });
      assert.equal(status, 200);
      assert.equal(headers.get('mcp-session-id'), null);
    });
  });

  describe('multi-round-trip requests', () => {
    test('confirm_delete asks with a form, then names what was answered', async () => {
      const first = await callTool(peer.url, 'confirm_delete', { path: '/tmp/a' }, { caps: ELICIT });
      assert.equal(first.result.resultType, 'input_required');
      const ask = first.result.inputRequests.confirm;
      assert.equal(ask.method, 'elicitation/create');
      assert.equal(ask.params.requestedSchema.properties.confirm.type, 'boolean');
      assert.equal(ask.params.requestedSchema.properties.retries.type, 'integer');
      assert.equal(typeof first.result.requestState, 'string');

      const retry = await callTool(peer.url, 'confirm_delete', { path: '/tmp/a' }, {
        caps: ELICIT,
        extra: { inputResponses: { confirm: { action: 'accept', content: { confirm: true, retries: 3 } } }, requestState: first.result.requestState },
      });
      assert.equal(retry.result.resultType, 'complete');
      assert.match(textOf(retry.result), /Deleted \/tmp\/a .*confirm=true, retries=3/);

      const declined = await callTool(peer.url, 'confirm_delete', { path: '/tmp/a' }, {
        caps: ELICIT, extra: { inputResponses: { confirm: { action: 'decline' } }, requestState: first.result.requestState },
      });
      assert.match(textOf(declined.result), /Kept \/tmp\/a: the person answered decline/);
    });

    test('a forged requestState is a JSON-RPC error', async () => {
      const first = await callTool(peer.url, 'confirm_delete', { path: '/tmp/b' }, { caps: ELICIT });
      const state = first.result.requestState;
      const forged = state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA');
      const { result, error } = await callTool(peer.url, 'confirm_delete', { path: '/tmp/b' }, {
        caps: ELICIT, extra: { inputResponses: { confirm: { action: 'accept', content: { confirm: true } } }, requestState: forged },
      });
      assert.equal(result, undefined);
      assert.equal(error.code, -32602);
      assert.match(error.message, /requestState/);
    });

    test('a requestState issued for other arguments, or missing from a retry, is a JSON-RPC error', async () => {
      const first = await callTool(peer.url, 'confirm_delete', { path: '/tmp/c' }, { caps: ELICIT });
      const answers = { confirm: { action: 'accept', content: { confirm: true } } };
      const elsewhere = await callTool(peer.url, 'confirm_delete', { path: '/etc' }, {
        caps: ELICIT, extra: { inputResponses: answers, requestState: first.result.requestState },
      });
      assert.equal(elsewhere.error.code, -32602);
      assert.match(elsewhere.error.message, /different request/);
      const dropped = await callTool(peer.url, 'confirm_delete', { path: '/tmp/c' }, { caps: ELICIT, extra: { inputResponses: answers } });
      assert.equal(dropped.error.code, -32602);
      assert.match(dropped.error.message, /without the requestState/);
      const unanswered = await callTool(peer.url, 'confirm_delete', { path: '/tmp/c' }, {
        caps: ELICIT, extra: { inputResponses: { other: { action: 'accept', content: {} } }, requestState: first.result.requestState },
      });
      assert.equal(unanswered.error.code, -32602);
      assert.match(unanswered.error.message, /lacks an answer to confirm/);
    });

    test('asking for input the request did not declare a capability for is 400 -32021', async () => {
      const noElicitation = await callTool(peer.url, 'confirm_delete', { path: '/tmp/d' });
      assert.equal(noElicitation.status, 400);
      assert.equal(noElicitation.error.code, -32021);
      assert.ok(noElicitation.error.data.requiredCapabilities.elicitation);
      const formOnly = await callTool(peer.url, 'open_login', {}, { caps: { elicitation: {} } });
      assert.equal(formOnly.status, 400);
      assert.equal(formOnly.error.code, -32021);
    });

    test('open_login asks for a URL-mode elicitation and completes on accept', async () => {
      const first = await callTool(peer.url, 'open_login', {}, { caps: ELICIT });
      const ask = first.result.inputRequests.login;
      assert.equal(ask.method, 'elicitation/create');
      assert.equal(ask.params.mode, 'url');
      assert.equal(ask.params.url, `http://127.0.0.1:${peer.port}/login-page`);
      const page = await fetch(ask.params.url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Signed in/);
      const retry = await callTool(peer.url, 'open_login', {}, {
        caps: ELICIT, extra: { inputResponses: { login: { action: 'accept' } }, requestState: first.result.requestState },
      });
      assert.equal(retry.result.resultType, 'complete');
      assert.match(textOf(retry.result), /^Signed in: the person accepted opening .*visited [1-9]/);
    });

    test('ask_model asks for sampling and quotes the sampled text', async () => {
      const first = await callTool(peer.url, 'ask_model', { question: 'Capital of France?' }, { caps: { sampling: {} } });
      const ask = first.result.inputRequests.answer;
      assert.equal(ask.method, 'sampling/createMessage');
      assert.equal(ask.params.messages[0].content.text, 'Capital of France?');
      const retry = await callTool(peer.url, 'ask_model', { question: 'Capital of France?' }, {
        caps: { sampling: {} },
        extra: {
          inputResponses: { answer: { role: 'assistant', content: { type: 'text', text: 'Paris.' }, model: 'test-model', stopReason: 'endTurn' } },
          requestState: first.result.requestState,
        },
      });
      assert.equal(textOf(retry.result), 'The model test-model answered: "Paris."');
    });

    test('two_rounds asks twice, the second question built from the first answer', async () => {
      const one = await callTool(peer.url, 'two_rounds', {}, { caps: ELICIT });
      assert.deepEqual(Object.keys(one.result.inputRequests), ['name']);
      const two = await callTool(peer.url, 'two_rounds', {}, {
        caps: ELICIT, extra: { inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } }, requestState: one.result.requestState },
      });
      assert.equal(two.result.resultType, 'input_required');
      assert.deepEqual(Object.keys(two.result.inputRequests), ['colour']);
      assert.match(two.result.inputRequests.colour.params.message, /Ada/);
      assert.notEqual(two.result.requestState, one.result.requestState);
      const done = await callTool(peer.url, 'two_rounds', {}, {
        caps: ELICIT, extra: { inputResponses: { colour: { action: 'accept', content: { colour: 'green' } } }, requestState: two.result.requestState },
      });
      assert.equal(done.result.resultType, 'complete');
      assert.equal(textOf(done.result), 'Ada likes green (two rounds).');
    });

    test('endless never completes', async () => {
      let state;
      let key;
      for (let round = 1; round <= 12; round += 1) {
        const extra = state ? { inputResponses: { [key]: { action: 'accept', content: { again: true } } }, requestState: state } : {};
        const { result } = await callTool(peer.url, 'endless', {}, { caps: ELICIT, extra });
        assert.equal(result.resultType, 'input_required', `round ${round}`);
        key = Object.keys(result.inputRequests)[0];
        assert.equal(key, `round_${round}`);
        state = result.requestState;
      }
    });
  });

  describe('x-mcp-header', () => {
    test('regional_lookup declares Region and answers with the header it saw', async () => {
      const { result: list } = await rpc(peer.url, 'tools/list');
      const tool = list.tools.find((t) => t.name === 'regional_lookup');
      assert.equal(tool.inputSchema.properties.region['x-mcp-header'], 'Region');
      const { status, result } = await callTool(peer.url, 'regional_lookup', { region: 'us-west1', id: 42 }, { headers: { 'Mcp-Param-Region': 'us-west1' } });
      assert.equal(status, 200);
      assert.equal(textOf(result), 'Record 42 in us-west1; Mcp-Param-Region header: "us-west1".');
    });

    test('a value that needs it travels as a =?base64?…?= sentinel and is decoded before comparing', async () => {
      const region = 'Zürich ';
      const sentinel = `=?base64?${Buffer.from(region, 'utf8').toString('base64')}?=`;
      const { status, result } = await callTool(peer.url, 'regional_lookup', { region, id: 1 }, { headers: { 'Mcp-Param-Region': sentinel } });
      assert.equal(status, 200);
      assert.equal(textOf(result), `Record 1 in ${region}; Mcp-Param-Region header: "${sentinel}".`);
    });

    test('a missing, different or malformed Mcp-Param-Region is 400 -32020', async () => {
      for (const header of [null, 'eu-north1', '=?base64?not base64!?=']) {
        const { status, error } = await callTool(peer.url, 'regional_lookup', { region: 'us-west1', id: 42 }, { headers: { 'Mcp-Param-Region': header } });
        assert.equal(status, 400, String(header));
        assert.equal(error.code, -32020, String(header));
      }
    });
  });

  describe('subscriptions/listen', () => {
    test('delivers resources/updated for bump and tools/list_changed for toggle_extra_tool', async () => {
      const id = `listen-${nextId++}`;
      const message = {
        jsonrpc: '2.0', id, method: 'subscriptions/listen',
        params: { _meta: envelope(), notifications: { toolsListChanged: true, resourceSubscriptions: ['note://counter'] } },
      };
      const aborter = new AbortController();
      // A notification that never comes must fail the test, not hang it.
      const deadline = setTimeout(() => aborter.abort(new Error('no notification within 10 s')), 10000);
      const res = await fetch(peer.url, { method: 'POST', headers: standardHeaders(message), body: JSON.stringify(message), signal: aborter.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      const nextMessage = async () => {
        for (;;) {
          const end = buffer.search(/\r?\n\r?\n/);
          if (end >= 0) {
            const [event] = sseMessages(buffer.slice(0, end + 2));
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            if (event) return event;
            continue;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('the listen stream ended');
          buffer += value;
        }
      };
      try {
        const ack = await nextMessage();
        assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
        assert.deepEqual(ack.params.notifications, { toolsListChanged: true, resourceSubscriptions: ['note://counter'] });
        assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], id);

        const before = textOf({ content: (await rpc(peer.url, 'resources/read', { uri: 'note://counter' })).result.contents.map((c) => ({ type: 'text', text: c.text })) });
        await callTool(peer.url, 'bump');
        const updated = await nextMessage();
        assert.equal(updated.method, 'notifications/resources/updated');
        assert.equal(updated.params.uri, 'note://counter');
        assert.equal(updated.params._meta['io.modelcontextprotocol/subscriptionId'], id);
        const read = await rpc(peer.url, 'resources/read', { uri: 'note://counter' });
        assert.notEqual(read.result.contents[0].text, before);

        await callTool(peer.url, 'toggle_extra_tool');
        const changed = await nextMessage();
        assert.equal(changed.method, 'notifications/tools/list_changed');
        const listed = (await rpc(peer.url, 'tools/list')).result.tools.map((t) => t.name);
        assert.ok(listed.includes('extra_tool'));
        await callTool(peer.url, 'toggle_extra_tool');
        assert.equal((await nextMessage()).method, 'notifications/tools/list_changed');
        assert.ok(!(await rpc(peer.url, 'tools/list')).result.tools.some((t) => t.name === 'extra_tool'));
      } finally {
        clearTimeout(deadline);
        aborter.abort();
      }
    });

    test('asking for task notifications without declaring the extension is 400 -32021', async () => {
      const { status, error } = await rpc(peer.url, 'subscriptions/listen', { notifications: { taskIds: ['x'] } });
      assert.equal(status, 400);
      assert.equal(error.code, -32021);
      assert.deepEqual(error.data.requiredCapabilities, { extensions: { [TASKS]: {} } });
    });
  });

  describe('the Tasks extension', () => {
    const getTask = (taskId, caps = WITH_TASKS) => rpc(peer.url, 'tasks/get', { taskId }, { caps });
    async function until(taskId, status) {
      for (let i = 0; i < 100; i += 1) {
        const { result } = await getTask(taskId);
        if (result.status === status) return result;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`task ${taskId} never reached ${status}`);
    }

    test('slow_task returns a flat CreateTaskResult and completes, with progress in statusMessage', async () => {
      const { result } = await callTool(peer.url, 'slow_task', { seconds: 1 }, { caps: WITH_TASKS });
      assert.equal(result.resultType, 'task');
      assert.equal(result.status, 'working');
      assert.match(result.taskId, /^[0-9a-f-]{36}$/);
      assert.equal(result.ttlMs, 1800000);
      assert.equal(result.pollIntervalMs, 500);
      assert.ok(!Number.isNaN(Date.parse(result.createdAt)));
      for (const key of ['content', 'task', 'result', 'requestState']) assert.ok(!(key in result), key);

      const polled = await getTask(result.taskId);
      assert.equal(polled.result.resultType, 'complete');
      assert.match(polled.result.statusMessage, /^Working: [0-9.]+ of 1 s done/);
      const done = await until(result.taskId, 'completed');
      assert.equal(done.result.isError, false);
      assert.equal(textOf(done.result), 'Worked for 1 s.');
    });

    test('without the extension slow_task answers in place, with progress on its own stream', async () => {
      const [plain, failing] = await Promise.all([
        callTool(peer.url, 'slow_task', { seconds: 1 }, { meta: { progressToken: 'p1' } }),
        callTool(peer.url, 'slow_task', { seconds: 1, fail: true }),
      ]);
      assert.match(plain.headers.get('content-type'), /^text\/event-stream/);
      assert.equal(plain.result.resultType, 'complete');
      assert.match(textOf(plain.result), /^Worked for 1 s \(no task/);
      const progress = plain.messages.filter((m) => m.method === 'notifications/progress');
      assert.deepEqual(progress.map((m) => [m.params.progressToken, m.params.progress]), [['p1', 1]]);
      // McpServer reports a tool's own failure as an isError result; only a task can carry a JSON-RPC error.
      assert.equal(failing.result.isError, true);
      assert.equal(textOf(failing.result), 'slow_task was asked to fail');
    });

    test('slow_task with ask stops halfway for an elicitation answered through tasks/update', async () => {
      const { result } = await callTool(peer.url, 'slow_task', { seconds: 1, ask: true }, { caps: WITH_TASKS });
      const waiting = await until(result.taskId, 'input_required');
      assert.equal(waiting.inputRequests.proceed.method, 'elicitation/create');
      assert.equal(waiting.inputRequests.proceed.params.requestedSchema.properties.proceed.type, 'boolean');
      const ack = await rpc(peer.url, 'tasks/update', { taskId: result.taskId, inputResponses: { proceed: { action: 'accept', content: { proceed: true } } } }, { caps: WITH_TASKS });
      assert.deepEqual(Object.keys(ack.result).sort(), ['_meta', 'resultType']);
      assert.equal(ack.result.resultType, 'complete');
      const done = await until(result.taskId, 'completed');
      assert.equal(textOf(done.result), 'Worked for 1 s. The person chose to continue halfway.');
    });

    test('a declined task question completes with isError; ask without tasks or elicitation is -32021', async () => {
      const { result } = await callTool(peer.url, 'slow_task', { seconds: 1, ask: true }, { caps: WITH_TASKS });
      await until(result.taskId, 'input_required');
      await rpc(peer.url, 'tasks/update', { taskId: result.taskId, inputResponses: { proceed: { action: 'decline' } } }, { caps: WITH_TASKS });
      const done = await until(result.taskId, 'completed');
      assert.equal(done.result.isError, true);
      const refused = await callTool(peer.url, 'slow_task', { seconds: 1, ask: true }, { caps: ELICIT });
      assert.equal(refused.status, 400);
      assert.equal(refused.error.code, -32021);
      assert.deepEqual(refused.error.data.requiredCapabilities, { extensions: { [TASKS]: {} } });
      const mute = await callTool(peer.url, 'slow_task', { seconds: 1, ask: true }, { caps: { extensions: { [TASKS]: {} } } });
      assert.equal(mute.status, 400);
      assert.equal(mute.error.code, -32021);
      assert.deepEqual(mute.error.data.requiredCapabilities, { elicitation: { form: {} } });
    });

    test('tasks/cancel cancels; fail ends in failed with the JSON-RPC error', async () => {
      const long = await callTool(peer.url, 'slow_task', { seconds: 60 }, { caps: WITH_TASKS });
      const ack = await rpc(peer.url, 'tasks/cancel', { taskId: long.result.taskId }, { caps: WITH_TASKS });
      assert.equal(ack.result.resultType, 'complete');
      assert.equal((await getTask(long.result.taskId)).result.status, 'cancelled');

      const failing = await callTool(peer.url, 'slow_task', { seconds: 1, fail: true }, { caps: WITH_TASKS });
      const failed = await until(failing.result.taskId, 'failed');
      assert.deepEqual(failed.error, { code: -32603, message: 'slow_task was asked to fail' });
    });

    test('tasks/* need the extension declared (400 -32021) and a known taskId (-32602)', async () => {
      const { result } = await callTool(peer.url, 'slow_task', { seconds: 1 }, { caps: WITH_TASKS });
      for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
        const params = { taskId: result.taskId, ...(method === 'tasks/update' ? { inputResponses: {} } : {}) };
        const undeclared = await rpc(peer.url, method, params, { caps: ELICIT });
        assert.equal(undeclared.status, 400, method);
        assert.equal(undeclared.error.code, -32021, method);
        const unknown = await rpc(peer.url, method, { ...params, taskId: 'no-such-task' }, { caps: WITH_TASKS });
        assert.equal(unknown.error.code, -32602, method);
      }
      const wrongName = await rpc(peer.url, 'tasks/get', { taskId: result.taskId }, { caps: WITH_TASKS, headers: { 'Mcp-Name': 'other' } });
      assert.equal(wrongName.status, 400);
      assert.equal(wrongName.error.code, -32020);
    });
  });

  describe('CORS', () => {
    test('a preflight lists every header a request may carry, Mcp-Param-Region included', async () => {
      const res = await fetch(peer.url, {
        method: 'OPTIONS',
        headers: { Origin: 'http://127.0.0.1:8080', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'mcp-param-region' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
      const allowed = res.headers.get('access-control-allow-headers').split(', ');
      for (const h of ['Content-Type', 'Accept', 'Authorization', 'MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', 'Mcp-Param-Region']) {
        assert.ok(allowed.includes(h), h);
      }
      assert.ok(!allowed.includes('*'));
      assert.match(res.headers.get('access-control-allow-methods'), /POST/);
    });

    test('answers carry the CORS headers, errors included', async () => {
      const { status, headers } = await rpc(peer.url, 'tools/list', {}, { headers: { Origin: 'http://127.0.0.1:8080', 'Mcp-Method': null } });
      assert.equal(status, 400);
      assert.equal(headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
      assert.equal(headers.get('access-control-expose-headers'), 'WWW-Authenticate');
    });

    test('a Host that is not loopback is refused (DNS rebinding)', async () => {
      const status = await new Promise((resolve, reject) => {
        const req = httpRequest(peer.url, { method: 'POST', headers: { Host: 'evil.example', 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end('{}');
      });
      assert.equal(status, 403);
    });
  });
});

describe('with --console-origin', () => {
  let peer;
  before(async () => { peer = await start(['--console-origin', 'http://127.0.0.1:8080']); });
  after(async () => { await peer.stop(); });

  test('another origin gets 403 and no CORS grant; the console origin is served', async () => {
    const refused = await rpc(peer.url, 'server/discover', {}, { headers: { Origin: 'http://evil.example' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const served = await rpc(peer.url, 'server/discover', {}, { headers: { Origin: 'http://127.0.0.1:8080' } });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
  });
});

describe('with --state-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modern-peer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a task survives the server restarting, and one that finished meanwhile is completed', async () => {
    const file = join(dir, 'tasks.json');
    const first = await start(['--state-file', file]);
    const quick = await callTool(first.url, 'slow_task', { seconds: 1 }, { caps: WITH_TASKS });
    const long = await callTool(first.url, 'slow_task', { seconds: 30 }, { caps: WITH_TASKS });
    assert.equal(await first.stop(), 0);
    await new Promise((r) => setTimeout(r, 1200)); // the quick task's second passes while nobody serves it

    const second = await start(['--state-file', file]);
    try {
      const done = await rpc(second.url, 'tasks/get', { taskId: quick.result.taskId }, { caps: WITH_TASKS });
      assert.equal(done.result.status, 'completed');
      assert.equal(textOf(done.result.result), 'Worked for 1 s.');
      assert.equal(done.result.createdAt, quick.result.createdAt);
      // Dated when the work ended, while nobody was serving, not when it was next looked at.
      assert.equal(Date.parse(done.result.lastUpdatedAt) - Date.parse(done.result.createdAt), 1000);
      const working = await rpc(second.url, 'tasks/get', { taskId: long.result.taskId }, { caps: WITH_TASKS });
      assert.equal(working.result.status, 'working');
      assert.match(working.result.statusMessage, /^Working: [1-9][0-9.]* of 30 s done/);
    } finally {
      await second.stop();
    }
    const without = await start();
    try {
      const lost = await rpc(without.url, 'tasks/get', { taskId: long.result.taskId }, { caps: WITH_TASKS });
      assert.equal(lost.error.code, -32602);
    } finally {
      await without.stop();
    }
  });
});

describe('with --auth', () => {
  const audience = 'api://00000000-0000-0000-0000-0000000000aa';
  let issuerServer;
  let issuer;
  let privateKey;
  let peer;

  /** A token like the Entra-shaped authorization server's: short scope names in scp. */
  async function token(claims = {}, { key = privateKey, iss = issuer, aud = audience, exp = '10m' } = {}) {
    return new jose.SignJWT({ scp: 'mcp:tools', sub: 'alice', azp: 'spa', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime(exp)
      .sign(key);
  }

  before(async () => {
    // A minimal OpenID provider: discovery and keys, which is all the peer reads.
    const keys = await jose.generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk = { ...(await jose.exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    issuerServer = createServer((req, res) => {
      const body = req.url.endsWith('/.well-known/openid-configuration')
        ? { issuer, jwks_uri: `${issuer}/keys` }
        : req.url.endsWith('/keys') ? { keys: [jwk] } : undefined;
      res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    await new Promise((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${issuerServer.address().port}/tenant/v2.0`;
    peer = await start(['--auth', issuer, '--audience', audience]);
  });
  after(async () => {
    await peer.stop();
    issuerServer.close();
  });

  test('without a token: 401 with resource_metadata and scope, no error code, readable across origins', async () => {
    const { status, headers } = await rpc(peer.url, 'server/discover', {}, { headers: { Origin: 'http://127.0.0.1:8080' } });
    assert.equal(status, 401);
    const challenge = headers.get('www-authenticate');
    assert.equal(challenge, `Bearer resource_metadata="http://127.0.0.1:${peer.port}/.well-known/oauth-protected-resource/mcp", scope="${audience}/mcp:tools"`);
    assert.equal(headers.get('access-control-expose-headers'), 'WWW-Authenticate');
  });

  test('serves the protected resource metadata', async () => {
    const res = await fetch(`http://127.0.0.1:${peer.port}/.well-known/oauth-protected-resource/mcp`);
    assert.deepEqual(await res.json(), {
      resource: peer.url,
      authorization_servers: [issuer],
      scopes_supported: [`${audience}/mcp:tools`],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-console modern test peer',
    });
  });

  test('a bad, expired or foreign token is 401 invalid_token; app-only or scope-less is 403', async () => {
    const other = await jose.generateKeyPair('RS256');
    const cases = [
      ['not-a-jwt', 401, 'invalid_token', /Invalid Compact JWS/],
      [await token({}, { exp: Math.floor(Date.now() / 1000) - 60 }), 401, 'invalid_token', /exp\\" claim timestamp check failed/],
      [await token({}, { key: other.privateKey }), 401, 'invalid_token', /signature verification failed/],
      [await token({}, { iss: 'http://127.0.0.1:1/other' }), 401, 'invalid_token', /unexpected \\"iss\\" claim value/],
      [await token({}, { aud: 'api://someone-else' }), 401, 'invalid_token', /unexpected \\"aud\\" claim value/],
      // An app-only token is refused as such, even when it carries the scope name.
      [await token({ roles: ['mcp.app'], idtyp: 'app' }), 403, 'insufficient_scope', /App-only tokens are not accepted/],
      [await token({ scp: 'User.Read' }), 403, 'insufficient_scope', /lacks the scope/],
    ];
    for (const [t, status, error, description] of cases) {
      const res = await rpc(peer.url, 'server/discover', {}, { token: t });
      assert.equal(res.status, status, error);
      const challenge = res.headers.get('www-authenticate');
      assert.match(challenge, new RegExp(`^Bearer error="${error}"`));
      assert.match(challenge, description);
      assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
    }
  });

  test('a good token is served, and requestState is bound to the person it was issued to', async () => {
    const alice = await token();
    const bob = await token({ sub: 'bob' });
    const discovered = await rpc(peer.url, 'server/discover', {}, { token: alice });
    assert.equal(discovered.status, 200);
    assert.equal(discovered.result.cacheScope, 'private');
    const first = await callTool(peer.url, 'confirm_delete', { path: '/tmp/e' }, { caps: ELICIT, token: alice });
    const extra = { inputResponses: { confirm: { action: 'accept', content: { confirm: true } } }, requestState: first.result.requestState };
    const stolen = await callTool(peer.url, 'confirm_delete', { path: '/tmp/e' }, { caps: ELICIT, token: bob, extra });
    assert.equal(stolen.error.code, -32602);
    const own = await callTool(peer.url, 'confirm_delete', { path: '/tmp/e' }, { caps: ELICIT, token: alice, extra });
    assert.match(textOf(own.result), /^Deleted \/tmp\/e/);
  });
});
