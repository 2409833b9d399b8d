"""A static, conservative estimate of what a CEL expression costs the API server.

The API server meters every CEL evaluation of a ValidatingAdmissionPolicy
(``k8s.io/apiserver/pkg/apis/cel/config.go``): one expression may cost at most
:data:`PER_CALL_LIMIT` units, and one evaluation of a policy (its variables,
match conditions, validations and messages together) :data:`RUNTIME_BUDGET`.
Past either, the expression fails and ``failurePolicy`` decides.

The units are cel-go's (``checker/cost.go`` and ``interpreter/runtimecost.go``):
a variable, a field selection or ``has()`` costs 1, a constant nothing, a
list literal 10 and a map literal 30 on top of their items, most functions 1
on top of their arguments, and the functions that walk their arguments cost
by size: string comparison and equality ``0.1`` per character of the shorter
side, ``startsWith``/``endsWith`` ``0.1`` per character of the prefix,
``contains`` the product of both, ``in`` on a list one per item, string
concatenation ``0.1`` per character of the result, and ``matches``
``ceil(0.1 * (1 + length)) * ceil(0.25 * regex length)``. A macro
(``all``, ``exists``, ``exists_one``, ``map``, ``filter``) costs its
expansion's loop step and condition once per item of what it iterates.

The estimate takes the worst case with every size at its bound: a bound the
expression itself establishes before it iterates or matches (``size(x) <= 50
&& x.all(...)``: the guards the exporter writes), else what the API server
guarantees before admission (a namespace name has at most 63 characters,
an object name 253, a label value 63), else the largest request the API server
accepts (:data:`UNBOUNDED`). Types come from the TrainingJob CRD's schema (the
typed model), so an integer compared with an integer costs 1. The estimate
is never below the cost the API server measures when the bounds hold, which
is all the exporter's guards need.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from webhook.export.syntax import (
    Call,
    Comprehension,
    Expr,
    Ident,
    ListLit,
    Literal,
    MapLit,
    Select,
    parse,
)

PER_CALL_LIMIT: Final = 1_000_000
"""``celconfig.PerCallLimit``: the most one CEL expression may cost."""
RUNTIME_BUDGET: Final = 10_000_000
"""``celconfig.RuntimeCELCostBudget``: the most one evaluation of a policy may cost."""
UNBOUNDED: Final = 3_145_728
"""``celconfig.MaxRequestSizeBytes``: no string or list of a request is longer."""

_STRING_FACTOR: Final = 0.1
_REGEX_FACTOR: Final = 0.25
_LIST_CREATE: Final = 10
_MAP_CREATE: Final = 30

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


class CostError(ValueError):
    """The expression cannot be estimated (a function outside the standard library...)."""


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
        return listing(_union_all(items) if items else DYN, len(items))
    return DYN


def _union(a: Shape, b: Shape) -> Shape:
    if a == b:
        return a
    if a.kind != b.kind:
        if {a.kind, b.kind} == {"int", "double"}:
            return DOUBLE
        if NULL in (a, b):
            return b if a == NULL else a
        return Shape("dyn", max(a.size, b.size, UNBOUNDED if "dyn" in (a.kind, b.kind) else 1))
    item = _union(a.item, b.item) if a.item and b.item else (a.item or b.item)
    key = _union(a.key, b.key) if a.key and b.key else (a.key or b.key)
    fields = None
    if a.fields is not None and b.fields is not None:
        names = set(a.fields) | set(b.fields)
        fields = {n: _union(a.fields.get(n, NULL), b.fields.get(n, NULL)) for n in names}
    return Shape(a.kind, max(a.size, b.size), item, key, fields)


def _union_all(shapes: list[Shape]) -> Shape:
    result = shapes[0]
    for shape in shapes[1:]:
        result = _union(result, shape)
    return result


def _ceil(units: float) -> int:
    return math.ceil(units)


Key = tuple[object, ...]


@dataclass(slots=True)
class _Scope:
    """What holds where an expression is evaluated: variables and size bounds."""

    names: Mapping[str, tuple[object, Shape]]
    """A name in scope: its identity (for facts) and its shape."""
    facts: dict[Key, int] = field(default_factory=dict)
    """Size bounds established by guards, by path."""
    expansions: Mapping[Key, Mapping[Key, int]] = field(default_factory=dict)
    """What the policy's variables say when true (their facts), by path (``variables.fits``)."""
    memo: dict[tuple[int, bool, int], tuple[dict[Key, int], object]] = field(default_factory=dict)
    """Facts already found, by expression, truth and names (one estimate's)."""

    def with_facts(self, found: Mapping[Key, int]) -> _Scope:
        concrete = {key: bound for key, bound in found.items() if bound != _ABSENT}
        if not concrete:
            return self
        merged = dict(self.facts)
        for key, bound in concrete.items():
            merged[key] = min(bound, merged.get(key, bound))
        return _Scope(self.names, merged, self.expansions, self.memo)

    def bind(self, name: str, identity: object, shape: Shape) -> _Scope:
        names = {**self.names, name: (identity, shape)}
        return _Scope(names, self.facts, self.expansions, self.memo)


