"""Parse an object into the typed model, turning every error into a finding.

These are the errors the API server's schema check would give, in words a
person can act on: an unknown field with a did-you-mean (``s3Uri`` ->
``s3URI``), a wrong type, a missing required field, and a hyperparameter
written as a number ("quote it"). All errors are reported, not the first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from webhook.findings import Finding
from webhook.introspect import model_of
from webhook.model import API_VERSION, KIND, TrainingJob
from webhook.paths import MAP_FIELDS, SENSITIVE_MAPS, Path
from webhook.text import did_you_mean, suggestion

EXPECTED: Final = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean (true or false)",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
}


def parse(obj: Mapping[str, Any]) -> tuple[TrainingJob | None, list[Finding]]:
    """Return the typed object, or None and the findings that prevent it."""
    try:
        return TrainingJob.model_validate(obj), []
    except ValidationError as error:
        return None, [_finding(item) for item in error.errors(include_url=False)]


def _finding(error: Any) -> Finding:
    kind: str = error["type"]
    loc: Path = tuple(error["loc"])
    value = error["input"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        near = did_you_mean(name, sorted(known_fields(loc[:-1])), limit=1)
        return Finding(
            "crd.unknown-field",
            loc,
            f'unknown field "{name}"{suggestion(near)}',
            on_key=True,
        )
    if kind == "missing":
        return Finding("crd.required", loc, f"{loc[-1]} is required; missing")
    if kind == "literal_error":
        allowed = API_VERSION if loc == ("apiVersion",) else KIND
        return Finding("crd.type", loc, f"must be {allowed}, not {_describe(value, False)}")
    if loc and loc[-1] == "[key]":
        return Finding(
            "crd.type",
            loc[:-1],
            f"key {_describe(value, False)} must be a string: quote it",
            on_key=True,
        )
    in_map = len(loc) >= 2 and loc[-2] in MAP_FIELDS
    sensitive = in_map and loc[-2] in SENSITIVE_MAPS
    if kind == "string_type" and in_map and isinstance(value, bool | int | float):
        literal = json.dumps(value)
        return Finding(
            "crd.not-string",
            loc,
            f"values of {loc[-2]} must be strings and this one is a "
            f'{_type_name(value)}: quote it: "{literal}"',
        )
    expected = EXPECTED.get(kind, "another type")
    return Finding("crd.type", loc, f"must be {expected}, not {_describe(value, sensitive)}")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "string"


def _describe(value: Any, sensitive: bool) -> str:
    """Name the type of a bad value, and show it when it is small and not secret."""
    name = _type_name(value)
    if sensitive or name in ("object", "list", "null"):
        return f"a {name}" if name != "object" else "an object"
    text = json.dumps(value) if not isinstance(value, str) else json.dumps(value[:40])
    return f"the {name} {text}"


@cache
def known_fields(parent: tuple[str | int, ...]) -> frozenset[str]:
    """Return the field names the model allows at *parent* (list indexes ignored)."""
    model: type[BaseModel] | None = TrainingJob
    for step in parent:
        if isinstance(step, int) or model is None:
            continue
        field = model.model_fields.get(step)
        model = model_of(field.annotation) if field else None
    return frozenset(model.model_fields) if model else frozenset()
