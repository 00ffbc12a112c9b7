#!/usr/bin/env bash
# Chaos soak: the smoke experiment with a coordinator and workers as separate processes while
# this script SIGKILLs random workers, SIGKILLs and restarts the coordinator on the same run
# directory, pauses a worker (SIGSTOP) past its lease before resuming it, and corrupts a cached
# artifact in a running worker's cache (the worker must notice by hash and fetch it again). At
# the end the report's table1.csv must equal an undisturbed `seafold run --preset smoke --local`.
#
#   scripts/chaos.sh [MAX_SECONDS=300] [WORKERS=3] [MAX_KILLS=30]
#
# Environment: SEAFOLD_BIN (default .build/release/seafold, built if missing), CHAOS_DIR
# (default a fresh mktemp dir), CHAOS_SEED (bash RANDOM seed, default 1), CHAOS_CORRUPT_PCT
# (share of actions that corrupt a cached artifact, default 10). Every action is
# logged to $CHAOS_DIR/chaos.log; the coordinator's own account is in run-N/events.jsonl.
# Stops after MAX_SECONDS or MAX_KILLS actions (finishing the round in progress).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
max_seconds="${1:-300}"; nworkers="${2:-3}"; max_kills="${3:-30}"
corrupt_pct="${CHAOS_CORRUPT_PCT:-10}"
RANDOM="${CHAOS_SEED:-1}"
bin="${SEAFOLD_BIN:-.build/release/seafold}"
if [ ! -x "$bin" ]; then swift build -c release -j 2 --product seafold >/dev/null || exit 1; fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
dir="${CHAOS_DIR:-$(mktemp -d /tmp/seafold-chaos.XXXXXX)}"
mkdir -p "$dir"; ref="$dir/ref"; log="$dir/chaos.log"
say() { echo "$(date +%T) $*" | tee -a "$log"; }
# Every disturbance is also one line in the run's events.jsonl, beside the coordinator's own
# events (it cannot see a kill of a worker that had not connected yet).
chaos_event() {
    [ -n "${run:-}" ] && [ -d "$run" ] || return 0
    printf '{"detail":"%s","kind":"chaos","time":%s}\n' "$1" "$(date +%s.%N)" >>"$run/events.jsonl"
}

say "reference: seafold run --preset smoke --local --run-dir $ref"
"$bin" run --preset smoke --local --run-dir "$ref" >"$dir/ref.out" 2>&1 || { say "reference run failed"; exit 1; }

