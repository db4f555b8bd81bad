#!/usr/bin/env bash
# Prints the release build's sizes (wasm, js, css), raw and gzip -9, from dist/.
# Builds first unless --no-build is given.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${1:-}" != "--no-build" ]; then
  . scripts/tools.sh
  trunk build --release >/dev/null
fi
printf '%-6s %10s %10s  %s\n' kind raw gzip file
total_raw=0; total_gz=0
for ext in wasm js css; do
  for f in dist/*."$ext"; do
    [ -e "$f" ] || continue
    raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-6s %10d %10d  %s\n' "$ext" "$raw" "$gz" "$(basename "$f")"
  done
done
printf '%-6s %10d %10d\n' total "$total_raw" "$total_gz"
