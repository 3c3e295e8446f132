#!/usr/bin/env bash
# Fuzzes BuildCore's parsers of untrusted input with libFuzzer (Sources/ProxFuzzTargets):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# SECONDS per target (default 60; CI's smoke run gives 15), every target by default.
# prox-fuzz is built with `--sanitize=fuzzer` into .build-fuzz/. Each target starts from
# Fuzz/corpus/<target> (copied: new inputs stay out of the repository) and stops at the
# first crash, which is kept in test-output/fuzz/ with the command that replays it. A crash
# becomes a unit test by adding its input to Fuzz/corpus/<target>/ (FuzzCorpusTests
# replays every file there) once the bug is fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

seconds=${1:-60}
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then targets=(query modulespec semver goversion gomod info list catalog); fi

echo "==> swift build --product prox-fuzz --sanitize=fuzzer (into .build-fuzz)"
swift build --product prox-fuzz --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -DFUZZING >/dev/null
fuzzer="$(swift build --scratch-path .build-fuzz --show-bin-path)/prox-fuzz"

out=test-output/fuzz
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "unknown target $target" >&2; exit 64; }
    mkdir -p "$work/$target"
    cp "Fuzz/corpus/$target"/* "$work/$target/"
    echo "==> $target: ${seconds}s"
    if ! PROX_FUZZ_TARGET=$target "$fuzzer" "$work/$target" -max_total_time="$seconds" -max_len=4096 \
        -artifact_prefix="$out/$target-" -print_final_stats=1 >"$out/$target.log" 2>&1; then
        status=1
        echo "!!! $target: a crash; its input and log are in $out/ (last lines below)"
        tail -n 30 "$out/$target.log"
        for crash in "$out/$target"-crash-* "$out/$target"-oom-* "$out/$target"-timeout-*; do
            [ -e "$crash" ] && echo "    replay: swift run prox-fuzz $target $crash"
        done
    else
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$target.log" | tail -n 2 | sed 's/^/    /'
    fi
done
exit "$status"
