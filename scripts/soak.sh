#!/usr/bin/env bash
# npm run soak -- --minutes N [--speed S]: the browser soak (tests/e2e/soak.test.mjs)
# for N real minutes (default 3) against the replay peer in live mode at S× (default 60):
# the dev page in headless Chromium through the bridge, N × S / 60 simulated hours.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=3
speed=60
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="${2:?--minutes needs a number}"; shift 2 ;;
    --speed) speed="${2:?--speed needs a number}"; shift 2 ;;
    *) echo "usage: npm run soak -- [--minutes N] [--speed S]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
bash scripts/build-web.sh
cargo build -p dashlight-replay-peer -p dashlight-bridge
DASHLIGHT_SOAK_MINUTES="$minutes" DASHLIGHT_SOAK_SPEED="$speed" node --test tests/e2e/soak.test.mjs
