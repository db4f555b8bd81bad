#!/usr/bin/env bash
# Fuzzes the pure decoders for a bounded time and fails if any target finds a crash:
#   sse_decoder     SseDecoder never panics, and cutting a stream into chunks changes nothing
#   jsonrpc_decode  Message::decode_all never panics, and decode_all(encode(m)) == [m]
#   www_authenticate  challenge::parse/bearer never panic, schemes are tokens, and they agree
#   oauth_readers   resource and server metadata (and their checks) and token answers never panic
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
#
# Needs the machine's nightly toolchain (libFuzzer's instrumentation is nightly-only); installs
# cargo-fuzz at a pinned version if it is missing. Each target starts from a fresh corpus copied
# from fuzz/seeds/<target>; a crash is written to fuzz/artifacts/<target>/ and the script exits 1.
# FUZZ_SANITIZER=none builds without AddressSanitizer (faster; the default is address).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
cd "$FUZZ"

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(sse_decoder jsonrpc_decode www_authenticate oauth_readers)
secs="${1:-30}"
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]  (a whole number of seconds, got '$secs')" >&2
  exit 2
fi
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing ('rustup toolchain list' should show nightly)" >&2
  exit 1
fi

if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  # A fast build of the tool: it only drives cargo and libFuzzer, so LTO buys nothing.
  export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force --quiet \
    || cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --force --quiet
  unset CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS
fi

# One build for every target (release, overflow checks, the sanitizer), so the runs below only
# check that it is up to date. Without debug assertions: idna's assume the Unicode back end the
# console leaves out (idna_adapter 1.0: ASCII hosts, Cargo.toml), and an xn-- label that decodes to,
# say, U+200F trips one; release builds never run them. Overflow checks stay on, for our code.
export RUSTFLAGS="-Coverflow-checks=on"
cargo +nightly fuzz build -O --sanitizer "$sanitizer"

logs="$FUZZ/target/fuzz-logs"
mkdir -p "$logs"
summary=()
failed=0
for target in "${TARGETS[@]}"; do
  corpus="$FUZZ/corpus/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp "$FUZZ/seeds/$target"/* "$corpus/"
  log="$logs/$target.log"
  echo "fuzz: running $target for $secs s (log: ${log#"$ROOT"/})"
  started=$SECONDS
  status=0
  cargo +nightly fuzz run -O --sanitizer "$sanitizer" "$target" "$corpus" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -dict="$FUZZ/dicts/$target.dict" -print_final_stats=1 >"$log" 2>&1 || status=$?
  took=$((SECONDS - started))
  runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  [[ -n "$runs" ]] || runs=$(grep -aoE '^#[0-9]+[[:space:]]+DONE' "$log" | grep -oE '[0-9]+' | tail -1 || true)
  [[ -n "$runs" ]] || runs="?"
  if [[ $status -eq 0 ]]; then
    summary+=("fuzz $target: $runs runs in $took s, no crash")
  else
    failed=1
    artifact=$(grep -aoE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
    summary+=("fuzz $target: FAILED (exit $status) after $runs runs in $took s; input: ${artifact:-none written}")
    echo "---- $target: end of $log ----" >&2
    grep -avE '^"' "$log" | grep -aB2 -A12 -m1 -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)' >&2 \
      || tail -n 40 "$log" >&2
    if [[ -n "$artifact" ]]; then
      echo "reproduce: RUSTFLAGS=-Coverflow-checks=on cargo +nightly fuzz run -O $target ${artifact#"$FUZZ"/}  (in fuzz/)" >&2
    fi
  fi
done

printf '%s\n' "${summary[@]}"
exit "$failed"
