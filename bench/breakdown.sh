#!/usr/bin/env bash
# Where a protected request's time goes (issue 9: "if a target is missed,
# report the per-request breakdown"). The host cannot be instrumented from
# here, so the cost of each step is measured by difference, on one host,
# with requests that stop after successive steps of GET /jobs/{id}:
#   web /style.css                  routing + a fresh web instance + 3 KB body
#   gateway, no token -> 401        + gateway instance, request parsing, error
#   gateway, bad signature -> 401   + bearer parse, verifier (JWKS -> keys),
#                                     one key-value read, token-hash check
#   gateway, valid token, GET /jobs/<malformed id> -> 404
#                                   + the accepted check, then opening the
#                                     jobs database (SQLite open + the
#                                     migration check, SELECT MAX(version));
#                                     then the id check fails
#   gateway, valid token, GET /jobs/{id} -> 200
#                                   + the SELECT of the job and its JSON
#   auth, GET /validate no token / valid token, and /healthz for comparison
# Each is run with wrk at c=1 and c=16, ROUNDS times interleaved; the table
# holds the medians. A step's cost is the difference of the c=1 p50s (on a
# busy machine the means are dominated by scheduling stalls; p50s are not).
# With PERF=1 it also samples the host with `perf record` during GET
# /jobs/{id} at c=16 and prints the host CPU time per request by kind
# (kernel, wasm guest code, Ed25519 key decoding inside the guest, SQLite,
# the rest of the host: wasmtime, hyper, tokio, allocator). With STRACE=1 it
# counts the host's system calls per request (strace -f -c, 200 sequential
# requests on one connection) for /style.css and GET /jobs/{id}. With CPU=1
# it measures the host's CPU time per request (perf stat task-clock over a
# c=16 wrk run / requests completed) for /style.css and GET /jobs/{id},
# ROUNDS times interleaved: the figure to compare builds by on a shared
# machine.
#
# Usage: bench/breakdown.sh [--short]    Env: DURATION=3  ROUNDS=3  CPU=0  PERF=0  STRACE=0
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-3}"
ROUNDS="${ROUNDS:-3}"
if [[ "${1:-}" == "--short" ]]; then
    DURATION=2
    ROUNDS=1
fi
apt_install wrk wrk
apt_install python3 python3
require_build
bench_init
LOAD_BEFORE=$(loadavg)

DIR=$(app_new breakdown)
app_start "$DIR"
TOKEN=$(register_and_login bench-breakdown@example.com "bench-password-$RANDOM$RANDOM")
JOB=$(upload_tiny_job "$TOKEN")
# The same claims with another signature: parses, reads the session, is not listed.
FORGED="${TOKEN%.*}.$(printf 'A%.0s' $(seq 1 86))"

NAMES=(web gw_none gw_forged gw_404 gw_job auth_none auth_ok healthz)
declare -A LABEL URL AUTH CODE
add() { LABEL[$1]="$2" URL[$1]="$HOST_URL$3" AUTH[$1]="$4" CODE[$1]="$5"; }
add web "web: GET /style.css" /style.css "" 200
add gw_none "gateway: GET /jobs/{id}, no token" "/jobs/$JOB" "" 401
add gw_forged "gateway: GET /jobs/{id}, bad signature" "/jobs/$JOB" "$FORGED" 401
add gw_404 "gateway: valid token, GET /jobs/<malformed>" /jobs/not-a-job-id "$TOKEN" 404
add gw_job "gateway: valid token, GET /jobs/{id}" "/jobs/$JOB" "$TOKEN" 200
add auth_none "auth: GET /validate, no token" /validate "" 401
add auth_ok "auth: GET /validate, valid token" /validate "$TOKEN" 200
add healthz "gateway: GET /healthz (2 kv opens + SELECT 1)" /healthz "" 200

