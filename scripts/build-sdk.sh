#!/usr/bin/env bash
# Builds the browser SDK (client-wasm) as an importable ES-module package in client-wasm/pkg/:
#   howl_client.js            the entry: re-exports the glue; its `init` falls back to the
#                             embedded copy where a bundler did not emit the .wasm (esbuild)
#   howl_client_wasm.js       the JS glue (ES module, `--target web`), minified with esbuild
#   howl_client_wasm_bg.wasm  the module, optimized with wasm-opt -Oz
#   howl_client_wasm_inline.js  the same module, base64, for that fallback
#   howl_client.d.ts, howl_client_wasm.d.ts  TypeScript typings
#   package.json              npm package `howl-client`, version = the howl-client-wasm crate's
# and packs it with `npm pack` into client-wasm/howl-client-<version>.tgz (beside the package
# directory), the file web developers install: `npm install path/to/howl-client-<version>.tgz`.
# Downloads nothing: it uses the installed wasm-bindgen-cli (must equal the wasm-bindgen crate
# in Cargo.lock), npm binaryen 132's node_modules/.bin/wasm-opt (never Debian's binaryen,
# whose wasm-opt breaks today's wasm-bindgen output) and npm esbuild's node_modules/.bin/esbuild
# (minifies the glue). scripts/ensure-tools.sh installs them.
#
# A build whose inputs (cargo's module, this script, the tools, version, options) did not change
# is copied from ${CARGO_TARGET_DIR:-target}/build-sdk-cache/ instead of being redone.
#
# Usage: scripts/build-sdk.sh [--no-opt] [--out DIR]   (the tarball goes to DIR/..)
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

# The figures the README quotes: the .wasm and the glue, each raw and gzip -9.
sizes() {
  local w=$1/howl_client_wasm_bg.wasm g=$1/howl_client_wasm.js
  local wr wg gr gg
  wr=$(wc -c < "$w"); wg=$(gzip -9 -c "$w" | wc -c)
  gr=$(wc -c < "$g"); gg=$(gzip -9 -c "$g" | wc -c)
  log "done: .wasm $wr bytes ($wg gzipped), glue $gr bytes ($gg gzipped): $((wg + gg)) bytes gzipped (gzip -9)"
}
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
esbuild=node_modules/.bin/esbuild
if [ $optimize = 1 ] && ! "$esbuild" --version >/dev/null 2>&1; then
  die "$esbuild (npm esbuild) is missing: run scripts/ensure-tools.sh (or pass --no-opt)"
fi

