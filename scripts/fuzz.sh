#!/usr/bin/env bash
# Bounded libFuzzer run of one seafold parser.
#
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   TARGET: npy | safetensors | wire | config | png | tiff | jpeg     (default 60 seconds)
#
# Builds Fuzz/TARGET with SwiftPM (SEAFOLD_FUZZ=1 adds the fuzz executables to Package.swift;
# the normal build never sees them) in release mode with -sanitize=fuzzer,address and the
# overflow/bounds checks kept on, in the git-ignored scratch path .build-fuzz. Then runs it
# on a copy of the seed corpus Fuzz/corpus/TARGET (new inputs go to .build-fuzz/corpus/TARGET,
# crashes to .build-fuzz/crashes/TARGET/) and prints the executions and findings.
# Reproduce a crash: .build-fuzz/release/fuzz-TARGET CRASH_FILE
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh npy|safetensors|wire|config|png|tiff|jpeg [SECONDS] [libFuzzer flags]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
case "$target" in npy|safetensors|wire|config|png|tiff|jpeg) ;; *) echo "unknown target '$target'" >&2; exit 2 ;; esac

scratch=.build-fuzz
export SEAFOLD_FUZZ=1
echo "== building fuzz-$target (release, -sanitize=fuzzer,address) =="
# One -sanitize=fuzzer,address flag: swiftc lets a later -sanitize= replace an earlier one, so
# `swift build --sanitize=fuzzer --sanitize=address` (two flags) compiles WITHOUT coverage
# instrumentation and libFuzzer runs blind ("Is the code instrumented for coverage?"). The
# --sanitize=fuzzer is still given so that SwiftPM links the executable for libFuzzer's main.
mkdir -p "$scratch"
if ! swift build -c release --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
        -j "${FUZZ_JOBS:-2}" --product "fuzz-$target" >"$scratch/build-$target.log" 2>&1; then
    grep -E 'error|warning: unre' "$scratch/build-$target.log" | head -20
    echo "build of fuzz-$target failed (log: $scratch/build-$target.log)" >&2; exit 1
fi
tail -1 "$scratch/build-$target.log"
bin="$scratch/release/fuzz-$target"

corpus="$scratch/corpus/$target"; crashes="$scratch/crashes/$target"
mkdir -p "$corpus" "$crashes"
before=$(ls "$crashes" | wc -l)
log="$scratch/fuzz-$target.log"
echo "== fuzzing $target for ${seconds}s (seeds: Fuzz/corpus/$target, log: $log) =="
set +e
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$@" "$corpus" "Fuzz/corpus/$target" >"$log" 2>&1
rc=$?
set -e
execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
grep -E '^#[0-9]+ +(DONE|INITED)|^stat::|ERROR: |SUMMARY|Test unit written|deadly signal|Fatal error|precondition' "$log" | tail -20
echo "== $target: exit $rc, ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs, new crashes: $(( $(ls "$crashes" | wc -l) - before )) (all kept in $crashes) =="
exit $rc
