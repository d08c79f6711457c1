"""What a Spin 3.6 runtime-config file may contain, and a checker for it.

The tables below were read from Spin v3.6.3's source:
- top-level keys: crates/runtime-config/src/lib.rs (state_dir, log_dir,
  max_instance_memory, llm_compute, the factor tables) and variables.rs
  (variables_provider, config_provider); outbound_http
  (crates/factor-outbound-http/src/runtime_config/spin.rs); outbound_networking
  and client_tls (crates/factor-outbound-networking/src/runtime_config/spin.rs).
  Spin rejects unknown top-level keys itself (`validate_all_keys_used`).
- key_value_store.<label>: crates/runtime-config/src/lib.rs registers the
  types spin, redis, azure_cosmos, aws_dynamo; their fields are the serde
  structs in crates/key-value-{spin,redis,azure,aws}/src/lib.rs.
- sqlite_database.<label>: crates/sqlite/src/lib.rs knows spin and libsql
  (both `deny_unknown_fields`); libsql URLs must be http:// or https://.

Spin itself silently ignores unknown fields of key-value stores; this
checker rejects them, since a misspelt field there is always a mistake.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass


@dataclass(frozen=True)
class StoreType:
    """Fields one store type accepts; `required` is a subset of `allowed`."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional


KEY_VALUE_TYPES: dict[str, StoreType] = {
    "spin": StoreType(frozenset(), frozenset({"path"})),
    "redis": StoreType(frozenset({"url"})),
    "azure_cosmos": StoreType(frozenset({"account", "database", "container"}),
                              frozenset({"key"})),
    "aws_dynamo": StoreType(frozenset({"region", "table"}),
                            frozenset({"access_key", "secret_key", "token", "consistent_read"})),
}

SQLITE_TYPES: dict[str, StoreType] = {
    "spin": StoreType(frozenset(), frozenset({"path"})),
    "libsql": StoreType(frozenset({"url", "token"})),
}

TOP_LEVEL_KEYS = frozenset({
    "key_value_store", "sqlite_database", "llm_compute", "variables_provider",
    "config_provider", "state_dir", "log_dir", "max_instance_memory",
    "outbound_http", "outbound_networking", "client_tls",
})


def _check_labelled(section: str, value: object, types: dict[str, StoreType]) -> list[str]:
    """Check `[section.<label>]` tables against the known store types."""
    if not isinstance(value, dict):
        return [f"{section} must be a table of labelled stores"]
    errors = []
    for label, store in value.items():
        where = f"{section}.{label}"
        if not isinstance(store, dict):
            errors.append(f"{where} must be a table")
            continue
        kind = store.get("type")
        if kind not in types:
            errors.append(f"{where}: type {kind!r} is not one of {sorted(types)}")
            continue
        fields = set(store) - {"type"}
        spec = types[kind]
        for unknown in sorted(fields - spec.allowed):
            errors.append(f"{where}: field {unknown!r} is not known to Spin 3.6 for type {kind!r}"
                          f" (allowed: {sorted(spec.allowed)})")
        for missing in sorted(spec.required - fields):
            errors.append(f"{where}: type {kind!r} needs field {missing!r}")
        for name in fields & spec.allowed:
            if name != "consistent_read" and not isinstance(store[name], str):
                errors.append(f"{where}.{name} must be a string")
        if section == "sqlite_database" and kind == "libsql":
            url = store.get("url", "")
            if isinstance(url, str) and not url.startswith(("http://", "https://")):
                errors.append(f"{where}: libsql url must start with http:// or https://")
        if section == "key_value_store" and kind == "redis":
            url = store.get("url", "")
            if isinstance(url, str) and not url.startswith(("redis://", "rediss://")):
                errors.append(f"{where}: redis url must start with redis:// or rediss://")
    return errors


def check_runtime_config(text: str) -> tuple[dict, list[str]]:
    """Parse a runtime-config TOML document; return it and the problems found."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return {}, [f"not valid TOML: {err}"]
    errors = [f"top-level key {key!r} is not known to Spin 3.6"
              for key in sorted(set(doc) - TOP_LEVEL_KEYS)]
    if "key_value_store" in doc:
        errors += _check_labelled("key_value_store", doc["key_value_store"], KEY_VALUE_TYPES)
    if "sqlite_database" in doc:
        errors += _check_labelled("sqlite_database", doc["sqlite_database"], SQLITE_TYPES)
    return doc, errors
