#!/usr/bin/env bash
# End to end: USERS (20) users, each registered and logged in beforehand,
# upload one 1-minute video at the same moment (H.264 320x240 25 fps + stereo
# 44.1 kHz AAC, generated once with ffmpeg); the clock runs from the start
# of the uploads until every user has downloaded a valid mp3 (each user
# polls GET /jobs/{id} every 0.2 s, then downloads and checks it with
# ffprobe). Measured with 1 and with 2 clipwave-worker processes (default
# flags as in scripts/dev-up.sh: one job at a time, encoder threads = cores),
# each on a fresh app; the workers start as soon as the first upload is
# accepted (an idle worker backs off up to 30 s between empty polls).
#
# Usage: bench/batch.sh [--short]   (--short: 5 users)
# Env:   USERS=20  WORKERS="1 2"  VIDEO_SECS=60
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

USERS="${USERS:-20}"
[[ "${1:-}" == "--short" ]] && USERS=5
read -r -a WORKER_COUNTS <<<"${WORKERS:-1 2}"
VIDEO_SECS="${VIDEO_SECS:-60}"
apt_install ffmpeg ffmpeg
apt_install curl curl
apt_install python3 python3
require_build
bench_init
LOAD_BEFORE=$(loadavg)

VIDEO="$BENCH_WORK/video-${VIDEO_SECS}s.mp4"
ffmpeg -y -v error -nostdin \
    -f lavfi -i "testsrc=size=320x240:rate=25:duration=$VIDEO_SECS" \
    -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=$VIDEO_SECS" \
    -ac 2 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$VIDEO"
VIDEO_BYTES=$(stat -c %s "$VIDEO")

now() { date +%s.%N; }

# One user's run: upload, poll until done, download, check. Writes
# "<upload accepted at> <mp3 downloaded at> <mp3 bytes>" to $2.
user_run() {
    local token="$1" result="$2" job status code
    job=$(curl -fsS -H "Authorization: Bearer $token" -F "file=@$VIDEO;type=video/mp4" \
        "$HOST_URL/upload" | json job_id)
    local accepted
    accepted=$(now)
    echo "$job" >"$result.job"
    while :; do
        status=$(curl -fsS -H "Authorization: Bearer $token" "$HOST_URL/jobs/$job" | json status)
        case "$status" in
            done) break ;;
            failed | canceled)
                echo "job $job $status" >"$result.error"
                return 1
                ;;
        esac
        sleep 0.2
    done
    code=$(curl -sS -o "$result.mp3" -w '%{http_code}' -H "Authorization: Bearer $token" \
        "$HOST_URL/download?fid=$job")
    [[ "$code" == 200 ]] || {
        echo "download $job: HTTP $code" >"$result.error"
        return 1
    }
    echo "$accepted $(now) $(stat -c %s "$result.mp3")" >"$result"
}

ROWS=()
for workers in "${WORKER_COUNTS[@]}"; do
    DIR=$(app_new "batch-$workers")
    app_start "$DIR"
    bench_log "registering $USERS users..."
    TOKENS=()
    for ((u = 0; u < USERS; u++)); do
        TOKENS+=("$(register_and_login "user$u@batch.example" "batch-password-$u-$RANDOM$RANDOM")")
    done
    OUT="$BENCH_WORK/results-$workers"
    mkdir -p "$OUT"
    bench_log "batch: $USERS uploads of a ${VIDEO_SECS}s video, $workers worker(s)..."
    T0=$(now)
    user_pids=()
    for ((u = 0; u < USERS; u++)); do
        user_run "${TOKENS[$u]}" "$OUT/user$u" &
        user_pids+=($!)
        BENCH_PIDS+=($!)
    done
    # The workers start once the first upload is accepted.
    until compgen -G "$OUT/user*.job" >/dev/null; do sleep 0.05; done
    worker_pids=()
    for ((w = 1; w <= workers; w++)); do
        mkdir -p "$DIR/worker$w"
        RUST_LOG="${WORKER_LOG:-info}" "$BIN/clipwave-worker" --api "$HOST_URL" --client-id clipwave-worker \
            --client-secret-file "$DIR/.spin/worker-client-secret" --work-dir "$DIR/worker$w" \
            --worker-id "bench-w$w" >"$DIR/worker$w.log" 2>&1 &
        worker_pids+=($!)
        BENCH_PIDS+=($!)
    done
    failed=0
    for pid in "${user_pids[@]}"; do
        wait "$pid" || failed=$((failed + 1))
        bench_forget "$pid"
    done
    T1=$(now)
    for pid in "${worker_pids[@]}"; do bench_stop "$pid"; done
    ((failed == 0)) || bench_die "$failed of $USERS users failed: $(cat "$OUT"/*.error 2>/dev/null)"

    # Every mp3 decodes and lasts as long as the video.
    for ((u = 0; u < USERS; u++)); do
        d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$OUT/user$u.mp3")
        awk -v d="$d" -v s="$VIDEO_SECS" 'BEGIN { exit !(d > s - 1 && d < s + 1) }' ||
            bench_die "user$u's mp3 lasts $d s, not about $VIDEO_SECS s"
    done
    stats=$(for ((u = 0; u < USERS; u++)); do cat "$OUT/user$u"; done | awk -v t0="$T0" '
        { up = $1 - t0; if (up > maxup) maxup = up; d = $2 - t0; sum += d; if (d > max) max = d
          if (min == "" || d < min) min = d }
        END { printf "%.1f %.1f %.1f %.1f", maxup, min, sum / NR, max }')
    read -r maxup first mean last <<<"$stats"
    total=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
    ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %.1f |' "$workers" "$total" "$maxup" "$first" "$mean" "$last" \
        "$(awk -v n="$USERS" -v t="$total" 'BEGIN { print n * 60 / t }')")")
    bench_log "$workers worker(s): all $USERS mp3s downloadable after ${total}s"
    bench_stop "$HOST_PID"
done
LOAD_AFTER=$(loadavg)

echo
echo "### End to end: $USERS users upload a ${VIDEO_SECS} s video at once ($(awk -v b="$VIDEO_BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }') each)"
echo
echo "Machine: $(machine_line)"
echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo
echo "| workers | all mp3s downloadable (s) | last upload accepted (s) | first mp3 (s) | mean per user (s) | last mp3 (s) | jobs/min |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Times from the start of the uploads; every mp3 was downloaded and checked with ffprobe (duration within 1 s)."