declare -a wpid
coord_pid=0
start_coordinator() {
    # Loopback only, and about faults rather than keys: key-less workers are let in explicitly.
    "$bin" coordinator --preset smoke --run-dir "$run" --bind "$endpoint" --insecure >>"$dir/coordinator-$round.out" 2>&1 &
    coord_pid=$!; say "[$round] coordinator started (pid $coord_pid)"
}
start_worker() {
    "$bin" worker --connect "$endpoint" --name "w$1" --cache "$dir/r$round-c$1" >>"$dir/worker$1-$round.out" 2>&1 &
    wpid[$1]=$!; say "[$round] worker w$1 started (pid ${wpid[$1]})"
}
stop_all() {
    for p in "${wpid[@]}" "$coord_pid"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap stop_all EXIT

# The smoke experiment takes only seconds, so the soak runs it in rounds (fresh run directory,
# fresh caches, new port) until the time budget is spent, acting every 0.25–1 s.
kills=0; coord_kills=0; worker_kills=0; pauses=0; corruptions=0; detected=0; rounds=0; passed=0

# Replaces one cached artifact of worker $1 with a copy whose first 64 bytes are flipped. The
# copy is renamed over the original, so a task already reading it keeps the intact inode; the
# next task that asks for it must find the hash wrong and fetch it again.
corrupt_cache() {
    local cache="$dir/r$round-c$1" f
    f=$(find "$cache" -mindepth 2 -maxdepth 2 -path "$cache/??/*" -type f -size +64c 2>/dev/null | grep -E '/[0-9a-f]{64}$' | shuf -n 1 --random-source=<(yes "$RANDOM" 2>/dev/null))
    [ -n "$f" ] || return 1
    { head -c 64 "$f" | perl -0777 -pe '$_ ^= "\xff" x length'; tail -c +65 "$f"; } >"$f.chaos" && mv -f "$f.chaos" "$f"
    say "[$round] CHAOS: corrupted cached artifact $(basename "$f" | cut -c1-16)… ($(stat -c %s "$f") bytes) of worker w$1"
    chaos_event "corrupted cached artifact $(basename "$f" | cut -c1-16) of worker w$1"
}
deadline=$(( SECONDS + max_seconds ))
round=0
while [ $SECONDS -lt $deadline ] && [ $kills -lt "$max_kills" ]; do
    round=$((round + 1)); run="$dir/run-$round"; port=$(( 20000 + RANDOM % 20000 )); endpoint="tcp://127.0.0.1:$port"
    start_coordinator
    for i in $(seq 1 "$nworkers"); do start_worker "$i"; done
    finished=0; round_deadline=$(( SECONDS + 300 ))
    while [ $SECONDS -lt $round_deadline ]; do
        for _ in $(seq 1 $(( 1 + RANDOM % 4 ))); do
            sleep 0.25
            if ! kill -0 "$coord_pid" 2>/dev/null; then
                wait "$coord_pid"; rc=$?
                if [ $rc -eq 0 ] && [ -f "$run/report/tables/table1.csv" ]; then finished=1; break 2; fi
                say "[$round] coordinator exited with $rc; restarting"; start_coordinator
            fi
        done
        for i in $(seq 1 "$nworkers"); do
            if ! kill -0 "${wpid[$i]}" 2>/dev/null; then wait "${wpid[$i]}" 2>/dev/null; start_worker "$i"; fi
        done
        [ $kills -ge "$max_kills" ] && continue
        action=$(( RANDOM % 10 ))
        if [ $(( RANDOM % 100 )) -lt "$corrupt_pct" ] && corrupt_cache $(( 1 + RANDOM % nworkers )); then
            corruptions=$((corruptions + 1)); kills=$((kills + 1))
        elif [ $action -lt 5 ]; then
            i=$(( 1 + RANDOM % nworkers ))
            say "[$round] CHAOS: SIGKILL worker w$i (pid ${wpid[$i]})"
            chaos_event "SIGKILL worker w$i (pid ${wpid[$i]})"
            kill -KILL "${wpid[$i]}" 2>/dev/null; wait "${wpid[$i]}" 2>/dev/null
            kills=$((kills + 1)); worker_kills=$((worker_kills + 1))
            sleep 0.5; start_worker "$i"
        elif [ $action -lt 8 ]; then
            say "[$round] CHAOS: SIGKILL coordinator (pid $coord_pid)"
            chaos_event "SIGKILL coordinator (pid $coord_pid)"
            kill -KILL "$coord_pid" 2>/dev/null; wait "$coord_pid" 2>/dev/null
            kills=$((kills + 1)); coord_kills=$((coord_kills + 1))
            sleep 0.5; start_coordinator
        else
            i=$(( 1 + RANDOM % nworkers ))
            say "[$round] CHAOS: SIGSTOP worker w$i (pid ${wpid[$i]}) for 5 s (past its lease), then SIGCONT"
            chaos_event "SIGSTOP worker w$i (pid ${wpid[$i]}) for 5 s (past its lease), then SIGCONT"
            kill -STOP "${wpid[$i]}" 2>/dev/null; sleep 5; kill -CONT "${wpid[$i]}" 2>/dev/null
            pauses=$((pauses + 1)); kills=$((kills + 1))
        fi
    done
    stop_all
    rounds=$((rounds + 1))
    d=$(cat "$dir"/worker*-"$round".out 2>/dev/null | grep -c 'is corrupt; fetching it again')
    detected=$((detected + d))
    [ "$d" -gt 0 ] && say "[$round] workers detected $d corrupt cached artifact(s) by hash and fetched them again"
    if [ $finished -ne 1 ]; then say "[$round] FAIL: the run did not finish within 300 s"; continue; fi
    "$bin" status --run-dir "$run" 2>/dev/null | grep -m1 'done' | sed "s/^/[$round] /" | tee -a "$log"
    say "[$round] events.jsonl: $(grep -o '"kind":"[^"]*"' "$run/events.jsonl" | sort | uniq -c | awk '{printf "%s %s; ", $1, $2}')"
    done_events=$(grep -c '"kind":"done"' "$run/events.jsonl")
    tasks=$(grep -c '"kind":"submitted"' "$run/events.jsonl")
    if cmp -s "$run/report/tables/table1.csv" "$ref/report/tables/table1.csv"; then
        say "[$round] PASS: table1.csv identical to the undisturbed run; $done_events done events for $tasks submitted tasks"
        passed=$((passed + 1))
    else
        say "[$round] FAIL: table1.csv differs from the undisturbed run"
        diff "$ref/report/tables/table1.csv" "$run/report/tables/table1.csv" | head -20 | tee -a "$log"
    fi
done

say "SUMMARY: $rounds rounds, $passed identical to the undisturbed run; $worker_kills worker SIGKILLs, $coord_kills coordinator SIGKILLs, $pauses SIGSTOP/SIGCONT pauses, $corruptions cached artifacts corrupted ($detected detected by hash and fetched again) (log: $log)"
[ $passed -eq $rounds ] && [ $rounds -gt 0 ]
