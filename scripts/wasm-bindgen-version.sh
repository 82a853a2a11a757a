#!/usr/bin/env bash
# Prints the wasm-bindgen version the workspace pins: the `wasm-bindgen = "=X.Y.Z"` line of
# `[workspace.dependencies]` in the root Cargo.toml, the one place it is defined. The installed
# wasm-bindgen-cli must be exactly this version (scripts/ensure-tools.sh installs it; the
# Dockerfile too).
#
# Usage: scripts/wasm-bindgen-version.sh [--check]
#   --check  also fail, with a message saying what to change, unless Cargo.lock resolves
#            wasm-bindgen to that version and Trunk.toml's `[tools] wasm_bindgen`, if set,
#            names it too
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "scripts/wasm-bindgen-version.sh: $*" >&2; exit 1; }

version=$(sed -n '/^\[workspace\.dependencies\]/,/^\[/ s/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' Cargo.toml)
[ -n "$version" ] && [ "$(printf '%s\n' "$version" | wc -l)" = 1 ] ||
  die 'expected one exact pin `wasm-bindgen = "=X.Y.Z"` in [workspace.dependencies] of Cargo.toml'

if [ "${1:-}" = --check ]; then
  others=$(grep -lE '^wasm-bindgen *= *("|\{[^}]*version)' ./*/Cargo.toml || true)
  [ -z "$others" ] ||
    die "wasm-bindgen's version is set in $others: use \`wasm-bindgen.workspace = true\` there"
  locked=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
  [ "$locked" = "$version" ] ||
    die "Cargo.lock has wasm-bindgen ${locked:-(none)}, Cargo.toml pins =$version: run \`cargo update -p wasm-bindgen\`"
  trunk=$(sed -n 's/^wasm_bindgen *= *"\(.*\)".*/\1/p' Trunk.toml)
  [ -z "$trunk" ] || [ "$trunk" = "$version" ] ||
    die "Trunk.toml has [tools] wasm_bindgen = \"$trunk\", Cargo.toml pins =$version: make them equal"
fi
echo "$version"
