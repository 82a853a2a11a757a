#!/usr/bin/env bash
# Builds the browser SDK (client-wasm) as an importable ES-module package in client-wasm/pkg/:
#   howl_client_wasm.js       the JS glue (ES module, `--target web`)
#   howl_client_wasm_bg.wasm  the module, optimized with wasm-opt -Oz
#   howl_client_wasm.d.ts     TypeScript typings
#   package.json
# Downloads nothing: it uses the installed wasm-bindgen-cli (must equal the wasm-bindgen crate
# in Cargo.lock) and npm binaryen 132's node_modules/.bin/wasm-opt (never Debian's binaryen,
# whose wasm-opt breaks today's wasm-bindgen output). scripts/ensure-tools.sh installs both.
#
# Usage: scripts/build-sdk.sh [--no-opt] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

out=client-wasm/pkg
optimize=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-opt) optimize=0 ;;
    --out) out="$2"; shift ;;
    *) echo "usage: $0 [--no-opt] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\033[1;34m[build-sdk]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[build-sdk]\033[0m %s\n' "$*" >&2; exit 1; }

locked=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
installed=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
[ -n "$installed" ] || die "wasm-bindgen-cli is not installed: run scripts/ensure-tools.sh"
[ "$installed" = "$locked" ] ||
  die "wasm-bindgen-cli is $installed but Cargo.lock has wasm-bindgen $locked: run scripts/ensure-tools.sh"
wasm_opt=node_modules/.bin/wasm-opt
if [ $optimize = 1 ] && ! "$wasm_opt" --version 2>/dev/null | grep -q "version 132"; then
  die "$wasm_opt (npm binaryen 132) is missing: run scripts/ensure-tools.sh (or pass --no-opt)"
fi

log "cargo build (profile wasm-release, wasm32-unknown-unknown)"
cargo build -p howl-client-wasm --lib --target wasm32-unknown-unknown --profile wasm-release --locked
# Cargo's output directory: CARGO_TARGET_DIR when set (a worktree's own), else target/.
wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/howl_client_wasm.wasm

log "wasm-bindgen --target web → $out"
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name howl_client_wasm "$wasm"
# free(), Symbol.dispose and Symbol.asyncDispose close the connection (see the file).
cat client-wasm/js/dispose.js >> "$out/howl_client_wasm.js"

if [ $optimize = 1 ]; then
  log "wasm-opt -Oz"
  # The features rustc enables by default for wasm32-unknown-unknown.
  "$wasm_opt" -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/howl_client_wasm_bg.wasm" -o "$out/howl_client_wasm_bg.wasm"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' client-wasm/Cargo.toml | head -1)
cat > "$out/package.json" <<JSON
{
  "name": "howl-client",
  "version": "$version",
  "description": "Browser SDK for the Howl pub/sub WebSocket hub",
  "license": "MIT",
  "type": "module",
  "main": "howl_client_wasm.js",
  "module": "howl_client_wasm.js",
  "types": "howl_client_wasm.d.ts",
  "files": ["howl_client_wasm.js", "howl_client_wasm_bg.wasm", "howl_client_wasm.d.ts", "howl_client_wasm_bg.wasm.d.ts"],
  "sideEffects": false
}
JSON

raw=$(wc -c < "$out/howl_client_wasm_bg.wasm")
gz=$(gzip -9 -c "$out/howl_client_wasm_bg.wasm" | wc -c)
log "done: $out/howl_client_wasm_bg.wasm is $raw bytes, $gz gzipped (gzip -9)"
