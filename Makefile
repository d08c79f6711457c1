# Clipwave — two commands for a newcomer:
#   make up     build everything and serve the app on http://127.0.0.1:3000
#   make test   everything CI runs (.ci/run calls exactly this)
#
# Other targets: build, lint, bench, images, clean.

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

.PHONY: up test setup build build-wasm build-native lint unit-test browser-test deploy-test bench images clean

## Serve the app locally with a worker: `spin up` when the Spin CLI is installed, else clipwave-host.
up: setup build
	@LISTEN=$(LISTEN) scripts/dev-up.sh

## Everything CI runs.
test: setup lint build unit-test browser-test deploy-test
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

## Benchmarks (slow): the converter against ffmpeg and the original tutorial's moviepy.
bench: setup build-native
	bash bench/converter.sh

images:
	bash deploy/scripts/build-images.sh

clean:
	$(CARGO) clean
	rm -rf .spin
