"""A rule kind's schema covers every option of the kind, or the kind has no schema."""

from __future__ import annotations

import typing

from webhook.policy import model
from webhook.policy.rules.registry import KINDS, SCHEMAS, native_schema, options

RULE_TYPES: dict[str, type[model.RuleBase]] = {
    typing.get_args(cls.model_fields["kind"].annotation)[0]: cls
    for cls in typing.get_args(typing.get_args(model.Rule)[0])
}


def test_every_kind_is_registered() -> None:
    assert set(RULE_TYPES) == set(KINDS)


def test_each_schema_declares_exactly_the_options_of_its_kind() -> None:
    """Adding an option to a kind with a schema fails here until the schema covers it."""
    for kind, (_, covered) in SCHEMAS.items():
        assert covered == options(RULE_TYPES[kind]), kind


class _ResourcesWithANewOption(model.ResourcesRule):
    maxGpus: int | None = None  # noqa: N815 (the policy format's camelCase)


def test_an_option_the_schema_does_not_cover_leaves_the_rule_to_python() -> None:
    plain = model.ResourcesRule(id="r", kind="resources", maxInstanceCount=4)
    assert native_schema(plain) is not None
    grown = _ResourcesWithANewOption(id="r", kind="resources", maxInstanceCount=4, maxGpus=8)
    assert native_schema(grown) is None
