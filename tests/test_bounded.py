"""A job far larger than SageMaker accepts costs what the largest one it accepts costs.

What the API server and a CI pipeline see: one finding per oversized list, map or
string, an answer of a few hundred bytes, and no walk over the million items.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import jsonpatch
import orjson
import pytest
import yaml

from tests.conftest import admission_review, baseline_config, write
from webhook.cli import main
from webhook.constraints.bounds import CHARS, ENTRIES
from webhook.engine import Config, Context, patched
from webhook.findings import Action, Finding
from webhook.policy.load import baseline_policy, load_policies
from webhook.policy.model import CelRule
from webhook.policy.rules.cel import compile_rule
from webhook.policy.subject import Subject
from webhook.server import admission
from webhook.server.fast import FastPath
from webhook.server.wire import parse_request

MAX_RESPONSE = 64 * 1024
A_MILLION = 1_000_000


def _validate(
    job: dict[str, Any], config: Config | None = None, **request: Any
) -> tuple[admission.Answer, bytes]:
    """``/validate`` as the server runs it: the body decoded, the fast path tried first."""
    body = orjson.loads(orjson.dumps(admission_review(job, "team-a", **request)))
    return _answer(body, config or baseline_config())


_FAST: dict[int, tuple[Config, FastPath | None]] = {}


def _answer(data: dict[str, Any], config: Config) -> tuple[admission.Answer, bytes]:
    """``/validate``'s answer to the decoded AdmissionReview *data*, and its body."""
    if id(config) not in _FAST:  # as the server does, once per configuration
        _FAST[id(config)] = (config, FastPath.of(config))
    fast = _FAST[id(config)][1]
    assert fast is not None
    if fast.clean(data):
        return admission.ALLOWED, admission.response("u-1", admission.ALLOWED)
    answer = admission.validate(parse_request(data), config)
    return answer, admission.response(data["request"]["uid"], answer)


def test_a_million_input_channels_get_one_finding_in_a_small_answer(
    job: dict[str, Any],
) -> None:
    job["spec"]["inputDataConfig"] = [{}] * A_MILLION
    assert 2.8 * 2**20 < len(orjson.dumps(admission_review(job, "team-a"))) < 3 * 2**20

    answer, body = _validate(job)

    assert (answer.allowed, answer.decision, answer.code) == (False, "denied", 403)
    assert [(f.rule, f.where) for f in answer.findings] == [
        ("sagemaker.list-size", "spec.inputDataConfig")
    ]
    assert len(body) <= MAX_RESPONSE
    message = json.loads(body)["response"]["status"]["message"]
    assert message.splitlines() == [
        "TrainingJob team-a/churn-xgboost-2026-11-27 has 1 violation:",
        "- spec.inputDataConfig: has 1000000 items; SageMaker allows 1 to 20 items; "
        "nothing else is checked until it fits [sagemaker.list-size]",
    ]


def test_a_six_mib_hyperparameter_gets_one_finding_that_does_not_show_it(
    job: dict[str, Any],
) -> None:
    job["spec"]["hyperParameters"]["eta"] = "s3cr3t" * 2**20
    answer, body = _validate(job)
    assert [(f.rule, f.where) for f in answer.findings] == [
        ("sagemaker.length", "spec.hyperParameters[eta]")
    ]
    assert len(body) < 1024
    assert b"s3cr3t" not in body


@pytest.mark.parametrize(("count", "findings"), [(100, []), (101, ["sagemaker.map-size"])])
def test_a_hundred_hyperparameters_pass_and_one_more_is_one_finding(
    job: dict[str, Any], count: int, findings: list[str]
) -> None:
    job["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(count)}
    answer, _ = _validate(job)
    assert [f.rule for f in answer.findings if not f.rule.startswith("baseline/")] == findings


def test_the_fast_path_never_proves_an_oversized_job_clean(job: dict[str, Any]) -> None:
    fast = FastPath.of(baseline_config())
    assert fast is not None
    assert fast.clean(admission_review(job, "team-a"))
    edits: list[tuple[str, str, Any]] = [
        ("spec", "inputDataConfig", job["spec"]["inputDataConfig"] * 21),
        ("spec", "hyperParameters", {f"p{i}": "1" for i in range(101)}),
        ("metadata", "labels", {f"l{i}": "v" for i in range(1001)}),
        ("metadata", "annotations", {"a": "x" * (2**18 + 1)}),
        ("metadata", "finalizers", ["f"] * 1001),
    ]
    for block, name, value in edits:
        oversized = copy.deepcopy(job)
        oversized[block][name] = value
        assert not fast.clean(admission_review(oversized, "team-a"))
        assert not admission.validate(
            parse_request(admission_review(oversized, "team-a")), baseline_config()
        ).allowed


def test_mutate_leaves_an_oversized_job_to_validate(job: dict[str, Any]) -> None:
    """No defaults for a job /validate denies unchecked: they would only walk it."""
    job["spec"]["hyperParameters"]["max_depth"] = 5  # the baseline quotes it
    request = parse_request(admission_review(job, "team-a"))
    assert admission.mutate(request, baseline_config()).patch
    job["spec"]["inputDataConfig"] = [{}] * A_MILLION
    answer = admission.mutate(parse_request(admission_review(job, "team-a")), baseline_config())
    assert (answer.allowed, answer.patch) == (True, ())


# --- a rule of SageMaker's bounds relaxed ------------------------------------------------------

NEW_LIMITS = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: new-limits}
id: new-limits
apiConstraints: {sagemaker.list-size: warn, sagemaker.map-size: warn, sagemaker.length: warn}
"""


@pytest.fixture(scope="module")
def relaxed(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The baseline and a policy that relaxes every rule of SageMaker's bounds."""
    policy = write(tmp_path_factory.mktemp("policies"), "new-limits.yaml", NEW_LIMITS)
    return Config(policies=load_policies([baseline_policy(), policy]))


