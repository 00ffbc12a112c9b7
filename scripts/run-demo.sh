#!/usr/bin/env bash
# The README's first command: installs system packages, builds seafold, runs the demo experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product seafold
exec .build/release/seafold run "$@"
