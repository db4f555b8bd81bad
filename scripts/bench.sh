#!/usr/bin/env bash
# The benchmark (issue 9): builds the release and the hello-world floor (bench/hello), then prints one Markdown
# table of what a person waits for and what the page weighs — first-load bytes, navigation → interactive on
# loopback and on a 10 Mbit/s, 40 ms link, the tools/call round trip against a bare fetch, the SSE decoder's
# throughput in wasm, a 1,000-tool list and its search box, and the memory over 10,000 calls and after a 50 MB
# result — beside MCP Inspector's web client where it compares. Every time is the median of several runs with its
# spread.
# Not part of scripts/test.sh: timings are not pass/fail on a shared machine; the table says which budgets are met.
#
#   scripts/bench.sh              build, then measure (5 to 10 minutes on 2 cores after the build)
#   scripts/bench.sh --no-build   measure dist/ as it is (the hello page is still built: it is not kept)
#
# BENCH_RUNS (loads and 1,000-tool runs, default 7), BENCH_CALLS (round trips per side, default 30),
# BENCH_HEAP_CALLS (default 10000) and BENCH_HEAP_SECONDS (the calls for the memory figures stop there if they have
# not reached BENCH_HEAP_CALLS by then, default 240; see bench/measure.mjs) make a shorter run for trying it out.
#
# Everything runs on 127.0.0.1: the console, the hello page and Inspector's client from bench/static.mjs (gzip on),
# server-everything (streamableHttp: its POSTs answer SSE) and the TypeScript SDK peer
# (tests/peers/protected-server.mjs --no-auth --json-response, with --extra-tools 1000 or --big), Chromium through
# playwright-core (bench/package.json, pinned; bench/measure.mjs). Whatever it started ends when it does, however
# it ends (the trap below), Chromium's whole process group included.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

build=1
case "${1:-}" in
  "") ;;
  --no-build) build=0 ;;
  *) echo "usage: scripts/bench.sh [--no-build]" >&2; exit 2 ;;
esac

. scripts/tools.sh >&2
. scripts/peers.sh

# Progress goes to stderr (tools.sh's say prints to stdout), so that stdout is the table alone.
fail() { echo "bench.sh: $*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

work="$(mktemp -d /tmp/mcp-console-bench.XXXXXX)"
static_pid=""
measure_pid=""
finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$measure_pid" ]; then kill "$measure_pid" 2>/dev/null || true; wait "$measure_pid" 2>/dev/null || true; fi
  # Chromium leads its own process group (Playwright starts it detached). measure.mjs removes the pid file once it
  # has closed Chromium; if the file is still there, end the group.
  if [ -s "$work/browser.pid" ]; then
    local group; group=$(cat "$work/browser.pid")
    kill -- "-$group" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null || true
  fi
  if [ -n "$static_pid" ]; then kill "$static_pid" 2>/dev/null || true; wait "$static_pid" 2>/dev/null || true; fi
  stop_peers
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

# The bench's npm package (playwright-core), again only when the lockfile changed. No install scripts: nothing is
# downloaded but the package itself (playwright-core fetches no browser; Debian's is used).
if [ ! -f bench/node_modules/.ci-stamp ] || [ bench/package-lock.json -nt bench/node_modules/.ci-stamp ]; then
  say "npm ci in bench"
  (cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.ci-stamp) >&2 \
    || fail "npm ci in bench/ failed."
fi

# MCP Inspector's web client, to compare with: the version and integrity pinned in bench/package.json
# ("comparedWith", which says why it is not a dependency), fetched once with npm pack and checked before use.
pinned() { node -p "require('./bench/package.json').comparedWith['@modelcontextprotocol/inspector'].$1"; }
inspector_version=$(pinned version)
inspector_dir="bench/node_modules/.compared/inspector-$inspector_version"
if [ ! -f "$inspector_dir/index.html" ]; then
  say "MCP Inspector $inspector_version's web client (npm pack)"
  tgz=$(cd "$work" && npm pack "@modelcontextprotocol/inspector@$inspector_version" --silent 2>/dev/null) \
    || fail "npm pack @modelcontextprotocol/inspector@$inspector_version failed."
  node -e '
    const [file, want] = process.argv.slice(1);
    const got = "sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(file)).digest("base64");
    if (got !== want) { console.error(`${file} is ${got}, not the pinned ${want}`); process.exit(1); }
  ' "$work/$tgz" "$(pinned integrity)" || fail "the Inspector package does not match the integrity pinned in bench/package.json."
  rm -rf "$inspector_dir.part" && mkdir -p "$inspector_dir.part"
  client=$(pinned client)
  tar xzf "$work/$tgz" -C "$inspector_dir.part" --strip-components="$(tr -cd / <<<"$client/" | wc -c)" "$client" \
    || fail "the Inspector package has no $client."
  rm -rf "$inspector_dir" && mv "$inspector_dir.part" "$inspector_dir"
fi

# Runs a step with its output in a log, shown only when it fails.
quietly() {
  local what="$1"; shift
  local log="$work/step.log"
  "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; fail "$what failed (its output is above)."; }
}

if [ "$build" = 1 ]; then
  say "release build (trunk build --release)"
  quietly "the release build" trunk build --release
fi
say "the hello-world floor (bench/hello)"
quietly "the hello page's build" trunk build --release --dist "$work/hello" bench/hello/index.html

say "first-load bytes (scripts/sizes.sh --no-build)"
scripts/sizes.sh --no-build >"$work/sizes.txt" || fail "scripts/sizes.sh could not measure dist/."
# The hello page's bytes, in sizes.sh's columns.
brotli() { node -e 'process.stdout.write(String(require("zlib").brotliCompressSync(require("fs").readFileSync(process.argv[1]), {params: {[require("zlib").constants.BROTLI_PARAM_QUALITY]: 11}}).length))' "$1"; }
{
  t_raw=0; t_gz=0; t_br=0
  for f in "$work"/hello/index.html "$work"/hello/hello-*.js "$work"/hello/hello-*_bg.wasm; do
    [ -f "$f" ] || fail "the hello build has no $(basename "$f")."
    raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c); br=$(brotli "$f")
    t_raw=$((t_raw + raw)); t_gz=$((t_gz + gz)); t_br=$((t_br + br))
    printf '%-10s %10d %10d %10d  %s\n' hello "$raw" "$gz" "$br" "$(basename "$f")"
  done
  printf '%-10s %10d %10d %10d\n' "hello total" "$t_raw" "$t_gz" "$t_br"
} >"$work/hello-sizes.txt"