def _resize(job: dict[str, Any], what: str, size: int) -> None:
    if what == "channels":  # past the fixed bound, empty ones: a million in 3 MiB
        channel = job["spec"]["inputDataConfig"][0] if size <= ENTRIES else {}
        job["spec"]["inputDataConfig"] = [channel] * size
    elif what == "hyperparameters":
        job["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(size)}
    else:
        job["spec"]["hyperParameters"]["eta"] = "0" * size


#: (what, rule, where, just past SageMaker's bound, the fixed bound, far past that)
RELAXED = [
    ("channels", "sagemaker.list-size", "spec.inputDataConfig", 21, ENTRIES, A_MILLION),
    ("hyperparameters", "sagemaker.map-size", "spec.hyperParameters", 101, ENTRIES, A_MILLION),
    ("hyperparameter", "sagemaker.length", "spec.hyperParameters[eta]", 2501, CHARS, 6 * 2**20),
]


@pytest.mark.parametrize(
    ("what", "rule", "where", "over", "ceiling", "far"), RELAXED, ids=[case[0] for case in RELAXED]
)
def test_a_relaxed_bound_warns_up_to_the_fixed_one_and_denies_past_it_at_once(
    job: dict[str, Any],
    relaxed: Config,
    what: str,
    rule: str,
    where: str,
    over: int,
    ceiling: int,
    far: int,
) -> None:
    for size in (over, ceiling):
        _resize(job, what, size)
        answer, _ = _validate(job, relaxed)
        assert answer.allowed, size
        assert [(f.rule, f.where, f.action) for f in answer.findings] == [
            (rule, where, Action.WARN)
        ]
        assert answer.warnings[0].startswith(f"{where}: ")
    for size in (ceiling + 1, far):
        _resize(job, what, size)
        data = orjson.loads(orjson.dumps(admission_review(job, "team-a")))
        start = time.perf_counter()
        answer, body = _answer(data, relaxed)
        elapsed = time.perf_counter() - start
        assert not answer.allowed
        assert [(f.rule, f.where) for f in answer.findings] == [("guard.too-large", where)]
        assert len(body) < 1024
        assert elapsed < 0.05, size  # checking each item would take seconds


def test_mutate_applies_defaults_to_a_job_within_a_relaxed_bound(
    job: dict[str, Any], relaxed: Config
) -> None:
    """/validate lets it through: it gets the defaults every job gets."""
    job["spec"]["hyperParameters"]["max_depth"] = 5  # the baseline quotes it
    job["spec"]["inputDataConfig"] = job["spec"]["inputDataConfig"][:1] * 21
    assert not admission.mutate(
        parse_request(admission_review(job, "team-a")), baseline_config()
    ).patch
    answer = admission.mutate(parse_request(admission_review(job, "team-a")), relaxed)
    assert answer.patch
    job["spec"]["inputDataConfig"] *= ENTRIES
    answer = admission.mutate(parse_request(admission_review(job, "team-a")), relaxed)
    assert (answer.allowed, answer.patch) == (True, ())


def test_validate_in_ci_warns_for_a_relaxed_bound(
    job: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "job.yaml"
    arguments = [
        "validate",
        str(manifest),
        "-o",
        "json",
        "--rule-action",
        "sagemaker.list-size=warn",
    ]
    for count, code, rule in [(21, 0, "sagemaker.list-size"), (ENTRIES + 1, 1, "guard.too-large")]:
        job["spec"]["inputDataConfig"] = job["spec"]["inputDataConfig"][:1] * count
        manifest.write_text(yaml.safe_dump(job, default_flow_style=None), encoding="utf-8")
        assert main(arguments) == code
        [result] = json.loads(capsys.readouterr().out)["results"]
        assert [(v["rule"], v["path"]) for v in result["violations"]] == [
            (rule, "spec.inputDataConfig")
        ]


# --- the denial message ------------------------------------------------------------------------


def _denials(count: int, message: str = "is wrong") -> list[Finding]:
    return [Finding("sagemaker.pattern", ("spec", "tags", i, "key"), message) for i in range(count)]


def test_a_denial_with_500_violations_lists_the_first_20_and_says_how_many_more() -> None:
    request = parse_request(admission_review({"metadata": {"name": "job"}}, "team-a"))
    lines = admission.denial_message(request, _denials(500)).splitlines()
    assert lines[0] == "TrainingJob team-a/job has 500 violations:"
    assert lines[1:21] == [f"- spec.tags[{i}].key: is wrong [sagemaker.pattern]" for i in range(20)]
    assert lines[21:] == ["... and 480 more violations (trainingjob-guard validate shows all)"]


def test_a_long_violation_is_cut_and_keeps_its_rule() -> None:
    request = parse_request(admission_review({"metadata": {"name": "job"}}, "team-a"))
    [_, line] = admission.denial_message(request, _denials(1, "x" * 10_000)).splitlines()
    assert len(line) == admission.LINE_CHARS
    assert line.endswith("... [sagemaker.pattern]")


def test_a_real_job_with_many_violations_gets_a_short_message(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"] = {f"bad\nkey{i}": "1" for i in range(100)}
    job["spec"]["tags"] = [{"key": f"bad\u0000key{i}", "value": "v"} for i in range(50)]
    answer, body = _validate(job)
    lines = answer.message.splitlines()
    denials = sum(f.action is Action.DENY for f in answer.findings)
    assert denials >= 150
    assert len(lines) == 1 + admission.MESSAGE_LINES + 1
    assert lines[-1] == (
        f"... and {denials - 20} more violations (trainingjob-guard validate shows all)"
    )
    assert len(body) < 8 * 1024


def test_the_answer_stays_within_64_kib_whatever_the_findings_hold() -> None:
    """Characters that take six bytes of JSON each, in every finding and in the uid."""
    worst = "\u0001" * 5000
    denials = [Finding("r", ("spec", worst), worst) for _ in range(1000)]
    warnings = [Finding("w", ("spec", worst), worst, Action.WARN) for _ in range(1000)]
    request = parse_request(admission_review({"metadata": {"name": worst}}, worst))
    answer = admission.Answer(
        False,
        "denied",
        403,
        admission.denial_message(request, denials),
        admission.fit_warnings(warnings),
        findings=(*denials, *warnings),
    )
    body = admission.response(worst * 200, answer)
    assert len(body) <= MAX_RESPONSE
    assert json.loads(body)["response"]["uid"] == worst[: admission.UID_CHARS]


# --- the CLI, CEL and the defaults ------------------------------------------------------------


def test_validate_in_ci_reports_one_violation_for_a_huge_list(
    job: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job["spec"]["inputDataConfig"] = [{}] * 20_000
    manifest = tmp_path / "job.yaml"
    manifest.write_text(yaml.safe_dump(job, default_flow_style=None), encoding="utf-8")
    assert main(["validate", str(manifest), "-o", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [result] = report["results"]
    assert [(v["rule"], v["path"]) for v in result["violations"]] == [
        ("sagemaker.list-size", "spec.inputDataConfig")
    ]


def _cel(subject: Subject) -> list[str]:
    rule = CelRule.model_validate(
        {"id": "r", "kind": "cel", "expression": 'object.spec.trainingJobName != ""'}
    )
    return [violation.message for violation in compile_rule(rule, {})(subject)]


def test_cel_rules_do_not_convert_a_huge_metadata(job: dict[str, Any]) -> None:
    """CEL converts the whole object; the gate leaves the API server's metadata alone."""
    assert _cel(Subject.of(job, Context())) == []
    job["metadata"]["managedFields"] = [{"manager": "m"}] * A_MILLION
    [message] = _cel(Subject.of(job, Context()))
    assert message.startswith("the expression was not evaluated: metadata holds more than")
    old = copy.deepcopy(job)
    del job["metadata"]["managedFields"]
    [message] = _cel(Subject.of(job, Context("UPDATE"), old))
    assert message.startswith("the expression was not evaluated")


def test_defaults_are_applied_without_copying_what_they_do_not_touch(
    job: dict[str, Any],
) -> None:
    fields = [{"manager": "m"}] * 1000
    job["metadata"]["managedFields"] = fields
    before = copy.deepcopy(job)
    patch: list[dict[str, Any]] = [
        {"op": "add", "path": "/spec/tags/-", "value": {"key": "a", "value": "b"}},
        {"op": "replace", "path": "/spec/hyperParameters/eta", "value": "0.3"},
        {"op": "add", "path": "/spec/environment", "value": {"A": "1"}},
    ]
    result = patched(job, patch)
    assert job == before
    assert result == jsonpatch.apply_patch(before, patch)
    assert result["metadata"]["managedFields"] is fields
