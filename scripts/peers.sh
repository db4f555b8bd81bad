#!/usr/bin/env bash
# Shell helpers (sourced by demo.sh and test.sh) to run test peers on free 127.0.0.1 ports and stop
# them on exit. Every started process is recorded in $PEER_PIDS; stop_peers kills them all.
PEER_PIDS=()
# Waits for each, so that nothing of theirs is running once it returns.
stop_peers() {
  for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PEER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PEER_PIDS=()
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_port PORT WHAT: polls until PORT accepts connections; fails after 30 s.
wait_port() {
  node -e '
    const [port, what] = process.argv.slice(1); const net = require("net"); const end = Date.now() + 30000;
    (function poll() { const c = net.connect(port, "127.0.0.1", () => { c.end(); process.exit(0); });
      c.on("error", () => Date.now() > end ? (console.error(what + " did not start"), process.exit(1)) : setTimeout(poll, 50)); })();
  ' "$1" "$2"
}

# start_everything MODE: server-everything (streamableHttp or sse) with an empty environment (its
# get-env tool prints it), forced onto 127.0.0.1. Sets $port.
start_everything() {
  port=$(free_port)
  (cd "$ROOT/tests/peers" && exec env -i PATH="$PATH" PORT="$port" \
    ${MCP_CONSOLE_TEST_RUN:+MCP_CONSOLE_TEST_RUN="$MCP_CONSOLE_TEST_RUN"} node --import ./loopback.mjs \
    node_modules/@modelcontextprotocol/server-everything/dist/index.js "$1") >/dev/null 2>&1 &
  PEER_PIDS+=($!)
  wait_port "$port" "server-everything ($1)"
}

# The authorization server's fixed demo identities (tests/peers/authserver.mjs defaults).
TENANT=5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d
SPA_CLIENT_ID=3c6e1b2a-7f4d-4e8b-a1c9-5d2f8e0b7a34
API_APP_ID=96b0f495-3b65-4c8f-a0c6-c3767c3365ed

# start_authserver CONSOLE_ORIGIN [more authserver flags]: the Entra-shaped OpenID provider, with
# CONSOLE_ORIGIN/callback.html registered as its single-page-app redirect URI. Sets $auth_port and
# $issuer.
start_authserver() {
  local origin="$1"; shift
  auth_port=$(free_port)
  (cd "$ROOT/tests/peers" && exec node authserver.mjs --port "$auth_port" --console-origin "$origin" \
    --redirect-uri "$origin/callback.html" "$@") >/dev/null 2>&1 &
  PEER_PIDS+=($!)
  wait_port "$auth_port" "the authorization server"
  issuer="http://127.0.0.1:$auth_port/$TENANT/v2.0"
}

# start_protected CONSOLE_ORIGIN: the TypeScript SDK MCP server that accepts the authorization
# server's tokens for api://$API_APP_ID with scope mcp:tools. Needs $issuer. Sets $protected_port.
start_protected() {
  protected_port=$(free_port)
  (cd "$ROOT/tests/peers" && exec node protected-server.mjs --port "$protected_port" \
    --issuer "$issuer" --audience "api://$API_APP_ID" --console-origin "$1") >/dev/null 2>&1 &
  PEER_PIDS+=($!)
  wait_port "$protected_port" "the protected MCP server"
}
