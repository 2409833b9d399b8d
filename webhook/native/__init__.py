r"""The native fast path: a compiled JSON Schema that proves a job has nothing to report.

Most jobs the API server sends are fine, and proving that in Python (a walk
over every value, every rule's closure) costs tens of microseconds per
request. A :class:`Proof` proves it natively instead: the checks whose
"finds nothing" condition JSON Schema can state are compiled once, at load,
into schemas (one for the built-in checks, one per policy for its rules),
which jsonschema-rs checks in a few microseconds.

The one invariant: **a schema may only be stricter than the checks it stands
for**. When the proof holds, the Python checks it covers would find
nothing, so they are skipped; when it does not hold (or cannot be checked:
a value JSON has no type for), every check runs in Python as before and
gives the exact findings. A proof never decides anything: it only says
when the exact checks can be skipped, so the answer is the same with or
without it (``tests/native/`` holds the two to that on every shipped case).

Draft 4 is used on purpose: from draft 6 on, ``5.0`` is an ``integer``,
while the checks (and the ACK controller's Go types) take only whole JSON
numbers. jsonschema-rs reads ``\d`` and ``\w`` as ASCII, where Python's
``re`` takes any Unicode digit or letter: stricter, the safe direction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final

import jsonschema_rs

Schema = dict[str, Any]
Guard = Callable[[Any], bool]
"""What a schema cannot state, in Python: True only when the check behind it finds nothing.

It runs after the schema held, on the same object, so it may rely on the shape the
schema proved (and must still not fail on anything else)."""


class Proof:
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
        a list, so a hand-built object with tuples is not for a proof.
        """
        try:
            if not self._is_valid(obj):
                return False
        except (ValueError, TypeError, OverflowError):  # a date from YAML, a non-string key
            return False
        guards = self._guards
        return not guards or all(guard(obj) for guard in guards)


_MERGEABLE: Final = frozenset({"type", "required", "properties", "allOf"})
#: What a closed object schema (``additionalProperties: false``) may say to be merged.
_CLOSABLE: Final = frozenset({*_MERGEABLE, "additionalProperties"})
#: What an array schema may say to be merged with others (``items`` a single schema).
_LISTABLE: Final = frozenset({"type", "items", "minItems", "maxItems"})
#: The types a merged object schema's ``type`` may list (no ``integer``/``number``, whose
#: sets nest, so that the intersection of two lists is what both allow).
_PLAIN_TYPES: Final = frozenset({"object", "null", "array", "string", "boolean"})


def conjunction(schemas: Sequence[Schema]) -> Schema:
    """One schema that holds exactly when every one of *schemas* holds.

    Not just ``allOf``: members that only say "an object, with these members,
    whose values pass these schemas" are merged into one, recursively, so a
    value reached by several of them (``spec`` by every policy rule) is looked
    up and checked in one pass. ``type: object``, ``required`` and
    ``properties`` are conjunctive in draft 4 and do not interact, so the merge
    says the same thing.

    Closed members (``additionalProperties: false``, which reads its own
    ``properties``) merge too, into one closed schema: it lists the members
    every closed one lists, each with the conjunction of what all the schemas
    say of it; a member only some of them list gets ``not: {}`` (another one
    refuses it), and what open members say of a member no closed one lists is
    dropped (the closed ones refuse it wherever it is). Array schemas that say
    only ``type``, ``items``, ``minItems`` and ``maxItems`` merge as well. ``type``
    lists are intersected. String screens merge into one search, and go where
    the value cannot be a string or where an ``enum`` admits none they refuse
    (:func:`_screens_merged`). A member with any other keyword is kept whole.
    """
    parts = _flattened(schemas)
    plain = [part for part in parts if _mergeable(part)]
    closed = [part for part in parts if not _mergeable(part) and _closed(part)]
    rest = [part for part in parts if not _mergeable(part) and not _closed(part)]
    if plain or closed:
        merged: Schema = {}
        types = _types([*plain, *closed])
        if types is not None:
            merged["type"] = types[0] if len(types) == 1 else types
        required = [name for part in (*plain, *closed) for name in part.get("required", ())]
        if required:
            merged["required"] = list(dict.fromkeys(required))
        members: dict[str, list[Schema]] = {}
        for part in (*closed, *plain):
            for name, schema in part.get("properties", {}).items():
                members.setdefault(name, []).append(schema)
        if closed:
            listed = [set(part.get("properties", {})) for part in closed]
            everywhere = set.intersection(*listed)
            members = {
                name: each if name in everywhere else [{"not": {}}]
                for name, each in members.items()
                if any(name in names for names in listed)
            }
            merged["additionalProperties"] = False
        if members:
            merged["properties"] = {name: conjunction(each) for name, each in members.items()}
        plain = [merged]
    arrays = [part for part in rest if _array(part)]
    if arrays:
        # First: jsonschema-rs checks the members of an allOf in order, so a list over its
        # maxItems fails here before a member such as ``contains`` reads every item.
        merged_arrays = _arrays(arrays) if len(arrays) > 1 else arrays[0]
        rest = [merged_arrays, *(part for part in rest if not _array(part))]
    rest = _screens_merged(rest)
    parts = plain + rest
    return parts[0] if len(parts) == 1 else {"allOf": parts}