class _Estimator:
    def __init__(self) -> None:
        self.bindings = 0

    def _narrow(self, expr: Expr, scope: _Scope, shape: Shape) -> Shape:
        key = _key(expr, scope)
        if key is not None and key in scope.facts and shape.sized:
            return replace(shape, size=min(shape.size, scope.facts[key]))
        return shape

    def cost_and_shape(self, expr: Expr, scope: _Scope) -> tuple[int, Shape]:
        """The cost of *expr* and the shape of its value."""
        if isinstance(expr, Literal):
            return 0, _literal_shape(expr)
        if isinstance(expr, Ident):
            if expr.name not in scope.names:
                raise CostError(f"unknown variable {expr.name!r}")
            return 1, self._narrow(expr, scope, scope.names[expr.name][1])
        if isinstance(expr, Select):
            cost, operand = self.cost_and_shape(expr.operand, scope)
            if expr.test:
                return cost + 1, BOOL
            return cost + 1, self._narrow(expr, scope, _field(operand, expr.field))
        if isinstance(expr, ListLit):
            costs = [self.cost_and_shape(item, scope) for item in expr.items]
            item = _union_all([s for _, s in costs]) if costs else DYN
            return _LIST_CREATE + sum(c for c, _ in costs), listing(item, len(costs))
        if isinstance(expr, MapLit):
            total = _MAP_CREATE
            fields: dict[str, Shape] = {}
            for key, value in expr.entries:
                key_cost, _ = self.cost_and_shape(key, scope)
                value_cost, value_shape = self.cost_and_shape(value, scope)
                total += key_cost + value_cost
                if isinstance(key, Literal) and isinstance(key.value, str):
                    fields[key.value] = value_shape
            return total, record(fields)
        if isinstance(expr, Comprehension):
            return self._comprehension(expr, scope)
        return self._call(expr, scope)

    # -- calls ----------------------------------------------------------------------

    def _call(self, expr: Call, scope: _Scope) -> tuple[int, Shape]:
        name = expr.function
        if name not in STANDARD:
            raise CostError(f"{name}() is not in CEL's standard library")
        if name == "_&&_":
            left_cost, _ = self.cost_and_shape(expr.args[0], scope)
            inner = scope.with_facts(facts(expr.args[0], scope, truth=True))
            right_cost, _ = self.cost_and_shape(expr.args[1], inner)
            return left_cost + right_cost, BOOL
        if name == "_||_":
            left_cost, _ = self.cost_and_shape(expr.args[0], scope)
            inner = scope.with_facts(facts(expr.args[0], scope, truth=False))
            right_cost, _ = self.cost_and_shape(expr.args[1], inner)
            return left_cost + right_cost, BOOL
        if name == "_?_:_":
            condition, then, otherwise = expr.args
            cond_cost, _ = self.cost_and_shape(condition, scope)
            then_cost, then_shape = self.cost_and_shape(
                then, scope.with_facts(facts(condition, scope, truth=True))
            )
            else_cost, else_shape = self.cost_and_shape(
                otherwise, scope.with_facts(facts(condition, scope, truth=False))
            )
            return cond_cost + max(then_cost, else_cost), _union(then_shape, else_shape)
        total = 0
        target: Shape | None = None
        if expr.target is not None:
            cost, target = self.cost_and_shape(expr.target, scope)
            total += cost
        shapes: list[Shape] = []
        for arg in expr.args:
            cost, shape = self.cost_and_shape(arg, scope)
            total += cost
            shapes.append(shape)
        own, result = _function(name, target, shapes)
        return total + own, self._narrow(expr, scope, result)

    def _comprehension(self, expr: Comprehension, scope: _Scope) -> tuple[int, Shape]:
        range_cost, source = self.cost_and_shape(expr.range, scope)
        if source.kind == "list":
            count, variable = source.size, source.item or DYN
        elif source.kind == "map":
            count, variable = source.size, source.key or text()
            if source.fields is not None and source.size == len(source.fields):
                variable = text(max((len(name) for name in source.fields), default=0))
        else:
            count, variable = UNBOUNDED, DYN
        self.bindings += 1
        range_key = _key(expr.range, scope)
        if range_key is None:
            identity: object = ("$", self.bindings, expr.var)
        else:
            identity = (*range_key, "@items" if source.kind != "map" else "@keys")
        inner = scope.bind(expr.var, identity, variable)
        bodies = [self.cost_and_shape(arg, inner) for arg in expr.args]
        body = sum(cost for cost, _ in bodies)
        macro = expr.macro
        if macro == "all":
            return range_cost + 1 + count * (3 + body), BOOL
        if macro == "exists":
            return range_cost + 1 + count * (4 + body), BOOL
        if macro == "exists_one":
            return range_cost + 2 + count * (2 + body), BOOL
        if macro == "filter":
            return range_cost + 11 + count * (13 + body), listing(variable, count)
        # map(x, t) and map(x, p, t): the step appends [t] (a list literal) to the result.
        return range_cost + 11 + count * (12 + body), listing(bodies[-1][1], count)


