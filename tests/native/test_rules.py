"""A rule's schema is never looser than its check.

For every rule of every shipped policy whose kind can state its schema: no
job that passes the schema gets a finding from the rule, over every case of
the policy library and mutants of them.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import EXAMPLES, PROJECT
from tests.native.corpus import job_file, jobs, mutants
from webhook.native import Certificate
from webhook.policy.compiled import CompiledRule
from webhook.policy.load import load_policies
from webhook.policy.model import ImagesRule, NetworkRule, RequiredRule, SecretsRule, TagsRule
from webhook.policy.rules import images, network, required, secrets, tags
from webhook.policy.subject import Subject
from webhook.request import Context

CORPUS = jobs()
FOLDERS = sorted(path for path in (PROJECT / "policies").iterdir() if path.is_dir())


def _rules() -> list[tuple[str, CompiledRule]]:
    found: list[tuple[str, CompiledRule]] = []
    for folder in FOLDERS:
        for policy in load_policies([folder]).policies:
            found.extend((rule.id, rule) for rule in policy.rules if rule.schema is not None)
    return found


RULES = _rules()


def _violations(rule: CompiledRule, job: dict[str, Any]) -> list[str]:
    metadata = job.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    subject = Subject.of(job, Context(namespace=namespace or "default"))
    return [violation.message for violation in rule.check(subject)]


def test_rule_kinds_with_a_schema_cover_the_baseline() -> None:
    """Every baseline rule has a schema; the tag check's repeated keys need a guard."""
    baseline = load_policies([PROJECT / "policies" / "baseline"]).policies[0]
    assert [rule.id for rule in baseline.rules if rule.schema is None] == []
    assert [rule.id for rule in baseline.rules if rule.guard is not None] == ["baseline/tag-budget"]


@pytest.mark.parametrize(("rule_id", "rule"), RULES, ids=[rule_id for rule_id, _ in RULES])
def test_a_job_that_passes_a_rules_schema_has_no_finding_of_the_rule(
    rule_id: str, rule: CompiledRule
) -> None:
    certificate = Certificate([rule.schema or {}], [rule.guard] if rule.guard else [])
    passed = 0
    for name, job in CORPUS:
        for mutant in itertools.chain([job], mutants(job, 12, seed=len(name) + len(rule_id))):
            if certificate.holds(mutant):
                passed += 1
                assert not _violations(rule, mutant), (name, mutant)
    assert passed, f"{rule_id}: no job passes its schema"


def _holds(schema: dict[str, Any] | None, job: dict[str, Any]) -> bool:
    assert schema is not None
    return Certificate([schema]).holds(job)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("\u017fecret_value", "x"),  # long s folds to s: Python's IGNORECASE finds "secret"
        ("API\u212aEY", "x"),  # Kelvin sign folds to k
        ("ap\u0131_key", "hunter2"),  # dotless i folds to i in Python, not in Rust's regex
        ("AP\u0130_KEY", "hunter2"),  # dotted capital I
        ("credent\u0131al", "hunter2"),
        ("HF_TOKEN", "abc"),
        ("note", "postgres://user:pw@db/x"),
        ("note", "  wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "),
    ],
)
def test_secrets_schema_refuses_what_the_check_might_flag(
    job: dict[str, Any], key: str, value: str
) -> None:
    job["spec"]["hyperParameters"][key] = value
    assert not _holds(secrets.native_schema(SecretsRule(id="s", kind="secrets")), job)


def test_the_secret_key_screen_knows_every_character_python_folds_onto_its_letters() -> None:
    """Every code point ``re.IGNORECASE`` matches to a letter of the key words is in that
    letter's class in the native pattern (which uses no case-insensitive flag)."""
    letters = sorted(set("passwordsecretapikeyprivatecredentialtoken"))
    candidates = re.compile(f"[{''.join(letters)}]", re.IGNORECASE)
    for code in range(0x110000):
        character = chr(code)
        if 0xD800 <= code <= 0xDFFF or not candidates.fullmatch(character):
            continue
        for letter in letters:
            if re.fullmatch(letter, character, re.IGNORECASE):
                native = jsonschema_rs.Draft4Validator(
                    {"pattern": f"^{secrets._caseless(letter)}$"}
                )
                assert native.is_valid(character), (letter, hex(code))


