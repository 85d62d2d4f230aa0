#!/usr/bin/env bash
# Builds the browser package into pkg/ (wasm-pack --target web), optimises it
# with wasm-opt from the npm binaryen package, and reports its gzipped size.
set -euo pipefail
cd "$(dirname "$0")/.."
wasm-pack build --target web --release --out-dir pkg --no-pack 2>&1 | grep -v '^\[INFO\]' || true
wasm=pkg/dashlight_bg.wasm
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
printf '[build-web] %s: %d bytes, %d bytes gzipped\n' "$wasm" "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
