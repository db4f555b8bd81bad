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

. scripts/peers.sh
trap stop_peers EXIT INT TERM

start_everything streamableHttp
everything_port=$port

config="$(mktemp -d)/config.json"
printf '{"serverUrl":"http://127.0.0.1:%s/mcp","autoConnect":true}\n' "$everything_port" >"$config"
node tests/peers/static.mjs --dir dist --port "$CONSOLE_PORT" --config "$config" >/dev/null &
PEER_PIDS+=($!)
wait_port "$CONSOLE_PORT" "the console's web server"
if ! kill -0 "${PEER_PIDS[-1]}" 2>/dev/null; then
  echo "Port $CONSOLE_PORT is already in use: stop what runs there, or set CONSOLE_PORT." >&2
  exit 1
fi

cat <<MSG

  MCP Console      http://127.0.0.1:$CONSOLE_PORT/
  demo MCP server  http://127.0.0.1:$everything_port/mcp  (server-everything, Streamable HTTP)

  Open the console: it connects to the demo server and lists its tools. Ctrl-C stops everything.

MSG
wait
