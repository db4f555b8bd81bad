#!/usr/bin/env bash
# Runs every test layer and exits non-zero on any failure:
#   1. lints and native tests (core logic, tidy rules)       cargo clippy, cargo test
#   2. bounded fuzzing of the SSE decoder, JSON-RPC decoding,     scripts/fuzz.sh
#      WWW-Authenticate and the OAuth metadata and token readers
#      and the test peers' own suites                         node --test, python (tests/peers)
#   3. the release build, its size ratchet and its archive    trunk build --release, scripts/sizes.sh,
#                                                             node --test tests/release.test.mjs
#   4. browser tests in headless Chromium                     cargo test --target wasm32 (tests/web.rs)
#   5. end-to-end: the built console driven by WebDriver      cargo test --features e2e (tests/e2e)
#   6. the MCP conformance suite's client scenarios           tests/conformance/run.sh (0.1.16 and
#      0.2.0-alpha.12; the extension scenarios are reported, not required)
# Installs whatever is missing first (scripts/tools.sh). Ends by checking that nothing it started
# is still running (scripts/leftovers.py), pass or fail.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/tools.sh

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$SECONDS
# Everything below is also written to a log so the closing line can total the counts.
log="$(mktemp)"
exec > >(tee "$log") 2>&1
log_writer=$!
# Every process the run starts inherits this marker; the check at exit looks for it.
export MCP_CONSOLE_TEST_RUN="$$-$(date +%s%N)"
. scripts/peers.sh
finish() {
  local status=$?
  stop_peers
  python3 scripts/leftovers.py "$log_writer" || status=1
  exit "$status"
}
trap finish EXIT

step "lints"
cargo clippy --all-targets --features e2e --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings

step "native tests"
cargo test

step "fuzzing (cargo-fuzz on nightly: SSE, JSON-RPC, WWW-Authenticate, OAuth readers, 20 s each)"
scripts/fuzz.sh 20

step "test peers' own suites"
(cd tests/peers && node --test)
(cd tests/peers/python && .venv/bin/python test_server.py)

step "release build, and the size ratchet (bench/size-budget)"
trunk build --release
scripts/sizes.sh --check

step "release archive (scripts/release.mjs): its files, checksums and headers, packed the same twice"
node --test tests/release.test.mjs

step "browser tests (wasm-bindgen-test in headless Chromium)"
# server-everything in both transports for the browser tests, on free loopback ports, with an
# empty environment (its get-env tool prints it).
start_everything streamableHttp; http_port=$port
start_everything sse; sse_port=$port
MCP_EVERYTHING_URL="http://127.0.0.1:$http_port/mcp" MCP_EVERYTHING_SSE_URL="http://127.0.0.1:$sse_port/sse" \
  cargo test --target wasm32-unknown-unknown --test web

step "end-to-end tests (WebDriver + headless Chromium + real peers)"
cargo test --features e2e --test e2e

step "MCP conformance suite, client scenarios (the console in headless Chromium)"
tests/conformance/run.sh initialize tools_call sse-retry elicitation-sep1034-client-defaults \
  auth/metadata-default auth/metadata-var1 auth/metadata-var2 auth/metadata-var3 auth/basic-cimd \
  auth/scope-from-www-authenticate auth/scope-from-scopes-supported auth/scope-omitted-when-undefined \
  auth/scope-step-up auth/scope-retry-limit auth/token-endpoint-auth-basic auth/token-endpoint-auth-post \
  auth/token-endpoint-auth-none auth/pre-registration auth/2025-03-26-oauth-metadata-backcompat \
  auth/2025-03-26-oauth-endpoint-fallback auth/resource-mismatch auth/offline-access-scope \
  auth/offline-access-not-supported

step "MCP conformance suite 0.2.0-alpha.12: every client scenario that is not an extension"
# Scenarios of both eras run at the revision the suite picks; tools_call and
# json-schema-2020-12-preservation also at 2026-07-28, where their checks differ.
tests/conformance/run.sh --next $(tests/conformance/run.sh --next --list | awk '/^  - / && !/extension/ {print $2}') \
  tools_call@2026-07-28 json-schema-2020-12-preservation@2026-07-28

step "MCP conformance suite 0.2.0-alpha.12: the extension scenarios, reported (not required)"
tests/conformance/run.sh --next --report-only $(tests/conformance/run.sh --next --list | awk '/^  - / && /extension/ {print $2}')

step "all test layers passed in $((SECONDS - started)) s"
cargo_passed=$(grep -aoE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
node_passed=$(grep -aoE '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
# The Python peer's checks and the conformance scenarios close with "[name: ]N passed, N failed".
other_passed=$(grep -aE '^([A-Za-z0-9. -]+: )?[0-9]+ passed, 0 failed$' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
echo "tests: $((cargo_passed + node_passed + other_passed)) passed, 0 failed"
