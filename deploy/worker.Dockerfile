# syntax=docker/dockerfile:1.7
# The conversion worker (`clipwave-worker`, package clipwave-native-converter).
# Build from the repository root:
#   docker build -f deploy/worker.Dockerfile -t ghcr.io/clipwave/clipwave-worker:0.1.0 .

# Build stage: the full Rust image has make and a C toolchain, which
# mp3lame-sys needs to build LAME from source.
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p clipwave-native-converter --bin clipwave-worker \
    && install -D -m 0755 target/release/clipwave-worker /out/clipwave-worker

# Runtime stage: glibc, libgcc and CA certificates only; no shell, no
# package manager. Same Debian release as the build stage.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/clipwave-worker /usr/local/bin/clipwave-worker
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/clipwave-worker"]
