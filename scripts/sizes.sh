#!/usr/bin/env bash
# Prints the release build's bytes from dist/: every file of the first load (the page, Trunk's
# loader, the wasm, the stylesheet) and every file loaded later (the sign-in callback page, the MCP Apps sandbox), raw,
# gzip -9 and brotli 11. Bytes are deterministic, so this is a check, not a timing.
#
#   scripts/sizes.sh              build first, then print
#   scripts/sizes.sh --no-build   print dist/ as it is
#   scripts/sizes.sh --check      print dist/ as it is, and fail when the first load's gzip total
#                                 is over the budget in bench/size-budget (the size ratchet)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
case "${1:-}" in
  --no-build | --check) ;;
  "") . scripts/tools.sh; trunk build --release >/dev/null ;;
  *) echo "usage: scripts/sizes.sh [--no-build | --check]" >&2; exit 2 ;;
esac

first=(dist/index.html dist/mcp-console-*.js dist/mcp-console-*_bg.wasm dist/console-*.css)
later=(dist/callback.html dist/callback.js dist/sandbox.html dist/sandbox.js)
for f in "${first[@]}" "${later[@]}"; do
  [ -f "$f" ] || { echo "sizes.sh: $f is missing; build first (trunk build --release)" >&2; exit 3; }
done

# Node's zlib has brotli; gzip -9 is the figure the budget is written in.
brotli() { node -e 'process.stdout.write(String(require("zlib").brotliCompressSync(require("fs").readFileSync(process.argv[1]), {params: {[require("zlib").constants.BROTLI_PARAM_QUALITY]: 11}}).length))' "$1"; }

table() {
  local what="$1"; shift
  local raw gz br t_raw=0 t_gz=0 t_br=0
  for f in "$@"; do
    raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c); br=$(brotli "$f")
    t_raw=$((t_raw + raw)); t_gz=$((t_gz + gz)); t_br=$((t_br + br))
    printf '%-10s %10d %10d %10d  %s\n' "$what" "$raw" "$gz" "$br" "$(basename "$f")"
  done
  printf '%-10s %10d %10d %10d\n' "$what total" "$t_raw" "$t_gz" "$t_br"
  total_gz=$t_gz
}

printf '%-10s %10s %10s %10s  %s\n' load raw gzip brotli file
table first "${first[@]}"
first_gz=$total_gz
table later "${later[@]}"

if [ "${1:-}" = "--check" ]; then
  budget=$(grep -oE '^[0-9]+' bench/size-budget | head -1)
  if [ "$first_gz" -gt "$budget" ]; then
    echo "size ratchet: the first load is $first_gz B gzip, over the budget of $budget B in bench/size-budget." >&2
    echo "Cut the bytes, or raise the budget with a line in the README saying what for." >&2
    exit 1
  fi
  echo "size ratchet: first load $first_gz B gzip, within the budget of $budget B ($((budget - first_gz)) B to spare)."
  if [ $((budget - first_gz)) -gt 1000 ]; then
    echo "Record the progress: lower bench/size-budget to $first_gz."
  fi
fi