log "cargo build (profile wasm-release, wasm32-unknown-unknown)"
cargo build -p howl-client-wasm --lib --target wasm32-unknown-unknown --profile wasm-release --locked
# Cargo's output directory: CARGO_TARGET_DIR when set (a worktree's own), else target/.
wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/howl_client_wasm.wasm
# The crate's version (Cargo resolves `version.workspace = true` too).
version=$(cargo metadata --no-deps --format-version 1 --locked |
  node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
           process.stdout.write(m.packages.find((p) => p.name === "howl-client-wasm").version)')
# The rest depends only on cargo's module, this script, the files it copies or appends, the
# tools, the version and the options: a package built from the same inputs is copied from a
# cache instead (each e2e test binary builds the package; only the first pays for wasm-opt,
# ~10 s).
cache_root=${CARGO_TARGET_DIR:-target}/build-sdk-cache
key=$({ sha256sum "$wasm" scripts/build-sdk.sh client-wasm/README.md client-wasm/js/*
  echo "$installed $optimize $version"; "$wasm_opt" --version 2>/dev/null || true
  "$esbuild" --version 2>/dev/null || true; } |
  sha256sum | cut -c1-16)
mkdir -p "$out" "$cache_root"
if [ -f "$cache_root/$key/done" ]; then
  rm -rf "$out" && mkdir -p "$out" && cp -R "$cache_root/$key/pkg/." "$out/"
  rm -f "$out"/../howl-client-*.tgz && cp "$cache_root/$key"/howl-client-*.tgz "$out/.."
  log "unchanged inputs: copied the package built before ($cache_root/$key) to $out"
  sizes "$out"
  exit 0
fi

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
  log "esbuild --minify (the glue)"
  # Exports, `import.meta.url` and the `new URL("howl_client_wasm_bg.wasm", import.meta.url)`
  # that Vite and webpack look for survive minification.
  "$esbuild" --minify --format=esm --log-level=warning "$out/howl_client_wasm.js" \
    --outfile="$out/howl_client_wasm.min.js"
  mv "$out/howl_client_wasm.min.js" "$out/howl_client_wasm.js"
fi

# The entry and the embedded copy of the .wasm its `init` falls back to (client-wasm/js/entry.js).
cp client-wasm/js/entry.js "$out/howl_client.js"
cp client-wasm/js/entry.d.ts "$out/howl_client.d.ts"
node - "$out" <<'NODE'
const fs = require("fs");
const dir = process.argv[2];
const base64 = fs.readFileSync(`${dir}/howl_client_wasm_bg.wasm`).toString("base64");
fs.writeFileSync(`${dir}/howl_client_wasm_inline.js`, `// The SDK's .wasm, base64-encoded: what init() compiles when the bundler emitted no .wasm.
const WASM = "${base64}";
/** The module's bytes. */
export function wasmBytes() {
  const text = atob(WASM);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
`);
NODE

# What bundlers' file/asset loaders give for `import url from "howl-client/howl_client_wasm_bg.wasm"`.
cat > "$out/howl_client_wasm_bg.wasm.url.d.ts" <<'TS'
/** The URL of the SDK's `.wasm`, as a bundler's file/asset loader gives it (e.g. esbuild
 * `--loader:.wasm=file`); pass it to `init({ module_or_path })`. */
declare const url: string;
export default url;
TS
# npm shows the README without the repository around it: a relative link becomes the path it
# names in the repository, as text (`[examples/](../examples)` → "examples/ (in the Howl
# repository)", `[below](x.md)` → "below (the Howl repository's `client-wasm/x.md`)"). Links to
# anchors and absolute URLs stay.
node - client-wasm/README.md "$out/README.md" <<'NODE'
const fs = require("fs");
const path = require("path");
const [from, to] = process.argv.slice(2);
const text = fs.readFileSync(from, "utf8").replace(
  /\[([^\]]+)\]\((?![a-z]+:|#)([^)#]+)(#[^)]*)?\)/g,
  (_, label, target) => {
    const file = path.posix.normalize(path.posix.join("client-wasm", target)).replace(/\/$/, "");
    const named = label.replace(/`/g, "").replace(/\/$/, "");
    return file.endsWith(named) ? `${label} (in the Howl repository)` : `${label} (the Howl repository's \`${file}\`)`;
  },
);
fs.writeFileSync(to, text);
NODE
cat > "$out/package.json" <<JSON
{
  "name": "howl-client",
  "version": "$version",
  "description": "Browser SDK for the Howl pub/sub WebSocket hub",
  "license": "MIT",
  "type": "module",
  "main": "./howl_client.js",
  "module": "./howl_client.js",
  "types": "./howl_client.d.ts",
  "exports": {
    ".": {
      "types": "./howl_client.d.ts",
      "import": "./howl_client.js",
      "default": "./howl_client.js"
    },
    "./howl_client_wasm_bg.wasm": {
      "types": "./howl_client_wasm_bg.wasm.url.d.ts",
      "default": "./howl_client_wasm_bg.wasm"
    },
    "./package.json": "./package.json"
  },
  "files": [
    "howl_client.js",
    "howl_client.d.ts",
    "howl_client_wasm.js",
    "howl_client_wasm_inline.js",
    "howl_client_wasm.d.ts",
    "howl_client_wasm_bg.wasm",
    "howl_client_wasm_bg.wasm.d.ts",
    "howl_client_wasm_bg.wasm.url.d.ts",
    "README.md"
  ],
  "sideEffects": false,
  "keywords": ["websocket", "pubsub", "realtime", "wasm", "howl"]
}
JSON

sizes "$out"

rm -f "$out"/../howl-client-*.tgz # an older version's, so exactly one tarball is there
tarball=$(cd "$out/.." && pwd)/$(cd "$out" && npm pack --silent --pack-destination ..)
log "packed: $tarball"

# Into the cache, atomically (a rename), keeping only this build.
tmp=$(mktemp -d "$cache_root/.tmp.XXXXXX")
cp -R "$out" "$tmp/pkg" && cp "$tarball" "$tmp/" && touch "$tmp/done"
mv -T "$tmp" "$cache_root/$key" 2>/dev/null || rm -rf "$tmp"
find "$cache_root" -mindepth 1 -maxdepth 1 ! -name "$key" ! -name '.tmp.*' -exec rm -rf {} +
