"""The size gate's walk: a job held to the bounds of :mod:`webhook.constraints.bounds`.

:class:`SizeGate` is compiled once from the model's shapes. It takes ``len()`` of a
list, map or string before anything else, reports what is over its bound (one finding
each, with nothing under it looked at), descends only into what is within it, and counts
the totals (:data:`~webhook.constraints.bounds.VALUES`,
:data:`~webhook.constraints.bounds.UNKNOWN_FIELDS`) on the way. :func:`fits` and
:func:`metadata_fits` hold a value, and the members of a job's ``metadata`` that checks
read, to the fixed bounds alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from webhook.constraints import messages
from webhook.constraints.bounds import (
    CHARS,
    DEPTH,
    ENTRIES,
    LENGTH,
    LIST_SIZE,
    MAP_SIZE,
    READ_METADATA,
    RULE,
    UNCHECKED,
    UNKNOWN_FIELDS,
    VALUES,
    fixed_length,
)
from webhook.constraints.check import Trail, flatten
from webhook.constraints.schema import (
    Constraints,
    ListShape,
    MapShape,
    Shape,
    StringShape,
    StructShape,
)
from webhook.findings import Finding
from webhook.paths import SENSITIVE_MAPS

_SCALARS: Final = frozenset({int, float, bool, type(None)})


class _ExhaustedError(Exception):
    """A total ran out: the walk stops there."""


class _Walk:
    """The findings so far and what is left of the totals."""

    __slots__ = ("fields", "out", "relaxed", "values")

    def __init__(self, relaxed: frozenset[str] = frozenset()) -> None:
        self.out: list[Finding] = []
        self.values = VALUES
        self.fields = UNKNOWN_FIELDS
        self.relaxed = relaxed

    def report(self, rule: str, trail: Trail, message: str, on_key: bool = False) -> None:
        self.out.append(Finding(rule, flatten(trail), message + UNCHECKED, on_key=on_key))

    def stops(self, rule: str, size: int, ceiling: int) -> bool:
        """True when a *size* over the model's bound for *rule* is reported, not let through.

        Always, unless *rule* is relaxed and *size* is within the fixed *ceiling*.
        """
        return rule not in self.relaxed or size > ceiling

    def beyond(
        self, rule: str, trail: Trail, message: str, ceiling: int, on_key: bool = False
    ) -> None:
        """Report a size over the model's bound: as *rule*, or past *ceiling* where relaxed."""
        if rule in self.relaxed:
            self.report(
                RULE,
                trail,
                f"{message}; at most {ceiling} are checked where {rule} is relaxed",
                on_key,
            )
        else:
            self.report(rule, trail, message, on_key)

    def spend(self, count: int, trail: Trail) -> None:
        """Count *count* more values outside the model's bounds; stop when they run out."""
        self.values -= count
        if self.values < 0:
            self.report(
                RULE,
                trail,
                f"takes the job past {VALUES} list items and map entries "
                "in all outside the fields SageMaker's model bounds",
            )
            raise _ExhaustedError

    def unknown(self, trail: Trail) -> None:
        """Count one more field the CRD does not define; stop when they run out."""
        self.fields -= 1
        if self.fields < 0:
            self.report(
                RULE,
                trail,
                f"takes the job past {UNKNOWN_FIELDS} fields the TrainingJob CRD does not define",
            )
            raise _ExhaustedError


Check: TypeAlias = Callable[[Any, Trail, int, _Walk], None]


def _too_many(count: int, bound: int) -> str:
    return f"has {count} entries; at most {bound} are checked where SageMaker's model sets no bound"


def _too_long(length: int, what: str = "") -> str:
    return (
        f"{what}is {length} characters long; at most {CHARS} are checked where SageMaker's "
        "model sets no length"
    )


def _too_long_for(length: int, bound: int, shape: StringShape) -> str:
    if bound == CHARS:
        return _too_long(length)
    return (
        f"is {length} characters long; SageMaker takes one of {len(shape.enum)} values here, "
        f"none longer than {bound} characters"
    )


def _within(count: int, shape: ListShape | MapShape, noun: str, trail: Trail, walk: _Walk) -> bool:
    """True when a list or map of *count* items may be looked into (else it is reported).

    The model's maximum, past which a relaxed rule still lets :data:`ENTRIES` through;
    :data:`ENTRIES` where the model sets none. What is looked into counts to the total.
    """
    high = shape.max
    if high is None and count > ENTRIES:
        walk.report(RULE, trail, _too_many(count, ENTRIES))
        return False
    if high is not None and count > high:
        rule = LIST_SIZE if isinstance(shape, ListShape) else MAP_SIZE
        if walk.stops(rule, count, ENTRIES):
            walk.beyond(rule, trail, messages.size(count, shape, noun), ENTRIES)
            return False
        walk.spend(count, trail)
    elif high is None:
        walk.spend(count, trail)
    return True


