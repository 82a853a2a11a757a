#!/usr/bin/env bash
# Installs every tool Howl's build and tests need, skipping each one already present at the
# right version, so a second run takes seconds. Called by scripts/run and scripts/test.
#
# Usage: scripts/ensure-tools.sh [run|test]
#   run  - what building and running the server with the demo UI needs
#   test - that, plus redis-server, chromium and chromedriver for the test suite
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-test}"
TRUNK_VERSION=0.21.14
# Also in scripts/fuzz, which checks it when run on its own.
CARGO_FUZZ_VERSION=$(sed -n 's/^CARGO_FUZZ_VERSION=//p' scripts/fuzz)
# Pinned once, in the root Cargo.toml; this also fails (saying what to fix) if Cargo.lock or
# Trunk.toml disagree with the pin.
WASM_BINDGEN_VERSION=$(scripts/wasm-bindgen-version.sh --check)

log() { printf '\033[1;34m[ensure-tools]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

export PATH="$HOME/.cargo/bin:$PATH"

# The installs are independent, so they run at once: the downloads (Debian packages, npm, the
# nightly toolchain) overlap the compiles, and each compile's single-threaded stretches
# (the final crates, linking) overlap the others'. Each job logs to its own file, shown when
# it fails.
jobs_dir=$(mktemp -d)
trap 'rm -rf "$jobs_dir"' EXIT
pids=()
names=()
start_job() {
  local name=$1
  shift
  log "$name"
  ("$@") >"$jobs_dir/${#names[@]}.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  start_job "rustup target add wasm32-unknown-unknown" rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  # --debug: trunk only orchestrates builds, so an unoptimised binary loses nothing we can
  # measure, and it compiles in 4 m 43 s instead of ~8 min on 2 cores (measured 2026-12-05).
  start_job "cargo install trunk $TRUNK_VERSION (a few minutes, once)" \
    cargo install trunk --version "$TRUNK_VERSION" --locked --debug --quiet
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  # --locked fails for this version: a dependency pinned in its lock file is gone from the
  # registry.
  start_job "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)" \
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --quiet
fi

# npm packages, from the root package-lock.json in one `npm ci`: wasm-opt from binaryen@132
# (Debian's binaryen (108) produces broken wasm for today's wasm-bindgen output, so it must
# never be used) and esbuild (it minifies the SDK's glue) for scripts/build-sdk.sh, jsonwebtoken
# for the security guide's test, and the examples' Vite, webpack and TypeScript (npm workspaces
# examples/*, hoisted into node_modules/). Skipped while
# node_modules was installed from the same package.json files and lock (a stamp of their hash).
npm_inputs() { cat package.json package-lock.json examples/*/package.json | sha256sum | cut -d' ' -f1; }
npm_stamp=node_modules/.howl-npm-inputs
npm_install() {
  npm ci --no-audit --no-fund --silent
  npm_inputs >"$npm_stamp"
}
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$(npm_inputs)" ] || [ ! -x node_modules/.bin/wasm-opt ] \
  || ! node_modules/.bin/wasm-opt --version | grep -q "version 132" || [ ! -x node_modules/.bin/esbuild ]; then
  start_job "npm ci (binaryen 132 for wasm-opt; esbuild; jsonwebtoken; the examples' vite, webpack, typescript)" \
    npm_install
fi

apt_missing=()
# `make` builds jemalloc, the howl binary's allocator (tikv-jemalloc-sys); the C compiler it
# also needs is already required to link Rust code.
command -v make >/dev/null || apt_missing+=(make)
if [ "$mode" = test ]; then
  for pkg in redis-server chromium chromium-driver; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_missing+=("$pkg")
  done
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  start_job "apt-get install ${apt_missing[*]}" apt_install "${apt_missing[@]}"
fi
if [ "$mode" = test ]; then
  # The fuzz smoke run's tools (scripts/fuzz installs them too, when run on its own).
  if ! rustup toolchain list | grep -q '^nightly' \
    || ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    start_job "nightly toolchain and cargo-fuzz $CARGO_FUZZ_VERSION (for the fuzz smoke run)" \
      scripts/fuzz --install-only
  fi
fi

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    log "FAILED: ${names[$i]}"
    cat "$jobs_dir/$i.log" >&2
    failed=1
  fi
done
[ $failed = 0 ] || exit 1
log "tools ready"
