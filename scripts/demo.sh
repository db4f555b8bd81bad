#!/usr/bin/env bash
# Builds the console and serves it at http://127.0.0.1:8080, opening on an OAuth-protected MCP server
# (the TypeScript SDK server in tests/peers) whose tokens come from a local Entra-shaped OpenID
# provider (oidc-provider): press Sign in, pick the demo user "alice", and the tools appear. An
# unprotected server (@modelcontextprotocol/server-everything) runs beside it for trying without
# signing in. Ctrl-C stops everything this script started.
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
origin="http://127.0.0.1:$CONSOLE_PORT"
start_authserver "$origin" --entra-strict
start_protected "$origin"

# The seed's settings shape: Instance + TenantId + ClientId + Scopes, and the server; the open one in a
# second tab.
config="$(mktemp -d)/config.json"
cat >"$config" <<JSON
{
  "Instance": "http://127.0.0.1:$auth_port/",
  "TenantId": "$TENANT",
  "ClientId": "$SPA_CLIENT_ID",
  "Scopes": "api://$API_APP_ID/mcp:tools",
  "ServerUrl": "http://127.0.0.1:$protected_port/mcp",
  "Servers": ["http://127.0.0.1:$everything_port/mcp"],
  "AutoConnect": true
}
JSON
node tests/peers/static.mjs --dir dist --port "$CONSOLE_PORT" --config "$config" >/dev/null &
PEER_PIDS+=($!)
wait_port "$CONSOLE_PORT" "the console's web server"
if ! kill -0 "${PEER_PIDS[-1]}" 2>/dev/null; then
  echo "Port $CONSOLE_PORT is already in use: stop what runs there, or set CONSOLE_PORT." >&2
  exit 1
fi

cat <<MSG

  MCP Console           http://127.0.0.1:$CONSOLE_PORT/
  protected MCP server  http://127.0.0.1:$protected_port/mcp  (needs a sign-in; the console opens on it)
  sign-in service       $issuer  (Entra-shaped; users: alice, bob)
  open MCP server       http://127.0.0.1:$everything_port/mcp  (server-everything, no sign-in; the second tab)

  Open the console and press Sign in; choose alice (bob lacks the mcp:tools permission).
  Ctrl-C stops everything.

MSG
wait
