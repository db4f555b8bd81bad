#!/usr/bin/env bash
# Builds the console and serves it at http://127.0.0.1:8080 with a real MCP server
# (@modelcontextprotocol/server-everything over Streamable HTTP) already configured, so the
# page connects and shows its tools on open. Ctrl-C stops everything this script started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/tools.sh

CONSOLE_PORT="${CONSOLE_PORT:-8080}"
trunk build --release

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_port() {
  node -e '
    const [port, what] = process.argv.slice(1); const net = require("net"); const end = Date.now() + 30000;
    (function poll() { const c = net.connect(port, "127.0.0.1", () => { c.end(); process.exit(0); });
      c.on("error", () => Date.now() > end ? (console.error(what + " did not start"), process.exit(1)) : setTimeout(poll, 50)); })();
  ' "$1" "$2"
}

everything_port=$(free_port)
(cd tests/peers && exec env -i PATH="$PATH" PORT="$everything_port" node --import ./loopback.mjs \
  node_modules/@modelcontextprotocol/server-everything/dist/index.js streamableHttp) >/dev/null 2>&1 &
pids+=($!)
wait_port "$everything_port" "server-everything"

config="$(mktemp -d)/config.json"
printf '{"serverUrl":"http://127.0.0.1:%s/mcp","autoConnect":true}\n' "$everything_port" >"$config"
node tests/peers/static.mjs --dir dist --port "$CONSOLE_PORT" --config "$config" >/dev/null &
pids+=($!)
wait_port "$CONSOLE_PORT" "the console's web server"

cat <<MSG

  MCP Console      http://127.0.0.1:$CONSOLE_PORT/
  demo MCP server  http://127.0.0.1:$everything_port/mcp  (server-everything, Streamable HTTP)

  Open the console: it connects to the demo server and lists its tools. Ctrl-C stops everything.

MSG
wait
