#!/usr/bin/env bash
# The page's browser test: Debian's chromium driven by playwright-core against
# the real app (clipwave-host + clipwave-worker from the release build).
# Installs what a fresh Debian machine lacks, then runs node's test runner.
# Any missing piece is a failure, never a skip.
#
#   bash tests/browser/run.sh                      # after the release build
#   UPDATE_SCREENSHOT=1 bash tests/browser/run.sh  # also refresh docs/screenshot.png
set -euo pipefail
cd "$(dirname "$0")"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_debs=()
[ -x /usr/bin/chromium ] || missing_debs+=(chromium)
command -v node >/dev/null 2>&1 || missing_debs+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_debs+=(npm)
command -v ffmpeg >/dev/null 2>&1 || missing_debs+=(ffmpeg)
if [ "${#missing_debs[@]}" -gt 0 ]; then
  echo "browser test: installing ${missing_debs[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_debs[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "browser test: node >= 20 is needed (found $(node --version))" >&2
  exit 1
fi

# Exactly the packages of package-lock.json (from npm's cache when it has them).
npm ci --prefer-offline --no-audit --no-fund

exec node --test --test-concurrency=1 --test-reporter=spec page.test.mjs
