#!/usr/bin/env bash
# Installs the system packages seafold needs (Debian/Ubuntu), only those that are missing.
set -euo pipefail
pkgs=(libzmq3-dev libopenblas-dev libpng-dev libsqlite3-dev libssl-dev libsvm-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "seafold setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "seafold setup: the Swift toolchain (6.1 or newer) is not on PATH" >&2; exit 1; }
