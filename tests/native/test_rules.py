"""A rule's schema is never looser than its check.

For every rule of every shipped policy whose kind can state its schema: no
job that passes the schema gets a finding from the rule, over every case of
the policy library and mutants of them.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import EXAMPLES, POLICY_FOLDERS, PROJECT
from tests.native.corpus import CORPORA, corpus_of, job_file, mutants
from tests.policy.rules.test_secrets import EXAMPLES as CREDENTIALS
from webhook.native import Proof
from webhook.policy.compiled import CompiledRule
from webhook.policy.load import load_policies
from webhook.policy.model import ImagesRule, NetworkRule, RequiredRule, SecretsRule, TagsRule
from webhook.policy.rules import (
    credential_starts,
    credentials,
    images,
    network,
    required,
    secret_names,
    secrets,
    tags,
)
from webhook.policy.subject import Subject
from webhook.request import Context


def _rules() -> list[tuple[str, CompiledRule]]:
    found: list[tuple[str, CompiledRule]] = []
    for folder in POLICY_FOLDERS:
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


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize(("rule_id", "rule"), RULES, ids=[rule_id for rule_id, _ in RULES])
def test_a_job_that_passes_a_rules_schema_has_no_finding_of_the_rule(
    rule_id: str, rule: CompiledRule, corpus: str
) -> None:
    proof = Proof([rule.schema or {}], [rule.guard] if rule.guard else [])
    passed = 0
    for name, job in corpus_of(corpus):
        for mutant in itertools.chain([job], mutants(job, 12, seed=len(name) + len(rule_id))):
            if proof.holds(mutant):
                passed += 1
                assert not _violations(rule, mutant), (name, mutant)
    assert passed, f"{rule_id}: no job passes its schema"


def _holds(schema: dict[str, Any] | None, job: dict[str, Any]) -> bool:
    assert schema is not None
    return Proof([schema]).holds(job)


def _secrets() -> tuple[Proof, Any]:
    """The proof of a secrets rule's schema, and the rule's compiled check."""
    rule = SecretsRule(id="s", kind="secrets")
    return Proof([secrets.native_schema(rule)]), secrets.compile_rule(rule)


def _secrets_findings(job: dict[str, Any]) -> list[str]:
    _, check = _secrets()
    return [violation.message for violation in check(Subject.of(job, Context(namespace="t")))]


#: Places a string can be in a spec: (name, put it there).
_PLACES: list[tuple[str, Any]] = [
    ("hyperparameter", lambda spec, v: spec["hyperParameters"].update(note=v)),
    ("tag value", lambda spec, v: spec["tags"].append({"key": "owner", "value": v})),
    ("tag key", lambda spec, v: spec["tags"].append({"key": v, "value": "x"})),
    ("map key", lambda spec, v: spec.update(environment={v: "x"})),
    (
        "rule parameter",
        lambda spec, v: spec.update(
            profilerRuleConfigurations=[{"ruleConfigurationName": "r", "ruleParameters": {"n": v}}]
        ),
    ),
    ("nested field", lambda spec, v: spec.update(experimentConfig={"experimentName": v})),
    ("list item", lambda spec, v: spec["vpcConfig"]["subnets"].append(v)),
    ("unknown field", lambda spec, v: spec.update(futureConfig={"a": [{"b": {"c": [v]}}]})),
]


def _disguises(value: str) -> list[str]:
    """*value* in clear and in every disguise the check sees through."""
    found = [value, f"{value[:2]}\u200b{value[2:]}", f"\u00ad{value}\u2060"]
    found.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value[:4]))
    found[-1] += value[4:]
    for lead in (b"", b"{", b'{"'):
        raw = lead + value.encode()
        found.append(base64.b64encode(raw).decode())
        found.append("x-" + base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return found


@pytest.mark.parametrize(("kind", "value"), CREDENTIALS.values(), ids=list(CREDENTIALS))
def test_secrets_schema_refuses_every_credential_kind_in_every_disguise_and_place(
    job: dict[str, Any], kind: str, value: str
) -> None:
    """Each kind of the table, in clear, split by format characters, in fullwidth letters
    and base64-encoded at each alignment in both alphabets, anywhere in the spec."""
    proof, _ = _secrets()
    for disguise in _disguises(value):
        for place, put in _PLACES:
            changed = copy.deepcopy(job)
            put(changed["spec"], disguise)
            assert not proof.holds(changed), (kind, place, disguise)
            assert _secrets_findings(changed), (kind, place, disguise)


def test_every_credential_form_has_its_native_screens() -> None:
    """The native screen is built from the same table as the check: each form's start
    (with its screen) and its three base64 encodings are alternatives of it."""
    alternatives = set(credentials.NATIVE_VALUES.split("|"))
    for _, form, _ in credentials.FORMS:
        assert credential_starts.start_regex(form.start) + form.screen in alternatives, form
        for encoding in credential_starts.encodings(form.start):
            assert encoding in alternatives, (form, encoding)
    assert set(CREDENTIALS) == {form.start for _, form, _ in credentials.FORMS}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("\u017fecret_value", "x"),  # long s folds to s: Python's IGNORECASE finds "secret"
        ("API\u212aEY", "x"),  # Kelvin sign folds to k
        ("ap\u0131_key", "hunter2"),  # dotless i folds to i in Python, not in Rust's regex
        ("AP\u0130_KEY", "hunter2"),  # dotted capital I
        ("credent\u0131al", "hunter2"),
        ("DB_PASS\u200bWORD", "hunter2"),  # a format character inside a key
        ("HF_TOKEN", "abc"),
        ("DB_PASS", "hunter2"),
        ("db_pwd", "hunter2"),
        ("PASSWORD_FILE", "hunter2"),
        ("SECRET_NAME", "x"),  # stricter than the check: any key naming a secret
        ("note", "postgres://user:pw@db/x"),
        ("note", "  wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "),
        ("note", "\x1cwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\x00"),
        ("note", "caf\u00e9"),  # not ASCII: the check normalizes it first
    ],
)
def test_secrets_schema_refuses_what_the_check_might_flag(
    job: dict[str, Any], key: str, value: str
) -> None:
    job["spec"]["hyperParameters"][key] = value
    assert not _holds(secrets.native_schema(SecretsRule(id="s", kind="secrets")), job)
    job["spec"]["hyperParameters"].pop(key)
    job["spec"]["tags"].append({"key": key, "value": value})
    assert not _holds(secrets.native_schema(SecretsRule(id="s", kind="secrets")), job)


@pytest.mark.parametrize(
    "value",
    [
        "s3://ml-team-a/churn/train/",
        "s3://ml-team-a/a/very/long/prefix/that/goes/on/and/on/for/a/while/",
        "s3://ml-team-a/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "arn:aws:iam::123456789012:role/team-a-sagemaker-execution",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "ghcr.io/huggingface/text-generation-inference:2.0@sha256:" + "a1" * 32,
        "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.1.0-gpu-py310",
        "meta-llama/Llama-2-7b-chat-hf",
        "binary:logistic",
        "train_loss: ([0-9\\.]+)",
        "https://mlflow.example.com:5000/api",
    ],
)
def test_secrets_schema_holds_on_clean_strings(job: dict[str, Any], value: str) -> None:
    """Clean jobs stay on the fast path: S3 URIs (even long ones), ARNs, images, names."""
    proof, _ = _secrets()
    for place, put in _PLACES:
        if place not in ("map key", "unknown field"):
            put(job["spec"], value)
    assert proof.holds(job)


def test_secrets_schema_refuses_what_the_model_does_not_have(job: dict[str, Any]) -> None:
    """The screen follows the typed model: a member it does not have, or a container where
    the model has a scalar, is not looked into, so it is refused (the check decides)."""
    proof, _ = _secrets()
    assert proof.holds(job)
    for change in (
        {"futureConfig": {"a": "x"}},
        {"trainingJobName": ["x"]},
        {"hyperParameters": {"eta": {"nested": "x"}}},
    ):
        changed = copy.deepcopy(job)
        changed["spec"].update(change)
        assert not proof.holds(changed), change


def test_secrets_schema_holds_only_where_the_check_finds_nothing(job: dict[str, Any]) -> None:
    """Every combination of keys and values built here, in every place."""
    proof, _ = _secrets()
    keys = ["note", "DB_PASS", "pad_token", "PASSWORD_FILE", "bypass", "TOKEN_TTL", "SECRET_NAME"]
    values = [
        "x",
        "hunter2",
        "/run/secrets/db",
        "3600",
        "<pad>",
        "abcdef1234567890abcd",
        "s3://b/x",
        *(disguise for _, value in CREDENTIALS.values() for disguise in _disguises(value)[:4]),
    ]
    held = 0
    for key in keys:
        for value in values:
            for place, put in _PLACES:
                changed = copy.deepcopy(job)
                put(changed["spec"], value)
                changed["spec"]["environment"] = (
                    {key: value} if place != "map key" else {value: key}
                )
                if proof.holds(changed):
                    held += 1
                    assert not _secrets_findings(changed), (key, value, place)
    assert held


def test_secrets_schema_survives_merging(job: dict[str, Any]) -> None:
    """Its recursive definition resolves within its own ``id`` wherever it is placed: merged
    with other rules' schemas, twice in one proof, inside the webhook's review."""
    schema = secrets.native_schema(SecretsRule(id="s", kind="secrets"))
    required_schema = required.native_schema(
        RequiredRule(id="r", kind="required", fields=["outputDataConfig.kmsKeyID"])
    )
    assert required_schema is not None
    review = {"properties": {"request": {"properties": {"object": {"allOf": [schema, schema]}}}}}
    proof = Proof([required_schema, schema, schema, review])
    nested = copy.deepcopy(job)
    nested["spec"]["futureConfig"] = {"a": [{"b": CREDENTIALS["ASIA"][1]}]}
    assert proof.holds(job)
    assert not proof.holds(nested)
    assert proof.holds({**job, "request": {"object": job}})
    assert not proof.holds({**job, "request": {"object": nested}})


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
                    {"pattern": f"^{secret_names.caseless(letter)}$"}
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
    assert Proof([{}], [guard]).holds(job) is holds
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


def test_the_architecture_page_names_the_rule_kinds_with_a_schema() -> None:
    from webhook.policy.rules.registry import KINDS, SCHEMAS

    page = (PROJECT / "docs" / "architecture.md").read_text()
    section = page.split("## How a clean job is decided fast")[1]
    section = section.split("\n## ")[0]
    with_schema = section.split("Rule kinds with a schema:")[1].split(";")[0]
    in_python = section.split("Rule kinds with a schema:")[1].split(";")[1].split("always")[0]
    assert set(re.findall(r"`(\w+)`", with_schema)) == set(SCHEMAS)
    assert set(re.findall(r"`(\w+)`", in_python)) == set(KINDS) - set(SCHEMAS)
