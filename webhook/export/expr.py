"""The tree of a CEL expression, as :func:`webhook.export.syntax.parse` reads it.

One node type per construct of the language: constants, names, field
selections (and ``has()``), calls (operators under CEL's own names), list and
map literals, and the macros as :class:`Comprehension` nodes, as the CEL parser
expands them. :func:`free_references` finds where a variable is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: its CEL kind and value."""

    kind: str
    """``int``, ``uint``, ``double``, ``string``, ``bytes``, ``bool`` or ``null``."""
    value: object


@dataclass(frozen=True, slots=True)
class Ident:
    """A name (a variable or an iteration variable), with its offset in the source."""

    name: str
    offset: int = -1


@dataclass(frozen=True, slots=True)
class Select:
    """``operand.field``; ``has(operand.field)`` when *test*."""

    operand: Expr
    field: str
    test: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """A function or operator call; operators use CEL's names (``_&&_``, ``_[_]``, ``@in``)."""

    function: str
    args: tuple[Expr, ...]
    target: Expr | None = None


@dataclass(frozen=True, slots=True)
class ListLit:
    """``[a, b]``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    """``{k: v}``."""

    entries: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class Comprehension:
    """A macro over a list or map: ``range.macro(var, args...)``."""

    macro: str
    range: Expr
    var: str
    args: tuple[Expr, ...] = field(default=())


Expr = Literal | Ident | Select | Call | ListLit | MapLit | Comprehension


def free_references(expr: Expr, name: str) -> list[int]:
    """Offsets of the references to the variable *name* not bound by a macro inside *expr*."""
    found: list[int] = []
    _references(expr, name, found)
    return sorted(found)


def _references(expr: Expr, name: str, found: list[int]) -> None:
    if isinstance(expr, Ident):
        if expr.name == name:
            found.append(expr.offset)
    elif isinstance(expr, Select):
        _references(expr.operand, name, found)
    elif isinstance(expr, Call):
        if expr.target is not None:
            _references(expr.target, name, found)
        for arg in expr.args:
            _references(arg, name, found)
    elif isinstance(expr, ListLit):
        for item in expr.items:
            _references(item, name, found)
    elif isinstance(expr, MapLit):
        for key, value in expr.entries:
            _references(key, name, found)
            _references(value, name, found)
    elif isinstance(expr, Comprehension):
        _references(expr.range, name, found)
        if expr.var != name:
            for arg in expr.args:
                _references(arg, name, found)