cat >"$BENCH_WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency.mean, latency:percentile(50), latency:percentile(99), summary.requests))
end
EOF
run() { # NAME C -> "rps mean_us p50_us p99_us requests"
    local args=() threads=2
    (($2 < 2)) && threads=1
    [[ -n "${AUTH[$1]}" ]] && args=(-H "Authorization: Bearer ${AUTH[$1]}")
    wrk -t"$threads" -c"$2" -d"${DURATION}s" -s "$BENCH_WORK/report.lua" "${args[@]}" "${URL[$1]}" |
        sed -n 's/^RESULT //p'
}
for n in "${NAMES[@]}"; do
    args=()
    [[ -n "${AUTH[$n]}" ]] && args=(-H "Authorization: Bearer ${AUTH[$n]}")
    code=$(curl -s -o /dev/null -w '%{http_code}' "${args[@]}" "${URL[$n]}")
    [[ "$code" == "${CODE[$n]}" ]] || bench_die "${LABEL[$n]}: HTTP $code, expected ${CODE[$n]}"
    run "$n" 16 >/dev/null # warm-up
done

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A RPS MEAN P50 P99 RPS16 S_RPS S_MEAN S_P50 S_P99 S_RPS16
for ((round = 1; round <= ROUNDS; round++)); do
    for n in "${NAMES[@]}"; do
        bench_log "breakdown round $round: ${LABEL[$n]}"
        read -r rps mean p50 p99 _ < <(run "$n" 1)
        S_RPS[$n]+="$rps " S_MEAN[$n]+="$mean " S_P50[$n]+="$p50 " S_P99[$n]+="$p99 "
        read -r rps _ < <(run "$n" 16)
        S_RPS16[$n]+="$rps "
    done
done
for n in "${NAMES[@]}"; do
    for v in RPS MEAN P50 P99 RPS16; do
        declare -n samples="S_$v" into="$v"
        # shellcheck disable=SC2086,SC2034,SC2004 # (into is a nameref to RPS/MEAN/...)
        into[$n]=$(printf '%s\n' ${samples[$n]} | median)
        unset -n samples into
    done
done

# cpu_per_request NAME: host CPU µs per request at c=16, perf stat's
# task-clock of the host over one wrk run divided by the requests it
# completed. Steadier than req/s on a shared machine: others' load changes
# how long a request waits for a core far more than how much CPU it takes.
cpu_per_request() {
    local stat="$BENCH_WORK/stat-$1" stat_pid requests task_ms
    perf stat -x, -e task-clock -p "$HOST_PID" -o "$stat" -- sleep $((DURATION + 1)) &
    stat_pid=$!
    sleep 0.5
    read -r _ _ _ _ requests < <(run "$1" 16)
    wait "$stat_pid" || true
    task_ms=$(awk -F, '/task-clock/ {print $1}' "$stat")
    awk -v t="$task_ms" -v r="$requests" 'BEGIN { printf "%.1f", t * 1000 / r }'
}
if [[ "${CPU:-0}" == 1 ]] && command -v perf >/dev/null; then
    declare -A S_CPU CPU_US
    for ((round = 1; round <= ROUNDS; round++)); do
        for n in web gw_job; do
            bench_log "host CPU per request, round $round: ${LABEL[$n]}"
            S_CPU[$n]+="$(cpu_per_request "$n") "
        done
    done
    for n in web gw_job; do
        # shellcheck disable=SC2086 # one sample per word
        CPU_US[$n]=$(printf '%s\n' ${S_CPU[$n]} | median)
    done
    CPU_LINE="${LABEL[web]} ${CPU_US[web]} µs (rounds: ${S_CPU[web]% }), ${LABEL[gw_job]} ${CPU_US[gw_job]} µs (rounds: ${S_CPU[gw_job]% })"
fi

