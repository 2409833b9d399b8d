"""Check a TrainingJob ``spec`` against the SageMaker API's constraints.

One walk over the object, guided by the compiled shapes: every present value
is checked against its shape (length, pattern, enum, range, list and map
size) and every structure against the fields SageMaker requires. Values of
the wrong type are skipped here; the typed model reports them. Nothing here
echoes a value of ``hyperParameters`` or ``environment``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from webhook.constraints import messages
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
)
from webhook.findings import Finding
from webhook.paths import SENSITIVE_MAPS, Path

#: Fields whose text is free-form (a regex): not checked for placeholders.
FREE_TEXT_FIELDS: Final = frozenset({"regex"})

#: ``$NAME``, ``${NAME}`` (envsubst, CI templating) and ``<YOUR BUCKET>`` (docs, samples).
PLACEHOLDER: Final = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Z_][A-Z0-9_]*|<[^<>\n]+>")


def find_placeholder(value: str) -> str | None:
    """Return the first unsubstituted template placeholder in *value*, if any."""
    if "$" not in value and "<" not in value:
        return None
    match = PLACEHOLDER.search(value)
    return match.group(0) if match else None


class _Walk:
    """One walk over one spec; collects findings."""

    __slots__ = ("constraints", "findings")

    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self.findings: list[Finding] = []

    def value(self, value: Any, shape: Shape, path: Path, sensitive: bool, free: bool) -> None:
        kind = type(shape)
        if kind is StringShape:
            if type(value) is str:
                self.string(value, shape, path, sensitive, free)  # type: ignore[arg-type]
        elif kind is StructShape:
            if type(value) is dict:
                self.structure(value, shape, path)  # type: ignore[arg-type]
        elif kind is IntShape:
            if type(value) is int:
                self.integer(value, shape, path)  # type: ignore[arg-type]
        elif kind is ListShape:
            if type(value) is list:
                self.list(value, shape, path)  # type: ignore[arg-type]
        elif kind is MapShape:
            if type(value) is dict:
                self.map(value, shape, path)  # type: ignore[arg-type]
        else:
            assert kind is BoolShape

    def structure(self, value: Mapping[str, Any], shape: StructShape, path: Path) -> None:
        for name in shape.required:
            if value.get(name) is None:
                member = shape.members[name]
                self.report(
                    "sagemaker.required",
                    (*path, name),
                    messages.required(member, self.constraints),
                )
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                self.value(item, member.shape, (*path, name), False, name in FREE_TEXT_FIELDS)

    def string(
        self, value: str, shape: StringShape, path: Path, sensitive: bool, free: bool
    ) -> None:
        if not free:
            placeholder = find_placeholder(value)
            if placeholder is not None:
                self.report("placeholder", path, messages.placeholder(placeholder))
                return
        length = len(value)
        if (shape.min is not None and length < shape.min) or (
            shape.max is not None and length > shape.max
        ):
            self.report("sagemaker.length", path, messages.length(value, shape, sensitive))
            return
        if shape.enum_set:
            if value not in shape.enum_set:
                rule = "sagemaker.instance-type" if shape.instance_types else "sagemaker.enum"
                self.report(rule, path, messages.enum(value, shape, self.constraints))
            return
        if shape.matcher is not None and shape.matcher.fullmatch(value) is None:
            self.report("sagemaker.pattern", path, messages.pattern(value, shape, sensitive))

    def integer(self, value: int, shape: IntShape, path: Path) -> None:
        if shape.bits == 32 and value > INT32_MAX:
            self.report("sagemaker.int32", path, messages.int32(value))
        elif (shape.min is not None and value < shape.min) or (
            shape.max is not None and value > shape.max
        ):
            self.report("sagemaker.range", path, messages.out_of_range(value, shape))

    def list(self, value: list[Any], shape: ListShape, path: Path) -> None:
        count = len(value)
        if (shape.min is not None and count < shape.min) or (
            shape.max is not None and count > shape.max
        ):
            self.report("sagemaker.list-size", path, messages.size(count, shape, "item"))
        member = shape.member
        for index, item in enumerate(value):
            if item is not None:
                self.value(item, member, (*path, index), False, False)

    def map(self, value: Mapping[Any, Any], shape: MapShape, path: Path) -> None:
        count = len(value)
        if (shape.min is not None and count < shape.min) or (
            shape.max is not None and count > shape.max
        ):
            self.report("sagemaker.map-size", path, messages.size(count, shape, "entry"))
        sensitive = bool(path) and path[-1] in SENSITIVE_MAPS
        for key, item in value.items():
            if type(key) is str:
                self.map_key(key, shape.key, (*path, key))
            if item is not None:
                self.value(item, shape.value, (*path, key), sensitive, True)

    def map_key(self, key: str, shape: StringShape, path: Path) -> None:
        length = len(key)
        if (shape.min is not None and length < shape.min) or (
            shape.max is not None and length > shape.max
        ):
            self.report("sagemaker.length", path, messages.key_length(key, shape), on_key=True)
        elif shape.matcher is not None and shape.matcher.fullmatch(key) is None:
            self.report("sagemaker.pattern", path, messages.key_pattern(key, shape), on_key=True)

    def report(self, rule: str, path: Path, message: str, *, on_key: bool = False) -> None:
        self.findings.append(Finding(rule, path, message, on_key=on_key))


def check_spec(spec: Mapping[str, Any], constraints: Constraints) -> list[Finding]:
    """Return every violation of the SageMaker API's constraints in *spec*."""
    walk = _Walk(constraints)
    walk.structure(spec, constraints.root, ("spec",))
    return walk.findings
