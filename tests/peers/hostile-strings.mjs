#!/usr/bin/env node
// An MCP server on @modelcontextprotocol/sdk whose every string is hostile: tool names, titles and descriptions,
// argument descriptions, results, tool errors and protocol errors, resource names and contents, prompt names,
// descriptions and messages — script tags, event handlers, SVG with script, `javascript:` and `data:text/html`
// links, right-to-left overrides, a lone surrogate and a 1 MB name. Anything of it that ran would set
// `window.__xss`; a console that shows server text as text never lets it.
//
// Usage: node hostile-strings.mjs [--port N] [--console-origin ORIGIN]. Stateless Streamable HTTP at /mcp.
// On start one line of JSON goes to stdout: {"url","port"}.

import { parseArgs } from 'node:util';

import cors from 'cors';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

console.log = console.error;
console.info = console.error;

/** The corpus: each would run script, open a page or turn text around if it were not shown as text. */
export const CORPUS = [
  '<script>window.__xss = "script tag"</script>',
  '<img src=x onerror="window.__xss = \'img onerror\'">',
  '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss = \'svg onload\'"><script>window.__xss = "svg script"</script></svg>',
  'javascript:window.__xss = "javascript link"',
  'data:text/html,<script>window.__xss = "data html"</script>',
  '"><iframe srcdoc="<script>parent.__xss = \'iframe\'</script>"></iframe>',
  'right-to-left \u202Eexe.txt\u202C override',
  'lone \uD800 surrogate',
];
const HUGE = `huge-${'x'.repeat(1 << 20)}`;

function build() {
  const mcp = new McpServer({ name: CORPUS[1], version: CORPUS[0] }, { instructions: CORPUS.join('\n') });
  CORPUS.forEach((hostile, i) => {
    mcp.registerTool(`tool_${i}${hostile}`, {
      title: hostile,
      description: hostile,
      inputSchema: { [`arg_${i}`]: z.string().optional().describe(hostile) },
    }, async () => ({
      content: [
        { type: 'text', text: hostile },
        { type: 'resource_link', uri: `hostile://link/${i}`, name: hostile, description: hostile },
      ],
    }));
    mcp.registerResource(`resource_${i}${hostile}`, `hostile://resource/${i}`, { description: hostile, mimeType: 'text/plain' },
      async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: hostile }] }));
    mcp.registerPrompt(`prompt_${i}${hostile}`, { description: hostile },
      () => ({ description: hostile, messages: [{ role: 'user', content: { type: 'text', text: hostile } }] }));
  });
  mcp.registerTool(HUGE, { description: `A tool whose name is over 1 MB. ${CORPUS[0]}` }, async () => ({
    content: [{ type: 'text', text: HUGE }],
  }));
  mcp.registerTool('tool_fails', { description: 'Answers a tool error made of the corpus.' }, async () => ({
    content: [{ type: 'text', text: CORPUS.join(' ') }],
    isError: true,
  }));
  mcp.registerTool('tool_throws', { description: 'Answers a protocol error made of the corpus.' }, async () => {
    throw new McpError(ErrorCode.InvalidParams, CORPUS.join(' '));
  });
  return mcp;
}

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'console-origin': { type: 'string', multiple: true, default: [] } },
  strict: true,
});
const app = express();
app.use(cors({ origin: values['console-origin'].length ? values['console-origin'] : true, exposedHeaders: ['Mcp-Session-Id'] }));
app.post('/mcp', express.json({ limit: '4mb' }), async (req, res) => {
  // Stateless: a server and a transport per request.
  const server = build();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.all('/mcp', (_req, res) => res.status(405).set('Allow', 'POST').end());

const listener = app.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = listener.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/mcp`, port })}\n`);
});