say "SSE decoder throughput in wasm (cargo test --release --test bench_sse, in headless Chromium)"
quietly "the SSE decoder benchmark" cargo test --release --target wasm32-unknown-unknown --test bench_sse -- --nocapture
grep -ao 'bench_sse: .*' "$work/step.log" | head -n 1 >"$work/sse.txt"
[ -s "$work/sse.txt" ] || fail "the SSE decoder benchmark printed no figure."

say "peers and the web server on 127.0.0.1"
start_everything streamableHttp
sse_server="http://127.0.0.1:$port/mcp"
# start_bench_peer FLAGS…: the TypeScript SDK peer without sign-in; sets $peer_url.
start_bench_peer() {
  local p; p=$(free_port)
  (cd tests/peers && exec node protected-server.mjs --port "$p" --no-auth "$@") >/dev/null 2>"$work/peer-$p.log" &
  PEER_PIDS+=($!)
  wait_port "$p" "the protected-server peer ($*)" || fail "the peer ($*) did not start."
  peer_url="http://127.0.0.1:$p/mcp"
}
start_bench_peer --json-response; json_server=$peer_url
start_bench_peer --json-response --extra-tools 1000; many_server=$peer_url
start_bench_peer --json-response --big; big_server=$peer_url

node bench/static.mjs --site console=dist --site hello="$work/hello" --site inspector="$inspector_dir" \
  >"$work/static.json" 2>"$work/static.log" &
static_pid=$!
for _ in $(seq 100); do [ -s "$work/static.json" ] && break; sleep 0.1; done
[ -s "$work/static.json" ] || fail "the web server (bench/static.mjs) did not start: $(cat "$work/static.log")"
site() { node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).sites[process.argv[2]]; if (s) console.log(s)' "$work/static.json" "$1"; }
inspector=$(site inspector)

say "measuring in headless Chromium (bench/measure.mjs)"
started=$SECONDS
node bench/measure.mjs --out "$work/results.json" --pid-file "$work/browser.pid" \
  --console "$(site console)" --hello "$(site hello)" ${inspector:+--inspector "$inspector"} \
  --sse-server "$sse_server" --json-server "$json_server" --many-server "$many_server" --big-server "$big_server" \
  --runs "${BENCH_RUNS:-7}" --calls "${BENCH_CALLS:-30}" --heap-calls "${BENCH_HEAP_CALLS:-10000}" \
  --heap-seconds "${BENCH_HEAP_SECONDS:-240}" &
measure_pid=$!
wait "$measure_pid" || { measure_pid=""; fail "measuring failed (bench/measure.mjs said why above)."; }
measure_pid=""

node bench/table.mjs --results "$work/results.json" --sizes "$work/sizes.txt" --hello-sizes "$work/hello-sizes.txt" \
  --sse "$work/sse.txt" --seconds "$((SECONDS - started))" --nproc "$(nproc)" || fail "the table could not be printed."
