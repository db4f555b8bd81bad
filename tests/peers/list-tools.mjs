// An independent reference client: lists a server's tools with the official TypeScript SDK, declaring
// the same client capabilities as the console (core::asks::client_capabilities), and prints their
// names as one JSON array.
// The end-to-end tests compare what the console shows against this.
// Usage: node list-tools.mjs URL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = process.argv[2];
const client = new Client({ name: "reference-lister", version: "1.0.0" }, {
  capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: { form: {}, url: {} } },
});
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const names = [];
let cursor;
do {
  const page = await client.listTools(cursor ? { cursor } : {});
  names.push(...page.tools.map((t) => t.name));
  cursor = page.nextCursor;
} while (cursor);
console.log(JSON.stringify(names));
await client.close();
