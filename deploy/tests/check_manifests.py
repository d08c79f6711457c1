#!/usr/bin/env python3
"""Offline checks of one rendered kustomization (`kubectl kustomize` output).

For every document: built-in kinds with kubernetes-validate (strict), custom
resources against the CRD schemas (crd_schemas.py). Then Clipwave's own
rules: every spin.toml variable is set in the SpinApp (required ones
non-empty, secret ones from a Secret), the runtime-config Secret only uses
what Spin 3.6 knows and maps every store label the app uses, references to
Secrets and ConfigMaps resolve, and pods run locked down.

Prints one `ok`/`FAIL` line per check and, last, `RESULT <passed> <failed>`
for deploy/tests/validate.sh; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import kubernetes_validate
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crd_schemas import CrdRegistry  # noqa: E402
from spin_runtime_config import check_runtime_config  # noqa: E402

POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "ScaledJob": ("spec", "jobTargetRef", "template"),
}


class Report:
    """Counts checks and prints one line each."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, errors: list[str]) -> None:
        if errors:
            self.failed += 1
            print(f"FAIL {name}")
            for err in errors:
                print(f"       {err}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def dig(obj: dict, path: tuple[str, ...]) -> dict | None:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def ident(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def secret_value(doc: dict, key: str) -> str | None:
    if key in (doc.get("stringData") or {}):
        return doc["stringData"][key]
    if key in (doc.get("data") or {}):
        return base64.b64decode(doc["data"][key]).decode("utf-8")
    return None


def check_schemas(docs: list[dict], crds: CrdRegistry, k8s_version: str, report: Report) -> None:
    for doc in docs:
        name = f"schema {ident(doc)} ({doc.get('apiVersion')})"
        if crds.knows(doc):
            report.check(name + " vs CRD", crds.validate(doc))
            continue
        try:
            kubernetes_validate.validate(doc, k8s_version, strict=True)
            errors = []
        except kubernetes_validate.ValidationError as err:
            path = "/".join(str(p) for p in err.path) or "(root)"
            errors = [f"{path}: {err.message}"]
        except kubernetes_validate.SchemaNotFoundError:
            errors = [f"no schema: neither Kubernetes {k8s_version} nor ../shared/crds knows it"]
        report.check(name + f" vs Kubernetes {k8s_version} (strict)", errors)


def spin_manifest_needs(spin_toml: dict) -> tuple[dict, set[str], set[str]]:
    """Variables, key-value labels and SQLite labels the app's components use."""
    kv: set[str] = set()
    sqlite: set[str] = set()
    for component in spin_toml.get("component", {}).values():
        kv.update(component.get("key_value_stores", []))
        sqlite.update(component.get("sqlite_databases", []))
    return spin_toml.get("variables", {}), kv, sqlite


def check_variables(app: dict, variables: dict, report: Report) -> None:
    entries = app.get("spec", {}).get("variables", []) or []
    by_name = {entry.get("name"): entry for entry in entries}
    dupes = sorted({n for n in by_name if sum(e.get("name") == n for e in entries) > 1})
    report.check(f"{ident(app)}: no variable set twice", [f"{n} set twice" for n in dupes])

    unset = [n for n in variables if n not in by_name
             or ("value" not in by_name[n] and "valueFrom" not in by_name[n])]
    report.check(f"{ident(app)}: every spin.toml variable is set",
                 [f"variable {n!r} from spin.toml is not set" for n in unset])

    missing_required = []
    for name, decl in variables.items():
        if not decl.get("required"):
            continue
        entry = by_name.get(name, {})
        has_ref = "valueFrom" in entry and not any(
            ref.get("optional") for ref in entry["valueFrom"].values() if isinstance(ref, dict))
        if not (entry.get("value") or has_ref):
            missing_required.append(f"required variable {name!r} has no non-empty value and no mandatory valueFrom")
    report.check(f"{ident(app)}: every required variable has a value", missing_required)

    literal_secrets = [f"secret variable {n!r} is a literal value; use valueFrom.secretKeyRef"
                       for n, decl in variables.items()
                       if decl.get("secret") and "secretKeyRef" not in (by_name.get(n, {}).get("valueFrom") or {})]
    report.check(f"{ident(app)}: secret variables come from Secrets", literal_secrets)

    unknown = [f"variable {n!r} is not declared in spin.toml" for n in by_name if n not in variables]
    report.check(f"{ident(app)}: no variable unknown to spin.toml", unknown)


def check_runtime_config_secret(app: dict, objects: dict, kv: set[str], sqlite: set[str],
                                report: Report) -> None:
    secret_name = app.get("spec", {}).get("runtimeConfig", {}).get("loadFromSecret")
    name = f"{ident(app)}: runtime config Secret {secret_name}"
    secret = objects.get(("Secret", secret_name))
    if secret is None:
        report.check(name, [f"Secret {secret_name!r} is not in the rendered output"])
        return
    text = secret_value(secret, "runtime-config.toml")
    if text is None:
        report.check(name, ["Secret has no key runtime-config.toml"])
        return
    doc, errors = check_runtime_config(text)
    report.check(f"{name}: only keys Spin 3.6 knows", errors)
    mapped = []
    for label in sorted(kv):
        store = doc.get("key_value_store", {}).get(label)
        if not store or store.get("type") == "spin":
            mapped.append(f"key-value store {label!r} is not mapped to a shared backend (pods would use local files)")
    for label in sorted(sqlite):
        store = doc.get("sqlite_database", {}).get(label)
        if not store or store.get("type") == "spin":
            mapped.append(f"SQLite database {label!r} is not mapped to a shared backend (pods would use local files)")
    report.check(f"{name}: every store label of spin.toml is mapped", mapped)


def pod_templates(docs: list[dict]):
    for doc in docs:
        path = POD_TEMPLATE_PATHS.get(doc.get("kind"))
        template = dig(doc, path) if path else None
        if template is not None:
            yield doc, template.get("spec", {})


def references(docs: list[dict]):
    """(where, kind, name, key or None, optional) for every Secret/ConfigMap reference."""
    for doc in docs:
        if doc.get("kind") == "SpinApp":
            spec = doc.get("spec", {})
            if spec.get("runtimeConfig", {}).get("loadFromSecret"):
                yield ident(doc), "Secret", spec["runtimeConfig"]["loadFromSecret"], "runtime-config.toml", False
            for var in spec.get("variables", []) or []:
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    ref = (var.get("valueFrom") or {}).get(field)
                    if ref:
                        yield ident(doc), kind, ref["name"], ref["key"], bool(ref.get("optional"))
        if doc.get("kind") == "TriggerAuthentication":
            for ref in doc.get("spec", {}).get("secretTargetRef", []) or []:
                yield ident(doc), "Secret", ref["name"], ref["key"], False
    for doc, spec in pod_templates(docs):
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []) or []:
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    ref = (env.get("valueFrom") or {}).get(field)
                    if ref:
                        yield ident(doc), kind, ref["name"], ref["key"], bool(ref.get("optional"))
        for volume in spec.get("volumes", []) or []:
            if "secret" in volume:
                keys = [item["key"] for item in volume["secret"].get("items", [])] or [None]
                for key in keys:
                    yield ident(doc), "Secret", volume["secret"]["secretName"], key, bool(volume["secret"].get("optional"))
            if "configMap" in volume:
                keys = [item["key"] for item in volume["configMap"].get("items", [])] or [None]
                for key in keys:
                    yield ident(doc), "ConfigMap", volume["configMap"]["name"], key, bool(volume["configMap"].get("optional"))


def check_references(docs: list[dict], objects: dict, external: set[str], report: Report) -> None:
    errors = []
    for where, kind, name, key, optional in references(docs):
        if optional or name in external:
            continue
        target = objects.get((kind, name))
        if target is None:
            errors.append(f"{where} refers to {kind} {name!r}, which is not rendered")
        elif key is not None and key not in (target.get("data") or {}) and key not in (target.get("stringData") or {}):
            errors.append(f"{where} refers to key {key!r} of {kind} {name!r}, which it does not have")
    report.check("every Secret/ConfigMap reference resolves", errors)


def check_pod_security(docs: list[dict], report: Report) -> None:
    for doc, spec in pod_templates(docs):
        errors = []
        pod_sc = spec.get("securityContext", {})
        if not pod_sc.get("runAsNonRoot"):
            errors.append("pod securityContext.runAsNonRoot is not true")
        if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            errors.append("pod seccompProfile is not RuntimeDefault")
        for c in spec.get("containers", []):
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"container {c['name']}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"container {c['name']}: readOnlyRootFilesystem is not true")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                errors.append(f"container {c['name']}: capabilities do not drop ALL")
            limits = c.get("resources", {}).get("limits", {})
            if not {"cpu", "memory"} <= set(limits):
                errors.append(f"container {c['name']}: no cpu and memory limits")
            if doc["kind"] in ("StatefulSet", "Deployment") and not (
                    c.get("readinessProbe") and c.get("livenessProbe")):
                errors.append(f"container {c['name']}: long-running container without readiness and liveness probes")
        report.check(f"{ident(doc)}: pods locked down (non-root, read-only, limits, probes)", errors)


