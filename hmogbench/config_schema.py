"""Command-line workflow config values typed by the config schema (workflow/schemas/config.schema.yaml).

Snakemake's ``--config seeds=[2019,2020]`` hands the list items over as strings ('2019'); YAML 1.1 reads
``1e-4`` as a string too. ``coerce(config, schema)`` converts, in place, each string whose schema type is
integer, number, boolean or null and that reads as one (recursing through arrays and objects), so that the
schema then validates what the user meant. Strings that do not read as the type are left for the schema's
own error, which names the key.
"""

from __future__ import annotations

import re
from typing import Any

# Number text, also hmogbench.config's (which imports torch: the workflow imports this module at parse time,
# so the patterns live here). YAML 1.1 (PyYAML) reads 1e-4 and 3e5 as strings (it wants a dot and a signed
# exponent); use with fullmatch.
INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
NUMBER_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def coerce_scalar(value: str, types: list[str]) -> Any:
    """``value`` as the first of ``types`` it reads as ('2019' + ['integer'] -> 2019); else unchanged."""
    text = value.strip()
    for kind in types:
        if kind == "integer" and INTEGER_TEXT.fullmatch(text):
            return int(text)
        if kind == "number" and NUMBER_TEXT.fullmatch(text):
            return float(text)
        if kind == "boolean" and text.lower() in _BOOLEANS:
            return _BOOLEANS[text.lower()]
        if kind == "null" and text.lower() in ("null", "none", "~"):
            return None
    return value


def coerce(value: Any, schema: dict) -> Any:
    """``value`` with its strings typed by ``schema`` (a JSON-schema dict); containers are updated in place."""
    if isinstance(value, str):
        return coerce_scalar(value, _types(schema)) if "string" not in _types(schema) else value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        value[:] = [coerce(item, schema["items"]) for item in value]
    elif isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key in list(value):
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = coerce(value[key], sub)
    return value
