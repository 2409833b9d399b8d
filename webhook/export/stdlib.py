"""CEL's standard library as the cost estimate sees it: what a call costs, and returns.

The units are cel-go's (``checker/cost.go`` and ``interpreter/runtimecost.go``):
most functions cost 1 on top of their arguments, and the functions that walk
their arguments cost by size: string comparison and equality ``0.1`` per
character of the shorter side, ``startsWith``/``endsWith`` ``0.1`` per
character of the prefix, ``contains`` the product of both, ``in`` on a list
one per item, string concatenation ``0.1`` per character of the result, and
``matches`` ``ceil(0.1 * (1 + length)) * ceil(0.25 * regex length)``
(:func:`call_cost`). A list literal costs :data:`LIST_CREATE` and a map
literal :data:`MAP_CREATE` on top of their items.
"""

from __future__ import annotations

import math
from typing import Final

from webhook.export.values import BOOL, DOUBLE, DYN, INT, UNBOUNDED, Shape, listing, text, union

_STRING_FACTOR: Final = 0.1
_REGEX_FACTOR: Final = 0.25
LIST_CREATE: Final = 10
"""What a list literal costs on top of its items."""
MAP_CREATE: Final = 30
"""What a map literal costs on top of its entries."""

#: The functions of CEL's standard library (and the operators, by their CEL names).
STANDARD: Final = frozenset(
    {
        "size",
        "matches",
        "startsWith",
        "endsWith",
        "contains",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "dyn",
        "type",
        "duration",
        "timestamp",
        "getFullYear",
        "getMonth",
        "getDayOfYear",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
        "!_",
        "-_",
        "_+_",
        "_-_",
        "_*_",
        "_/_",
        "_%_",
        "_<_",
        "_<=_",
        "_>_",
        "_>=_",
        "_==_",
        "_!=_",
        "@in",
        "_[_]",
        "_&&_",
        "_||_",
        "_?_:_",
    }
)


def _ceil(units: float) -> int:
    return math.ceil(units)


def _size(shape: Shape | None) -> int:
    return UNBOUNDED if shape is None else shape.size


def call_cost(name: str, target: Shape | None, args: list[Shape]) -> tuple[int, Shape]:
    """The cost of a call itself (its arguments aside) and the shape of its result."""
    if name == "size":
        return 1, INT
    if name == "matches":
        string, regex = (target, args[0]) if target is not None else (args[0], args[1])
        cost = _ceil((1 + _size(string)) * _STRING_FACTOR) * _ceil(_size(regex) * _REGEX_FACTOR)
        return cost, BOOL
    if name in ("startsWith", "endsWith"):
        return _ceil(_size(args[-1]) * _STRING_FACTOR), BOOL
    if name == "contains":
        subject = target if target is not None else args[0]
        return _ceil(_size(subject) * _STRING_FACTOR) * _ceil(
            _size(args[-1]) * _STRING_FACTOR
        ), BOOL
    if name == "@in":
        container = args[1]
        if container.kind == "map":
            return 1, BOOL
        return max(container.size, 1), BOOL
    if name in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_"):
        left, right = args
        if name in ("_==_", "_!=_") or "string" in (left.kind, right.kind):
            smallest = min(left.size, right.size) if left.sized and right.sized else 1
            return max(_ceil(smallest * _STRING_FACTOR), 1), BOOL
        return 1, BOOL
    if name == "_+_":
        left, right = args
        if left.kind == "string" or right.kind == "string":
            total = left.size + right.size
            return _ceil(total * _STRING_FACTOR), text(total)
        if left.kind == "list" and right.kind == "list":
            item = union(left.item or DYN, right.item or DYN)
            return 1, listing(item, left.size + right.size)
        if left.kind == "dyn" or right.kind == "dyn":
            return _ceil((left.size + right.size) * _STRING_FACTOR), DYN
        return 1, DOUBLE if "double" in (left.kind, right.kind) else INT
    if name == "_[_]":
        container = args[0]
        return 1, (container.item or DYN) if container.kind in ("list", "map") else DYN
    if name == "string":
        source = args[0] if args else DYN
        return 1, text(source.size if source.kind in ("string", "bytes", "dyn") else 32)
    if name == "dyn":
        return 1, args[0]
    if name in ("!_", "bool"):
        return 1, BOOL
    if name in ("int", "uint", "-_", "_-_", "_*_", "_/_", "_%_") or name.startswith("get"):
        return 1, INT
    if name == "double":
        return 1, DOUBLE
    return 1, DYN