@pytest.mark.parametrize(
    ("keys", "holds"),
    [
        (["team", "project"], True),
        (["team", "team"], False),  # the controller keeps only the last value
        (["team", None, "project"], True),  # a key of another type is the schema checks'
        ([], True),
    ],
)
def test_tags_guard_refuses_a_repeated_key(
    job: dict[str, Any], keys: list[str | None], *, holds: bool
) -> None:
    job["spec"]["tags"] = [{"key": key, "value": "x"} for key in keys]
    rule = TagsRule(id="t", kind="tags")
    guard = tags.native_guard(rule)
    assert guard is not None
    assert Certificate([{}], [guard]).holds(job) is holds
    assert tags.native_guard(TagsRule(id="t", kind="tags", duplicates=False)) is None


def test_required_schema_refuses_a_value_python_calls_blank(job: dict[str, Any]) -> None:
    """``str.strip`` removes U+001C; regexes' ``\\s`` does not know it."""
    job["spec"]["outputDataConfig"]["kmsKeyID"] = "\x1c"
    rule = RequiredRule(id="r", kind="required", fields=["outputDataConfig.kmsKeyID"])
    assert not _holds(required.native_schema(rule), job)
    job["spec"]["outputDataConfig"]["kmsKeyID"] = "arn:aws:kms:x"
    assert _holds(required.native_schema(rule), job)


@pytest.mark.parametrize(
    ("image", "holds"),
    [
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", True),
        ("ubuntu:22.04", True),
        ("ubuntu", False),
        ("ubuntu:latest", False),
        ("ubuntu:latest@sha256:" + "a" * 64, False),  # stricter than the check
        ("localhost:5000/train:1", False),  # a port: left to the check
    ],
)
def test_images_schema(job: dict[str, Any], image: str, *, holds: bool) -> None:
    job["spec"]["algorithmSpecification"]["trainingImage"] = image
    assert _holds(images.native_schema(ImagesRule(id="i", kind="images")), job) is holds


def test_distributed_encryption_schema_counts_instances(job: dict[str, Any]) -> None:
    rule = NetworkRule(id="n", kind="network", interContainerEncryption="distributed")
    assert _holds(network.native_schema(rule), job)
    job["spec"]["resourceConfig"]["instanceCount"] = 2
    assert not _holds(network.native_schema(rule), job)
    job["spec"]["enableInterContainerTrafficEncryption"] = True
    assert _holds(network.native_schema(rule), job)


def test_templated_or_unexpressible_rules_have_no_schema() -> None:
    """Placeholders depend on the request, a policy's value regexes are Python's."""
    assert (
        network.native_schema(NetworkRule(id="n", kind="network", subnets=["subnet-{namespace}*"]))
        is None
    )
    assert tags.native_schema(TagsRule(id="t", kind="tags", required={"team": "t-.*"})) is None
    assert tags.native_schema(TagsRule(id="t", kind="tags", required={"team": None})) is not None


def test_the_example_passes_every_baseline_schema() -> None:
    example = job_file(EXAMPLES / "training-job.yaml")
    for rule_id, rule in RULES:
        if rule_id.startswith("baseline/"):
            assert _holds(rule.schema, example), rule_id


def test_the_readme_names_the_rule_kinds_with_a_schema() -> None:
    from webhook.policy.rules.registry import KINDS, SCHEMAS

    section = (PROJECT / "README.md").read_text().split("## How a clean job is decided fast")[1]
    section = section.split("\n## ")[0]
    with_schema = section.split("Rule kinds with a schema:")[1].split(";")[0]
    in_python = section.split("Rule kinds with a schema:")[1].split(";")[1].split("always")[0]
    assert set(re.findall(r"`(\w+)`", with_schema)) == set(SCHEMAS)
    assert set(re.findall(r"`(\w+)`", in_python)) == set(KINDS) - set(SCHEMAS)
