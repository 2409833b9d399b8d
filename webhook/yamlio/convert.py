"""Scalars and keys into the JSON that sigs.k8s.io/yaml makes of go-yaml's values.

A value keeps go-yaml's type, then passes through Go's JSON: a float with an
integral value is an int (``1.0`` is ``1``, ``1e3`` is ``1000``), an integer
beyond int64 is a float. A key becomes the string kubectl makes of it (``1``
is ``"1"``, ``y`` is ``"true"``, ``1.5`` is ``"1.5"``).

Refused, with a :class:`RefusedError` at the node: infinity and NaN values
(JSON cannot carry them; kubectl refuses the file), null keys, integer keys
beyond int64, mappings or lists as keys, and float keys that Go may name
either of two ways.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from webhook.yamlio.gojson import float32_text, json_number
from webhook.yamlio.goyaml import BOOL, FLOAT, INT, INT64, NULL, resolve
from webhook.yamlio.problems import RefusedError

GoKey = tuple[str, object]
"""A key as go-yaml holds it in a Go map: its kind (``str``, ``int`` ...) and value."""


def scalar_value(node: yaml.ScalarNode) -> Any:
    """The JSON value of a scalar, as the webhook reads what kubectl sends."""
    tag, value = resolve(node)
    if tag == INT and value in INT64:
        return value
    if tag in (INT, FLOAT):  # uint64 too: JSON reads it back as a float64
        if math.isinf(value) or math.isnan(value):
            raise RefusedError(
                node.start_mark,
                f"{node.value} is {'NaN' if math.isnan(value) else 'infinity'}, which JSON"
                " cannot carry (kubectl refuses the file); quote it to send a string",
            )
        return json_number(float(value))
    return value


def go_key(node: yaml.Node) -> GoKey:
    """The Go value go-yaml makes of a key; the keys kubectl cannot send are refused."""
    if not isinstance(node, yaml.ScalarNode):
        raise RefusedError(node.start_mark, "a mapping or a list cannot be a key")
    tag, value = resolve(node)
    if tag == NULL:
        raise RefusedError(node.start_mark, f'a null key ("{node.value}") cannot be a JSON key')
    if tag == INT and value not in INT64:
        message = f"key {node.value} is beyond int64: kubectl cannot make a JSON key of it"
        raise RefusedError(node.start_mark, message)
    if tag == FLOAT and math.isnan(value):
        return "nan", object()  # NaN is never equal to itself, not even as a Go map key
    if tag == FLOAT and float32_text(value) is None:
        message = f"float key {node.value} is halfway between two names kubectl may give it"
        raise RefusedError(node.start_mark, message + ": quote it")
    kind = {INT: "int", FLOAT: "float", BOOL: "bool"}.get(tag, "str")
    return kind, value


def json_key(key: GoKey) -> str:
    """The JSON key sigs.k8s.io/yaml makes of a Go key."""
    kind, value = key
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(value)
    if kind == "nan":
        return ".nan"
    if kind == "float":
        assert isinstance(value, float)
        text = float32_text(value)
        assert text is not None  # go_key refuses a key without one name
        return text
    assert isinstance(value, str)
    return value
