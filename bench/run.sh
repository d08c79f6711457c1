#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other, tables printed as
# they finish and collected in target/bench/results-<UTC time>.md:
#   bench/converter.sh  the converter vs ffmpeg and the tutorial's moviepy
#   bench/load.sh       token checks under wrk vs the Flask/PyJWT reference
#   bench/transfer.sh   upload/download MB/s and host peak RSS, 100 MB + 1 GiB
#   bench/batch.sh      20 users x a 1-minute video, 1 and 2 workers
# Installs what it needs on a fresh Debian machine (apt: wrk, ffmpeg, curl,
# bc, time, python3-venv; PyPI: the reference and moviepy into venvs under
# the target folder). Expects `make build` to have run (`make bench` does).
#
# Usage: bench/run.sh [--short]    (--short: a quick smoke run of each)
# Env:   ONLY="load transfer" picks benchmarks; the scripts' own variables.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SHORT=()
[[ "${1:-}" == "--short" ]] && SHORT=(--short)
read -r -a ONLY <<<"${ONLY:-converter load transfer batch}"

for tool in wrk ffmpeg curl bc; do apt_install "$tool" "$tool"; done
[[ -x /usr/bin/time ]] || apt_get time
ensure_venv_support
require_build

# converter.sh installs moviepy with "$PYTHON -m pip": give it a venv of its
# own (Debian's system Python refuses pip installs, PEP 668).
CONVERTER_VENV="$TARGET/bench-converter-venv"
[[ -x "$CONVERTER_VENV/bin/python" ]] || python3 -m venv "$CONVERTER_VENV"

mkdir -p "$TARGET/bench"
RESULTS="$TARGET/bench/results-$(date -u +%Y%m%dT%H%M%SZ).md"
{
    echo "# Clipwave benchmarks ${SHORT[*]}"
    echo
    echo "Machine: $(machine_line); load average at start: $(loadavg)"
} >"$RESULTS"

for name in "${ONLY[@]}"; do
    echo
    echo "==== bench/$name.sh ${SHORT[*]} (load average $(loadavg)) ===="
    {
        echo
        echo "## bench/$name.sh ${SHORT[*]}"
        echo
        echo "Load average at start: $(loadavg)"
    } >>"$RESULTS"
    case "$name" in
        converter)
            PYTHON="$CONVERTER_VENV/bin/python" bash "$ROOT/bench/converter.sh" "${SHORT[@]}" | tee -a "$RESULTS"
            ;;
        load | transfer | batch)
            bash "$ROOT/bench/$name.sh" "${SHORT[@]}" | tee -a "$RESULTS"
            ;;
        *) bench_die "unknown benchmark: $name" ;;
    esac
done
echo
echo "All tables: $RESULTS"
