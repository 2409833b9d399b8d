"""The size gate as the engine runs it: a native proof first, then the walk.

The gate (:mod:`webhook.constraints.gate`) walks a job in Python, about ten
microseconds for a typical one. Most jobs it sees are within every bound, and
this schema proves that in a couple of microseconds instead (see
:mod:`webhook.native`): the sizes SageMaker's model gives, the fixed bounds
of the members of ``metadata`` that checks read, and nothing else. Like every
proof it is only ever stricter than the walk: it refuses what the walk would
have to count (``status``, fields the CRD does not define, values of another
type), and then the walk gives the exact findings (:func:`gate_findings`).
It holds only for a job within the model's bounds, so it stands for the gate
with rules relaxed too (see :mod:`webhook.constraints.bounds`), whose walk of
such a job is the default one.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from webhook.constraints.bounds import CHARS, ENTRIES, fixed_length
from webhook.constraints.check import SpecChecker
from webhook.constraints.gate import SizeGate
from webhook.constraints.schema import (
    BoolShape,
    Constraints,
    IntShape,
    ListShape,
    MapShape,
    Shape,
    StringShape,
)
from webhook.findings import Finding
from webhook.native import Proof, Schema

_NULL: Final = {"type": "null"}


def _text(high: int | None) -> Schema:
    return {"type": ["string", "null"], "maxLength": CHARS if high is None else high}


def _keys(high: int | None) -> str:
    """Keys of at most *high* (else :data:`CHARS`) characters, as a JSON Schema pattern."""
    return f"^[\\s\\S]{{0,{CHARS if high is None else high}}}$"


#: ``labels`` and ``annotations``: strings by keys, within the fixed bounds.
_STRING_MAP: Final = {
    "type": ["object", "null"],
    "maxProperties": ENTRIES,
    "patternProperties": {_keys(None): _text(None)},
    "additionalProperties": False,
}

#: The members of ``metadata`` the gate reads (:data:`~webhook.constraints.bounds.READ_METADATA`).
METADATA: Final = {
    "type": "object",
    "properties": {
        "name": _text(None),
        "generateName": _text(None),
        "namespace": _text(None),
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": ["array", "null"], "maxItems": ENTRIES, "items": _text(None)},
    },
}


def size_schema(constraints: Constraints) -> Schema:
    """A job the size gate finds nothing in (and no ``status``, no unknown field)."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": _text(None),
            "kind": _text(None),
            "metadata": METADATA,
            "spec": _shape(constraints.root),
        },
        "additionalProperties": False,
    }


def _shape(shape: Shape) -> Schema:
    """*shape*'s sizes, null allowed (the gate skips a null)."""
    if isinstance(shape, StringShape):
        return _text(shape.max if shape.max is not None else fixed_length(shape))
    if isinstance(shape, IntShape):
        return {"type": ["number", "null"]}
    if isinstance(shape, BoolShape):
        return {"type": ["boolean", "null"]}
    if isinstance(shape, ListShape | MapShape) and shape.max is None:
        return _NULL  # its items would count towards a total, which no schema can state
    if isinstance(shape, ListShape):
        return {"type": ["array", "null"], "maxItems": shape.max, "items": _shape(shape.member)}
    if isinstance(shape, MapShape):
        return {
            "type": ["object", "null"],
            "maxProperties": shape.max,
            "patternProperties": {_keys(shape.key.max): _shape(shape.value)},
            "additionalProperties": False,
        }
    members = {name: _shape(member.shape) for name, member in shape.members.items()}
    return {"type": ["object", "null"], "properties": members, "additionalProperties": False}


@functools.cache
def size_gate(checker: SpecChecker) -> SizeGate:
    """The size gate of *checker*'s constraints (built once)."""
    return SizeGate(checker.constraints)


@functools.cache
def size_proof(checker: SpecChecker) -> Proof:
    """The native proof that a job is within the size gate's bounds (built once)."""
    return Proof([size_schema(checker.constraints)])


def gate_findings(
    obj: Any, checker: SpecChecker, *, proven: bool = False, relaxed: frozenset[str] = frozenset()
) -> list[Finding]:
    """The size gate's findings on *obj*; none when a proof holds.

    *proven*: the native proof of the built-in checks held (:mod:`webhook.constraints.proof`),
    which states every bound the gate checks that a job it proves could break; else the
    gate's own proof is tried before the walk. *relaxed*: the rules whose model bounds give
    way to the fixed ones (:data:`~webhook.constraints.bounds.RELAXABLE`); a job either
    proof holds for is within the model's bounds, so within those too.
    """
    if proven or size_proof(checker).holds(obj):
        return []
    return size_gate(checker)(obj, relaxed)
