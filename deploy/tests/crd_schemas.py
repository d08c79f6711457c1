"""Validate custom resources against the CRDs in ../shared/crds (read at test time).

The CRDs' openAPIV3Schema allows unknown fields wherever it does not say
otherwise, while the API server prunes them silently. To catch typos we
make every object schema that lists `properties` closed
(`additionalProperties: false`), except where the CRD keeps unknown fields
on purpose (`x-kubernetes-preserve-unknown-fields: true`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml


def strictify(schema: object) -> object:
    """Return a copy of an OpenAPI v3 schema with unknown fields forbidden."""
    if isinstance(schema, list):
        return [strictify(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strictify(value) for key, value in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    # OpenAPI's `nullable` is not JSON Schema: spell it as a type union.
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


class CrdRegistry:
    """Schemas by (apiVersion, kind) from every CRD file in a folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise FileNotFoundError(f"no CRD files in {folder}")
        for path in files:
            for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = strictify(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
                    self.validators[(f"{group}/{version['name']}", kind)] = cls(schema)

    def knows(self, doc: dict) -> bool:
        return (doc.get("apiVersion"), doc.get("kind")) in self.validators

    def validate(self, doc: dict) -> list[str]:
        """Problems with one custom resource, as `path: message` strings."""
        validator = self.validators[(doc["apiVersion"], doc["kind"])]
        errors = []
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in err.absolute_path) or "(root)"
            errors.append(f"{path}: {err.message}")
        return errors
