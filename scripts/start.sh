#!/usr/bin/env bash
# npm start: sets up, builds the browser package and serves the dev page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh
exec node scripts/serve.mjs "${PORT:-8080}"
