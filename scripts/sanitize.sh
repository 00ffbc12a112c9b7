#!/usr/bin/env bash
# The cluster tests under a sanitizer:  scripts/sanitize.sh address|thread [TEST FILTER]
# Builds in the git-ignored scratch path .build-asan / .build-tsan (debug), runs ClusterTests
# (or the given filter) and prints the test summary and any sanitizer report. Leak checking is
# off unless ASAN_OPTIONS says otherwise: with it on, objects that tests leave to background
# threads at exit (~16 KB) make the run exit 1 although no test fails.
set -uo pipefail
cd "$(dirname "$0")/.."
san="${1:?usage: scripts/sanitize.sh address|thread [filter]}"; filter="${2:-ClusterTests}"
case "$san" in address) scratch=.build-asan ;; thread) scratch=.build-tsan ;; *) echo "address or thread" >&2; exit 2 ;; esac
mkdir -p "$scratch"; log="$scratch/sanitize-$filter.log"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" SWIFT_BACKTRACE=enable=no swift test -j "${SAN_JOBS:-2}" --scratch-path "$scratch" --sanitize="$san" --filter "$filter" >"$log" 2>&1
rc=$?
grep -aE "^(WARNING|ERROR): (ThreadSanitizer|AddressSanitizer)|^SUMMARY: |error: |Executed [0-9]+ tests" "$log" | sort | uniq -c | tail -20
echo "== $san sanitizer, $filter: exit $rc (log: $log) =="
exit $rc
