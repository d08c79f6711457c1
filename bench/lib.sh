# shellcheck shell=bash
# Shared helpers for the benchmark scripts (sourced, not run).
#
# Starts Clipwave the way the end-to-end tests do: a temp folder holding a
# copy of spin.toml whose component sources point at this build, the
# runtime config (stores in that folder, fresh for every app), dev keys and
# credentials from clipwave-devenv, and clipwave-host on 127.0.0.1:0 (the
# port it bound is read from its "Serving http://..." line).
#
# Callers set `set -euo pipefail` and call bench_init first; it installs the
# EXIT trap that stops every process started here and removes the temp dir
# (BENCH_KEEP=1 keeps it, with the host and worker logs, for a post-mortem).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release"
WASM_DIR="$TARGET/wasm32-wasip2/release"

BENCH_PIDS=()
BENCH_WORK=""

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() {
    bench_log "error: $*"
    exit 1
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${BENCH_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$BENCH_WORK" && -d "$BENCH_WORK" ]]; then
        if [[ -n "${BENCH_KEEP:-}" ]]; then
            bench_log "kept $BENCH_WORK (BENCH_KEEP)"
        else
            rm -rf "$BENCH_WORK"
        fi
    fi
}

# bench_init: the temp dir (BENCH_WORK, under $BENCH_TMPDIR or /tmp) and the trap.
bench_init() {
    BENCH_WORK="$(mktemp -d "${BENCH_TMPDIR:-/tmp}/clipwave-bench.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Forget a pid that has already been stopped.
bench_forget() {
    local gone="$1" pid kept=()
    for pid in "${BENCH_PIDS[@]}"; do
        [[ "$pid" == "$gone" ]] || kept+=("$pid")
    done
    BENCH_PIDS=("${kept[@]}")
}

bench_stop() {
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    bench_forget "$pid"
}

# apt_get PACKAGE: installs PACKAGE with apt-get (sudo when not root).
apt_get() {
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    bench_log "installing $1 (apt)..."
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}
# apt_install CMD PACKAGE: installs PACKAGE when the command CMD is missing.
apt_install() {
    command -v "$1" >/dev/null 2>&1 || apt_get "$2"
}
# ensure_venv_support: python3 with venv and ensurepip (python3-venv on Debian).
ensure_venv_support() {
    apt_install python3 python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_get python3-venv
}

# The release binaries and components must exist (`make build` makes them).
require_build() {
    local f
    for f in "$BIN/clipwave-host" "$BIN/clipwave-devenv" "$BIN/clipwave-worker" \
        "$WASM_DIR/clipwave_auth.wasm" "$WASM_DIR/clipwave_gateway.wasm" "$WASM_DIR/clipwave_web.wasm"; do
        [[ -e "$f" ]] || bench_die "$f is missing: run 'make build' first"
    done
}

# The machine, for the tables' headers.
machine_line() {
    local cpu mem
    cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
    mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
    printf '%s; %s cores (%s); %s RAM; %s' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "${cpu:-unknown cpu}" "$mem" \
        "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# app_new NAME: a fresh app folder ($BENCH_WORK/NAME) with manifest, runtime
# config and dev secrets. Prints the folder.
app_new() {
    local dir="$BENCH_WORK/$1"
    mkdir -p "$dir"
    sed "s#^source = \"target/#source = \"$TARGET/#" "$ROOT/spin.toml" >"$dir/spin.toml"
    cp "$ROOT/runtime-config.toml" "$dir/runtime-config.toml"
    "$BIN/clipwave-devenv" init --dir "$dir/.spin" >/dev/null
    (umask 077 && python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["worker_client_secret"])' \
        "$dir/.spin/dev-credentials.json" >"$dir/.spin/worker-client-secret")
    printf '%s\n' "$dir"
}

# app_start DIR [NAME=VALUE...]: starts clipwave-host for DIR with extra
# variables (auth_mode=remote); sets HOST_PID and HOST_URL.
app_start() {
    local dir="$1"
    shift
    local log="$dir/host.log" assignment name env_args=() i
    for assignment in "$@"; do
        name="${assignment%%=*}"
        env_args+=("SPIN_VARIABLE_${name^^}=${assignment#*=}")
    done
    : >"$log"
    (
        # shellcheck disable=SC1091
        source "$dir/.spin/dev.env"
        exec env RUST_LOG="${HOST_LOG:-warn}" "${env_args[@]}" "$BIN/clipwave-host" \
            --listen 127.0.0.1:0 --from "$dir/spin.toml" \
            --runtime-config-file "$dir/runtime-config.toml" \
            --cache-dir "$TARGET/clipwave-host-cache"
    ) >>"$log" 2>&1 &
    HOST_PID=$!
    BENCH_PIDS+=("$HOST_PID")
    HOST_URL=""
    for ((i = 0; i < 1200; i++)); do
        HOST_URL=$(sed -n 's/^Serving \(http:\/\/[0-9.:]*\).*/\1/p' "$log" | head -n1)
        [[ -n "$HOST_URL" ]] && break
        kill -0 "$HOST_PID" 2>/dev/null || bench_die "clipwave-host did not start: $(cat "$log")"
        sleep 0.1
    done
    [[ -n "$HOST_URL" ]] || bench_die "clipwave-host did not serve within 120 s"
    curl -fsS "$HOST_URL/healthz" >/dev/null || bench_die "healthz failed: $(cat "$log")"
}

# json FIELD: reads JSON on stdin, prints FIELD.
json() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v)' "$1"; }

# register_and_login EMAIL PASSWORD: prints an access token.
register_and_login() {
    local email="$1" password="$2" body
    body=$(printf '{"email":"%s","password":"%s"}' "$email" "$password")
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" "$HOST_URL/register" ||
        bench_die "register $email failed"
    curl -fsS -X POST -H 'Content-Type: application/json' -d "$body" "$HOST_URL/login" | json access_token
}

# upload_tiny_job TOKEN: uploads a 32-byte MP4 header (enough for the
# gateway's magic-byte check) and prints the queued job's id, so GET
# /jobs/{id} has something to read.
upload_tiny_job() {
    printf '\0\0\0\x20ftypisom\0\0\0\0\0\0\0\x08free' |
        curl -fsS -X POST -H "Authorization: Bearer $1" -H 'Content-Type: video/mp4' \
            --data-binary @- "$HOST_URL/upload" | json job_id
}

# service_token DIR: the worker's service token (client credentials).
service_token() {
    local dir="$1" id secret
    id=$(json worker_client_id <"$dir/.spin/dev-credentials.json")
    secret=$(cat "$dir/.spin/worker-client-secret")
    curl -fsS -u "$id:$secret" -d grant_type=client_credentials "$HOST_URL/token" | json access_token
}

# A free TCP port on 127.0.0.1 (for servers that cannot report the one they bound).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# peak_kib PID / reset_peak PID: VmHWM in KiB, and resetting it (clear_refs 5).
peak_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
