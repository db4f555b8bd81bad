#!/usr/bin/env bash
# Builds the console and packs the release: release/mcp-console-VERSION.tar.gz with every static
# file, an example config.json, headers.json (the HTTP headers each file needs) and SHA256SUMS.
# Arguments go to scripts/release.mjs (--out DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/tools.sh
trunk build --release
node scripts/release.mjs "$@"
