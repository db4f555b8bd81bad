#!/usr/bin/env bash
# Installs, once, every tool the build and the tests need, at pinned versions, and nothing by
# hand: the wasm32 target, wasm-bindgen-cli (equal to Cargo.toml's wasm-bindgen), Trunk, Debian's
# Chromium and ChromeDriver, and the npm packages (the test peers and wasm-opt from binaryen).
# Safe to run again: each step checks first. Source it (`. scripts/tools.sh`) to get PATH set.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/tools/npm/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Built without LTO and with many codegen units: a tool's speed does not matter, CI time does.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lockfile wants a webpki-roots version the registry no longer has.
  fast_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 8 minutes on 2 cores, once)"
  fast_install trunk --version "$TRUNK_VERSION" --locked
fi

# Debian's nginx (light, with the brotli_static module) serves the release in the deploy test; its
# service is not started (no init here), and the test runs its own on loopback.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v curl >/dev/null \
  || ! command -v nginx >/dev/null || ! command -v envsubst >/dev/null \
  || [ ! -e /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ]; then
  say "installing Debian's chromium, chromium-driver, curl (the history test runs a copied curl command), nginx-light with brotli_static and envsubst"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver curl \
    nginx-light libnginx-mod-http-brotli-static gettext-base >/dev/null
fi

# npm ci only when the lockfile changed since the last install.
npm_ci() {
  local dir="$ROOT/$1"
  if [ ! -f "$dir/node_modules/.ci-stamp" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.ci-stamp" ]; then
    say "npm ci in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.ci-stamp)
  fi
}
npm_ci tools/npm
npm_ci tests/peers
npm_ci tests/peers/modern

# The Python MCP peer (mcp from PyPI) in its own venv; quiet when up to date.
"$ROOT/tests/peers/python/install.sh"

# Trunk refuses to run with NO_COLOR=1, and must not look for newer versions of itself.
unset NO_COLOR
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
