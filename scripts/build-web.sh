#!/usr/bin/env bash
# Builds a browser package (wasm-pack --target web), optimises it with
# wasm-opt from the npm binaryen package, and reports its gzipped size.
# Usage: scripts/build-web.sh [CRATE_DIR OUT_DIR]; the default builds the
# client into pkg/ (OUT_DIR is relative to CRATE_DIR, as for wasm-pack).
set -euo pipefail
cd "$(dirname "$0")/.."
crate=${1:-.}
out=${2:-pkg}
# The client is built with the `web` profile (its own code optimised for size, Cargo.toml);
# other crates (the benchmark page) as `release`.
if [ "$crate" = . ]; then profile=(--profile web); else profile=(--release); fi
wasm-pack build "$crate" --target web "${profile[@]}" --out-dir "$out" --no-pack 2>&1 | grep -v '^\[INFO\]' || true
wasm=$(echo "$crate/$out/"*_bg.wasm)
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
printf '[build-web] %s: %d bytes, %d bytes gzipped\n' "$wasm" "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
