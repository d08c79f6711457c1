#!/usr/bin/env bash
# `make images`: build what can be built on this machine and print the
# commands that publish the images (they need a registry login, and the
# worker image a Docker engine; nothing is pushed from here).
#
#   deploy/scripts/build-images.sh [--print-only]
#
# Environment: REGISTRY (ghcr.io/clipwave), VERSION (from spin.toml).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
print_only=false
[[ "${1:-}" == "--print-only" ]] && print_only=true

registry=${REGISTRY:-ghcr.io/clipwave}
version=${VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' spin.toml | head -n1)}

has_package() {
    cargo metadata --no-deps --format-version 1 2>/dev/null \
        | python3 -c 'import json,sys; sys.exit(0 if any(p["name"] == sys.argv[1] for p in json.load(sys.stdin)["packages"]) else 1)' "$1"
}

if ! $print_only; then
    echo "==> app components (wasm32-wasip2)"
    cargo build --target wasm32-wasip2 --release -p clipwave-auth -p clipwave-gateway -p clipwave-web
    ls -l target/wasm32-wasip2/release/clipwave_{auth,gateway,web}.wasm

    if has_package clipwave-native-converter; then
        echo "==> native converter and worker (release)"
        cargo build --release -p clipwave-native-converter
        ls -l target/release/clipwave-convert target/release/clipwave-worker 2>/dev/null || true
    else
        echo "==> clipwave-native-converter is not in the workspace yet: skipped"
    fi
fi

cat <<CMDS

# Publish (run these yourself; they are printed, not run):

# 1. The Spin app as an OCI artifact (Spin CLI 3.x; \`spin build\` runs the same cargo builds):
spin registry login ghcr.io
spin build
spin registry push ${registry}/clipwave:${version}

# 2. The worker image (needs a Docker engine; run from the repository root):
docker build -f deploy/worker.Dockerfile -t ${registry}/clipwave-worker:${version} .
docker push ${registry}/clipwave-worker:${version}

# 3. Pin these tags in the overlay (standalone kustomize; or edit newTag by hand):
(cd deploy/overlays/production && kustomize edit set image ${registry}/clipwave:${version} ${registry}/clipwave-worker:${version})
CMDS
