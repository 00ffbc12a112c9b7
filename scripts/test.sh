#!/usr/bin/env bash
# The README's test command: installs system packages, checks the deployment files, builds in
# release (numeric tests run ~9x faster than in debug) with testing enabled, runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
bash scripts/check-deploy.sh --install
swift build -c release -Xswiftc -enable-testing --build-tests "$@"
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
