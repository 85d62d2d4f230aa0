#!/usr/bin/env bash
# npm test: every test — native, in headless Chromium, end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== native tests"
cargo test --workspace
echo "== wasm tests in headless Chromium"
CHROMEDRIVER=$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=600 wasm-pack test --headless --chrome
