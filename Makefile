# Clipwave — two commands for a newcomer:
#   make up     build everything and serve the app on http://127.0.0.1:3000
#   make test   everything CI runs (.ci/run calls exactly this)
#
# Other targets: build, lint, bench, bench-load, fuzz, soak, schema-soak, images, clean.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

CARGO ?= cargo
LISTEN ?= 127.0.0.1:3000
WASM_TARGET := wasm32-wasip2
# The Spin components, plus the host's test-only component.
COMPONENTS := -p clipwave-auth -p clipwave-gateway -p clipwave-web
TEST_COMPONENTS := $(COMPONENTS) -p clipwave-host-test-component
# Native crates (everything but the wasm-only components).
NATIVE := --workspace --exclude clipwave-auth --exclude clipwave-gateway --exclude clipwave-web --exclude clipwave-host-test-component

.PHONY: up test setup build build-wasm build-native lint unit-test browser-test deploy-test schema-test schema-soak bench bench-load fuzz soak images clean

## Serve the app locally with a worker: `spin up` when the Spin CLI is installed, else clipwave-host.
up: setup build
	@LISTEN=$(LISTEN) scripts/dev-up.sh

## Everything CI runs.
test: setup lint build unit-test browser-test schema-test deploy-test
	@echo "make test: all checks passed"

setup:
	@scripts/setup.sh

build: build-wasm build-native

build-wasm:
	$(CARGO) build --release --target $(WASM_TARGET) $(TEST_COMPONENTS)

build-native:
	$(CARGO) build --release $(NATIVE)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release $(NATIVE) --all-targets -- -D warnings
	$(CARGO) clippy --release --target $(WASM_TARGET) $(TEST_COMPONENTS) -- -D warnings

## Unit, conformance and end-to-end tests (the e2e suites start clipwave-host on free ports).
unit-test: build
	$(CARGO) test --release --workspace

## The web page in headless Chromium against the real app and a worker.
browser-test: build
	bash tests/browser/run.sh

deploy-test:
	bash deploy/tests/validate.sh

## The API against docs/openapi.yaml: schemathesis (pinned, from PyPI) and the real app; no 5xx, no mismatch.
schema-test: build
	bash tests/schema/run.sh

## The same with many more cases per operation (SCHEMA_EXAMPLES, SCHEMA_SEED to change).
schema-soak: build
	SCHEMA_EXAMPLES=$${SCHEMA_EXAMPLES:-500} bash tests/schema/run.sh

## Benchmarks (slow, installs wrk/ffmpeg/venvs as needed): converter, load, transfers, batch;
## the tables go to the terminal and target/bench/results-*.md. BENCH_ARGS=--short: a smoke run.
bench: setup build
	bash bench/run.sh $(BENCH_ARGS)

## Only the token-check load benchmark (wrk vs the Flask/PyJWT reference); DURATION=10 per point.
bench-load: setup build
	bash bench/load.sh $(BENCH_ARGS)

## Long fuzzing runs (slow): each cargo-fuzz target for FUZZ_SECONDS, one at a time
## (docs/fuzzing.md). `make test` runs the same entry points as proptests.
FUZZ_SECONDS ?= 300
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

## Long runs of the hostile-input and fault suites (slow): schemathesis with 500
## cases per operation, every fuzz target, then the fault, limit and key-rotation
## end-to-end tests SOAK_ROUNDS times (each round draws new kill timings).
SOAK_ROUNDS ?= 5
soak: build schema-soak fuzz
	for round in $$(seq $(SOAK_ROUNDS)); do \
		echo "soak round $$round of $(SOAK_ROUNDS)"; \
		$(CARGO) test --release -p clipwave-e2e --test api -- faults:: limits:: key_rotation::; \
	done

images:
	bash deploy/scripts/build-images.sh

clean:
	$(CARGO) clean
	rm -rf .spin
