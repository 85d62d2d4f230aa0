#!/usr/bin/env bash
# The header-sync benchmark in headless Chromium (docs/benchmarks.md):
# builds browser-bench/ and runs it. Arguments go to browser-bench/run.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh browser-bench page/pkg
node browser-bench/run.mjs "$@"
