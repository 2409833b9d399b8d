"""Merging a certificate's schemas into one changes nothing about what passes.

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

from tests.conftest import PROJECT
from tests.native.corpus import jobs, mutants
from webhook.native import conjunction
from webhook.policy.load import load_policies

FOLDERS = sorted(path for path in (PROJECT / "policies").iterdir() if path.is_dir())
CORPUS = jobs()


def _schemas(folder_name: str) -> list[dict[str, Any]]:
    policies = load_policies([PROJECT / "policies" / folder_name]).policies
    return [rule.schema for policy in policies for rule in policy.rules if rule.schema]


WITH_SCHEMAS = [folder.name for folder in FOLDERS if _schemas(folder.name)]


@pytest.mark.parametrize("folder", WITH_SCHEMAS)
def test_merged_rule_schemas_judge_every_job_as_their_conjunction_does(folder: str) -> None:
    schemas = _schemas(folder)
    plain = jsonschema_rs.Draft4Validator({"allOf": schemas})
    merged = jsonschema_rs.Draft4Validator(conjunction(schemas))
    verdicts = set()
    for name, job in CORPUS:
        for mutant in itertools.chain([job], mutants(job, 4, seed=len(name))):
            verdict = plain.is_valid(mutant)
            assert merged.is_valid(mutant) is verdict, (name, mutant)
            verdicts.add(verdict)
    assert verdicts == {True, False}  # some jobs pass and some fail: the test tells


def test_members_of_objects_are_merged_and_other_keywords_kept_whole() -> None:
    closed = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    merged = conjunction(
        [
            {"type": "object", "required": ["spec"], "properties": {"spec": {"maxProperties": 3}}},
            {"properties": {"spec": {"allOf": [{"properties": {"x": {"maximum": 1}}}]}}},
            closed,
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
            closed,
        ]
    }
    validator = jsonschema_rs.Draft4Validator(merged)
    assert not validator.is_valid({"spec": {"x": 2}})
    assert not validator.is_valid({"spec": {}, "b": 1})  # additionalProperties still holds
    assert not validator.is_valid({"a": 1})  # spec still required
