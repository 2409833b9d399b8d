"""Load the generated SageMaker constraints and compile them for checking.

The data file ``sagemaker_training_job.json`` is written by
``scripts/generate_constraints.py`` from the SageMaker service model in a
pinned botocore wheel; it holds the shapes under ``CreateTrainingJobRequest``
that the ACK CRD exposes, keyed by the CRD's field names. Here each shape
becomes a small frozen object with its regex compiled once, so a check is a
walk over the object with no parsing or compiling on the way.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeAlias

import regex

from webhook.constraints.patterns import translate

DATA_FILE: Final = "sagemaker_training_job.json"
INT32_MAX: Final = 2**31 - 1
INT64_MAX: Final = 2**63 - 1


class Matcher(Protocol):
    """What a compiled pattern offers (``re.Pattern`` or ``regex.Pattern``)."""

    def fullmatch(self, string: str, /) -> object | None:
        """Return a match when the whole string matches, else None."""


@dataclass(frozen=True, slots=True)
class StringShape:
    """A string: length bounds, a pattern the whole value must match, or an enum."""

    name: str
    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    matcher: Matcher | None = None
    enum: tuple[str, ...] = ()
    enum_set: frozenset[str] = frozenset()
    instance_types: bool = False


@dataclass(frozen=True, slots=True)
class IntShape:
    """An integer; ``int32`` ones overflow the ACK controller above 2**31-1."""

    name: str
    bits: int
    min: int | None = None
    max: int | None = None

    @property
    def lowest(self) -> int:
        """The least value SageMaker takes: its minimum, within what its type holds."""
        least: int = -(2 ** (self.bits - 1))
        return least if self.min is None else max(self.min, least)

    @property
    def highest(self) -> int:
        """The greatest value SageMaker takes: its maximum, within what its type holds."""
        greatest: int = 2 ** (self.bits - 1) - 1
        return greatest if self.max is None else min(self.max, greatest)


@dataclass(frozen=True, slots=True)
class BoolShape:
    """A boolean."""

    name: str


@dataclass(frozen=True, slots=True)
class ListShape:
    """A list with bounds on its length."""

    name: str
    member: Shape
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class MapShape:
    """A map with bounds on its size and shapes for its keys and values."""

    name: str
    key: StringShape
    value: Shape
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A field of a structure: its CRD name, the API's name for it, its shape."""

    name: str
    api_name: str
    shape: Shape


@dataclass(frozen=True, slots=True)
class StructShape:
    """A structure: its fields by CRD name and which ones SageMaker requires."""

    name: str
    members: dict[str, Member]
    required: tuple[str, ...]


Shape: TypeAlias = StringShape | IntShape | BoolShape | ListShape | MapShape | StructShape


@dataclass(frozen=True, slots=True)
class Constraints:
    """The compiled constraints of ``CreateTrainingJobRequest``, rooted at ``spec``."""

    root: StructShape
    botocore: str
    api_version: str

    @property
    def source(self) -> str:
        """Where the constraints come from, for messages."""
        return f"SageMaker API {self.api_version} model in botocore {self.botocore}"


def compile_pattern(pattern: str) -> Matcher:
    r"""Compile a service-model (Java) pattern for full matching, with Java's meaning.

    The pattern is translated first (:func:`webhook.constraints.patterns.translate`:
    ``\d`` is ASCII, ``.`` stops at every Java line terminator). ``re`` handles
    most patterns and is the faster engine; the few that use Unicode property
    classes such as ``\p{L}`` (tag keys and values) go to the ``regex`` package,
    which knows them.
    """
    translation = translate(pattern)
    if translation.unicode_properties:
        return regex.compile(translation.python)  # type: ignore[no-any-return]
    return re.compile(translation.python)


class _Builder:
    def __init__(self, shapes: dict[str, Any]) -> None:
        self.data = shapes
        self.built: dict[str, Shape] = {}

    def shape(self, name: str) -> Shape:
        if name not in self.built:
            self.built[name] = self._build(name, self.data[name])
        return self.built[name]

    def string(self, name: str) -> StringShape:
        built = self.shape(name)
        if not isinstance(built, StringShape):
            raise TypeError(f"shape {name} is not a string")
        return built

    def _build(self, name: str, data: dict[str, Any]) -> Shape:
        kind = data["type"]
        low, high = data.get("min"), data.get("max")
        if kind == "string":
            pattern = data.get("pattern")
            enum = tuple(data.get("enum", ()))
            return StringShape(
                name,
                low,
                high,
                pattern,
                compile_pattern(pattern) if pattern else None,
                enum,
                frozenset(enum),
                bool(data.get("instanceTypes")),
            )
        if kind in ("int32", "int64"):
            return IntShape(name, 32 if kind == "int32" else 64, low, high)
        if kind == "boolean":
            return BoolShape(name)
        if kind == "list":
            return ListShape(name, self.shape(data["member"]), low, high)
        if kind == "map":
            return MapShape(name, self.string(data["key"]), self.shape(data["value"]), low, high)
        if kind == "structure":
            members = {
                field: Member(field, ref["api"], self.shape(ref["shape"]))
                for field, ref in data["members"].items()
            }
            return StructShape(name, members, tuple(data["required"]))
        raise ValueError(f"shape {name}: unknown type {kind!r}")


def build(document: dict[str, Any]) -> Constraints:
    """Compile a parsed data file."""
    builder = _Builder(document["shapes"])
    root = builder.shape(document["root"])
    if not isinstance(root, StructShape):
        raise TypeError("the root shape must be a structure")
    source = document["source"]
    return Constraints(root, source["botocore"], source["apiVersion"])


@functools.cache
def load() -> Constraints:
    """Return the constraints shipped with the package (loaded once)."""
    text = importlib.resources.files(__package__).joinpath(DATA_FILE).read_text("utf-8")
    return build(json.loads(text))
