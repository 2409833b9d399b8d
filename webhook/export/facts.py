"""Size facts: the bounds a guard establishes where it holds, for the cost estimate.

The exporter guards every walk and every regex with the sizes it reads
(``size(x) <= 50 && x.all(...)``); under such a guard the estimate takes the
bound the guard gives instead of the largest request. A fact is the most
characters, items or entries the value at a path has (a :data:`Key`: the path
from a variable), found by :func:`facts` for an expression known true or false,
and kept in the :class:`Scope` the rest is estimated in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from webhook.export.expr import Call, Comprehension, Expr, Ident, Literal, Select
from webhook.export.values import DYN, Shape

Key = tuple[object, ...]
"""A value's path from a variable: ``("object", "spec", "tags", "@items", "key")``."""

_ABSENT: Final = -1
"""A fact that a path is absent: every bound below it holds vacuously (reading it fails)."""


@dataclass(slots=True)
class Scope:
    """What holds where an expression is evaluated: variables and size bounds."""

    names: Mapping[str, tuple[object, Shape]]
    """A name in scope: its identity (for facts) and its shape."""
    facts: dict[Key, int] = field(default_factory=dict)
    """Size bounds established by guards, by path."""
    expansions: Mapping[Key, Mapping[Key, int]] = field(default_factory=dict)
    """What the policy's variables say when true (their facts), by path (``variables.fits``)."""
    memo: dict[tuple[int, bool, int], tuple[dict[Key, int], object]] = field(default_factory=dict)
    """Facts already found, by expression, truth and names (one estimate's)."""

    def with_facts(self, found: Mapping[Key, int]) -> Scope:
        """This scope, with the bounds of *found* as well (the tighter where both have one)."""
        concrete = {key: bound for key, bound in found.items() if bound != _ABSENT}
        if not concrete:
            return self
        merged = dict(self.facts)
        for key, bound in concrete.items():
            merged[key] = min(bound, merged.get(key, bound))
        return Scope(self.names, merged, self.expansions, self.memo)

    def bind(self, name: str, identity: object, shape: Shape) -> Scope:
        """This scope, with *name* bound to a value of *shape* (an iteration variable)."""
        names = {**self.names, name: (identity, shape)}
        return Scope(names, self.facts, self.expansions, self.memo)


def key_of(expr: Expr, scope: Scope) -> Key | None:
    """What identifies the value of *expr* for a size fact: its path from a variable.

    Paths are structural, as cel-go's are: an item of a list (an iteration variable
    over it, or an index) is ``@items`` of the list, a map's key ``@keys`` and its
    value ``@values``; so a bound that holds for every item (``l.all(x, size(x.k)
    <= 5)``) holds wherever an item is read.
    """
    if isinstance(expr, Ident):
        entry = scope.names.get(expr.name)
        return None if entry is None else _identity(entry[0])
    if isinstance(expr, Select) and not expr.test:
        base = key_of(expr.operand, scope)
        return None if base is None else (*base, expr.field)
    if isinstance(expr, Call) and expr.function == "_[_]":
        base = key_of(expr.args[0], scope)
        if base is None:
            return None
        index = expr.args[1]
        if isinstance(index, Literal) and isinstance(index.value, str):
            return (*base, index.value)
        if isinstance(index, Literal) and index.kind == "int":
            return (*base, "@items")
        inner = key_of(index, scope)
        if inner is not None and inner[-1:] == ("@keys",) and inner[:-1] == base:
            return (*base, "@values")
        return (*base, "@items") if inner is not None else None
    return None


def _identity(identity: object) -> Key:
    return identity if isinstance(identity, tuple) else (identity,)


def facts(expr: Expr, scope: Scope, *, truth: bool) -> dict[Key, int]:
    """The size bounds that hold where *expr* evaluated to *truth* (memoized per scope)."""
    memo = scope.memo
    key = (id(expr), truth, id(scope.names))
    entry = memo.get(key)
    if entry is None:
        # The names are kept with the entry, so their id is not reused while it lives.
        entry = (_facts(expr, scope, truth=truth), scope.names)
        memo[key] = entry
    return dict(entry[0])


