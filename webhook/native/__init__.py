r"""The native fast path: a compiled JSON Schema that certifies a job has nothing to report.

Most jobs the API server sends are fine, and proving that in Python (a walk
over every value, every rule's closure) costs tens of microseconds per
request. A :class:`Certificate` proves it natively instead: the checks whose
"finds nothing" condition JSON Schema can state are compiled once, at load,
into schemas (one for the built-in checks, one per policy for its rules),
which jsonschema-rs checks in a few microseconds.

The one invariant: **a schema may only be stricter than the checks it stands
for**. When the certificate holds, the Python checks it covers would find
nothing, so they are skipped; when it does not hold (or cannot be checked:
a value JSON has no type for), every check runs in Python as before and
gives the exact findings. A certificate never decides anything: it only says
when the exact checks can be skipped, so the answer is the same with or
without it (``tests/native/`` holds the two to that on every shipped case).

Draft 4 is used on purpose: from draft 6 on, ``5.0`` is an ``integer``,
while the checks (and the ACK controller's Go types) take only whole JSON
numbers. jsonschema-rs reads ``\d`` and ``\w`` as ASCII, where Python's
``re`` takes any Unicode digit or letter: stricter, the safe direction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import jsonschema_rs

Schema = dict[str, Any]
Guard = Callable[[Any], bool]
"""What a schema cannot state, in Python: True only when the check behind it finds nothing.

It runs after the schema held, on the same object, so it may rely on the shape the
schema proved (and must still not fail on anything else)."""


class Certificate:
    """A compiled schema: :meth:`holds` is True only when the checks behind it find nothing.

    *guards* are the few conditions a schema cannot state (items' keys all
    different, say): cheap Python predicates, run only when the schema holds.
    """

    __slots__ = ("_guards", "_is_valid")

    def __init__(self, schemas: Sequence[Schema], guards: Sequence[Guard] = ()) -> None:
        self._is_valid = jsonschema_rs.Draft4Validator(conjunction(schemas)).is_valid
        self._guards = tuple(guards)

    def holds(self, obj: object) -> bool:
        """True when *obj* passes; False when it fails or holds a value JSON cannot carry.

        *obj* is JSON data as a decoder gives it (dicts, lists, strings, numbers,
        booleans, None), which is what the API server's bodies and YAML manifests
        become. jsonschema-rs reads a tuple as an array where the typed model wants
        a list, so a hand-built object with tuples is not for a certificate.
        """
        try:
            if not self._is_valid(obj):
                return False
        except (ValueError, TypeError, OverflowError):  # a date from YAML, a non-string key
            return False
        guards = self._guards
        return not guards or all(guard(obj) for guard in guards)


_MERGEABLE: Final = frozenset({"type", "required", "properties", "allOf"})


def conjunction(schemas: Sequence[Schema]) -> Schema:
    """One schema that holds exactly when every one of *schemas* holds.

    Not just ``allOf``: members that only say "an object, with these members,
    whose values pass these schemas" are merged into one, recursively, so a
    value reached by several of them (``spec`` by every policy rule) is looked
    up and checked in one pass. ``type: object``, ``required`` and
    ``properties`` are conjunctive in draft 4 and do not interact, so the merge
    says the same thing; a member with any other keyword (``additionalProperties``,
    which reads its own ``properties``, say) is kept whole.
    """
    parts = _flattened(schemas)
    plain = [part for part in parts if _mergeable(part)]
    rest = [part for part in parts if not _mergeable(part)]
    if plain:
        merged: Schema = {}
        if any("type" in part for part in plain):
            merged["type"] = "object"
        required = [name for part in plain for name in part.get("required", ())]
        if required:
            merged["required"] = list(dict.fromkeys(required))
        members: dict[str, list[Schema]] = {}
        for part in plain:
            for name, schema in part.get("properties", {}).items():
                members.setdefault(name, []).append(schema)
        if members:
            merged["properties"] = {name: conjunction(each) for name, each in members.items()}
        plain = [merged]
    parts = plain + rest
    return parts[0] if len(parts) == 1 else {"allOf": parts}


def _flattened(schemas: Sequence[Schema]) -> list[Schema]:
    """*schemas* with the ``allOf`` of mergeable ones lifted to the same level."""
    out: list[Schema] = []
    for schema in schemas:
        if _mergeable(schema) and "allOf" in schema:
            out.extend(_flattened(schema["allOf"]))
            rest = {key: value for key, value in schema.items() if key != "allOf"}
            if rest:
                out.append(rest)
        elif schema:
            out.append(schema)
    return out or [{}]


def _mergeable(schema: Schema) -> bool:
    return _MERGEABLE.issuperset(schema) and schema.get("type", "object") == "object"


def anchored(pattern: str) -> str:
    """A regex that must match the whole string (JSON Schema's ``pattern`` searches)."""
    return f"^(?:{pattern})$"


def at(path: Sequence[str], schema: Schema) -> Schema:
    """*schema* for the value at *path* (under the object), when every step is there."""
    for name in reversed(path):
        schema = {"properties": {name: schema}}
    return schema


def required_at(path: Sequence[str], schema: Schema) -> Schema:
    """*schema* for the value at *path*, which must be there (not null), in objects all the way."""
    schema = {"allOf": [schema, {"not": {"type": "null"}}]}
    for name in reversed(path):
        schema = {"type": "object", "required": [name], "properties": {name: schema}}
    return schema


def contains(schema: Schema) -> Schema:
    """An array with an item that passes *schema* (draft 4 has no ``contains``)."""
    return {"type": "array", "not": {"items": {"not": schema}}}


def on_spec(*schemas: Schema) -> Schema:
    """A job whose ``spec`` is an object that passes every one of *schemas*.

    Rules read a missing or mistyped ``spec`` as an empty one, which some
    of them report (a required field): so a rule's schema wants a real spec.
    """
    spec: Schema = {"type": "object"}
    if schemas:
        spec["allOf"] = list(schemas)
    return {"type": "object", "required": ["spec"], "properties": {"spec": spec}}
