"""The size gate: a job's sizes, checked before anything walks it.

Every check costs time in proportion to what a job holds, and so does an
answer that lists every problem: a job whose ``inputDataConfig`` holds a
million empty items is 2.9 MiB, under the API server's 3 MiB limit for a
request, and checking it item by item took seconds and answered with two
million findings. The gate makes the work proportional to what SageMaker
accepts instead. It looks only at sizes, takes ``len()`` of a list, map or
string before anything else, and descends only into what is within its bound:

* where SageMaker's model gives the bound: the size of lists and maps (20
  input channels, 100 hyperparameters, 50 tags ...) and the length of
  strings and map keys, reported as the full checks report them
  (``sagemaker.list-size``, ``sagemaker.map-size``, ``sagemaker.length``);
* elsewhere, fixed bounds far beyond any real job (``guard.too-large``):
  :data:`ENTRIES`, :data:`CHARS`, :data:`DEPTH`, and in all :data:`VALUES` and
  :data:`UNKNOWN_FIELDS`. They cover the CRD's top level, the members of
  ``metadata`` that checks read (:data:`READ_METADATA`), ``status``, fields
  the CRD does not define and values of the wrong type (which the typed model
  reports, CEL rules read and the secrets scan walks).

One finding per oversized list, map or string, and nothing under it is
looked at. :func:`webhook.engine.review` denies a job with any such finding
and checks nothing else: the gate is the whole answer then.

A platform team may relax a rule of SageMaker's bounds (:data:`RELAXABLE`):
its action set to warn or audit, by the operator (``--rule-action``) or by a
policy's ``apiConstraints`` for the jobs it applies to, as when AWS raises a
limit before the pinned service model knows it. For that rule the gate then
holds the job to the fixed bound instead of the model's (:data:`ENTRIES` for
lists and maps, :data:`CHARS` for strings and map keys), and reports what is
beyond it as ``guard.too-large``. Between the two bounds it lets the job
through: the full checks run and report the rule's finding with its action.
The items of such a list or map count towards :data:`VALUES`, as where the
model sets no bound, so nested relaxed lists cannot multiply the work.

The other members of ``metadata`` (``managedFields``, ``ownerReferences``,
``uid`` ...) belong to the API server and no check reads them; CEL rules,
which convert the whole object, bound them themselves with :func:`fits`.

Two native proofs state every bound here but the two totals, and refuse all
that those count but the members of ``metadata``, which cannot reach them
alone: the proof of the built-in checks (:mod:`webhook.constraints.proof`) and the
gate's own (:mod:`webhook.constraints.sizes`). The walk runs only for a job
neither holds for. Both hold only for a job within the model's bounds, on which
the walk has nothing to say whatever is relaxed: it differs from the default
walk only past a model's bound.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from webhook.constraints import messages
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

RULE: Final = "guard.too-large"
"""The rule id of a fixed bound (where SageMaker's model gives none, or its rule is relaxed)."""
LIST_SIZE: Final = "sagemaker.list-size"
MAP_SIZE: Final = "sagemaker.map-size"
LENGTH: Final = "sagemaker.length"
RELAXABLE: Final = frozenset({LIST_SIZE, MAP_SIZE, LENGTH})
"""The rules of SageMaker's bounds: where one is relaxed, the fixed bound stands in for the
model's."""

ENTRIES: Final = 1_000
"""Items of a list or entries of a map where the model sets no bound (labels, annotations,
finalizers, status, values of fields the CRD does not define)."""
CHARS: Final = 262_144
"""Characters of a string or map key where the model sets no length: Kubernetes' limit for
all of an object's annotations together (``TotalAnnotationSizeLimitB`` in apimachinery), so
no annotation the API server stores is longer."""
ENUM_CHARS: Final = 256
"""Characters of a string SageMaker takes from a list of values (an enum, which sets no
length): no value of any of the model's enums is longer (its longest, an instance type, has
about 25), and a bound of that order keeps every check of such a string cheap, including the
ValidatingAdmissionPolicy exported from them (:mod:`webhook.export`)."""
DEPTH: Final = 32
"""Levels of nesting below the object's top (SageMaker's deepest field is 7 levels down)."""
VALUES: Final = 10_000
"""List items and map entries in all, outside the model's bounds (where it sets none, or its
rule is relaxed and they are over it)."""
UNKNOWN_FIELDS: Final = 100
"""Fields the CRD does not define, in all: each one costs a did-you-mean search."""

READ_METADATA: Final = ("name", "generateName", "namespace", "labels", "annotations", "finalizers")
"""The members of ``metadata`` that checks read (the typed model's)."""

#: What every finding of the gate adds: the rest of the job waits for the sizes.
UNCHECKED: Final = "; nothing else is checked until it fits"


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


def fixed_length(shape: StringShape) -> int:
    """The fixed bound of a string the model sets no length for: an enum's, else :data:`CHARS`."""
    return ENUM_CHARS if shape.enum else CHARS


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