def _facts(expr: Expr, scope: Scope, *, truth: bool) -> dict[Key, int]:
    """The size bounds that hold where *expr* evaluated to *truth*, without the memo.

    ``a && b`` true (``a || b`` false): both sides' facts; ``a || b`` true (``a && b``
    false): what holds in either case, a path ``!has()`` says is absent holding every
    bound below it; ``l.all(x, p)`` true: ``p``'s facts about every item; a variable of
    the policy (``variables.fits``): its expression's facts.
    """
    if isinstance(expr, Call):
        name = expr.function
        if name == "!_":
            return facts(expr.args[0], scope, truth=not truth)
        if (name == "_&&_" and truth) or (name == "_||_" and not truth):
            return _both(
                facts(expr.args[0], scope, truth=truth), facts(expr.args[1], scope, truth=truth)
            )
        if (name == "_||_" and truth) or (name == "_&&_" and not truth):
            left = facts(expr.args[0], scope, truth=truth)
            right = facts(expr.args[1], scope, truth=truth)
            return _either(left, right)
        if name in ("_<_", "_<=_", "_>_", "_>=_", "_==_"):
            return _bound(expr, scope, truth)
        return {}
    if isinstance(expr, Select) and expr.test and not truth:
        key = key_of(expr.operand, scope)
        return {} if key is None else {(*key, expr.field): _ABSENT}
    if isinstance(expr, Select) and not expr.test and truth:
        key = key_of(expr, scope)
        if key is not None and key in scope.expansions:
            return dict(scope.expansions[key])
        return {}
    if isinstance(expr, Comprehension) and expr.macro == "all" and truth and expr.args:
        range_key = key_of(expr.range, scope)
        if range_key is None:
            return {}
        item = (*range_key, "@items")
        inner = scope.bind(expr.var, item, DYN)
        return facts(expr.args[0], inner, truth=True)
    return {}


def _both(left: Mapping[Key, int], right: Mapping[Key, int]) -> dict[Key, int]:
    merged = dict(left)
    for key, bound in right.items():
        if key in merged and bound != _ABSENT and merged[key] != _ABSENT:
            merged[key] = min(bound, merged[key])
        elif key not in merged or bound == _ABSENT:
            merged[key] = bound
    return merged


def _covered(found: Mapping[Key, int], key: Key) -> int | None:
    """The bound *found* gives *key*: its own, or vacuous under an absent path (-1)."""
    if key in found:
        return found[key]
    for length in range(len(key) - 1, 0, -1):
        if found.get(key[:length]) == _ABSENT:
            return _ABSENT
    return None


def _either(left: Mapping[Key, int], right: Mapping[Key, int]) -> dict[Key, int]:
    out: dict[Key, int] = {}
    for key in set(left) | set(right):
        a, b = _covered(left, key), _covered(right, key)
        if a is None or b is None:
            continue
        if a == _ABSENT:
            out[key] = b
        elif b == _ABSENT:
            out[key] = a
        else:
            out[key] = max(a, b)
    return out


_FLIP: Final = {"_<_": "_>_", "_<=_": "_>=_", "_>_": "_<_", "_>=_": "_<=_", "_==_": "_==_"}
_NEGATE: Final = {"_<_": "_>=_", "_<=_": "_>_", "_>_": "_<=_", "_>=_": "_<_"}


def _bound(expr: Call, scope: Scope, truth: bool) -> dict[Key, int]:
    left, right = expr.args
    name = expr.function
    if _sized(left) is None:
        left, right, name = right, left, _FLIP[name]
    measured = _sized(left)
    if measured is None or not isinstance(right, Literal) or right.kind != "int":
        return {}
    if not truth:
        if name not in _NEGATE:
            return {}
        name = _NEGATE[name]
    assert isinstance(right.value, int)
    limit = {"_<_": right.value - 1, "_<=_": right.value, "_==_": right.value}.get(name)
    key = key_of(measured, scope)
    if limit is None or key is None:
        return {}
    return {key: max(limit, 0)}


def _sized(expr: Expr) -> Expr | None:
    """The operand of ``size(x)`` / ``x.size()``, else None."""
    if isinstance(expr, Call) and expr.function == "size":
        if expr.target is not None and not expr.args:
            return expr.target
        if expr.target is None and len(expr.args) == 1:
            return expr.args[0]
    return None
