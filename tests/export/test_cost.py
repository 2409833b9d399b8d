"""The cost estimate follows cel-go's units, and is never below the real cost at the bounds."""

from __future__ import annotations

import pytest

from webhook.export.cost import PER_CALL_LIMIT, CostError, Environment
from webhook.export.shapes import environment
from webhook.export.syntax import CelSyntaxError
from webhook.export.values import BOOL, UNBOUNDED, listing, record, text

ENV = Environment(
    {
        "object": record(
            {"spec": record({"tags": listing(record({"key": text(), "value": text()}))})}
        ),
        "variables": record({"fits": BOOL}),
    },
    {"fits": "size(object.spec.tags) <= 50 && object.spec.tags.all(x0, size(x0.key) <= 128)"},
)


@pytest.mark.parametrize(
    ("expression", "cost"),
    [
        ("true", 0),
        ("object.spec", 2),
        ("has(object.spec.tags)", 3),
        ("size(object.spec.tags) <= 50", 5),
        ("'abc'.matches('^a')", 1 * 1),  # ceil(0.1 * 4) * ceil(0.25 * 2)
        ("'abcdefghij'.startsWith('abc')", 1),
        ("'a' in ['a', 'b', 'c']", 10 + 3),
        ("[1, 2].all(x, x > 0)", 10 + 1 + 2 * (3 + 2)),
        ("[1, 2].exists(x, x > 0)", 10 + 1 + 2 * (4 + 2)),
    ],
)
def test_units_are_cel_gos(expression: str, cost: int) -> None:
    assert ENV.estimate(expression)[0] == cost


def test_an_unguarded_regex_on_the_object_is_over_the_limit() -> None:
    cost, _ = ENV.estimate("object.spec.tags.all(t, t.key.matches('^[a-z]+$'))")
    assert cost > PER_CALL_LIMIT


def test_a_size_guard_bounds_the_iteration_and_the_match() -> None:
    guarded = (
        "size(object.spec.tags) <= 50 && "
        "object.spec.tags.all(t, size(t.key) <= 128 && t.key.matches('^[a-z]+$'))"
    )
    cost, _ = ENV.estimate(guarded)
    # 50 items, each: the guard, then ceil(0.1 * 129) * ceil(0.25 * 8) for the match
    assert 50 * (13 * 2) < cost < 50 * (13 * 2 + 20)


def test_a_bound_the_policy_variable_establishes_holds_where_it_is_true() -> None:
    behind = "!variables.fits || object.spec.tags.all(t, t.key.matches('^[a-z]+$'))"
    cost, _ = ENV.estimate(behind)
    assert cost < 5_000


def test_the_guard_must_hold_on_the_right_side() -> None:
    # size(...) > 50 || ... establishes the bound for the right side; && does not.
    assert ENV.estimate("size(object.spec.tags) > 50 || object.spec.tags.all(t, true)")[0] < 500
    assert ENV.estimate("size(object.spec.tags) > 50 && object.spec.tags.all(t, true)")[0] > (
        UNBOUNDED
    )


def test_only_the_standard_library_is_accepted() -> None:
    with pytest.raises(CostError, match=r"lowerAscii\(\) is not in CEL's standard library"):
        ENV.estimate("'A'.lowerAscii() == 'a'")
    with pytest.raises(CelSyntaxError):
        ENV.estimate("object.spec.(")


def test_the_api_server_guarantees_namespace_and_name_lengths() -> None:
    env = environment()
    cost, _ = env.estimate("object.metadata.name.matches('^[a-z]+$')")
    assert cost == 3 + 26 * 2  # ceil(0.1 * 254) * ceil(0.25 * 8)
