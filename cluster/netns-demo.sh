#!/bin/bash
# A multi-host rehearsal without Docker or a cluster: the coordinator and two workers, each in
# its own network namespace (separate "hosts" joined by veth links), run the smoke experiment
# across them with CURVE on, then the tables are shown.
#
#   sudo cluster/netns-demo.sh [--preset smoke|demo] [--cut-link SECONDS] [--keep]
#
# With --cut-link, worker w1's link is cut while it runs a task, for SECONDS (longer than the
# 3 s liveness, so its lease expires and the task runs elsewhere), then restored; the run must
# still complete, and its tables must equal an undisturbed local run of the same config.
#
#           [sfw1] 10.77.1.2 ---veth--- 10.77.1.1 \
#                                                  [sfc] coordinator, tcp://*:5555
#           [sfw2] 10.77.2.2 ---veth--- 10.77.2.1 /
#
# The workers reach the coordinator only over their own link (each namespace has just that
# link and its loopback); nothing is routed to or from the host's network.
# Needs root, iproute2 and a seafold binary with the coordinator command (SEAFOLD_BIN, else
# .build/release/seafold, .build/debug/seafold, or seafold on PATH).
# Exit status: 0 run completed with a report, 77 skipped (printed why), other: failure.
set -euo pipefail

preset=smoke
keep=0
cut=0
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) preset=${2:?--preset needs a value}; shift 2 ;;
        --keep) keep=1; shift ;;
        --cut-link) cut=${2:?--cut-link needs seconds}; shift 2 ;;
        *) echo "usage: $0 [--preset smoke|demo] [--cut-link SECONDS] [--keep]" >&2; exit 2 ;;
    esac
done
timeout_s=${SEAFOLD_NETNS_TIMEOUT:-900}

skip() { echo "SKIP netns-demo: $*"; exit 77; }
log() { printf 'netns-demo: %s\n' "$*"; }

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${SEAFOLD_BIN:-}
if [ -z "$bin" ]; then
    for candidate in "$repo/.build/release/seafold" "$repo/.build/debug/seafold" "$(command -v seafold || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then bin=$candidate; break; fi
    done
fi

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
if [ -z "$bin" ] || [ ! -x "$bin" ]; then skip "no seafold binary (build it, or set SEAFOLD_BIN)"; fi
# `--help` of an unknown subcommand prints the root help and succeeds, so look for the options.
has() { "$bin" "${@:2}" --help 2>&1 | grep -q -- "$1"; }
has --run-dir coordinator || skip "$bin has no coordinator command yet"
has --connect worker || skip "$bin has no worker command yet"
has --out keys generate || skip "$bin has no keys generate command yet"
ip netns list >/dev/null 2>&1 || skip "ip netns does not work here"

id=$$
ns_c="sfc-$id"
ns_w=("sfw1-$id" "sfw2-$id")
work=$(mktemp -d "${TMPDIR:-/tmp}/seafold-netns.XXXXXX")
pids=()

