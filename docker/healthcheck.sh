#!/bin/bash
# Container health for seafold (Docker HEALTHCHECK and Kubernetes exec probes).
#
# Finds the main seafold process (the lowest pid whose argv[0] is seafold; with an init such as
# `docker run --init` it is not pid 1), reads its subcommand and:
#   coordinator  healthy while a socket listens on the --bind port (default 5555);
#   worker       healthy while a TCP connection to the --connect port is established
#                (a worker backing off while its coordinator restarts reports unhealthy);
#   anything else  healthy while the process runs.
# It reads /proc only and opens no connection, so it never disturbs the ZeroMQ sockets.
set -u

main_pid=""
for dir in /proc/[0-9]*; do
    [ -r "$dir/cmdline" ] || continue
    argv0=$(tr '\0' '\n' < "$dir/cmdline" 2>/dev/null | head -n 1)
    case "${argv0##*/}" in
        seafold)
            pid=${dir#/proc/}
            if [ -z "$main_pid" ] || [ "$pid" -lt "$main_pid" ]; then main_pid=$pid; fi
            ;;
    esac
done
if [ -z "$main_pid" ]; then
    echo "unhealthy: no seafold process" >&2
    exit 1
fi

mapfile -t args < <(tr '\0' '\n' < "/proc/$main_pid/cmdline")
subcommand="${args[1]:-}"

# Value of option $1 (--opt VALUE or --opt=VALUE) in the main process's arguments.
option() {
    local i
    for ((i = 1; i < ${#args[@]}; i++)); do
        case "${args[$i]}" in
            "$1") echo "${args[$((i + 1))]:-}"; return 0 ;;
            "$1="*) echo "${args[$i]#*=}"; return 0 ;;
        esac
    done
    return 1
}

# Port of an endpoint such as tcp://*:5555 or tcp://host:5555, as 4 upper-case hex digits.
port_hex() {
    local port=${1##*:}
    port=${port%%/*}
    case "$port" in '' | *[!0-9]*) port=5555 ;; esac
    printf '%04X' "$port"
}

# Does /proc/net/tcp{,6} have a socket in state $2 (0A listen, 01 established) whose
# local (field 2) or remote (field 3) address has port $1?
has_socket() {
    local hex=$1 state=$2 field=$3
    awk -v hex="$hex" -v state="$state" -v field="$field" '
        NR > 1 { split($field, a, ":"); if (a[2] == hex && $4 == state) found = 1 }
        END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

case "$subcommand" in
    coordinator)
        hex=$(port_hex "$(option --bind || echo 'tcp://*:5555')")
        if has_socket "$hex" 0A 2; then exit 0; fi
        echo "unhealthy: coordinator is not listening on port $((16#$hex))" >&2
        exit 1
        ;;
    worker)
        hex=$(port_hex "$(option --connect || echo 'tcp://localhost:5555')")
        if has_socket "$hex" 01 3; then exit 0; fi
        echo "unhealthy: worker has no connection to its coordinator (port $((16#$hex)))" >&2
        exit 1
        ;;
    *)
        exit 0
        ;;
esac
