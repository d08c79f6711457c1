#!/usr/bin/env bash
# Long fuzzing runs (`make fuzz`): every cargo-fuzz target in turn, one job
# at a time, FUZZ_SECONDS each. See docs/fuzzing.md.
#
#   FUZZ_SECONDS=300       seconds per target
#   FUZZ_TARGETS="a b"     which targets (default: all)
#   CARGO_TARGET_DIR=...   where to build (default: fuzz/target)
#
# Only the stable toolchain is needed: cargo-fuzz passes libFuzzer's
# coverage flags, which are stable, and RUSTC_BOOTSTRAP=1 lets it use the
# few -Z flags it adds. The targets build without a sanitizer (-s none):
# the code under test is almost all safe Rust, and AddressSanitizer needs its
# nightly-only runtime flags.
set -euo pipefail

cd "$(dirname "$0")"
FUZZ_SECONDS="${FUZZ_SECONDS:-300}"
FUZZ_TARGETS="${FUZZ_TARGETS:-token authorization multipart range sniff decode}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export RUSTC_BOOTSTRAP=1
CARGO_FUZZ_VERSION=0.13.2

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

# Decoder seeds: tiny real files of every container, made with ffmpeg (never
# committed); the first byte picks the extension hint (see decode.rs).
make_decode_seeds() {
    local dir=corpus/decode tmp
    mkdir -p "$dir"
    tmp="$(mktemp -d)"
    local i=0
    for spec in "mp4:-c:a aac -b:a 16k" "m4a:-c:a aac -b:a 16k" "mov:-c:a pcm_s16le" \
        "mkv:-c:a flac" "webm:-c:a libvorbis" "ogg:-c:a libvorbis" "wav:-c:a pcm_s16le" \
        "flac:-c:a flac" "mp3:-c:a libmp3lame -b:a 32k"; do
        local ext="${spec%%:*}" codec="${spec#*:}"
        # shellcheck disable=SC2086
        ffmpeg -y -v error -nostdin -f lavfi \
            -i "anoisesrc=color=pink:amplitude=0.25:seed=7:duration=0.1:sample_rate=8000" \
            -ac 2 $codec "$tmp/seed.$ext"
        { printf "\\$(printf '%03o' "$i")"; cat "$tmp/seed.$ext"; } >"$dir/seed-$ext"
        i=$((i + 1))
    done
    rm -rf "$tmp"
}

failed=()
for target in $FUZZ_TARGETS; do
    mkdir -p "corpus/$target"
    [ "$target" = decode ] && make_decode_seeds
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    max_len=4096
    [ "$target" = decode ] && max_len=65536
    [ "$target" = multipart ] && max_len=16384
    echo "== fuzz $target for ${FUZZ_SECONDS}s"
    # A crash stops this target (the input lands in artifacts/<target>/);
    # the others still run.
    cargo fuzz run -s none --codegen-units 16 "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 || failed+=("$target")
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/artifacts/; see docs/fuzzing.md)" >&2
    exit 1
fi
echo "fuzz: no crashes"
