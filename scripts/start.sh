#!/usr/bin/env bash
# npm start: sets up, builds, and runs the replay peer (real testnet data), the
# bridge and the dev page; prints the URL. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh
cargo build -q -p dashlight-replay-peer -p dashlight-bridge

P2P_PORT=${P2P_PORT:-19999}
CONTROL_PORT=${CONTROL_PORT:-19990}
BRIDGE_PORT=${BRIDGE_PORT:-8546}
PAGE_PORT=${PORT:-8080}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
target/debug/dashlight-replay-peer --listen "127.0.0.1:$P2P_PORT" --control "127.0.0.1:$CONTROL_PORT" \
  --fixtures ../shared/fixtures --isdlocks &
pids+=($!)
target/debug/dashlight-bridge --listen "127.0.0.1:$BRIDGE_PORT" --network testnet \
  --target "127.0.0.1:$P2P_PORT" --allow-private --rate-limit 0 &
pids+=($!)
node scripts/serve.mjs "$PAGE_PORT" &
pids+=($!)
sleep 1
# The replay peer answers only the requests it has captures for, so the page
# shortens timeouts (timeoutScale) to get past the unanswerable ones quickly.
# Its captured headers end far below Dash Core's nMinimumChainWork, so the page
# lowers the client's minimum chain work to none (minimumChainWork=0): under the
# default floor the replayed chain would never be reported as synced.
echo
echo "dashlight dev page: http://127.0.0.1:$PAGE_PORT/?bridge=ws://127.0.0.1:$BRIDGE_PORT/&base=898560&timeoutScale=0.05&minimumChainWork=0&autostart=1"
echo "replay peer counters: http://127.0.0.1:$CONTROL_PORT/counters"
wait
