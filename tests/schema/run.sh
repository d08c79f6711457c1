#!/usr/bin/env bash
# The API schema test: schemathesis (pinned, from PyPI) generates requests
# from docs/openapi.yaml, valid and invalid, and sends them to the real app
# (clipwave-host from the release build, fresh stores and fresh dev secrets
# made by clipwave-devenv). It fails on any 5xx and on any response whose
# status, content type, headers or body the spec does not allow.
# hooks.py gives every call fresh, valid credentials of the right kind and
# points path parameters at real jobs and users (see its docstring).
#
#   bash tests/schema/run.sh                       # short run (make test)
#   SCHEMA_EXAMPLES=500 bash tests/schema/run.sh   # long run (make schema-soak)
#   SCHEMA_SEED=123 bash tests/schema/run.sh       # another fixed seed
#   bash tests/schema/run.sh --include-path /jobs  # extra arguments go to schemathesis
#
# Needs the release build (make build). Any missing piece is a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tests/schema"
TARGET="$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")"
OUT="$TARGET/schema"
SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${SCHEMA_EXAMPLES:-25}"
SEED="${SCHEMA_SEED:-20261126}"

missing=()
for file in "$TARGET/release/clipwave-host" "$TARGET/release/clipwave-devenv" \
    "$TARGET/wasm32-wasip2/release/clipwave_auth.wasm" \
    "$TARGET/wasm32-wasip2/release/clipwave_gateway.wasm" \
    "$TARGET/wasm32-wasip2/release/clipwave_web.wasm"; do
    [ -e "$file" ] || missing+=("$file")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "schema test: missing ${missing[*]} (run make build first)" >&2
    exit 1
fi
mkdir -p "$OUT"

# A venv with exactly the pinned packages (reused while requirements.txt is unchanged).
VENV="$OUT/venv"
STAMP="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$STAMP" ]; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        echo "schema test: installing python3-venv"
        if [ "$(id -u)" -eq 0 ]; then apt-get update && apt-get install -y --no-install-recommends python3-venv
        else sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-venv; fi
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    echo "$STAMP" > "$VENV/.requirements.sha256"
fi
"$VENV/bin/schemathesis" --version | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION" || {
    echo "schema test: requirements.txt and SCHEMATHESIS_VERSION disagree" >&2
    exit 1
}

# A fresh app folder: the manifest pointing at this build's components, the
# runtime config (stores under APP/.spin) and fresh dev secrets.
APP="$(mktemp -d "${TMPDIR:-/tmp}/clipwave-schema-app-XXXXXX")"
HOST_PID=
cleanup() {
    if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then
        kill -TERM "$HOST_PID" 2>/dev/null || true
        wait "$HOST_PID" 2>/dev/null || true
    fi
    rm -rf "$APP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sed "s#source = \"target/#source = \"$TARGET/#" "$ROOT/spin.toml" > "$APP/spin.toml"
grep -q "source = \"$TARGET/" "$APP/spin.toml" || { echo "schema test: spin.toml has no source = \"target/... line" >&2; exit 1; }
cp "$ROOT/runtime-config.toml" "$APP/runtime-config.toml"
"$TARGET/release/clipwave-devenv" init --dir "$APP/.spin" >/dev/null
# shellcheck disable=SC1091
source "$APP/.spin/dev.env"
# Fuzzed logins and /token calls fail by the thousand from 127.0.0.1; with
# the default per-address limit (50 per 5 min) every later login, the
# hooks' too, would be 429 and the run would test nothing past the
# throttle. The per-account limit stays at its default (hooks.py drives
# one account into it on purpose); throttling itself is the e2e suite's.
export SPIN_VARIABLE_LOGIN_MAX_FAILURES_PER_ADDRESS=1000000000

HOST_LOG="$OUT/host.log"
"$TARGET/release/clipwave-host" --listen 127.0.0.1:0 --from "$APP/spin.toml" \
    --runtime-config-file "$APP/runtime-config.toml" \
    --cache-dir "$TARGET/clipwave-host-cache" > "$HOST_LOG" 2>&1 &
HOST_PID=$!
URL=
for _ in $(seq 1 1500); do
    URL="$(sed -n 's/^Serving \(http:\/\/[^ ]*\)$/\1/p' "$HOST_LOG" | head -n1)"
    [ -n "$URL" ] && break
    kill -0 "$HOST_PID" 2>/dev/null || { echo "schema test: clipwave-host exited early; see $HOST_LOG" >&2; exit 1; }
    sleep 0.2
done
[ -n "$URL" ] || { echo "schema test: clipwave-host did not start; see $HOST_LOG" >&2; exit 1; }
echo "schema test: app on $URL (log: $HOST_LOG), $EXAMPLES examples per operation, seed $SEED"

export CLIPWAVE_URL="$URL" CLIPWAVE_CREDENTIALS="$APP/.spin/dev-credentials.json" SCHEMA_SEED="$SEED"
if [ -n "${SCHEMA_SERVE_ONLY:-}" ]; then  # for working on hooks.py by hand
    echo "CLIPWAVE_URL=$CLIPWAVE_URL CLIPWAVE_CREDENTIALS=$CLIPWAVE_CREDENTIALS"
    wait "$HOST_PID"
    exit 0
fi

# Every check schemathesis has, plus hooks.py's; one worker so a seed
# replays the same run. Reports (JUnit, and NDJSON with every request and
# response) and hypothesis' example database land in $OUT.
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
rm -rf "$OUT/report"
start=$SECONDS
status=0
(cd "$OUT" && "$VENV/bin/schemathesis" --config-file "$HERE/schemathesis.toml" run "$ROOT/docs/openapi.yaml" \
    --url "$URL" \
    --checks all \
    --workers 1 \
    --seed "$SEED" \
    --max-examples "$EXAMPLES" \
    --request-timeout 60 \
    --suppress-health-check too_slow,filter_too_much \
    --report junit,ndjson --report-dir "$OUT/report" \
    --output-truncate true \
    "$@") || status=$?
echo "schema test: schemathesis exited $status after $((SECONDS - start)) s"
"$VENV/bin/python" "$HERE/summary.py" "$OUT"/report/ndjson-*.ndjson || true
if grep -q "panicked\|RUST_BACKTRACE" "$HOST_LOG"; then
    echo "schema test: the host log shows a panic (see $HOST_LOG)" >&2
    status=1
fi
exit "$status"
