"""The schema of a job the built-in checks find nothing in (see :mod:`webhook.native`).

Built from the same compiled constraints as the Python walk
(:mod:`webhook.constraints.check`), shape by shape, so the two cannot drift
apart when the constraints are regenerated. It covers what
:func:`webhook.engine.check_object` checks before the cross-field rules:

* the top level and ``metadata`` are as plain as ``_plain`` wants, so the
  typed model could only agree (``status`` present, a null label, a missing
  ``name``: not proven, the exact checks run), and the members of ``metadata``
  that checks read are within the size gate's bounds
  (:mod:`webhook.constraints.bounds`), as the spec is within the model's: a job
  proven here is one the gate has nothing to say about;
* ``metadata.name`` is a Kubernetes name;
* every ``spec`` value fits its SageMaker shape exactly as the walk checks
  it: types, unknown fields, required fields, lengths, ranges, ``int32``
  overflow, enums, patterns, list and map sizes, map keys; text fields hold
  neither ``$`` nor ``<`` (stricter than the placeholder check, which looks
  for ``$NAME``, ``${NAME}`` and ``<...>``). Patterns are read as Java reads
  them, by the same translation the walk uses
  (:func:`webhook.constraints.patterns.translate`), in ECMA-262's dialect;
* the cross-field rules of :mod:`webhook.constraints.rules` but
  ``spot_max_wait`` (JSON Schema cannot compare two numbers), which runs on
  proven jobs too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from webhook.constraints.bounds import CHARS, ENTRIES
from webhook.constraints.check import FREE_TEXT_FIELDS
from webhook.constraints.patterns import line_terminators, one_line, translate
from webhook.constraints.schema import (
    BoolShape,
    Constraints,
    IntShape,
    ListShape,
    MapShape,
    Shape,
    StringShape,
    StructShape,
)
from webhook.native import Schema, anchored

_TEXT: Final = {"type": "string", "maxLength": CHARS}
#: ``labels`` and ``annotations`` within the size gate's bounds (:mod:`webhook.constraints.bounds`).
_STRING_MAP: Final = {
    "type": "object",
    "maxProperties": ENTRIES,
    "patternProperties": {f"^[\\s\\S]{{0,{CHARS}}}$": _TEXT},
    "additionalProperties": False,
}


def builtin_schema(
    constraints: Constraints,
    api_version: str,
    kind: str,
    crd_required: Iterable[str],
    name_pattern: str,
) -> Schema:
    """The schema of a TrainingJob on which the built-in checks find nothing.

    *api_version* and *kind* are the CRD's, *crd_required* the spec fields its
    schema requires, *name_pattern* the regex ``metadata.name`` must match whole.
    """
    spec = _Builder().struct(constraints.root, extra_required=crd_required)
    spec["allOf"] = list(CROSS_FIELD)
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"enum": [api_version]},
            "kind": {"enum": [kind]},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {
                        "type": "string",
                        "maxLength": 253,
                        "pattern": anchored(name_pattern),
                    },
                    "generateName": _TEXT,
                    "namespace": _TEXT,
                    "labels": _STRING_MAP,
                    "annotations": _STRING_MAP,
                    "finalizers": {"type": "array", "maxItems": ENTRIES, "items": _TEXT},
                },
            },
            "spec": spec,
        },
        "additionalProperties": False,
    }


_NULL: Final = {"type": "null"}
_SET: Final = {"not": _NULL}
_NO_GROUPS: Final = {"anyOf": [_NULL, {"type": "array", "maxItems": 0}]}

#: ``instance_groups``, ``image_or_algorithm`` and ``data_source`` of
#: :mod:`webhook.constraints.rules`; a field that is null is as good as absent there.
CROSS_FIELD: Final = (
    {
        "properties": {
            "resourceConfig": {
                "anyOf": [
                    {
                        "required": ["instanceType"],
                        "properties": {"instanceType": _SET, "instanceGroups": _NO_GROUPS},
                    },
                    {
                        "required": ["instanceGroups"],
                        "properties": {
                            "instanceGroups": {"type": "array", "minItems": 1},
                            "instanceType": _NULL,
                            "instanceCount": _NULL,
                        },
                    },
                ]
            },
            "algorithmSpecification": {
                "anyOf": [
                    {
                        "required": ["trainingImage"],
                        "properties": {"trainingImage": _SET, "algorithmName": _NULL},
                    },
                    {
                        "required": ["algorithmName"],
                        "properties": {"algorithmName": _SET, "trainingImage": _NULL},
                    },
                ]
            },
            "inputDataConfig": {
                "items": {
                    "properties": {
                        "dataSource": {
                            "anyOf": [
                                {
                                    "required": ["s3DataSource"],
                                    "properties": {"s3DataSource": _SET},
                                },
                                {
                                    "required": ["fileSystemDataSource"],
                                    "properties": {"fileSystemDataSource": _SET},
                                },
                            ]
                        }
                    }
                }
            },
        }
    },
)


#: A job ``spot_max_wait`` (the cross-field rule the schema cannot state) finds nothing
#: in, coarsely: one without ``maxWaitTimeInSeconds``. For proofs that skip that rule too.
NO_MAX_WAIT: Final = {
    "properties": {
        "spec": {
            "properties": {"stoppingCondition": {"properties": {"maxWaitTimeInSeconds": _NULL}}}
        }
    }
}


def regex_of(shape: StringShape) -> str | None:
    """The shape's pattern for jsonschema-rs, with Java's meaning.

    None: no pattern to check, or one that only refuses line terminators
    (:func:`~webhook.constraints.patterns.one_line`), which a screen checks.
    """
    if shape.pattern is None or one_line(shape.pattern, shape.min or 0):
        return None
    return anchored(translate(shape.pattern).ecma)


#: Java's line terminators (what its ``.`` stops at), as a class body.
_LINE_TERMINATORS: Final = line_terminators("ecma")


class _Builder:
    """Schemas per (shape, free text), built once each."""

    def __init__(self) -> None:
        self.built: dict[tuple[str, bool], Schema] = {}

    def shape(self, shape: Shape, *, free: bool = False) -> Schema:
        key = (shape.name, free)
        if key not in self.built:
            self.built[key] = self._build(shape, free)
        return self.built[key]

    def _build(self, shape: Shape, free: bool) -> Schema:
        if isinstance(shape, StringShape):
            return self.string(shape, free)
        if isinstance(shape, IntShape):
            return {"type": "integer", "minimum": shape.lowest, "maximum": shape.highest}
        if isinstance(shape, BoolShape):
            return {"type": "boolean"}
        if isinstance(shape, ListShape):
            schema: Schema = {"type": "array", "items": self.shape(shape.member)}
            return _bounds(schema, shape.min, shape.max, "Items")
        if isinstance(shape, MapShape):
            keys = _key_pattern(shape.key)
            schema = {
                "type": "object",
                "patternProperties": {keys: self.shape(shape.value, free=True)},
                "additionalProperties": False,
            }
            return _bounds(schema, shape.min, shape.max, "Properties")
        assert isinstance(shape, StructShape)
        return self.struct(shape)

    def struct(self, shape: StructShape, extra_required: Iterable[str] = ()) -> Schema:
        """A structure: known members only; required ones present and not null."""
        required = list(dict.fromkeys((*shape.required, *extra_required)))
        properties = {}
        for name, member in shape.members.items():
            schema = self.shape(member.shape, free=name in FREE_TEXT_FIELDS)
            properties[name] = schema if name in required else _nullable(schema)
        out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        return out

    def string(self, shape: StringShape, free: bool) -> Schema:
        """A string as the walk checks it: length, then enum or pattern; no placeholder."""
        schema: Schema = _bounds({"type": "string"}, shape.min, shape.max, "Length")
        if shape.enum:
            schema["enum"] = list(shape.enum)
            return schema  # an enum value holds no placeholder
        regex = regex_of(shape)
        if regex is not None:
            schema["pattern"] = regex
        # Characters the string must not hold, found in one search (a byte scan, where a
        # whole-string pattern costs several times more): a line terminator where the
        # pattern is '.*' (Java's '.' stops at each, as the walk's check does), and where
        # text is not free, '$' and '<', which start every placeholder.
        forbidden = _LINE_TERMINATORS if one_line(shape.pattern, shape.min or 0) else ""
        if not free:
            forbidden += "$<"
        if forbidden:
            schema["not"] = {"type": "string", "pattern": f"[{forbidden}]"}
        return schema


def _bounds(schema: Schema, low: int | None, high: int | None, what: str) -> Schema:
    if low:
        schema[f"min{what}"] = low
    if high is not None:
        schema[f"max{what}"] = high
    return schema


def _key_pattern(shape: StringShape) -> str:
    """The keys a map takes: length and pattern in one regex (draft 4 has no ``propertyNames``).

    A ``.*`` key is one line: its length bounds the repetition of "not a line
    terminator"; any other pattern gets its length in a lookahead.
    """
    low = shape.min or 0
    bounds = f"{{{low},{'' if shape.max is None else shape.max}}}"
    if shape.pattern is None:
        return f"^(?s:.){bounds}$"
    if one_line(shape.pattern, low):
        return f"^[^{_LINE_TERMINATORS}]{bounds}$"
    return f"^(?=(?s:.){bounds}$)(?:{translate(shape.pattern).ecma})$"


def _nullable(schema: Schema) -> Schema:
    """*schema*, or null: an optional member set to null is as good as absent.

    Draft 4's keywords other than ``type`` and ``enum`` pass values of other
    types, so widening those two is enough.
    """
    widened = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened
