#!/usr/bin/env bash
# The README's test command: installs system packages, checks the deployment files, builds in
# release (numeric tests run ~9x faster than in debug) with testing enabled, runs the suite.
# The suite is XCTest only; the last line sums it up as "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Test-only: headless Chromium lays the HTML report out and measures it (ReportTests.ChromiumTests).
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "seafold test: installing chromium (test-only, for the report's browser check)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
bash scripts/check-deploy.sh --install
swift build -c release -Xswiftc -enable-testing --build-tests "$@"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -aE "Executed [0-9]+ tests?, with .*[0-9]+ failures?" "$log" | tail -n 1)
if [ -n "$summary" ]; then
    total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
    failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
    skipped=0
    grep -qE "[0-9]+ tests? skipped" <<<"$summary" && skipped=$(sed -E 's/.* ([0-9]+) tests? skipped.*/\1/' <<<"$summary")
    echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
