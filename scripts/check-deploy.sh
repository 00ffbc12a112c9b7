#!/bin/bash
# Offline checks of the deployment files (docker/, cluster/), for CI and by hand:
#   1. bash -n on the SLURM script and the shell scripts;
#   2. shellcheck on them, if installed (skipped visibly otherwise);
#   3. docker-compose config on both compose files, if docker-compose is installed (Debian's
#      1.29 validates offline, no engine needed; skipped visibly otherwise);
#   4. every package the Dockerfile installs with apt-get exists in Debian (apt-cache show;
#      needs `apt-get update` to have run once).
# Options: --install   apt-get install shellcheck and docker-compose first (no recommends,
#                      so no Docker engine), and run apt-get update.
#          --strict    a skipped check is a failure.
# The Swift side (manifest structure and wiring): swift test --filter DeploymentTests.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

install=0
strict=0
for arg in "$@"; do
    case "$arg" in
        --install) install=1 ;;
        --strict) strict=1 ;;
        *) echo "usage: $0 [--install] [--strict]" >&2; exit 2 ;;
    esac
done

failures=0
skips=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'SKIP  %s\n' "$*"; skips=$((skips + 1)); }

if [ "$install" = 1 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                shellcheck docker-compose >/dev/null ||
            echo "note: installing shellcheck/docker-compose failed; their checks will be skipped" >&2
    else
        echo "note: --install needs root; continuing with what is installed" >&2
    fi
fi

scripts=(cluster/slurm/seafold.sbatch docker/healthcheck.sh scripts/check-deploy.sh scripts/check-image.sh)
while IFS= read -r extra; do scripts+=("$extra"); done < <(find cluster -name '*.sh' | sort)

# 1. syntax
for f in "${scripts[@]}"; do
    if bash -n "$f"; then pass "bash -n $f"; else fail "bash -n $f"; fi
done

# 2. shellcheck
if command -v shellcheck >/dev/null 2>&1; then
    for f in "${scripts[@]}"; do
        if shellcheck -s bash "$f"; then pass "shellcheck $f"; else fail "shellcheck $f"; fi
    done
else
    skip "shellcheck is not installed (apt-get install shellcheck, or run with --install)"
fi

# 3. compose files
compose=""
if command -v docker-compose >/dev/null 2>&1; then
    compose="docker-compose"
elif docker compose version >/dev/null 2>&1; then
    compose="docker compose"
fi
if [ -n "$compose" ]; then
    # Secrets point at key files that only exist after `keys` has run; validation does not
    # read them. The remote-workers file needs the coordinator's address.
    if $compose -f docker/compose.yaml config -q; then
        pass "$compose config docker/compose.yaml"
    else
        fail "$compose config docker/compose.yaml"
    fi
    if $compose -f docker/compose.yaml --profile setup config -q; then
        pass "$compose config docker/compose.yaml --profile setup"
    else
        fail "$compose config docker/compose.yaml --profile setup"
    fi
    if SEAFOLD_COORDINATOR=coordinator.example.org:5555 SEAFOLD_WORKER_NAME=ws1 \
        $compose -f docker/compose.remote-workers.yaml config -q; then
        pass "$compose config docker/compose.remote-workers.yaml"
    else
        fail "$compose config docker/compose.remote-workers.yaml"
    fi
    if (unset SEAFOLD_COORDINATOR; $compose -f docker/compose.remote-workers.yaml config -q) 2>/dev/null; then
        fail "docker/compose.remote-workers.yaml accepts a missing SEAFOLD_COORDINATOR"
    else
        pass "docker/compose.remote-workers.yaml refuses to run without SEAFOLD_COORDINATOR"
    fi
else
    skip "docker-compose is not installed (apt-get install --no-install-recommends docker-compose, or run with --install)"
fi

# 4. Dockerfile packages exist in Debian (the runtime stage is Debian bookworm; the build
#    stage's swift image is bookworm too).
mapfile -t packages < <(
    sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' docker/Dockerfile |
        grep -E '^RUN .*apt-get install' |
        sed -e 's/.*apt-get install//' -e 's/&&.*//' |
        tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u
)
if [ "${#packages[@]}" -eq 0 ]; then
    fail "found no apt-get install packages in docker/Dockerfile"
elif ! command -v apt-cache >/dev/null 2>&1; then
    skip "apt-cache is not available: cannot check ${packages[*]}"
else
    for p in "${packages[@]}"; do
        if apt-cache show "$p" >/dev/null 2>&1; then
            pass "Debian package $p exists"
        else
            fail "Debian package $p not found (apt-cache show $p; has apt-get update run?)"
        fi
    done
fi

echo "check-deploy: $failures failure(s), $skips skipped"
if [ "$failures" -gt 0 ]; then exit 1; fi
if [ "$strict" = 1 ] && [ "$skips" -gt 0 ]; then exit 1; fi
exit 0
