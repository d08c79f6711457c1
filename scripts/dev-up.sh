#!/usr/bin/env bash
# `make up`: serves the app on $LISTEN with one worker beside it, so an
# upload really converts. Ctrl-C (or SIGTERM) stops both.
#
# Uses the Spin CLI when it is installed (`spin up`), else clipwave-host.
# Dev secrets come from .spin/ (created by clipwave-devenv, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
LISTEN=${LISTEN:-127.0.0.1:3000}
BIN=target/release

"$BIN/clipwave-devenv" init --dir .spin
# shellcheck disable=SC1091
source .spin/dev.env
# The worker reads its secrets from files, never from the command line.
credential() { python3 -c 'import json,sys; sys.stdout.write(json.load(open(".spin/dev-credentials.json")).get(sys.argv[1], ""))' "$1"; }
(umask 077 && credential worker_client_secret > .spin/worker-client-secret)
# Job webhooks are signed with the dev webhook secret; local receivers
# (127.0.0.1) are allowed here, and only here.
webhook_args=()
(umask 077 && credential webhook_secret > .spin/webhook-secret)
if [[ -s .spin/webhook-secret ]]; then
    webhook_args=(--webhook-secret-file .spin/webhook-secret --webhook-allow-private)
else
    echo "dev-up: no webhook_secret in .spin/dev-credentials.json (made by an older version): webhooks are off; delete .spin/dev.env and .spin/dev-credentials.json to regenerate both" >&2
fi

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if command -v spin >/dev/null; then
    spin up --listen "$LISTEN" --runtime-config-file runtime-config.toml &
else
    "$BIN/clipwave-host" --listen "$LISTEN" --runtime-config-file runtime-config.toml &
fi
pids+=($!)

for _ in $(seq 1 600); do
    curl -fsS "http://$LISTEN/healthz" >/dev/null 2>&1 && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "dev-up: the app did not start" >&2; exit 1; }
    sleep 0.2
done

mkdir -p .spin/worker
"$BIN/clipwave-worker" --api "http://$LISTEN" --client-id "$SPIN_VARIABLE_WORKER_CLIENT_ID" \
    --client-secret-file .spin/worker-client-secret --work-dir .spin/worker "${webhook_args[@]}" &
pids+=($!)

echo "Clipwave is up on http://$LISTEN (dev credentials: .spin/dev-credentials.json). Ctrl-C stops it."
wait -n "${pids[@]}"
