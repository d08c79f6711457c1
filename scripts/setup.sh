#!/usr/bin/env bash
# Installs what building and testing Clipwave needs on a fresh Debian
# machine with rustup: the wasm target, rustfmt/clippy, and the system
# packages the tests drive (ffmpeg makes test media). Idempotent and quiet
# when everything is already there.
set -euo pipefail

rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^${component}" || rustup component add "$component"
done

apt_packages=()
command -v ffmpeg >/dev/null || apt_packages+=(ffmpeg)
command -v curl >/dev/null || apt_packages+=(curl)
if ((${#apt_packages[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: please install: ${apt_packages[*]} (needs root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi
