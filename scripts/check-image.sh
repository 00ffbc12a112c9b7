#!/bin/bash
# Builds the container image from docker/Dockerfile with podman and exercises it, on a machine
# with no Docker engine and no registry (Debian 12, root; cluster/README.md, "Checks").
#
#   scripts/check-image.sh                 the Dockerfile's own build stage compiles seafold
#   scripts/check-image.sh --host-build [-- SWIFT_BUILD_FLAGS...]
#                                          seafold is built on this host with SwiftPM
#                                          (--static-swift-stdlib: every module is compiled
#                                          again) and handed to the Dockerfile with
#                                          --build-context build=DIR (replaces its build stage)
#   scripts/check-image.sh --relink        as --host-build, but the objects of the host's last
#                                          release build (.build/release, e.g. the test build)
#                                          are linked again with the static Swift runtime by
#                                          the link command SwiftPM wrote: seconds; CI uses this
#   --binary FILE                          as --host-build, with a seafold you built already
#                                          (release, --static-swift-stdlib, on Debian 12)
#   --keep                                 keep the work directory (podman storage, unpacked root)
#
# 1. Base images under the names the Dockerfile expects, made locally: debian:bookworm-slim is
#    `debootstrap --variant=minbase bookworm` slimmed like the official one; swift:6.3.1-bookworm
#    is that plus the Swift image's packages plus this host's Swift toolchain copied to /usr.
# 2. `podman build` of docker/Dockerfile (vfs storage, chroot isolation, host network).
# 3. `podman save`, the layers extracted in order (whiteouts applied), then checks under chroot
#    as the image's user with the image's environment, each "container" in its own pid and mount
#    namespace with a read-only root (the Kubernetes manifests set readOnlyRootFilesystem):
#    no build tools in the runtime; every library resolves; `seafold --version`;
#    `seafold run --preset smoke` whose tables equal the host binary's; a coordinator and two
#    workers over loopback (CURVE keys made by the image, config as compose/k8s mount it) whose
#    tables equal the host's too; docker/healthcheck.sh unhealthy and healthy as it should be.
# SEAFOLD_CHECK_IMAGE_WRAP: a command put before the two heavy steps (the host's swift build and
# podman build), e.g. a wrapper that limits concurrent builds on a shared machine.
# Everything it makes (podman storage, base images, mounts, processes) lives in one work
# directory under /var/tmp and is removed on exit. Needs root; installs podman and debootstrap
# if missing. Status lines go to stderr; the last line is "check-image: PASS" or the failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

mode=full
keep=""
binary=""
swift_flags=()
while [ $# -gt 0 ]; do
    case "$1" in
        --host-build) mode=host ;;
        --relink) mode=relink ;;
        --binary) mode=binary; binary=$(readlink -f "$2"); shift ;;
        --keep) keep=1 ;;
        --) shift; swift_flags=("$@"); break ;;
        *) echo "usage: $0 [--host-build | --relink | --binary FILE] [--keep] [-- SWIFT_BUILD_FLAGS...]" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '[check-image %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAIL: $*"; echo "check-image: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (chroot, mount namespaces, podman's vfs storage)"
start=$(date +%s)

missing=()
for tool in podman:podman debootstrap:debootstrap unshare:util-linux nsenter:util-linux strip:binutils; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

read -r -a wrap <<<"${SEAFOLD_CHECK_IMAGE_WRAP:-}"
# buildah keeps --mount=type=cache directories under /var/tmp (buildah-cache, or with the uid
# appended in other versions); removed at the end if this run made them.
new_caches=()
for d in /var/tmp/buildah-cache /var/tmp/buildah-cache-"$(id -u)"; do
    [ -e "$d" ] || new_caches+=("$d")
