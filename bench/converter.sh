#!/usr/bin/env bash
# Converter benchmark: ffmpeg vs clipwave-convert (1 thread, all cores) vs
# the original tutorial's moviepy converter, on a 10-minute and a 60-minute
# MP4 (H.264 160x120 + stereo 44.1 kHz AAC) generated into a temp dir that
# is deleted afterwards (media is never committed).
#
# Each converter runs 3 times on each input (median wall and CPU time
# reported; the 60-minute rounds take about 5 minutes each here); the
# converters take turns within each round (ffmpeg, 1 thread, all cores, moviepy, then
# again), so a load change on a shared machine hits them all alike. Peak
# RSS is that of the whole process tree (moviepy starts ffmpeg children).
# LAME's default quality everywhere, 192 kbit/s CBR, as
# `ffmpeg -c:a libmp3lame -b:a 192k`.
#
# Usage: bench/converter.sh [--short]   (--short: the 10-minute input only)
# Env:   RUNS=3  CARGO_TARGET_DIR=...   (where the release build goes)
#        RUNS_LONG=$RUNS                (rounds on the 60-minute input)
#        NO_MOVIEPY=1                   (skip the tutorial's converter)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-3}"
RUNS_LONG="${RUNS_LONG:-$RUNS}"
DURATIONS=(600 3600)
[[ "${1:-}" == "--short" ]] && DURATIONS=(600)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need ffmpeg; then
  echo "installing ffmpeg..." >&2
  apt-get update -qq && apt-get install -y -qq ffmpeg >/dev/null
fi
if [[ ! -x /usr/bin/time ]]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
PY="${PYTHON:-python3}"
NAMES=(ffmpeg convert-1 convert-all moviepy)
[[ -n "${NO_MOVIEPY:-}" ]] && NAMES=(ffmpeg convert-1 convert-all)
if [[ -z "${NO_MOVIEPY:-}" ]] && ! "$PY" -c "import moviepy" 2>/dev/null; then
  echo "installing moviepy..." >&2
  "$PY" -m pip install -q moviepy >&2
fi

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build -q --release -p clipwave-native-converter --bin clipwave-convert)
CONVERT="$TARGET/release/clipwave-convert"
CORES="$(nproc)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Prints "wall_secs cpu_secs peak_rss_kib" for one run of "$@". Wall and
# CPU (user + system, children included) and the peak RSS come from
# /usr/bin/time -v. With TREE=1 (moviepy, which runs ffmpeg as a child) the
# peak RSS is also sampled every 50 ms as the sum over the whole process
# tree, and the larger of the two is reported. Only then: the sampler forks
# pgrep and awk 20 times a second, which took a tenth of a core from a
# converter using both (2.73 s instead of 2.39 s measured for two threads).
descendants() {
  local p
  for p in $(pgrep -P "$1"); do
    echo "$p"
    descendants "$p"
  done
}
measure() {
  local log="$WORK/time.log" peak=0 pid total p kib
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>&1 &
  pid=$!
  while [[ -n "${TREE:-}" ]] && kill -0 "$pid" 2>/dev/null; do
    total=0
    for p in $(descendants "$pid"); do
      kib=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
      total=$((total + ${kib:-0}))
    done
    ((total > peak)) && peak=$total
    sleep 0.05
  done
  wait "$pid" || true
  local wall cpu_u cpu_s rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  cpu_u=$(awk -F': ' '/User time/ {print $2}' "$log")
  cpu_s=$(awk -F': ' '/System time/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  ((rss > peak)) && peak=$rss
  echo "$wall $(echo "$cpu_u + $cpu_s" | bc -l) $peak"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cat >"$WORK/moviepy_convert.py" <<'EOF'
import sys
try:
    from moviepy import VideoFileClip  # moviepy 2.x
except ImportError:
    from moviepy.editor import VideoFileClip  # moviepy 1.x
# The tutorial's call; it encodes with ffmpeg's libmp3lame at its defaults.
VideoFileClip(sys.argv[1]).audio.write_audiofile(sys.argv[2], logger=None)
EOF

printf '\n%-8s %-26s %9s %9s %10s %9s\n' input converter "wall s" "cpu s" "peak MiB" "speed"
for secs in "${DURATIONS[@]}"; do
  mins=$((secs / 60))
  IN="$WORK/in-${mins}min.mp4"
  ffmpeg -y -v error -nostdin \
    -f lavfi -i "testsrc=size=160x120:rate=10:duration=$secs" \
    -f lavfi -i "anoisesrc=color=pink:amplitude=0.25:duration=$secs:sample_rate=44100" \
    -ac 2 -c:v libx264 -preset ultrafast -c:a aac -b:a 128k -shortest "$IN"
  runs=$RUNS
  ((secs > 600)) && runs=$RUNS_LONG
  declare -A WALLS CPUS RSS
  for ((i = 0; i < runs; i++)); do
    for name in "${NAMES[@]}"; do
      OUT="$WORK/out-$name.mp3"
      case $name in
        ffmpeg) r=$(measure ffmpeg -y -v error -nostdin -i "$IN" -vn -c:a libmp3lame -b:a 192k "$OUT") ;;
        convert-1) r=$(measure "$CONVERT" "$IN" -o "$OUT" --threads 1 --quiet) ;;
        convert-all) r=$(measure "$CONVERT" "$IN" -o "$OUT" --threads "$CORES" --quiet) ;;
        moviepy) r=$(TREE=1 measure "$PY" "$WORK/moviepy_convert.py" "$IN" "$OUT") ;;
      esac
      read -r w c m <<<"$r"
      WALLS[$name]+="$w "
      CPUS[$name]+="$c "
      ((m > ${RSS[$name]:-0})) && RSS[$name]=$m
    done
  done
  declare -A WALL CPU
  for name in "${NAMES[@]}"; do
    WALL[$name]=$(printf '%s\n' ${WALLS[$name]} | median)
    CPU[$name]=$(printf '%s\n' ${CPUS[$name]} | median)
  done
  for name in "${NAMES[@]}"; do
    label=$name
    [[ $name == convert-1 ]] && label="clipwave-convert 1 thread"
    [[ $name == convert-all ]] && label="clipwave-convert $CORES threads"
    [[ $name == moviepy ]] && label="moviepy (tutorial)"
    speed=$(echo "${WALL[ffmpeg]} / ${WALL[$name]}" | bc -l)
    printf '%-8s %-26s %9.2f %9.2f %10.1f %8.2fx\n' "${mins}min" "$label" \
      "${WALL[$name]}" "${CPU[$name]}" "$(echo "${RSS[$name]} / 1024" | bc -l)" "$speed"
  done
  unset WALL CPU RSS WALLS CPUS
done
echo
echo "speed = ffmpeg wall time / this wall time (higher is faster); medians of $RUNS runs (60 min: $RUNS_LONG)"
echo "cpu s = user + system time; peak MiB = largest of the runs"
