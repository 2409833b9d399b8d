"""Check a TrainingJob ``spec`` against the SageMaker API's constraints.

Each shape is compiled once into a small checking function (a closure that
knows its bounds, enum and regex), so checking an object is one walk over its
present values with no dispatch on shape types and no work for fields that
are absent. This walk is on the webhook's hot path: a typical job costs a few
microseconds.

Values of the wrong type are skipped here; the typed model reports them.
Nothing here echoes a value of ``hyperParameters`` or ``environment``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from webhook.constraints import messages
from webhook.constraints.patterns import breaks_line, one_line
from webhook.constraints.schema import (
    INT32_MAX,
    BoolShape,
    Constraints,
    IntShape,
    ListShape,
    MapShape,
    Shape,
    StringShape,
    StructShape,
    load,
)
from webhook.findings import Finding
from webhook.paths import SENSITIVE_MAPS, Path

#: Fields whose text is free-form (a regex): not checked for placeholders.
FREE_TEXT_FIELDS: Final = frozenset({"regex"})

#: ``$NAME``, ``${NAME}`` (envsubst, CI templating) and ``<YOUR BUCKET>`` (docs, samples).
PLACEHOLDER: Final = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Z_][A-Z0-9_]*|<[^<>\n]+>")

# A path under construction: nested (parent, step) pairs, flattened only when a
# finding is reported, so the walk allocates one small tuple per value.
Trail: TypeAlias = tuple[Any, str | int] | None
Check: TypeAlias = Callable[[Any, Trail, list[Finding]], None]

_NO_LIMIT: Final = 2**63

#: Put in the findings when the walk meets what the CRD's schema rejects (a value of
#: the wrong type, an unknown field, a null list item or map value): the caller then
#: runs the typed model for the exact messages. :meth:`SpecChecker.__call__` removes it.
SUSPECT: Final = Finding("internal", (), "the typed model has more to say")


def find_placeholder(value: str) -> str | None:
    """Return the first unsubstituted template placeholder in *value*, if any."""
    if "$" not in value and "<" not in value:
        return None
    match = PLACEHOLDER.search(value)
    return match.group(0) if match else None


def flatten(trail: Trail) -> Path:
    """The path a trail leads to."""
    steps: list[str | int] = []
    while trail is not None:
        trail, step = trail
        steps.append(step)
    return tuple(reversed(steps))


def _report(
    out: list[Finding], rule: str, trail: Trail, message: str, on_key: bool = False
) -> None:
    out.append(Finding(rule, flatten(trail), message, on_key=on_key))


class _Compiler:
    """Turns shapes into checking functions, once per (shape, context)."""

    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self.cache: dict[tuple[str, bool, bool], Check] = {}

    def check(self, shape: Shape, *, sensitive: bool = False, free: bool = False) -> Check:
        key = (shape.name, sensitive, free)
        if key not in self.cache:
            self.cache[key] = self._compile(shape, sensitive, free)
        return self.cache[key]

    def _compile(self, shape: Shape, sensitive: bool, free: bool) -> Check:
        if isinstance(shape, StringShape):
            return self._string(shape, sensitive, free)
        if isinstance(shape, StructShape):
            return self._structure(shape)
        if isinstance(shape, IntShape):
            return _integer(shape)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        assert isinstance(shape, BoolShape)
        return _nothing

    def _structure(self, shape: StructShape) -> Check:
        checks: dict[str, Check] = {}
        required = [(name, messages.required(shape.members[name])) for name in shape.required]

        def check(value: Any, trail: Trail, out: list[Finding]) -> None:
            if type(value) is not dict:
                out.append(SUSPECT)
                return
            for name, message in required:
                if value.get(name) is None:
                    _report(out, "sagemaker.required", (trail, name), message)
            for name, item in value.items():
                member = checks.get(name)
                if member is None:
                    out.append(SUSPECT)
                elif item is not None:
                    member(item, (trail, name), out)

        for name, member in shape.members.items():
            checks[name] = self.check(member.shape, free=name in FREE_TEXT_FIELDS)
        return check

    def _string(self, shape: StringShape, sensitive: bool, free: bool) -> Check:
        low = shape.min or 0
        high = shape.max if shape.max is not None else _NO_LIMIT
        enum = shape.enum_set
        rule = "sagemaker.instance-type" if shape.instance_types else "sagemaker.enum"
        # '.*' asks only for no line terminator: a search finds one faster than a full match.
        any_line = one_line(shape.pattern, low)
        matcher = None if any_line else shape.matcher
        constraints = self.constraints

        def check(value: Any, trail: Trail, out: list[Finding]) -> None:
            if type(value) is not str:
                out.append(SUSPECT)
                return
            if not free and ("$" in value or "<" in value):
                placeholder = find_placeholder(value)
                if placeholder is not None:
                    _report(out, "placeholder", trail, messages.placeholder(placeholder))
                    return
            length = len(value)
            if length < low or length > high:
                _report(out, "sagemaker.length", trail, messages.length(value, shape, sensitive))
            elif enum:
                if value not in enum:
                    _report(out, rule, trail, messages.enum(value, shape, constraints))
            elif (any_line and breaks_line(value)) or (
                matcher is not None and matcher.fullmatch(value) is None
            ):
                _report(out, "sagemaker.pattern", trail, messages.pattern(value, shape, sensitive))

        return check

    def _list(self, shape: ListShape) -> Check:
        low = shape.min or 0
        high = shape.max if shape.max is not None else _NO_LIMIT
        member = self.check(shape.member)

        def check(value: Any, trail: Trail, out: list[Finding]) -> None:
            if type(value) is not list:
                out.append(SUSPECT)
                return
            count = len(value)
            if count < low or count > high:
                _report(out, "sagemaker.list-size", trail, messages.size(count, shape, "item"))
            for index, item in enumerate(value):
                if item is None:
                    out.append(SUSPECT)
                else:
                    member(item, (trail, index), out)

        return check

    def _map(self, shape: MapShape) -> Check:
        low = shape.min or 0
        high = shape.max if shape.max is not None else _NO_LIMIT
        key_check = _map_key(shape.key)
        plain = self.check(shape.value, free=True)
        secret = self.check(shape.value, sensitive=True, free=True)

        def check(value: Any, trail: Trail, out: list[Finding]) -> None:
            if type(value) is not dict:
                out.append(SUSPECT)
                return
            count = len(value)
            if count < low or count > high:
                _report(out, "sagemaker.map-size", trail, messages.size(count, shape, "entry"))
            values = secret if trail is not None and trail[1] in SENSITIVE_MAPS else plain
            for key, item in value.items():
                entry = (trail, key)
                if type(key) is str:
                    key_check(key, entry, out)
                else:
                    out.append(SUSPECT)
                if item is None:
                    out.append(SUSPECT)
                else:
                    values(item, entry, out)

        return check


def _nothing(value: Any, trail: Trail, out: list[Finding]) -> None:
    """Booleans carry no constraint beyond their type."""
    if type(value) is not bool:
        out.append(SUSPECT)


def _integer(shape: IntShape) -> Check:
    low, high = shape.lowest, shape.highest  # a Java long holds no more than 2**63-1
    overflow = INT32_MAX if shape.bits == 32 else _NO_LIMIT

    def check(value: Any, trail: Trail, out: list[Finding]) -> None:
        if type(value) is not int:
            out.append(SUSPECT)
            return
        if value > overflow:
            _report(out, "sagemaker.int32", trail, messages.int32(value))
        elif value < low or value > high:
            _report(out, "sagemaker.range", trail, messages.out_of_range(value, shape))

    return check


def _map_key(shape: StringShape) -> Callable[[str, Trail, list[Finding]], None]:
    """A key's check: its length, then its pattern (a line break breaks ``.*`` here too)."""
    low = shape.min or 0
    high = shape.max if shape.max is not None else _NO_LIMIT
    any_line = one_line(shape.pattern, low)
    matcher = None if any_line else shape.matcher

    def check(key: str, trail: Trail, out: list[Finding]) -> None:
        if len(key) < low or len(key) > high:
            _report(out, "sagemaker.length", trail, messages.key_length(key, shape), True)
        elif (any_line and breaks_line(key)) or (
            matcher is not None and matcher.fullmatch(key) is None
        ):
            _report(out, "sagemaker.pattern", trail, messages.key_pattern(key, shape), True)

    return check


class SpecChecker:
    """The compiled check of a whole ``spec``; build once, call per object."""

    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self._check = _Compiler(constraints).check(constraints.root)

    def __call__(self, spec: Mapping[str, Any]) -> list[Finding]:
        """Return every violation of the SageMaker API's constraints in *spec*."""
        return self.walk(spec)[0]

    def walk(self, spec: Mapping[str, Any]) -> tuple[list[Finding], bool]:
        """The violations, and whether *spec* has something the CRD's schema rejects."""
        out: list[Finding] = []
        self._check(spec, (None, "spec"), out)
        if SUSPECT not in out:
            return out, False
        return [finding for finding in out if finding is not SUSPECT], True


@functools.cache
def default_checker() -> SpecChecker:
    """The checker of the constraints shipped with the package (compiled once)."""
    return SpecChecker(load())