done
W=$(mktemp -d /var/tmp/seafold-image.XXXXXX)
pids=()
cleanup() {
    local status=$?
    set +e
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    # Mounts live in namespaces that died with their processes; this catches any that leaked.
    awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
        umount -l "$m"
    done
    if [ -n "$keep" ]; then
        say "kept $W (podman --root $W/storage --runroot $W/runroot --storage-driver vfs ...); rm -rf it when done"
    else
        rm -rf "$W"
        for d in "${new_caches[@]}"; do rm -rf "$d"; done
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# podman with storage of its own: nothing outside $W is touched.
pm() { podman --root "$W/storage" --runroot "$W/runroot" --storage-driver vfs "$@"; }

# --- 0. the reference: the smoke preset's tables from the host's binary, taken before
# --host-build rebuilds it with the static Swift runtime.
host_bin=${SEAFOLD_HOST_BIN:-$repo/.build/release/seafold}
if [ ! -x "$host_bin" ]; then
    say "no host binary at $host_bin: swift build -c release --product seafold"
    "${wrap[@]}" swift build -c release --product seafold "${swift_flags[@]}" >&2
fi
# The reference must come from the sources the image compiles: a host binary older than a
# source file (a merge after the last build) gives other tables for a reason that is not the
# image's. --relink and --binary use the host's objects, so only the compiling modes check.
stale_source() {
    find Package.swift Package.resolved Sources -newer "$host_bin" -type f -print 2>/dev/null | head -n 1
}
if [ "$mode" = full ] || [ "$mode" = host ]; then
    stale=$(stale_source)
    [ -z "$stale" ] || die "the host binary $host_bin is older than $stale: rebuild it (swift build -c release --product seafold) or set SEAFOLD_HOST_BIN, so the reference tables come from the sources the image compiles"
fi
say "smoke preset on the host ($host_bin --local)"
"$host_bin" run --preset smoke --local --run-dir "$W/host-smoke" >"$W/host-smoke.out" 2>"$W/host-smoke.err" ||
    { tail -n 20 "$W/host-smoke.err" >&2; die "the host's smoke run failed"; }

# relink_static OUT: the link command SwiftPM recorded for the release seafold executable
# (.build/release.yaml), writing OUT, with the static Swift runtime. Objects compiled for the
# shared runtime name the shared Foundation libraries in their autolink entries, so the static
# Foundation archives are named here; a missing one shows as an undefined symbol.
relink_static() {
    local manifest=$repo/.build/release.yaml line args=() out=() i
    [ -f "$manifest" ] || die "--relink needs a release build (swift build -c release): no $manifest"
    line=$(awk '/^  "C\.seafold-[^"]*-release\.exe":/ { f = 1 } f && /^    args: / { print; exit }' "$manifest")
    [ -n "$line" ] || die "no link command for the seafold executable in $manifest"
    line=${line#*args: \[\"}
    line=${line%\"\]}
    mapfile -t args < <(printf '%s\n' "${line//\",\"/$'\n'}")
    for ((i = 0; i < ${#args[@]}; i++)); do
        if [ "${args[$i]}" = -o ]; then out+=(-o "$1"); i=$((i + 1)); else out+=("${args[$i]}"); fi
    done
    say "linking the host's release objects with the static Swift runtime"
    "${wrap[@]}" "${out[@]}" -static-stdlib -Xlinker --start-group -lFoundation -lCoreFoundation \
        -lFoundationEssentials -lFoundationInternationalization -l_FoundationICU \
        -l_FoundationCShims -l_FoundationCollections -Xlinker --end-group >"$W/relink.log" 2>&1 ||
        { grep -v 'warning:' "$W/relink.log" | tail -n 20 >&2; die "relinking failed (log above)"; }
}

# --- 1. base images -----------------------------------------------------------------------
mirror=${SEAFOLD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
say "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$W/slim" "$mirror" >"$W/debootstrap.log" 2>&1 ||
    { tail -n 20 "$W/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
# What the official slim image does: no docs, man pages or locales now or from later installs;
# the security and updates suites; no package lists or .debs left behind.
cat >"$W/slim/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
rm -f "$W/slim/etc/apt/sources.list"
cat >"$W/slim/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$W/slim/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
find "$W/slim/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
rm -rf "$W/slim/usr/share/man/"* "$W/slim/usr/share/info/"* "$W/slim/usr/share/locale/"* \
    "$W/slim/var/cache/apt/"*.bin "$W/slim/var/cache/apt/archives/"*.deb "$W/slim/var/lib/apt/lists/"*
tar --numeric-owner -C "$W/slim" -c . |
    pm import --quiet --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - docker.io/library/debian:bookworm-slim >/dev/null

build_args=()
if [ "$mode" = full ]; then
    swift_bin=$(command -v swift) || die "no swift on PATH: the swift base image is made from this host's toolchain"
    toolchain=$(dirname "$(dirname "$(readlink -f "$swift_bin")")")   # .../usr
    version=$(swift --version 2>/dev/null | sed -nE 's/.*Swift version ([0-9.]+).*/\1/p' | head -n 1)
    expected=$(sed -nE 's/^ARG SWIFT_IMAGE=swift:([0-9.]+)-bookworm$/\1/p' docker/Dockerfile)
    [ "$version" = "$expected" ] || die "host Swift is $version, docker/Dockerfile expects swift:$expected-bookworm"
    say "swift:$expected-bookworm from the slim base, the Swift image's packages and $toolchain"
    # The packages of the official swift:*-bookworm image (its Dockerfile), then the toolchain
    # in /usr as that image has it.
    cat >"$W/Containerfile.swift" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libpython3-dev \
        libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev libz3-dev pkg-config tzdata \
        zlib1g-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY . /usr/
EOF
    # A machine that reaches GitHub only through local git mirrors (url.DIR.insteadOf in the
    # system gitconfig) gives the image the same mirrors and rules, so the Dockerfile's own
    # dependency fetch works unchanged.
    mirror_ctx=()
    declare -A copied=()
    while read -r key value; do
        dir=${key#url.}
        dir=${dir%.insteadof}
        [ -d "$dir" ] || continue
        if [ -z "${copied[$dir]:-}" ]; then
            copied[$dir]=mirror${#copied[@]}
            mirror_ctx+=(--build-context "${copied[$dir]}=$dir")
            printf 'COPY --from=%s . %s\n' "${copied[$dir]}" "$dir" >>"$W/Containerfile.swift"
        fi
        printf 'RUN git config --system --add url.%s.insteadOf %s\n' "$dir" "$value" >>"$W/Containerfile.swift"
        say "git mirror $dir for $value goes into the swift image"
    done < <(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true)
    pm build --isolation chroot --network host --layers=false "${mirror_ctx[@]}" -f "$W/Containerfile.swift" \
        -t "docker.io/library/swift:$expected-bookworm" "$toolchain" >"$W/swift-image.log" 2>&1 ||
        { tail -n 30 "$W/swift-image.log" >&2; die "making the swift base image failed (log above)"; }
else
    if [ "$mode" = host ]; then
        say "building seafold on the host: swift build -c release --product seafold --static-swift-stdlib ${swift_flags[*]}"
        "${wrap[@]}" swift build -c release --product seafold --static-swift-stdlib "${swift_flags[@]}" >&2
        binary="$(swift build -c release --show-bin-path "${swift_flags[@]}")/seafold"
    elif [ "$mode" = relink ]; then
        relink_static "$W/seafold-static"
        binary=$W/seafold-static
    fi
    [ -x "$binary" ] || die "no executable at $binary"
    mkdir -p "$W/hostbin/out"
    # As the Dockerfile's build stage does: no DWARF (symbols stay for backtraces).
    install -m 0755 "$binary" "$W/hostbin/out/seafold"
    strip --strip-debug "$W/hostbin/out/seafold"
    # The stage named build is replaced by this directory: nothing is compiled in the image.
    build_args=(--build-context "build=$W/hostbin")
fi

# --- 2. the image ---------------------------------------------------------------------------
say "podman build -f docker/Dockerfile ${build_args[*]}"
t0=$(date +%s)
# docker format: OCI images have no HEALTHCHECK.
"${wrap[@]}" podman --root "$W/storage" --runroot "$W/runroot" --storage-driver vfs build --format docker --isolation chroot --network host --layers=false "${build_args[@]}" \
    -f docker/Dockerfile -t localhost/seafold:check . >"$W/build.log" 2>&1 ||
    { tail -n 40 "$W/build.log" >&2; die "podman build failed (log above)"; }
build_seconds=$(($(date +%s) - t0))
if [ "$mode" = full ] || [ "$mode" = host ]; then
    stale=$(stale_source)
    [ -z "$stale" ] || die "$stale changed while the image was built: the image and the host's reference tables may come from different sources; run the check again on a quiet tree"
fi
size=$(pm image inspect --format '{{.Size}}' localhost/seafold:check)
say "image built in ${build_seconds} s, $((size / 1000000)) MB"

inspect() { pm image inspect --format "$1" localhost/seafold:check; }
user=$(inspect '{{.Config.User}}')
workdir=$(inspect '{{.Config.WorkingDir}}')
entrypoint=$(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}')
health=$(inspect '{{if .Config.Healthcheck}}{{range .Config.Healthcheck.Test}}{{.}} {{end}}{{end}}')
mapfile -t image_env < <(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
[ "$entrypoint" = "/usr/local/bin/seafold " ] || die "ENTRYPOINT is '$entrypoint'"
[ "$health" = "CMD /usr/local/bin/seafold-healthcheck " ] || die "HEALTHCHECK is '$health'"
# shellcheck disable=SC2016 # a Go template, not shell
case " $(inspect '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}')" in
    *" 5555/tcp "*) ;; *) die "port 5555 is not exposed" ;;
esac

# --- 3. unpack ------------------------------------------------------------------------------
say "podman save and unpack"
pm save --quiet --format docker-archive -o "$W/image.tar" localhost/seafold:check >/dev/null
mkdir -p "$W/saved" "$W/root"
tar -C "$W/saved" -xf "$W/image.tar"
mapfile -t layers < <(sed -E 's/.*"Layers":\[([^]]*)\].*/\1/' "$W/saved/manifest.json" | tr ',' '\n' | tr -d '"' | sed '/^$/d')
[ ${#layers[@]} -gt 0 ] || die "no layers in the saved image's manifest.json"
for layer in "${layers[@]}"; do
    # Whiteouts of this layer delete what lower layers put there; then its files go on top.
    while IFS= read -r wh; do
        dir=$(dirname "$wh") name=$(basename "$wh")
        if [ "$name" = .wh..wh..opq ]; then
            find "$W/root/$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
        else
            rm -rf "${W:?}/root/$dir/${name#.wh.}"
        fi
    done < <(tar -tf "$W/saved/$layer" | sed 's|^\./||' | grep -E '(^|/)\.wh\.' || true)
    tar -C "$W/root" --numeric-owner -xpf "$W/saved/$layer" --exclude='.wh.*'
done
R=$W/root
rm -f "$W/image.tar"; rm -rf "$W/saved"

# The image's user, as numbers from the image's own passwd/group.
uname=${user%%:*} gname=${user#*:}
uid=$(awk -F: -v u="$uname" '$1 == u || $3 == u { print $3; exit }' "$R/etc/passwd")
gid=$(awk -F: -v g="$gname" '$1 == g || $3 == g { print $3; exit }' "$R/etc/group")
{ [ -n "$uid" ] && [ -n "$gid" ] && [ "$uid" != 0 ]; } || die "image user '$user' is missing from the image or is root"
say "image user $user = $uid:$gid, workdir $workdir"

# --- 4. the runtime holds no build tools and every library resolves -------------------------
for tool in swift swiftc gcc cc c++ clang ld make pkg-config; do
    [ ! -e "$R/usr/bin/$tool" ] || die "the runtime image has a build tool: /usr/bin/$tool"
done
dev=$(awk '/^Package: /{p=$2} /^Status: install ok installed/{print p}' "$R/var/lib/dpkg/status" | grep -E -- '-dev$' || true)
[ -z "$dev" ] || die "the runtime image has development packages: $(echo "$dev" | tr '\n' ' ')"
[ ! -e "$R/usr/include/zmq.h" ] || die "the runtime image has C headers (/usr/include/zmq.h)"

# Mount points for what compose and Kubernetes mount into the container (the root is read-only
# once a container runs).
mkdir -p "$R/etc/seafold" "$R/run/secrets/keys"
touch "$R/etc/seafold/experiment.yaml"
printf '%s\n' "${image_env[@]}" >"$W/env"
cat >"$W/enter.sh" <<'INNER'
#!/bin/bash
# Pid 1 of a fresh pid and mount namespace: the container's mounts, then the image's command
# as the image's user with the image's environment and working directory.
set -euo pipefail
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
for m in $MOUNTS; do
    case "$m" in
        tmpfs:*) mount -t tmpfs -o mode=1777 tmpfs "$R${m#tmpfs:}" ;;
        *:*) mount --bind "${m%%:*}" "$R${m#*:}" ;;
    esac
done
mapfile -t envs <"$ENVFILE"
exec chroot --userspec="$IDS" --groups="${IDS#*:}" "$R" /usr/bin/env -i -C "$WORKDIR" "${envs[@]}" "$@"
INNER
chmod 0755 "$W/enter.sh"

# container "MOUNT..." CMD...: CMD as `docker run --read-only` would start it (host network).
# MOUNT is HOSTPATH:PATH (bind) or tmpfs:PATH. Call it as `(container ...) &` to get the pid of
# the `unshare` whose only child is the container's pid 1.
container() {
    local mounts=$1
    shift
    R=$R IDS=${run_as:-$uid:$gid} WORKDIR=$workdir ENVFILE=$W/env MOUNTS=$mounts \
        exec unshare --pid --fork --kill-child --mount --propagation private "$W/enter.sh" "$@"
}
# healthcheck PID: the image's HEALTHCHECK inside the container whose `unshare` is PID.
healthcheck() {
    local init
    init=$(awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null)
    [ -n "$init" ] || return 2
    mapfile -t envs <"$W/env"
    nsenter --target "$init" --pid --mount --root --wd --setuid "$uid" --setgid "$gid" \
        /usr/bin/env -i "${envs[@]}" /usr/local/bin/seafold-healthcheck
}
# wait_health PID WANT SECONDS: polls until the healthcheck's status is WANT (0 or 1).
wait_health() {
    local deadline=$(($(date +%s) + $3)) status
    while :; do
        status=0
        healthcheck "$1" 2>"$W/health.err" || status=$?
        [ "$status" = "$2" ] && return 0
        kill -0 "$1" 2>/dev/null || return 1
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
volume() { mkdir -p "$W/vol/$1" && chown "$uid:$gid" "$W/vol/$1" && echo "$W/vol/$1"; }

(container "" /usr/bin/ldd /usr/local/bin/seafold) >"$W/ldd.txt" 2>&1 || die "ldd failed: $(cat "$W/ldd.txt")"
! grep -q 'not found' "$W/ldd.txt" || die "the binary needs libraries the image lacks: $(grep 'not found' "$W/ldd.txt" | tr '\n' ' ')"

# --- 5. seafold --version and the smoke preset, compared with the host ----------------------
v=$( (container "" /usr/local/bin/seafold --version) 2>&1) || die "seafold --version in the image: $v"
say "seafold --version in the image: $v"

# same_tables DIR WHAT: DIR/report/tables equals the host's, file by file.
same_tables() {
    local n=0 f differ=()
    for f in "$W/host-smoke/report/tables/"*.csv; do
        if ! cmp -s "$f" "$1/report/tables/$(basename "$f")"; then
            differ+=("$(basename "$f")")
            diff "$f" "$1/report/tables/$(basename "$f")" | head -n 6 >&2
        fi
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || die "the host's smoke run wrote no tables"
    [ ${#differ[@]} -eq 0 ] || die "$2: ${differ[*]} differ from the host's (diffs above)"
    say "$2: $n tables equal to the host's"
}

# As compose runs it: under the host user's uid, which the image's passwd does not know.
say "smoke preset in the image as uid 4242 (seafold run: a coordinator and local worker processes)"
smoke=$(volume smoke)
chown 4242:4242 "$smoke"
(run_as=4242:4242 container "$smoke:/var/lib/seafold" /usr/local/bin/seafold run --preset smoke --run-dir /var/lib/seafold/run) \
    >"$W/image-smoke.out" 2>"$W/image-smoke.err" ||
    { tail -n 20 "$W/image-smoke.err" >&2; die "seafold run --preset smoke failed in the image"; }
same_tables "$smoke/run" "seafold run --preset smoke in the image"

# --- 6. a coordinator and two workers, as compose runs them ---------------------------------
keys=$(volume keys)
# shellcheck disable=SC2016 # expanded by the container's shell
(container "$keys:/run/secrets/keys" /bin/sh -c \
    'set -e; cd /run/secrets/keys; for n in coordinator worker; do seafold keys generate --out . --name "$n"; done
     mkdir -p workers; cp worker.pub workers/worker.pub') >"$W/keys.log" 2>&1 ||
    die "making keys with the image failed: $(cat "$W/keys.log")"
printf 'preset: smoke\n' >"$W/experiment.yaml"
run=$(volume run)
port=""
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    hex=$(printf ':%04X ' "$p")
    if ! grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "found no free port"
worker_cmd=(/usr/local/bin/seafold worker --connect "tcp://127.0.0.1:$port" --threads 1
    --cache /var/cache/seafold --keys /run/secrets/keys --name worker)
worker_mounts="$keys:/run/secrets/keys tmpfs:/var/cache/seafold tmpfs:/var/lib/seafold"

say "worker 1 before its coordinator: the healthcheck must say unhealthy"
(container "$worker_mounts" "${worker_cmd[@]}") >"$W/worker1.out" 2>"$W/worker1.err" &
w1=$!; pids+=("$w1")
sleep 2
wait_health "$w1" 1 10 || die "worker 1's healthcheck did not say unhealthy without a coordinator"
grep -q . "$W/health.err" || die "an unhealthy healthcheck printed no reason"
say "  $(cat "$W/health.err")"

say "coordinator on port $port (config and keys mounted as compose mounts them)"
(container "$run:/var/lib/seafold $W/experiment.yaml:/etc/seafold/experiment.yaml $keys:/run/secrets/keys" \
    /usr/local/bin/seafold coordinator --run-dir /var/lib/seafold/run --config /etc/seafold/experiment.yaml \
    --bind "tcp://*:$port" --keys /run/secrets/keys) >"$W/coordinator.out" 2>"$W/coordinator.err" &
c=$!; pids+=("$c")
wait_health "$c" 0 120 || { tail -n 20 "$W/coordinator.err" >&2; die "the coordinator never became healthy"; }
say "coordinator healthy"
wait_health "$w1" 0 60 || { tail -n 20 "$W/worker1.err" >&2; die "worker 1 never became healthy"; }
say "worker 1 healthy"
(container "$worker_mounts" "${worker_cmd[@]}") >"$W/worker2.out" 2>"$W/worker2.err" &
w2=$!; pids+=("$w2")
wait_health "$w2" 0 60 || { tail -n 20 "$W/worker2.err" >&2; die "worker 2 never became healthy"; }
say "worker 2 healthy; waiting for the run to end"

# The coordinator exits 0 once the report is written; the workers when it says the run is over.
for name in coordinator:$c worker1:$w1 worker2:$w2; do
    p=${name#*:} status=0
    for _ in $(seq 1200); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$p" 2>/dev/null && die "${name%%:*} still runs after 10 minutes"
    wait "$p" || status=$?
    [ "$status" = 0 ] || { tail -n 20 "$W/${name%%:*}.err" >&2; die "${name%%:*} exited with status $status"; }
done
pids=()
same_tables "$run/run" "coordinator and two workers from the image"
# Both workers share the host's network, so worker 2's healthcheck also sees worker 1's
# connection; the coordinator's log says whether both joined.
joined=$(grep -c 'worker worker-[0-9a-f]* joined' "$W/coordinator.err" || true)
[ "$joined" -ge 2 ] || die "the coordinator saw $joined worker(s) join, not 2"
for n in 1 2; do
    grep -q 'coordinator said goodbye' "$W/worker$n.err" || die "worker $n did not end with the coordinator's goodbye"
done

say "image $((size / 1000000)) MB (podman image inspect .Size), built in ${build_seconds} s; whole check $(($(date +%s) - start)) s"
echo "check-image: PASS ($mode build, image $((size / 1000000)) MB, $(($(date +%s) - start)) s)" >&2