def check_embedded_scripts(docs: list[dict], report: Report) -> None:
    for doc in docs:
        if doc.get("kind") != "ConfigMap":
            continue
        for key, text in (doc.get("data") or {}).items():
            if not key.endswith(".sh"):
                continue
            with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
                f.write(text)
                f.flush()
                run = subprocess.run(["sh", "-n", f.name], capture_output=True, text=True)
            report.check(f"{ident(doc)}: {key} parses as sh",
                         [run.stderr.strip()] if run.returncode else [])


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rendered", type=Path, help="output of kubectl kustomize")
    p.add_argument("--crds", type=Path, required=True, help="folder with CRD YAML files")
    p.add_argument("--spin-toml", type=Path, required=True)
    p.add_argument("--k8s-version", default=kubernetes_validate.latest_version())
    p.add_argument("--expect-kind", action="append", default=[], help="kind that must be present")
    p.add_argument("--with-secrets", action="store_true",
                   help="the render includes deploy/secrets: check runtime config and references")
    p.add_argument("--external", action="append", default=[],
                   help="Secret made at run time, not rendered (skipped in reference checks)")
    args = p.parse_args(argv)

    report = Report()
    try:
        docs = [d for d in yaml.safe_load_all(args.rendered.read_text(encoding="utf-8")) if d]
        parse_errors = [] if docs else ["no documents"]
    except yaml.YAMLError as err:
        docs, parse_errors = [], [str(err)]
    report.check(f"{args.rendered.name}: YAML parses", parse_errors)
    objects = {(d.get("kind"), d.get("metadata", {}).get("name")): d for d in docs}
    kinds = {d.get("kind") for d in docs}
    report.check("expected kinds present",
                 [f"no {k} rendered" for k in args.expect_kind if k not in kinds])

    check_schemas(docs, CrdRegistry(args.crds), args.k8s_version, report)

    variables, kv, sqlite = spin_manifest_needs(tomllib.loads(args.spin_toml.read_text(encoding="utf-8")))
    for app in (d for d in docs if d.get("kind") == "SpinApp"):
        check_variables(app, variables, report)
        if args.with_secrets:
            check_runtime_config_secret(app, objects, kv, sqlite, report)
    if args.with_secrets:
        check_references(docs, objects, set(args.external), report)
    check_pod_security(docs, report)
    check_embedded_scripts(docs, report)

    print(f"RESULT {report.passed} {report.failed}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
