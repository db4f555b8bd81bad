#!/usr/bin/env bash
# Shell helpers (sourced by demo.sh and test.sh) to run test peers on free 127.0.0.1 ports and stop
# them on exit. Every started process is recorded in $PEER_PIDS; stop_peers kills them all.
PEER_PIDS=()
stop_peers() { for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }

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
  (cd "$ROOT/tests/peers" && exec env -i PATH="$PATH" PORT="$port" node --import ./loopback.mjs \
    node_modules/@modelcontextprotocol/server-everything/dist/index.js "$1") >/dev/null 2>&1 &
  PEER_PIDS+=($!)
  wait_port "$port" "server-everything ($1)"
}