if [[ "${PERF:-0}" == 1 ]] && command -v perf >/dev/null; then
    perf record -q -F 999 -g -p "$HOST_PID" -o "$BENCH_WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
    read -r _ _ _ _ perf_requests < <(run gw_job 16)
    wait "$perf_pid" || true
    # Host CPU µs per request = samples / 999 Hz / requests; split by kind.
    PERF_LINE=$(perf report -i "$BENCH_WORK/perf.data" --no-children --sort sym --stdio -g none -n 2>/dev/null |
        grep '%' | grep -v '^#' | awk -v r="$perf_requests" '
        { p = $2; n += p; t += p
          if ($0 ~ /ed25519|fiat_25519|__multi3/) e += p
          else if ($0 ~ /\[k\]/) k += p
          else if ($0 ~ /wasm\[/) w += p
          else if ($0 ~ /sqlite/) s += p
          else o += p }
        END { us = 1e6 / 999 / r; pc = 100 / t
              printf "%.0f µs host CPU per request (%d samples, %d requests): kernel %.0f µs (%.0f %%), guest wasm %.0f µs (%.0f %%; of which Ed25519 key decoding %.0f µs), SQLite %.0f µs, rest of the host (wasmtime, hyper, tokio, malloc) %.0f µs", \
                     us * t, n, r, us * k, k * pc, us * (w + e), (w + e) * pc, us * e, us * s, us * o }')
fi

# strace_counts NAME: "syscall per-request ..." for 200 sequential requests.
strace_counts() {
    local n="$1" log="$BENCH_WORK/strace-$1.txt" spid i args=()
    [[ -n "${AUTH[$n]}" ]] && args=(-H "Authorization: Bearer ${AUTH[$n]}")
    for ((i = 0; i < 200; i++)); do printf 'url = "%s"\noutput = "/dev/null"\n' "${URL[$n]}"; done >"$BENCH_WORK/urls"
    strace -f -c -p "$HOST_PID" -o "$log" 2>/dev/null &
    spid=$!
    sleep 1
    curl -s "${args[@]}" -K "$BENCH_WORK/urls"
    sleep 0.5
    kill -INT "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    awk '$4 ~ /^[0-9]+$/ && $NF != "total" && $4 >= 100 { printf "%s %.1f, ", $NF, $4 / 200 }' "$log" | sed 's/, $//'
}
if [[ "${STRACE:-0}" == 1 ]]; then
    apt_install strace strace
    STRACE_WEB=$(strace_counts web)
    STRACE_JOB=$(strace_counts gw_job)
fi
LOAD_AFTER=$(loadavg)

us() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
echo
echo "### Per-request breakdown of GET /jobs/{id} (by difference of p50s; wrk ${DURATION} s per point, median of $ROUNDS rounds)"
echo
echo "Machine: $(machine_line)"
echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo
echo "| request | c=1 p50 µs | c=1 mean µs | c=1 p99 µs | c=1 req/s | c=16 req/s | step | step cost (p50 µs) |"
echo "|---|---:|---:|---:|---:|---:|---|---:|"
step() { awk -v a="${P50[$1]}" -v b="${P50[$2]}" 'BEGIN { printf "%+.0f", a - b }'; }
declare -A STEP=(
    [web]="routing + instance + static body|"
    [gw_none]="gateway instance vs web's (bigger component), request parse, 401|web"
    [gw_forged]="bearer parse + verifier from JWKS + 1 kv read + hash|gw_none"
    [gw_404]="token accepted + SQLite open and migration check (before the id is parsed), 404|gw_forged"
    [gw_job]="SELECT the job + JSON|gw_404"
    [auth_none]="auth instance, 401|web"
    [auth_ok]="auth's whole check + claims JSON|auth_none"
    [healthz]="2 kv opens + SELECT 1, no auth|gw_none"
)
for n in "${NAMES[@]}"; do
    what="${STEP[$n]%%|*}" base="${STEP[$n]#*|}"
    cost="${P50[$n]} (total)"
    [[ -n "$base" ]] && cost=$(step "$n" "$base")
    printf '| %s | %s | %s | %s | %.0f | %.0f | %s | %s |\n' "${LABEL[$n]}" "${P50[$n]}" "$(us "${MEAN[$n]}")" \
        "${P99[$n]}" "${RPS[$n]}" "${RPS16[$n]}" "$what" "$cost"
done
if [[ -n "${CPU_LINE:-}" ]]; then
    echo
    echo "Host CPU per request at c=16 (perf stat task-clock / requests, median of $ROUNDS): $CPU_LINE"
fi
if [[ -n "${PERF_LINE:-}" ]]; then
    echo
    echo "perf, host CPU during GET /jobs/{id} at c=16: $PERF_LINE"
fi
if [[ -n "${STRACE_JOB:-}" ]]; then
    echo
    echo "Host system calls per request (strace -f -c, 200 sequential requests, calls made at least once per 2 requests):"
    echo "- GET /style.css: $STRACE_WEB"
    echo "- GET /jobs/{id} (local): $STRACE_JOB"
fi
