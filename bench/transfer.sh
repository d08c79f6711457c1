#!/usr/bin/env bash
# Upload and download throughput (MB/s, 1 MB = 10^6 bytes) with curl on
# loopback, and clipwave-host's peak RSS (VmHWM from /proc, reset before
# each transfer with `echo 5 > /proc/<pid>/clear_refs`), for a 100 MB and a
# 1 GiB file:
#   raw upload        POST /upload, curl -T, Content-Type: video/mp4
#   multipart upload  POST /upload, curl -F file=@...
#   worker input      GET /internal/jobs/{id}/input (service token; the
#                     stored upload, as the worker streams it)
#   worker output     PUT /internal/jobs/{id}/output (the same bytes stand
#                     in for an mp3: the gateway stores outputs as given)
#   user download     GET /download?fid=<job> after .../complete
# The files start with an ISO-BMFF `ftyp` box (the upload check reads magic
# bytes) and are sparse beyond it, so reading them costs curl nothing.
#
# Usage: bench/transfer.sh [--short]   (--short: the 100 MB file only)
# Env:   SIZES="100000000 1073741824" (bytes)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

read -r -a SIZES <<<"${SIZES:-100000000 1073741824}"
[[ "${1:-}" == "--short" ]] && SIZES=(100000000)
apt_install curl curl
apt_install python3 python3
require_build
bench_init
LOAD_BEFORE=$(loadavg)

DIR=$(app_new transfer)
app_start "$DIR"
TOKEN=$(register_and_login bench-transfer@example.com "bench-password-$RANDOM$RANDOM")
SERVICE=$(service_token "$DIR")
BASE_KIB=$(rss_kib "$HOST_PID")

size_label() {
    awk -v b="$1" 'BEGIN { if (b % 1073741824 == 0) printf "%d GiB", b / 1073741824; else printf "%d MB", b / 1e6 }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# transfer LABEL SIZE CURL-ARGS...: runs curl, checks the status and the
# byte count, records a table row. Upload responses are left in
# $BENCH_WORK/body; downloads go to /dev/null (no disk in the measurement).
ROWS=()
transfer() {
    local label="$1" size="$2" out code secs up down before peak sink="$BENCH_WORK/body"
    shift 2
    [[ "$label" == *upload* || "$label" == *PUT* ]] || sink=/dev/null
    before=$(rss_kib "$HOST_PID")
    reset_peak "$HOST_PID"
    out=$(curl -sS -H 'Expect:' -o "$sink" -w '%{http_code} %{time_total} %{size_upload} %{size_download}' "$@")
    read -r code secs up down <<<"$out"
    peak=$(peak_kib "$HOST_PID")
    [[ "$code" == 2* ]] || bench_die "$label: HTTP $code: $(head -c 300 "$sink")"
    ((up >= size || down == size)) || bench_die "$label: moved $up up / $down down, not $size bytes"
    ROWS+=("$(printf '| %s | %s | %.1f | %.2f | %s | %s |' "$(size_label "$size")" "$label" \
        "$(awk -v b="$size" -v s="$secs" 'BEGIN { print b / s / 1e6 }')" "$secs" \
        "$(mib "$before")" "$(mib "$peak")")")
    bench_log "$(size_label "$size") $label: ${secs}s, peak $(mib "$peak") MiB"
}

for size in "${SIZES[@]}"; do
    FILE="$BENCH_WORK/input-$size.mp4"
    printf '\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41' >"$FILE"
    truncate -s "$size" "$FILE"
    AUTH=(-H "Authorization: Bearer $TOKEN")
    SAUTH=(-H "Authorization: Bearer $SERVICE")

    transfer "raw upload (curl -T)" "$size" -X POST -T "$FILE" -H 'Content-Type: video/mp4' "${AUTH[@]}" "$HOST_URL/upload"
    RAW_JOB=$(json job_id <"$BENCH_WORK/body")
    transfer "multipart upload (curl -F)" "$size" -F "file=@$FILE;type=video/mp4" "${AUTH[@]}" "$HOST_URL/upload"
    MULTI_JOB=$(json job_id <"$BENCH_WORK/body")

    # Play the worker: claim the oldest queued job (the raw upload).
    curl -fsS -X POST -H 'Content-Type: application/json' -d '{"worker_id":"bench"}' "${SAUTH[@]}" \
        "$HOST_URL/internal/jobs/claim" >"$BENCH_WORK/claim.json"
    CLAIMED=$(json job_id <"$BENCH_WORK/claim.json")
    ATTEMPT=$(json attempt <"$BENCH_WORK/claim.json")
    [[ "$CLAIMED" == "$RAW_JOB" ]] || bench_die "claimed $CLAIMED, expected $RAW_JOB"

    transfer "worker input GET" "$size" "${SAUTH[@]}" "$HOST_URL/internal/jobs/$RAW_JOB/input"
    transfer "worker output PUT" "$size" -T "$FILE" -H 'Content-Type: audio/mpeg' "${SAUTH[@]}" \
        "$HOST_URL/internal/jobs/$RAW_JOB/output?attempt=$ATTEMPT"
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"attempt\":$ATTEMPT,\"duration_secs\":1.0}" "${SAUTH[@]}" "$HOST_URL/internal/jobs/$RAW_JOB/complete"
    transfer "user download (/download?fid=)" "$size" "${AUTH[@]}" "$HOST_URL/download?fid=$RAW_JOB"
    # The bytes really are the file's (checked outside the timed transfer).
    curl -fsS "${AUTH[@]}" "$HOST_URL/download?fid=$RAW_JOB" | cmp -s - "$FILE" ||
        bench_die "the download differs from the upload"
    rm -f "$FILE"

    # Free the space before the next size.
    curl -fsS -o /dev/null -X DELETE "${AUTH[@]}" "$HOST_URL/jobs/$RAW_JOB"
    curl -fsS -o /dev/null -X DELETE "${AUTH[@]}" "$HOST_URL/jobs/$MULTI_JOB"
done
LOAD_AFTER=$(loadavg)

echo
echo "### Transfers (curl on loopback, one at a time)"
echo
echo "Machine: $(machine_line)"
echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "Host RSS when idle after start and one login: $(mib "$BASE_KIB") MiB"
echo
echo "| size | transfer | MB/s | seconds | host RSS before (MiB) | host peak RSS during (MiB) |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
