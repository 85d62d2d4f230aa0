#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 30), seeded with the
# real payloads in ../shared/fixtures. Installs cargo-fuzz if it is missing.
# Fuzzing needs nightly compiler features; RUSTC_BOOTSTRAP=1 enables them on
# the stable toolchain. A crash fails the script and leaves its input under
# fuzz/artifacts/<target>/.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$root/../shared/fixtures"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The engine, saved_state and handshake targets need no seeds: the first two
# read the real fixtures themselves and apply the input as patches to them.
corpus="$root/fuzz/corpus"
seed() { # seed TARGET NAME PREFIX_HEX FILE
    mkdir -p "$corpus/$1"
    { printf "$3"; cat "$4"; } > "$corpus/$1/$2"
}
if [ -d "$fixtures" ]; then
    # Prefix bytes select the protocol version (index 3 = 70230, 1 = 70228)
    # and, for `message`, the command (index into KNOWN_COMMANDS).
    for f in "$fixtures"/testnet/mnlistdiff/mnlistdiff_90*.bin; do
        [ "$(stat -c %s "$f")" -lt 4000 ] || continue
        seed mnlistdiff "$(basename "$f")" '\x03' "$f"
        seed message "$(basename "$f")" '\x09\x03' "$f"
    done
    seed mnlistdiff layout70228 '\x01' "$fixtures/testnet/mnlistdiff/mnlistdiff_0_530000_LAYOUT70228.bin"
    seed qrinfo qrinfo_904383 '\x03' "$fixtures/testnet/qrinfo/qrinfo_904383.bin"
    seed message clsig '\x0c\x03' "$fixtures/testnet/clsig/clsig_905775.bin"
fi

cd "$root/fuzz"
cargo fuzz build --release
for target in $(cargo fuzz list); do
    echo "== fuzzing $target for ${seconds}s"
    mkdir -p "$corpus/$target"
    cargo fuzz run --release "$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1
done
