"""The workflow's config schema (workflow/schemas/config.schema.yaml): its values generated from the
registries, and command-line config values typed by it.

Generated values: every line of the schema that ends in ``# generated: <key>`` gets the value ``<key>`` has in
``generated_values()`` (data-set names from hmogbench/registry/datasets.py, model-name patterns from families.py,
feature spaces and precisions from feature_spaces.py); ``python -m hmogbench.workflow.config_schema --write`` rewrites
those lines (``--check``: exit 1 if the file is stale). Everything else in the file is written by hand.

Typing: Snakemake's ``--config seeds=[2019,2020]`` hands the list items over as strings ('2019'); YAML 1.1 reads
``1e-4`` as a string too. ``coerce(config, schema)`` converts, in place, each string whose schema type is
integer, number, boolean or null and that reads as one (recursing through arrays and objects), so that the
schema then validates what the user meant. Strings that do not read as the type are left for the schema's
own error, which names the key: ``config_error(config, schema)`` gives the first one as one line (the key, the
value, what is expected), which the workflow prints instead of jsonschema's dump of the schema.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ..registry import families, feature_spaces
from ..registry.datasets import dataset_names, has_fixture, in_thesis

# Number text, also hmogbench.training.config's (which imports torch: the workflow imports this module at parse time,
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


TARGETS_FIRST = ("if a target came after --configfile or --config, Snakemake read it as config: put targets before "
                 "--configfile/--config (README)")


def config_error(config: dict, schema: dict) -> str | None:
    """The first way ``config`` breaks ``schema`` as one line naming the key, the value and what is expected (the
    workflow prints it instead of jsonschema's dump of the schema); None when it is valid."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match

    error = best_match(validators.validator_for(schema)(schema).iter_errors(config))
    if error is None:
        return None
    keys = [str(part) for part in error.absolute_path if isinstance(part, str)]
    key = ".".join(keys) or "(top level)"
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = sorted(set(error.instance) - set(known))
        named = ", ".join(map(repr, unknown[:5])) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        where = "" if not keys else f" under {key!r}"
        hint = TARGETS_FIRST if not keys else f"expected one of {', '.join(known)}"
        return f"unknown config key(s){where}: {named}; {hint}"
    return f"config key {key!r} = {error.instance!r}: {_expected(error)}"


def _expected(error) -> str:
    """What the schema wanted where ``error`` (a jsonschema ValidationError) failed, in words."""
    wanted, rule = error.validator_value, error.validator
    words = {
        "enum": lambda: f"expected one of {', '.join(map(str, wanted))}",
        "type": lambda: f"expected {' or '.join(wanted) if isinstance(wanted, list) else wanted}",
        "pattern": lambda: f"expected a name matching {wanted}",
        "minimum": lambda: f"expected at least {wanted}",
        "minItems": lambda: f"expected at least {wanted} item(s)",
        "uniqueItems": lambda: "expected distinct items",
    }
    if rule in words:
        return words[rule]()
    described = error.schema.get("description")
    return f"expected {described}" if described else error.message.replace("\n", " ")


SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
GENERATED_LINE = re.compile(r"^(?P<head>\s*(?:- )?[\w$-]+: )(?P<value>.*?)(?P<mark>  # generated: (?P<key>\w+))$")
HEADER = ("# Written in part by `python -m hmogbench.workflow.config_schema --write`: each value marked `# generated: <key>`\n"
          "# comes from the registries (hmogbench/registry/datasets.py, families.py, feature_spaces.py). Edit the rest here;\n"
          "# tests/test_config_schema.py fails while the file is stale.\n")


def generated_values() -> dict[str, Any]:
    """Key -> the value the registries give it (names in registry order; patterns anchored)."""
    return {
        "datasets": list(dataset_names()),
        "thesis_datasets": list(dataset_names(in_thesis)),
        "fixture_datasets": list(dataset_names(has_fixture)),
        "model_names": f"^({families.name_pattern('[0-9]')})$",
        "mixture_names": f"^({families.name_pattern('[0-9]', families.is_mixture)})$",
        "feature_spaces": list(feature_spaces.SPACES),
        "weights_spaces": {space: {"type": "string"} for space in feature_spaces.spaces_with_weights()},
        "precisions": list(feature_spaces.PRECISION_NAMES),
    }


def _flow(value: Any) -> str:
    """``value`` as one line of YAML: a string double-quoted (JSON), a list or mapping in flow style."""
    if isinstance(value, str):
        return json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()


def render_schema(text: str) -> str:
    """``text`` (the schema) with the header and every ``# generated: <key>`` value written from the registries.

    An unknown key, or a key of ``generated_values()`` that no line uses, is a ``ValueError`` naming it."""
    values, used, lines = generated_values(), set(), []
    for number, line in enumerate(text.splitlines(), 1):
        match = GENERATED_LINE.match(line)
        if match:
            key = match["key"]
            if key not in values:
                raise ValueError(f"{SCHEMA_PATH.name} line {number}: unknown generated key {key!r}; "
                                 f"expected one of {', '.join(values)}")
            used.add(key)
            line = f"{match['head']}{_flow(values[key])}{match['mark']}"
        lines.append(line)
    if set(values) - used:
        raise ValueError(f"{SCHEMA_PATH.name}: no line is marked `# generated:` "
                         f"{', '.join(sorted(set(values) - used))}")
    body = "\n".join(lines).lstrip("\n")
    while body.startswith("#"):  # the old header
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return HEADER + body.lstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m hmogbench.workflow.config_schema [--write | --check] [--schema FILE]``."""
    parser = argparse.ArgumentParser(description="Write the config schema's registry values (lines marked "
                                                 "`# generated: <key>`), or check that they are current.")
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="default %(default)s")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the file in place")
    action.add_argument("--check", action="store_true", help="exit 1 if the file differs from its regeneration")
    args = parser.parse_args(argv)
    text = args.schema.read_text(encoding="utf-8")
    fresh = render_schema(text)
    if args.write and fresh != text:
        from ..runtime.provenance import write_text_atomic

        write_text_atomic(args.schema, fresh)
    elif args.check and fresh != text:
        print(f"{args.schema} is stale: run python -m hmogbench.workflow.config_schema --write", file=sys.stderr)
        return 1
    elif not (args.write or args.check):
        sys.stdout.write(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
