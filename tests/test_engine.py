"""The decision function never fails, whatever the object holds."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from webhook.engine import Config, Context, review

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**64,
    1.5,
    True,
    "",
    "ä" * 3000,
    "$X",
    [],
    [None],
    {},
    {"k": None},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(obj)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def test_any_value_anywhere_gives_a_decision(job: dict[str, Any], config: Config) -> None:
    checked = 0
    for path in list(_paths(job)):
        for value in ODD_VALUES:
            obj = _replace(job, path, value)
            if not isinstance(obj, dict):
                continue
            decision = review(obj, config=config)
            for finding in decision.findings:
                assert finding.rule
                assert finding.message
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
def test_delete_and_connect_are_allowed_even_for_garbage(operation: str, config: Config) -> None:
    context = Context(operation=operation)  # type: ignore[arg-type]
    assert review({"spec": "garbage"}, context=context, config=config).allowed


def test_an_empty_object_is_denied_with_what_is_missing(config: Config) -> None:
    decision = review({}, config=config)
    assert not decision.allowed
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("crd.required", "apiVersion"),
        ("crd.required", "kind"),
        ("crd.required", "metadata"),
        ("crd.required", "spec"),
    ]


def test_long_values_are_shown_by_their_start_and_end() -> None:
    from webhook.text import show

    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml/" + "x" * 80 + ":latest"
    shown = show(image)
    assert shown.startswith('"123456789012.dkr.ecr.us-east-1')
    assert shown.endswith(f':latest" ({len(image)} chars)')
    assert len(shown) < 120
    assert show("short") == '"short"'


def test_the_fast_path_reports_exactly_what_the_typed_model_does(job: dict[str, Any]) -> None:
    """check_object skips the typed model when the walk finds nothing it would reject;
    over every odd value at every path, the findings equal those of always parsing."""
    from webhook.constraints.check import default_checker
    from webhook.engine import check_object

    checker = default_checker()
    compared = 0
    objects = [
        job,
        {"apiVersion": "v1"},
        {**job, "status": {"conditions": "x"}},
        {**job, "extra": 1},
    ]
    for path in list(_paths(job)):
        for value in ODD_VALUES:
            obj = _replace(job, path, value)
            if isinstance(obj, dict):
                objects.append(obj)
    for obj in objects:
        assert check_object(obj, checker) == check_object(obj, checker, full=True), obj
        compared += 1
    assert compared > 500
