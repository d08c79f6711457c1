#!/usr/bin/env bash
# Token-check load benchmark (issue 9): wrk on loopback against
#   (a) an unauthenticated trivial route (TRIVIAL_PATH, default /style.css:
#       the web component returns a compiled-in 3 KB file, no store access),
#   (b) GET /validate with a Bearer token (auth component, one-read check),
#   (c) the protected GET /jobs/{id}, gateway in auth_mode local and remote,
#   (d) the reference: the original tutorial's endpoint, Flask + PyJWT HS256
#       behind gunicorn 2 workers x 4 threads (bench/reference),
# at concurrency 1, 16 and 64, and prints one table with the ratios and the
# issue's targets (PASS/MISS).
#
# Two clipwave-host processes are started the way the e2e tests start them
# (temp folder, fresh stores, dev keys from clipwave-devenv, 127.0.0.1:0),
# one with the default auth_mode=local and one with SPIN_VARIABLE_AUTH_MODE=
# remote; each gets a registered user, a login and one queued job (a tiny
# upload) so GET /jobs/{id} has something to read. Every point is measured
# in the same run, routes interleaved per concurrency level.
#
# Usage: bench/load.sh [--short]      (--short: 2 s per point, a smoke run)
# Env:   DURATION=10 (seconds per point)  CONCURRENCY="1 16 64"
#        TRIVIAL_PATH=/style.css  BENCH_VENV=<venv for the reference>
#        WARMUP=2 (seconds of warm-up per route before measuring)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
if [[ "${1:-}" == "--short" ]]; then
    DURATION=2
    WARMUP=1
fi
read -r -a LEVELS <<<"${CONCURRENCY:-1 16 64}"
TRIVIAL_PATH="${TRIVIAL_PATH:-/style.css}"
VENV="${BENCH_VENV:-$TARGET/bench-venv}"

apt_install wrk wrk
apt_install curl curl
ensure_venv_support
require_build

# The reference's venv, installed from PyPI with pinned versions.
REQS="$ROOT/bench/reference/requirements.txt"
if ! cmp -s "$REQS" "$VENV/.requirements.txt" 2>/dev/null; then
    bench_log "installing the reference (Flask, PyJWT, gunicorn) into $VENV..."
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQS"
    cp "$REQS" "$VENV/.requirements.txt"
fi

bench_init
LOAD_BEFORE=$(loadavg)

# --- the apps ---------------------------------------------------------------
declare -A APP_URL APP_TOKEN APP_JOB
setup_app() { # NAME [VAR=VALUE...] -> APP_URL[NAME], APP_TOKEN[NAME], APP_JOB[NAME]
    local name="$1" dir token job
    shift
    dir=$(app_new "$name")
    app_start "$dir" "$@"
    token=$(register_and_login "bench-$name@example.com" "bench-password-$RANDOM$RANDOM")
    job=$(upload_tiny_job "$token")
    APP_URL[$name]="$HOST_URL"
    APP_TOKEN[$name]="$token"
    APP_JOB[$name]="$job"
}
setup_app local
setup_app remote auth_mode=remote

# The reference, on a free port.
REF_PORT=$(free_port)
REF_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
JWT_SECRET="$REF_SECRET" "$VENV/bin/gunicorn" -c "$ROOT/bench/reference/gunicorn.conf.py" \
    --chdir "$ROOT/bench/reference" -b "127.0.0.1:$REF_PORT" app:app \
    >"$BENCH_WORK/reference.log" 2>&1 &
BENCH_PIDS+=($!)
REF_URL="http://127.0.0.1:$REF_PORT"
REF_TOKEN=$(JWT_SECRET="$REF_SECRET" "$VENV/bin/python" "$ROOT/bench/reference/mint_token.py" bench@example.com)
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$REF_URL/healthz" 2>/dev/null && break
    sleep 0.1
done

# --- the routes -------------------------------------------------------------
ROUTES=(a b c_local c_remote d)
declare -A LABEL URL AUTH
LABEL[a]="(a) GET $TRIVIAL_PATH (no auth)"
LABEL[b]="(b) GET /validate"
LABEL[c_local]="(c) GET /jobs/{id} local"
LABEL[c_remote]="(c) GET /jobs/{id} remote"
LABEL[d]="(d) reference Flask+PyJWT"
URL[a]="${APP_URL[local]}$TRIVIAL_PATH"
URL[b]="${APP_URL[local]}/validate"
URL[c_local]="${APP_URL[local]}/jobs/${APP_JOB[local]}"
URL[c_remote]="${APP_URL[remote]}/jobs/${APP_JOB[remote]}"
URL[d]="$REF_URL/validate"
AUTH[a]=""
AUTH[b]="${APP_TOKEN[local]}"
AUTH[c_local]="${APP_TOKEN[local]}"
AUTH[c_remote]="${APP_TOKEN[remote]}"
AUTH[d]="$REF_TOKEN"

for r in "${ROUTES[@]}"; do
    args=(-fsS -o /dev/null)
    [[ -n "${AUTH[$r]}" ]] && args+=(-H "Authorization: Bearer ${AUTH[$r]}")
    curl "${args[@]}" "${URL[$r]}" || bench_die "${LABEL[$r]}: ${URL[$r]} does not answer 2xx"
