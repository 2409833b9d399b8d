"""Where a value is in the TrainingJob, as CEL that reaches it safely.

A check is written for one value (``v.matches(...)``); :class:`Walker` wraps it
so that it runs for every value at a field pattern of the spec (lists
expanded: ``("inputDataConfig", ITEMS, "dataSource", ...)``) and holds where the
value is absent. Every step is guarded the way the API server's cost budget
needs: ``has()`` before a field is read, and ``size(list) > max ||`` before a
list or map is iterated, with SageMaker's bound for it. A list over its bound
is not looked into, as the webhook's size gate does not look into it either
(and such a job is denied by the gate's own validation).
"""

from __future__ import annotations

from collections.abc import Callable

from webhook.constraints.bounds import ENTRIES
from webhook.constraints.schema import Constraints, ListShape, Shape, StructShape
from webhook.export import text
from webhook.model.concepts import ITEMS

Check = Callable[[str], str]
"""A test of one value, given the CEL expression of the value."""


class Walker:
    """CEL that applies a check at a field pattern of the spec."""

    def __init__(self, constraints: Constraints) -> None:
        self.root = constraints.root

    def at(self, pattern: tuple[str, ...], check: Check, *, base: str = "object") -> str:
        """*check* on every value at *pattern* under ``<base>.spec``; true where there is none."""
        inner = self._walk(f"{base}.spec", self.root, pattern, check, 0)
        return text.implies(f"has({base}.spec)", inner)

    def shape(self, pattern: tuple[str, ...]) -> Shape:
        """The constraint shape at *pattern* (items for :data:`ITEMS`)."""
        shape: Shape = self.root
        for step in pattern:
            if step == ITEMS:
                assert isinstance(shape, ListShape)
                shape = shape.member
            else:
                assert isinstance(shape, StructShape), pattern
                shape = shape.members[step].shape
        return shape

    def _walk(
        self, expr: str, shape: Shape, pattern: tuple[str, ...], check: Check, depth: int
    ) -> str:
        if not pattern:
            return check(expr)
        step, rest = pattern[0], pattern[1:]
        if step == ITEMS:
            assert isinstance(shape, ListShape)
            return each(
                expr,
                shape.max,
                depth,
                lambda item: self._walk(item, shape.member, rest, check, depth + 1),
            )
        assert isinstance(shape, StructShape), (expr, pattern)
        member = f"{expr}.{step}"
        inner = self._walk(member, shape.members[step].shape, rest, check, depth)
        return text.implies(f"has({member})", inner)


def variable(depth: int) -> str:
    """The name of the iteration variable at *depth* (never a name VAP gives a variable)."""
    return f"x{depth}"


def each(expr: str, bound: int | None, depth: int, body: Callable[[str], str]) -> str:
    """*body* for every item of the list *expr*, unless it has more than *bound* items."""
    name = variable(depth)
    inner = body(name)
    if inner == text.TRUE:
        return text.TRUE
    limit = ENTRIES if bound is None else bound
    return text.any_of([f"size({expr}) > {limit}", f"{expr}.all({name}, {inner})"])


def each_entry(expr: str, bound: int | None, depth: int, body: Callable[[str, str], str]) -> str:
    """*body(key, value)* for every entry of the map *expr*, unless it has more than *bound*."""
    name = variable(depth)
    inner = body(name, f"{expr}[{name}]")
    if inner == text.TRUE:
        return text.TRUE
    limit = ENTRIES if bound is None else bound
    return text.any_of([f"size({expr}) > {limit}", f"{expr}.all({name}, {inner})"])


def display(pattern: tuple[str, ...]) -> str:
    """The path of a field pattern in the findings' notation, ``[*]`` for any item."""
    out = "spec"
    for step in pattern:
        out += "[*]" if step == ITEMS else f".{step}"
    return out
