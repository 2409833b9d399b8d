"""What the cost estimate knows of a value: its kind and the bound of its size.

A :class:`Shape` is all :mod:`webhook.export.cost` needs of a value to price
what reads it: a string, list or map is as costly as it is long, so its shape
carries the most characters, items or entries it can have (:data:`UNBOUNDED`
when nothing bounds it but the request's size). The constructors here
(:func:`text`, :func:`listing`, :func:`mapping`, :func:`record`) describe the
variables an expression reads (:mod:`webhook.export.shapes`), and
:func:`shape_of` the exact shape of a policy's ``params``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

UNBOUNDED: Final = 3_145_728
"""``celconfig.MaxRequestSizeBytes``: no string or list of a request is longer."""


@dataclass(frozen=True, slots=True)
class Shape:
    """What the estimate knows of a value: its kind and the bound of its size."""

    kind: str
    """``string``, ``bytes``, ``list``, ``map``, ``int``, ``double``, ``bool``, ``null``,
    ``dyn`` (anything)."""
    size: int = 1
    """The most characters, bytes, items or entries it has (1 for a scalar)."""
    item: Shape | None = None
    """A list's items, a map's values."""
    key: Shape | None = None
    """A map's keys."""
    fields: Mapping[str, Shape] | None = None
    """A map with known keys (an object of the schema): the shape of each."""

    @property
    def sized(self) -> bool:
        """True when its size is what cost depends on."""
        return self.kind in ("string", "bytes", "list", "map", "dyn")


DYN: Final = Shape("dyn", UNBOUNDED)
INT: Final = Shape("int")
DOUBLE: Final = Shape("double")
BOOL: Final = Shape("bool")
NULL: Final = Shape("null")


def text(size: int = UNBOUNDED) -> Shape:
    """A string of at most *size* characters."""
    return Shape("string", size)


def listing(item: Shape, size: int = UNBOUNDED) -> Shape:
    """A list of at most *size* items."""
    return Shape("list", size, item=item)


def mapping(value: Shape, key: Shape | None = None, size: int = UNBOUNDED) -> Shape:
    """A map of at most *size* entries."""
    return Shape("map", size, item=value, key=key or text())


def record(fields: Mapping[str, Shape], rest: Shape | None = None) -> Shape:
    """An object with known fields (*rest*: the shape of any other key's value)."""
    size = len(fields) if rest is None else UNBOUNDED
    return Shape("map", size, item=rest or DYN, key=text(), fields=dict(fields))


def shape_of(value: Any) -> Shape:
    """The exact shape of a JSON-like value (a policy's ``params``)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return text(len(value))
    if isinstance(value, Mapping):
        return record({str(k): shape_of(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        items = [shape_of(item) for item in value]
        return listing(union_all(items) if items else DYN, len(items))
    return DYN


def union(a: Shape, b: Shape) -> Shape:
    """A shape that covers both *a* and *b* (the larger bound of each size)."""
    if a == b:
        return a
    if a.kind != b.kind:
        if {a.kind, b.kind} == {"int", "double"}:
            return DOUBLE
        if NULL in (a, b):
            return b if a == NULL else a
        return Shape("dyn", max(a.size, b.size, UNBOUNDED if "dyn" in (a.kind, b.kind) else 1))
    item = union(a.item, b.item) if a.item and b.item else (a.item or b.item)
    key = union(a.key, b.key) if a.key and b.key else (a.key or b.key)
    fields = None
    if a.fields is not None and b.fields is not None:
        names = set(a.fields) | set(b.fields)
        fields = {n: union(a.fields.get(n, NULL), b.fields.get(n, NULL)) for n in names}
    return Shape(a.kind, max(a.size, b.size), item, key, fields)


def union_all(shapes: list[Shape]) -> Shape:
    """A shape that covers every one of *shapes* (at least one)."""
    result = shapes[0]
    for shape in shapes[1:]:
        result = union(result, shape)
    return result