done
# And the protected routes really are protected.
for r in b c_local c_remote d; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URL[$r]}")
    [[ "$code" == 401 ]] || bench_die "${LABEL[$r]} without a token answered $code, not 401"
done

# run_wrk ROUTE CONNECTIONS SECONDS: prints "rps p50_us p99_us failures".
run_wrk() {
    local r="$1" c="$2" secs="$3" threads=2 out args=()
    ((c < threads)) && threads=$c
    [[ -n "${AUTH[$r]}" ]] && args=(-H "Authorization: Bearer ${AUTH[$r]}")
    out=$(wrk -t"$threads" -c"$c" -d"${secs}s" -s "$ROOT/bench/wrk-report.lua" "${args[@]}" "${URL[$r]}")
    sed -n 's/^WRK_RESULT rps=\([0-9.]*\) p50_us=\([0-9]*\) p99_us=\([0-9]*\) requests=[0-9]* non2xx=\([0-9]*\) errors=\([0-9]*\)$/\1 \2 \3 \4 \5/p' <<<"$out" |
        awk '{print $1, $2, $3, $4 + $5}'
}

bench_log "warming up (${WARMUP}s per route)..."
for r in "${ROUTES[@]}"; do run_wrk "$r" 16 "$WARMUP" >/dev/null; done

declare -A RPS P50 P99 FAIL
for c in "${LEVELS[@]}"; do
    for r in "${ROUTES[@]}"; do
        bench_log "wrk c=$c ${DURATION}s ${LABEL[$r]}"
        read -r "RPS[$r,$c]" "P50[$r,$c]" "P99[$r,$c]" "FAIL[$r,$c]" < <(run_wrk "$r" "$c" "$DURATION")
    done
done
LOAD_AFTER=$(loadavg)

# --- the table --------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "n/a" }'; }
ge() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x >= y) }'; }
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }

echo
echo "### Load (wrk, ${DURATION} s per point; wrk -t2, -t1 at c=1; same run)"
echo
echo "Machine: $(machine_line)"
echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo
echo "| route | c | req/s | p50 ms | p99 ms | failed |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${LEVELS[@]}"; do
    for r in "${ROUTES[@]}"; do
        printf '| %s | %s | %.0f | %s | %s | %s |\n' "${LABEL[$r]}" "$c" "${RPS[$r,$c]}" \
            "$(ms "${P50[$r,$c]}")" "$(ms "${P99[$r,$c]}")" "${FAIL[$r,$c]}"
    done
done

echo
echo "| c | local/(a) req/s | remote/(a) req/s | local/reference req/s | p99 local vs reference (ms) | p99 remote vs reference (ms) | p50 local − (a) (ms) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for c in "${LEVELS[@]}"; do
    printf '| %s | %s | %s | %s | %s vs %s | %s vs %s | %s |\n' "$c" \
        "$(ratio "${RPS[c_local,$c]}" "${RPS[a,$c]}")" \
        "$(ratio "${RPS[c_remote,$c]}" "${RPS[a,$c]}")" \
        "$(ratio "${RPS[c_local,$c]}" "${RPS[d,$c]}")" \
        "$(ms "${P99[c_local,$c]}")" "$(ms "${P99[d,$c]}")" \
        "$(ms "${P99[c_remote,$c]}")" "$(ms "${P99[d,$c]}")" \
        "$(ms $((P50[c_local,$c] - P50[a,$c])))"
done

echo
echo "| target | c | measured | result |"
echo "|---|---:|---|---|"
all=PASS
target() { # NAME C MEASURED VERDICT
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"
    [[ "$4" == PASS ]] || all=MISS
}
for c in "${LEVELS[@]}"; do
    target "(c) local ≥ 75 % of (a) req/s" "$c" \
        "$(ratio "${RPS[c_local,$c]}" "${RPS[a,$c]}")×" \
        "$(verdict ge "${RPS[c_local,$c]}" "$(awk -v a="${RPS[a,$c]}" 'BEGIN{print 0.75*a}')")"
done
for c in "${LEVELS[@]}"; do
    target "(c) local ≥ 1.5× reference req/s" "$c" \
        "$(ratio "${RPS[c_local,$c]}" "${RPS[d,$c]}")×" \
        "$(verdict ge "${RPS[c_local,$c]}" "$(awk -v d="${RPS[d,$c]}" 'BEGIN{print 1.5*d}')")"
    target "(c) local p99 ≤ reference p99" "$c" \
        "$(ms "${P99[c_local,$c]}") vs $(ms "${P99[d,$c]}") ms" \
        "$(verdict ge "${P99[d,$c]}" "${P99[c_local,$c]}")"
done
for c in "${LEVELS[@]}"; do
    [[ "$c" == 1 ]] || continue
    target "(c) local p50 within 0.2 ms of (a) p50" 1 \
        "$(ms "${P50[c_local,1]}") vs $(ms "${P50[a,1]}") ms" \
        "$(verdict ge $((P50[a,1] + 200)) "${P50[c_local,1]}")"
    for r in a b c_local c_remote; do
        target "p50 ≤ 1 ms: ${LABEL[$r]}" 1 "$(ms "${P50[$r,1]}") ms" \
            "$(verdict ge 1000 "${P50[$r,1]}")"
    done
done
echo
echo "All load targets: $all"