def _any(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
    """The fixed bounds, for a value the model does not describe (or of another type)."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is str or kind is bytes:
        if len(value) > CHARS:
            walk.report(RULE, trail, _too_long(len(value)))
        return
    if kind is dict or isinstance(value, Mapping):
        items: Any = value.items()
    elif kind is list or isinstance(value, tuple | set | frozenset):
        items = enumerate(value)
    else:
        return  # a date, or another value with no size
    count = len(value)
    if count > ENTRIES:
        walk.report(RULE, trail, _too_many(count, ENTRIES))
        return
    if count and depth >= DEPTH:
        walk.report(RULE, trail, f"is nested more than {DEPTH} levels deep")
        return
    walk.spend(count, trail)
    for key, item in items:
        if type(key) is str and len(key) > CHARS:
            walk.report(RULE, (trail, key), _too_long(len(key), "key "), on_key=True)
        else:
            _any(item, (trail, key), depth + 1, walk)


def _fields(members: Mapping[str, Check]) -> Check:
    """An object with named fields: the fields the CRD does not define count towards a total."""
    known = len(members)

    def check(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
        if type(value) is not dict:
            _any(value, trail, depth, walk)
            return
        extra = len(value) - known
        if extra > walk.fields:  # that many are unknown whatever the names: no need to read them
            walk.report(
                RULE,
                trail,
                f"has {len(value)} fields, at least {extra} of them not defined by the CRD; "
                f"at most {UNKNOWN_FIELDS} such fields are checked",
            )
            return
        for name, item in value.items():
            member = members.get(name)
            if member is None:
                walk.unknown((trail, name))
                _any(item, (trail, name), depth + 1, walk)
            elif item is not None:
                member(item, (trail, name), depth + 1, walk)

    return check


class _Compiler:
    """Turns shapes into size checks, once per (shape, sensitive)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, bool], Check] = {}

    def check(self, shape: Shape, *, sensitive: bool = False) -> Check:
        key = (shape.name, sensitive)
        if key not in self.cache:
            self.cache[key] = self._compile(shape, sensitive)
        return self.cache[key]

    def _compile(self, shape: Shape, sensitive: bool) -> Check:
        if isinstance(shape, StringShape):
            return _string(shape, sensitive)
        if isinstance(shape, StructShape):
            return _fields({name: self.check(m.shape) for name, m in shape.members.items()})
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        return _any  # a number or a boolean: only another type has a size

    def _list(self, shape: ListShape) -> Check:
        member = self.check(shape.member)

        def check(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
            if type(value) is not list:
                _any(value, trail, depth, walk)
                return
            if not _within(len(value), shape, "item", trail, walk):
                return
            for index, item in enumerate(value):
                if item is not None:
                    member(item, (trail, index), depth + 1, walk)

        return check

    def _map(self, shape: MapShape) -> Check:
        plain = self.check(shape.value)
        secret = self.check(shape.value, sensitive=True)
        key_high = shape.key.max
        key_limit = CHARS if key_high is None else key_high

        def check(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
            if type(value) is not dict:
                _any(value, trail, depth, walk)
                return
            if not _within(len(value), shape, "entry", trail, walk):
                return
            values = secret if trail is not None and trail[1] in SENSITIVE_MAPS else plain
            for key, item in value.items():
                entry = (trail, key)
                if type(key) is str and len(key) > key_limit:
                    if key_high is None:
                        walk.report(RULE, entry, _too_long(len(key), "key "), on_key=True)
                        continue
                    if walk.stops(LENGTH, len(key), CHARS):
                        message = messages.key_length(key, shape.key)
                        walk.beyond(LENGTH, entry, message, CHARS, on_key=True)
                        continue
                if item is not None:
                    values(item, entry, depth + 1, walk)

        return check


def _string(shape: StringShape, sensitive: bool) -> Check:
    """A string's length: the model's maximum (:data:`CHARS` if relaxed), else :data:`CHARS`.

    An enum's values are held to :data:`ENUM_CHARS` instead of :data:`CHARS`.
    """
    high = shape.max
    fixed = fixed_length(shape)

    def check(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
        if type(value) is not str:
            _any(value, trail, depth, walk)
        elif high is None:
            if len(value) > fixed:
                walk.report(RULE, trail, _too_long_for(len(value), fixed, shape))
        elif len(value) > high and walk.stops(LENGTH, len(value), CHARS):
            walk.beyond(LENGTH, trail, messages.length(value, shape, sensitive), CHARS)

    return check


def _metadata(value: Any, trail: Trail, depth: int, walk: _Walk) -> None:
    """The members of ``metadata`` that checks read; the API server's own are left alone."""
    if type(value) is not dict:
        _any(value, trail, depth, walk)
        return
    for name in READ_METADATA:
        item = value.get(name)
        if item is not None:
            _any(item, (trail, name), depth + 1, walk)


class SizeGate:
    """The compiled size checks of a whole TrainingJob; build once, call per object."""

    def __init__(self, constraints: Constraints) -> None:
        spec = _Compiler().check(constraints.root)
        self._check = _fields(
            {"apiVersion": _any, "kind": _any, "metadata": _metadata, "spec": spec, "status": _any}
        )

    def __call__(self, obj: Any, relaxed: frozenset[str] = frozenset()) -> list[Finding]:
        """One finding per list, map or string of *obj* over its bound; empty when none is.

        *relaxed*: the rules of :data:`RELAXABLE` whose model bounds give way to the fixed ones.
        """
        walk = _Walk(relaxed)
        with contextlib.suppress(_ExhaustedError):
            self._check(obj, None, 0, walk)
        return walk.out


def fits(value: Any, depth: int = 0) -> bool:
    """True when *value* is within the fixed bounds (for a walker of what the gate leaves).

    *depth* is how deep *value* is in its object.
    """
    walk = _Walk()
    try:
        _any(value, None, depth, walk)
    except _ExhaustedError:
        return False
    return not walk.out


def metadata_fits(obj: Mapping[str, Any]) -> bool:
    """True when the members of *obj*'s ``metadata`` that checks read are within the fixed bounds.

    What selecting policies reads (labels, annotations, the namespace) costs
    little then; a job for which this is False is denied by the gate anyway.
    """
    walk = _Walk()
    try:
        _metadata(obj.get("metadata"), (None, "metadata"), 1, walk)
    except _ExhaustedError:
        return False
    return not walk.out