def _screen(schema: Schema) -> str | None:
    """The pattern of a ``not: {type: string, pattern: ...}`` in *schema*, else None."""
    refused = schema.get("not")
    if not isinstance(refused, dict) or refused.keys() != {"type", "pattern"}:
        return None
    pattern = refused["pattern"]
    return pattern if refused["type"] == "string" and isinstance(pattern, str) else None


def _screens_merged(parts: list[Schema]) -> list[Schema]:
    """*parts* with their string screens (``not`` a string matching a pattern) as one.

    No string may match any of them, so one ``not`` with the patterns as
    alternatives says the same in one search; where another part's ``type``
    admits no string, the screens say nothing and go. A part left with only a
    ``type`` that another part's ``type`` implies says nothing more and goes too.
    """
    screens = [pattern for part in parts if (pattern := _screen(part)) is not None]
    if not screens:
        return parts
    typed = [_kinds(part["type"]) for part in parts if "type" in part]
    stringless = any("string" not in kinds for kinds in typed)
    if len(screens) < 2 and not stringless:
        return parts
    out = [
        {key: value for key, value in part.items() if key != "not"}
        if _screen(part) is not None
        else part
        for part in parts
    ]
    # A part with only a type goes when another part's type admits only types it admits.
    kept: list[Schema] = []
    for index, part in enumerate(out):
        if not part:
            continue
        if part.keys() == {"type"}:
            admitted = _widened(part["type"])
            others = [other for spot, other in enumerate(out) if spot != index and "type" in other]
            if any(_kinds(other["type"]) <= admitted for other in others):
                out[index] = {}  # gone: a later twin must not count on it
                continue
        kept.append(part)
    out = kept
    if not stringless:
        combined = "|".join(f"(?:{pattern})" for pattern in dict.fromkeys(screens))
        if not _enum_passes(out, combined):
            out.append({"not": {"type": "string", "pattern": combined}})
    return out or [{}]


def _enum_passes(parts: Sequence[Schema], pattern: str) -> bool:
    """True when a part's ``enum`` admits no string *pattern* finds: the screen says nothing.

    Checked with jsonschema-rs itself, the engine that would run the screen.
    """
    for part in parts:
        values = part.get("enum")
        if isinstance(values, list):
            strings = [value for value in values if isinstance(value, str)]
            return not any(_finds(pattern, value) for value in strings)
    return False


@functools.lru_cache(maxsize=64)
def _finder(pattern: str) -> Callable[[object], bool]:
    return jsonschema_rs.Draft4Validator({"pattern": pattern}).is_valid


def _finds(pattern: str, text: str) -> bool:
    """True when *pattern* (a JSON Schema ``pattern``: a search) matches in *text*."""
    return _finder(pattern)(text)


def _kinds(kind: str | list[str]) -> set[str]:
    """The types a ``type`` keyword lists."""
    return {kind} if isinstance(kind, str) else set(kind)


def _widened(kind: str | list[str]) -> set[str]:
    """The types *kind* allows, ``integer`` added where ``number`` is (draft 4 nests them)."""
    kinds = _kinds(kind)
    return kinds | {"integer"} if "number" in kinds else kinds


def _arrays(parts: Sequence[Schema]) -> Schema:
    """Array schemas (:func:`_array`) as one: ``items`` and bounds are conjunctive."""
    merged: Schema = {}
    types = _types(parts)
    if types is not None:
        merged["type"] = types[0] if len(types) == 1 else types
    items = [part["items"] for part in parts if "items" in part]
    if items:
        merged["items"] = conjunction(items)
    lows = [part["minItems"] for part in parts if "minItems" in part]
    if lows:
        merged["minItems"] = max(lows)
    highs = [part["maxItems"] for part in parts if "maxItems" in part]
    if highs:
        merged["maxItems"] = min(highs)
    return merged


def _array(schema: Schema) -> bool:
    """An array schema that says only what :func:`_arrays` merges."""
    if not _LISTABLE.issuperset(schema) or not isinstance(schema.get("items", {}), dict):
        return False
    kinds = _kinds(schema.get("type", []))
    return not kinds or ("array" in kinds and kinds <= _PLAIN_TYPES)


def _types(parts: Sequence[Schema]) -> list[str] | None:
    """The intersection of the ``type`` of *parts* (None: none says)."""
    found: set[str] | None = None
    for part in parts:
        if "type" in part:
            kinds = _kinds(part["type"])
            found = kinds if found is None else found & kinds
    return None if found is None else sorted(found)


def _flattened(schemas: Sequence[Schema]) -> list[Schema]:
    """*schemas* with the ``allOf`` of mergeable and closed ones lifted to the same level."""
    out: list[Schema] = []
    for schema in schemas:
        if (_mergeable(schema) or _closed(schema)) and "allOf" in schema:
            out.extend(_flattened(schema["allOf"]))
            rest = {key: value for key, value in schema.items() if key != "allOf"}
            if rest:
                out.append(rest)
        elif schema:
            out.append(schema)
    return out or [{}]


def _mergeable(schema: Schema) -> bool:
    return _MERGEABLE.issuperset(schema) and schema.get("type", "object") == "object"


def _closed(schema: Schema) -> bool:
    """An object schema that allows only the members it lists, and says nothing else."""
    if schema.get("additionalProperties") is not False or not _CLOSABLE.issuperset(schema):
        return False
    kinds = _kinds(schema.get("type", "object"))
    return "object" in kinds and kinds <= _PLAIN_TYPES


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
