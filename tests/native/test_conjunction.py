"""Merging a proof's schemas into one changes nothing about what passes.

:func:`conjunction` merges the members of an ``allOf`` that only say "an object
with these members", so each member of the job is checked in one pass. Here
every policy's rule schemas, merged and as a plain ``allOf``, judge the same
jobs (every shipped manifest and case and mutants of them) the same way.
"""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import POLICY_FOLDERS, PROJECT
from tests.native.corpus import CORPORA, corpus_of, mutants
from webhook.engine import Config, builtin_schema_of
from webhook.native import conjunction
from webhook.policy.load import load_policies


def _schemas(folder_name: str) -> list[dict[str, Any]]:
    policies = load_policies([PROJECT / "policies" / folder_name]).policies
    return [rule.schema for policy in policies for rule in policy.rules if rule.schema]


WITH_SCHEMAS = [folder.name for folder in POLICY_FOLDERS if _schemas(folder.name)]


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("folder", WITH_SCHEMAS)
def test_merged_rule_schemas_judge_every_job_as_their_conjunction_does(
    folder: str, corpus: str
) -> None:
    schemas = _schemas(folder)
    plain = jsonschema_rs.Draft4Validator({"allOf": schemas})
    merged = jsonschema_rs.Draft4Validator(conjunction(schemas))
    verdicts = set()
    for name, job in corpus_of(corpus):
        for mutant in itertools.chain([job], mutants(job, 4, seed=len(name))):
            verdict = plain.is_valid(mutant)
            assert merged.is_valid(mutant) is verdict, (name, mutant)
            verdicts.add(verdict)
    assert verdicts == {True, False}  # some jobs pass and some fail: the test tells


def test_members_of_objects_are_merged_and_other_keywords_kept_whole() -> None:
    closed = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    kept = {"type": "object", "patternProperties": {"^b": {}}, "additionalProperties": False}
    merged = conjunction(
        [
            {"type": "object", "required": ["spec"], "properties": {"spec": {"maxProperties": 3}}},
            {"properties": {"spec": {"allOf": [{"properties": {"x": {"maximum": 1}}}]}}},
            kept,
        ]
    )
    assert merged == {
        "allOf": [
            {
                "type": "object",
                "required": ["spec"],
                "properties": {
                    "spec": {"allOf": [{"properties": {"x": {"maximum": 1}}}, {"maxProperties": 3}]}
                },
            },
            kept,
        ]
    }
    validator = jsonschema_rs.Draft4Validator(merged)
    assert not validator.is_valid({"spec": {"x": 2}})
    assert not validator.is_valid({"spec": {}, "b": 1})  # additionalProperties still holds
    assert not validator.is_valid({"a": 1})  # spec still required
    assert conjunction([closed, {"properties": {"a": {"maximum": 1}, "z": {"type": "null"}}}]) == {
        "type": "object",
        "additionalProperties": False,
        "properties": {"a": {"maximum": 1}},  # z: the closed one refuses it anyway
    }


def test_closed_objects_and_arrays_merge_into_one_pass() -> None:
    """Closed objects keep only what all of them list; arrays merge their items and bounds."""
    one = {
        "type": ["object", "null"],
        "properties": {"a": {}, "b": {}},
        "additionalProperties": False,
    }
    two = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"maximum": 1}, "c": {}},
        "additionalProperties": False,
    }
    merged = conjunction([one, two])
    assert merged == {
        "type": "object",
        "required": ["a"],
        "additionalProperties": False,
        "properties": {"a": {"maximum": 1}, "b": {"not": {}}, "c": {"not": {}}},
    }
    plain = jsonschema_rs.Draft4Validator({"allOf": [one, two]})
    fused = jsonschema_rs.Draft4Validator(merged)
    for value in ({"a": 1}, {"a": 2}, {"a": 1, "b": 1}, {"a": 1, "c": 1}, {}, None, {"d": 1}):
        assert fused.is_valid(value) is plain.is_valid(value), value
    arrays = [
        {"type": ["array", "null"], "items": {"maximum": 5}, "maxItems": 3},
        {"type": "array", "items": {"minimum": 1}, "minItems": 1, "maxItems": 2},
    ]
    assert conjunction(arrays) == {
        "type": "array",
        "items": {"allOf": [{"maximum": 5}, {"minimum": 1}]},
        "minItems": 1,
        "maxItems": 2,
    }


@pytest.mark.parametrize("corpus", CORPORA)
def test_the_built_in_checks_and_every_policy_merged_judge_as_their_conjunction(
    corpus: str,
) -> None:
    """The webhook's fast path merges the built-in checks' schema with every rule's."""
    schemas = [builtin_schema_of(Config().checker)]
    for folder in WITH_SCHEMAS:
        schemas.extend(_schemas(folder))
    plain = jsonschema_rs.Draft4Validator({"allOf": schemas})
    merged = jsonschema_rs.Draft4Validator(conjunction(schemas))
    for name, job in corpus_of(corpus):
        for mutant in itertools.chain([job], mutants(job, 4, seed=len(name))):
            assert merged.is_valid(mutant) is plain.is_valid(mutant), (name, mutant)


@pytest.mark.parametrize(
    "first",
    [
        {"type": ["integer", "null"], "maximum": 5, "not": {"type": "string", "pattern": "a"}},
        {"type": ["string", "null"], "maxLength": 3, "not": {"type": "string", "pattern": "[$<]"}},
        {"type": "number", "not": {"type": "string", "pattern": "a"}},
    ],
)
def test_string_screens_merge_into_one_search(first: dict[str, Any]) -> None:
    """Two "no string matching" screens become one; a bare type another part implies goes."""
    screen = {
        "type": ["string", "number", "boolean", "null"],
        "not": {"type": "string", "pattern": "b"},
    }
    merged = conjunction([first, screen])
    plain = jsonschema_rs.Draft4Validator({"allOf": [first, screen]})
    fused = jsonschema_rs.Draft4Validator(merged)
    values: list[Any] = [3, 7, 1.5, "x", "a", "b", "$x", "long", None, True, [], {}]
    for value in values:
        assert fused.is_valid(value) is plain.is_valid(value), (merged, value)


def test_a_screen_an_enum_implies_is_dropped() -> None:
    """No value of the enum holds what the screen refuses: the screen says nothing there."""
    screen = {"not": {"type": "string", "pattern": "AKIA"}}
    other = {"not": {"type": "string", "pattern": "[$<]"}}
    enum = {"enum": ["File", "Pipe", None]}
    assert conjunction([{**enum, **other}, screen]) == {"enum": ["File", "Pipe", None]}
    risky = {"enum": ["File", "AKIA1"], **other}
    merged = conjunction([risky, screen])
    assert not jsonschema_rs.Draft4Validator(merged).is_valid("AKIA1")