def _literal_shape(expr: Literal) -> Shape:
    if expr.kind == "string":
        assert isinstance(expr.value, str)
        return text(len(expr.value))
    if expr.kind == "bytes":
        assert isinstance(expr.value, bytes)
        return Shape("bytes", len(expr.value))
    return {"int": INT, "uint": INT, "double": DOUBLE, "bool": BOOL}.get(expr.kind, NULL)


def _field(operand: Shape, name: str) -> Shape:
    if operand.fields is not None and name in operand.fields:
        return operand.fields[name]
    if operand.kind == "map":
        return operand.item or DYN
    return DYN


def _size(shape: Shape | None) -> int:
    return UNBOUNDED if shape is None else shape.size


def _function(name: str, target: Shape | None, args: list[Shape]) -> tuple[int, Shape]:
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
            item = _union(left.item or DYN, right.item or DYN)
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


def _key(expr: Expr, scope: _Scope) -> Key | None:
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
        base = _key(expr.operand, scope)
        return None if base is None else (*base, expr.field)
    if isinstance(expr, Call) and expr.function == "_[_]":
        base = _key(expr.args[0], scope)
        if base is None:
            return None
        index = expr.args[1]
        if isinstance(index, Literal) and isinstance(index.value, str):
            return (*base, index.value)
        if isinstance(index, Literal) and index.kind == "int":
            return (*base, "@items")
        inner = _key(index, scope)
        if inner is not None and inner[-1:] == ("@keys",) and inner[:-1] == base:
            return (*base, "@values")
        return (*base, "@items") if inner is not None else None
    return None


def _identity(identity: object) -> Key:
    return identity if isinstance(identity, tuple) else (identity,)


_ABSENT: Final = -1
"""A fact that a path is absent: every bound below it holds vacuously (reading it fails)."""


def facts(expr: Expr, scope: _Scope, *, truth: bool) -> dict[Key, int]:
    """The size bounds that hold where *expr* evaluated to *truth* (memoized per scope)."""
    memo = scope.memo
    key = (id(expr), truth, id(scope.names))
    entry = memo.get(key)
    if entry is None:
        # The names are kept with the entry, so their id is not reused while it lives.
        entry = (_facts(expr, scope, truth=truth), scope.names)
        memo[key] = entry
    return dict(entry[0])


def _facts(expr: Expr, scope: _Scope, *, truth: bool) -> dict[Key, int]:
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
        key = _key(expr.operand, scope)
        return {} if key is None else {(*key, expr.field): _ABSENT}
    if isinstance(expr, Select) and not expr.test and truth:
        key = _key(expr, scope)
        if key is not None and key in scope.expansions:
            return dict(scope.expansions[key])
        return {}
    if isinstance(expr, Comprehension) and expr.macro == "all" and truth and expr.args:
        range_key = _key(expr.range, scope)
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


def _bound(expr: Call, scope: _Scope, truth: bool) -> dict[Key, int]:
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
    key = _key(measured, scope)
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


@dataclass(frozen=True, slots=True)
class Environment:
    """The variables an expression may read, with their shapes."""

    variables: Mapping[str, Shape]
    expansions: Mapping[str, str] = field(default_factory=dict)
    """The source of each of the policy's variables (``variables.<name>``), for facts."""

    def estimate(self, source: str) -> tuple[int, Shape]:
        """The worst-case cost of *source* and the shape of its value.

        Raises:
            CostError: when the expression uses something outside CEL's standard
                library, or a variable the environment does not have.
            webhook.export.syntax.CelSyntaxError: when it is not CEL.
        """
        names: dict[str, tuple[object, Shape]] = {
            name: ((name,), shape) for name, shape in self.variables.items()
        }
        expansions: dict[Key, Mapping[Key, int]] = {
            ("variables", name): _facts_of(text, tuple(sorted(self.variables)))
            for name, text in self.expansions.items()
        }
        scope = _Scope(names, expansions=expansions)
        return _Estimator().cost_and_shape(_parsed(source), scope)

    def with_variable(self, name: str, shape: Shape) -> Environment:
        """This environment with one more variable."""
        return Environment({**self.variables, name: shape}, self.expansions)

    def with_expansions(self, expansions: Mapping[str, str]) -> Environment:
        """This environment, knowing what the policy's variables say (for their facts)."""
        return Environment(self.variables, {**self.expansions, **expansions})


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> Expr:
    return parse(source)


@functools.lru_cache(maxsize=256)
def _facts_of(source: str, names: tuple[str, ...]) -> Mapping[Key, int]:
    """The facts of a variable's expression when true (in the policy's top-level scope)."""
    scope = _Scope({name: ((name,), DYN) for name in names})
    return facts(_parsed(source), scope, truth=True)
