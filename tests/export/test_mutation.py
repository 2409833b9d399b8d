"""JSON Patch nodes rendered as CEL: the ``JSONPatch`` form for the API server and the
map-literal form evaluated offline, from the same nodes."""

from __future__ import annotations

from typing import Any

import pytest
from cel_expr_python import cel

from webhook.export.mutation import (
    Cel,
    Concat,
    Item,
    ListOf,
    MapOf,
    Op,
    When,
    cel_type,
    expression,
    literal,
)

ENV = cel.NewEnv(variables={"object": cel.Type.DYN, "request": cel.Type.DYN})


def _evaluate(source: str, obj: Any = None, namespace: str = "team-a") -> Any:
    value = ENV.compile(source).eval(
        ENV.Activation({"object": obj or {}, "request": {"namespace": namespace}})
    )
    assert value.type() != cel.Type.ERROR, value.value()
    return value.plain_value()


def test_a_map_of_mixed_values_is_written_with_dyn_as_kubernetes_needs() -> None:
    mixed = MapOf((("count", 1), ("name", "x"), ("on", True), ("list", ListOf((Item("a"),)))))
    assert (
        literal(mixed) == '{"count": dyn(1), "name": dyn("x"), "on": dyn(true), "list": dyn(["a"])}'
    )
    assert cel_type(mixed) == "map(string, dyn)"
    same = MapOf((("a", "x"), ("b", Concat(("p-", Cel("request.namespace"))))))
    assert literal(same) == '{"a": "x", "b": ("p-" + request.namespace)}'
    assert cel_type(same) == "map(string, string)"
    assert _evaluate(literal(mixed)) == {"count": 1, "name": "x", "on": True, "list": ["a"]}
    assert _evaluate(literal(same)) == {"a": "x", "b": "p-team-a"}


def test_lists_of_maps_that_differ_in_value_types_are_dyn_too() -> None:
    value = ListOf((Item(MapOf((("a", 1),))), Item(MapOf((("a", "x"),)))))
    assert literal(value) == '[dyn({"a": 1}), dyn({"a": "x"})]'
    assert _evaluate(literal(value)) == [{"a": 1}, {"a": "x"}]


def test_a_conditional_item_is_included_only_where_its_condition_holds() -> None:
    value = ListOf((Item("first"), Item("second", 'request.namespace != "team-a"'), Item("third")))
    source = literal(value)
    assert source == '(["first"] + ((request.namespace != "team-a") ? ["second"] : []) + ["third"])'
    assert _evaluate(source, namespace="team-a") == ["first", "third"]
    assert _evaluate(source, namespace="team-b") == ["first", "second", "third"]


def test_a_string_with_placeholders_is_a_concatenation() -> None:
    assert literal(Concat((Cel("request.namespace"),))) == "request.namespace"
    assert literal(Concat(("", "plain", ""))) == '"plain"'
    assert literal(Concat(())) == '""'
    assert literal('caf\u00e9 "q"') == '"caf\\u00e9 \\"q\\""'


def test_an_integer_past_64_bits_has_no_literal() -> None:
    assert literal(2**63 - 1) == "9223372036854775807"
    with pytest.raises(ValueError, match="beyond a 64-bit integer"):
        literal(2**63)


NODES = (
    When(
        "!has(object.spec.x)",
        (Op("add", "/spec/x", MapOf((("y", 1),))),),
        (When("!has(object.spec.x.y)", (Op("add", "/spec/x/y", 1),)),),
    ),
    Op("add", "/spec/tags/-", MapOf((("key", "k"),))),
)


def test_both_forms_come_from_the_same_nodes_and_differ_only_in_how_an_operation_is_written() -> (
    None
):
    typed = expression(NODES, typed=True)
    offline = expression(NODES, typed=False)
    assert typed == (
        '(!has(object.spec.x) ? [JSONPatch{op: "add", path: "/spec/x", value: {"y": 1}}] : '
        '(!has(object.spec.x.y) ? [JSONPatch{op: "add", path: "/spec/x/y", value: 1}] : [])) + '
        '[JSONPatch{op: "add", path: "/spec/tags/-", value: {"key": "k"}}]'
    )
    assert offline == (
        typed.replace("JSONPatch{op: ", '{"op": ')
        .replace(", path: ", ', "path": ')
        .replace(", value: ", ', "value": ')
    )
    tags = {"path": "/spec/tags/-", "op": "add", "value": {"key": "k"}}
    assert _evaluate(offline, {"spec": {}}) == [
        {"op": "add", "path": "/spec/x", "value": {"y": 1}},
        tags,
    ]
    assert _evaluate(offline, {"spec": {"x": {}}}) == [
        {"op": "add", "path": "/spec/x/y", "value": 1},
        tags,
    ]
    assert _evaluate(offline, {"spec": {"x": {"y": 2}}}) == [tags]


def test_no_operation_is_an_empty_list() -> None:
    assert expression(()) == "[]"
    assert _evaluate(expression((When("true", ()),), typed=False)) == []