cleanup() {
    local pid ns
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ns in "$ns_c" "${ns_w[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- three "hosts" --------------------------------------------------------------------------
ip netns add "$ns_c" || skip "cannot create network namespaces"
ip -n "$ns_c" link set lo up
for i in 1 2; do
    ns=${ns_w[$((i - 1))]}
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # veth pair: one end in the coordinator's namespace, the other in the worker's.
    ip link add "sfc$i-$id" netns "$ns_c" type veth peer name "sfw$i-$id" netns "$ns"
    ip -n "$ns_c" addr add "10.77.$i.1/24" dev "sfc$i-$id"
    ip -n "$ns" addr add "10.77.$i.2/24" dev "sfw$i-$id"
    ip -n "$ns_c" link set "sfc$i-$id" up
    ip -n "$ns" link set "sfw$i-$id" up
done
# Wait (briefly) until both ends of each link report UP; ZeroMQ would retry anyway.
for _ in $(seq 50); do
    down=0
    for i in 1 2; do
        ip -n "$ns_c" -br link show dev "sfc$i-$id" | grep -q ' UP ' || down=1
        ip -n "${ns_w[$((i - 1))]}" -br link show dev "sfw$i-$id" | grep -q ' UP ' || down=1
    done
    [ "$down" = 0 ] && break
    sleep 0.1
done
log "namespaces $ns_c ${ns_w[*]} linked; coordinator at 10.77.1.1 and 10.77.2.1"

# --- keys: the coordinator's, one per worker, and the allow-list ---------------------------
mkdir -p "$work/keys/coordinator/workers"
"$bin" keys generate --out "$work/keys/coordinator" --name coordinator >/dev/null
for w in w1 w2; do
    mkdir -p "$work/keys/$w"
    "$bin" keys generate --out "$work/keys/$w" --name "$w" >/dev/null
    cp "$work/keys/coordinator/coordinator.pub" "$work/keys/$w/"
    cp "$work/keys/$w/$w.pub" "$work/keys/coordinator/workers/"
done
printf 'preset: %s\n' "$preset" > "$work/experiment.yaml"
# Fine-tunes long enough to be cut mid-way.
[ "$cut" != 0 ] && printf 'training: {epochs: 24, checkpoint_every: 4}\nlime: {enabled: false}\n' >> "$work/experiment.yaml"

# --- the run ----------------------------------------------------------------------------------
ip netns exec "$ns_c" "$bin" coordinator --run-dir "$work/run" --config "$work/experiment.yaml" \
    --bind 'tcp://*:5555' --keys "$work/keys/coordinator" > "$work/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
for i in 1 2; do
    ip netns exec "${ns_w[$((i - 1))]}" "$bin" worker --connect "tcp://10.77.$i.1:5555" --threads 1 \
        --cache "$work/cache-w$i" --keys "$work/keys/w$i" --name "w$i" > "$work/worker-w$i.log" 2>&1 &
    pids+=("$!")
done
log "coordinator pid $coordinator and two workers started; logs in $work (timeout ${timeout_s}s)"

deadline=$((SECONDS + timeout_s))
if [ "$cut" != 0 ]; then
    # Wait until w1 runs a task, then cut its link (from the coordinator's side) and restore it.
    for _ in $(seq 600); do
        "$bin" status --run-dir "$work/run" --json 2>/dev/null | grep -q '"worker" : "w1-' && break
        sleep 0.1
    done
    log "cutting w1's link for ${cut}s"
    ip -n "$ns_c" link set "sfc1-$id" down
    sleep "$cut"
    ip -n "$ns_c" link set "sfc1-$id" up
    log "w1's link restored"
fi
while kill -0 "$coordinator" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "timed out; last coordinator log lines:"
        tail -n 20 "$work/coordinator.log" || true
        keep=1
        exit 1
    fi
    sleep 1
done
set +e
wait "$coordinator"
rc=$?
set -e
if [ "$rc" -ne 0 ] || [ ! -e "$work/run/report" ]; then
    log "coordinator exited with status $rc (report present: $([ -e "$work/run/report" ] && echo yes || echo no))"
    tail -n 30 "$work/coordinator.log" "$work"/worker-w*.log || true
    keep=1
    exit 1
fi

# Both workers must have joined across their own link and done work.
for i in 1 2; do
    if ! grep -qi "task" "$work/worker-w$i.log"; then
        log "note: worker w$i's log mentions no task (it may have joined after the work ran out)"
    fi
done
"$bin" status --run-dir "$work/run" || true
"$bin" report --run-dir "$work/run"
if [ "$cut" != 0 ]; then
    if grep -q '"lease-lost"' "$work/run/events.jsonl"; then
        log "the cut was seen: a lease expired or a worker was lost"
    else
        log "note: no lease expired during the cut (w1 may have been idle)"
    fi
    "$bin" run --config "$work/experiment.yaml" --local --run-dir "$work/reference" > /dev/null
    for t in table1.csv table2.csv table3.csv; do
        if ! cmp -s "$work/run/report/tables/$t" "$work/reference/report/tables/$t"; then
            log "FAIL: $t differs from an undisturbed local run"; keep=1; exit 1
        fi
    done
    log "tables equal an undisturbed local run of the same config"
fi
log "done: smoke experiment across three network namespaces with CURVE"
