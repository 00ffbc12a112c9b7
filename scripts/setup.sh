#!/usr/bin/env bash
# Installs the system packages seafold needs (Debian/Ubuntu), only those that are missing.
set -euo pipefail
# libtiff/libjpeg read TIFF and JPEG survey images; librsvg2-dev (with cairo) rasterises the
# report's SVG figures to PNG; fonts-dejavu-core is the font their text is set in; libssl-dev
# gives SHA-256 (libcrypto); libsvm-dev is the SVM head.
pkgs=(libzmq3-dev libopenblas-dev libpng-dev libtiff-dev libjpeg62-turbo-dev libsqlite3-dev libssl-dev libsvm-dev pkg-config librsvg2-dev fonts-dejavu-core)
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
