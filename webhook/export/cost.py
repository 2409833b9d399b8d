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
by size (:mod:`webhook.export.stdlib`). A macro (``all``, ``exists``,
``exists_one``, ``map``, ``filter``) costs its expansion's loop step and
condition once per item of what it iterates.

The estimate takes the worst case with every size at its bound: a bound the
expression itself establishes before it iterates or matches (``size(x) <= 50
&& x.all(...)``: the guards the exporter writes), else what the API server
guarantees before admission (a namespace name has at most 63 characters,
an object name 253, a label value 63), else the largest request the API server
accepts (:data:`~webhook.export.values.UNBOUNDED`). Types come from the
TrainingJob CRD's schema (the typed model), so an integer compared with an
integer costs 1. The estimate is never below the cost the API server measures
when the bounds hold, which is all the exporter's guards need. What the estimate
knows of a value is its :class:`~webhook.export.values.Shape`; what a guard
establishes, its facts (:mod:`webhook.export.facts`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from webhook.export.expr import Call, Comprehension, Expr, Ident, ListLit, Literal, MapLit, Select
from webhook.export.facts import Key, Scope, facts, key_of
from webhook.export.stdlib import LIST_CREATE, MAP_CREATE, STANDARD, call_cost
from webhook.export.syntax import parse
from webhook.export.values import (
    BOOL,
    DOUBLE,
    DYN,
    INT,
    NULL,
    UNBOUNDED,
    Shape,
    listing,
    record,
    text,
    union,
    union_all,
)

PER_CALL_LIMIT: Final = 1_000_000
"""``celconfig.PerCallLimit``: the most one CEL expression may cost."""
RUNTIME_BUDGET: Final = 10_000_000
"""``celconfig.RuntimeCELCostBudget``: the most one evaluation of a policy may cost."""


class CostError(ValueError):
    """The expression cannot be estimated (a function outside the standard library...)."""


class _Estimator:
    def __init__(self) -> None:
        self.bindings = 0

    def _narrow(self, expr: Expr, scope: Scope, shape: Shape) -> Shape:
        key = key_of(expr, scope)
        if key is not None and key in scope.facts and shape.sized:
            return replace(shape, size=min(shape.size, scope.facts[key]))
        return shape

    def cost_and_shape(self, expr: Expr, scope: Scope) -> tuple[int, Shape]:
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
            item = union_all([s for _, s in costs]) if costs else DYN
            return LIST_CREATE + sum(c for c, _ in costs), listing(item, len(costs))
        if isinstance(expr, MapLit):
            total = MAP_CREATE
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

    def _call(self, expr: Call, scope: Scope) -> tuple[int, Shape]:
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
            return cond_cost + max(then_cost, else_cost), union(then_shape, else_shape)
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
        own, result = call_cost(name, target, shapes)
        return total + own, self._narrow(expr, scope, result)

    def _comprehension(self, expr: Comprehension, scope: Scope) -> tuple[int, Shape]:
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
        range_key = key_of(expr.range, scope)
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
        scope = Scope(names, expansions=expansions)
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
    scope = Scope({name: ((name,), DYN) for name in names})
    return facts(_parsed(source), scope, truth=True)
