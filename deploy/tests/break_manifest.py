#!/usr/bin/env python3
"""Write a deliberately broken copy of a rendered kustomization.

Used by validate.sh's negative self-tests: check_manifests.py must fail on
each of these, or the checks prove nothing.

    break_manifest.py MUTATION IN.yaml OUT.yaml
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import yaml


def first(docs: list[dict], kind: str) -> dict:
    return next(d for d in docs if d.get("kind") == kind)


def spinapp_unknown_field(docs: list[dict]) -> None:
    first(docs, "SpinApp")["spec"]["replicaCount"] = 3


def spinapp_unknown_nested_field(docs: list[dict]) -> None:
    first(docs, "SpinApp")["spec"]["checks"]["readiness"]["httpGet"]["port"] = 80


def missing_required_variable(docs: list[dict]) -> None:
    spec = first(docs, "SpinApp")["spec"]
    spec["variables"] = [v for v in spec["variables"] if v["name"] != "jwt_signing_key"]


def empty_required_variable(docs: list[dict]) -> None:
    spec = first(docs, "SpinApp")["spec"]
    spec["variables"] = [v for v in spec["variables"] if v["name"] != "jwt_public_keys"]
    spec["variables"].append({"name": "jwt_public_keys", "value": ""})


def secret_as_literal(docs: list[dict]) -> None:
    for var in first(docs, "SpinApp")["spec"]["variables"]:
        if var["name"] == "worker_client_secret_hash":
            var.pop("valueFrom")
            var["value"] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"


def runtime_config_unknown_field(docs: list[dict]) -> None:
    _edit_runtime_config(docs, lambda text: text.replace('type = "redis"', 'type = "redis"\npassword = "x"', 1))


def runtime_config_unknown_type(docs: list[dict]) -> None:
    _edit_runtime_config(docs, lambda text: text.replace('type = "libsql"', 'type = "postgres"', 1))


def runtime_config_store_unmapped(docs: list[dict]) -> None:
    _edit_runtime_config(docs, lambda text: text.replace("[key_value_store.media]", "[key_value_store.medias]", 1))


def builtin_unknown_field(docs: list[dict]) -> None:
    sts = first(docs, "StatefulSet")
    sts["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"


def scaledjob_unknown_field(docs: list[dict]) -> None:
    first(docs, "ScaledJob")["spec"]["triggers"][0]["authRef"] = {"name": "x"}


def dangling_secret_key(docs: list[dict]) -> None:
    for var in first(docs, "SpinApp")["spec"]["variables"]:
        if var["name"] == "jwt_signing_key":
            var["valueFrom"]["secretKeyRef"]["key"] = "jwt-signing-key-typo"


def root_container(docs: list[dict]) -> None:
    sts = first(docs, "StatefulSet")
    sts["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False


def _edit_runtime_config(docs: list[dict], edit) -> None:
    app = first(docs, "SpinApp")
    name = app["spec"]["runtimeConfig"]["loadFromSecret"]
    secret = next(d for d in docs if d.get("kind") == "Secret" and d["metadata"]["name"] == name)
    text = base64.b64decode(secret["data"]["runtime-config.toml"]).decode()
    secret["data"]["runtime-config.toml"] = base64.b64encode(edit(text).encode()).decode()


MUTATIONS = {name.replace("_", "-"): fn for name, fn in list(globals().items())
             if callable(fn) and not name.startswith("_") and name not in ("first", "main")
             and getattr(fn, "__module__", None) == __name__}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in MUTATIONS:
        print(f"usage: break_manifest.py {{{','.join(sorted(MUTATIONS))}}} IN OUT", file=sys.stderr)
        return 2
    docs = [d for d in yaml.safe_load_all(Path(argv[1]).read_text(encoding="utf-8")) if d]
    MUTATIONS[argv[0]](docs)
    Path(argv[2]).write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
