"""The rule catalogue names every rule the code emits, and its default actions hold."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write
from webhook.catalog import RULES, WARN_BY_DEFAULT
from webhook.cli import main
from webhook.engine import Config, review
from webhook.findings import Action, Finding
from webhook.policy.load import load_policies
from webhook.request import Context


def test_every_rule_the_code_emits_is_in_the_catalogue() -> None:
    emitted: set[str] = set()
    for file in (PROJECT / "webhook").rglob("*.py"):
        if file.name == "catalog.py":
            continue
        text = file.read_text(encoding="utf-8")
        emitted.update(
            re.findall(
                r'"((?:crd|guard|k8s|sagemaker|update|policy|cli)\.[a-z0-9-]+)(?<!\.yaml)"', text
            )
        )
        if re.search(r'"placeholder",', text):
            emitted.add("placeholder")
    assert emitted == set(RULES)


def test_rules_that_warn_by_default_are_catalogue_rules() -> None:
    assert set(RULES) >= WARN_BY_DEFAULT


Capture = pytest.CaptureFixture[str]
POLICY_HEAD = "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\nid: scoped\n"
NAMING = "rules: [{id: name, kind: naming, prefix: churn-}]\n"  # the example passes


def _job() -> dict[str, Any]:
    job: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    return job


def _findings(tmp_path: Path, policy: str, obj: dict[str, Any], **context: Any) -> list[Finding]:
    policies = load_policies([write(tmp_path, "policy.yaml", POLICY_HEAD + policy)])
    return list(review(obj, config=Config(policies=policies), context=Context(**context)).findings)


def _update(change: Callable[[dict[str, Any]], None]) -> list[Finding]:
    old = _job()
    old["spec"]["profilerConfig"] = {"s3OutputPath": "s3://ml-team-a/profiler/"}
    old["spec"]["profilerRuleConfigurations"] = [
        {
            "ruleConfigurationName": "ProfilerReport",
            "ruleEvaluatorImage": "895741380848.dkr.ecr.us-west-2.amazonaws.com/rules:latest",
        }
    ]
    new = copy.deepcopy(old)
    change(new["spec"])
    context = Context(operation="UPDATE", namespace="team-a")
    return list(review(new, old=old, config=Config(), context=context).findings)


def _not_propagated(tmp_path: Path, capsys: Capture) -> list[Finding]:
    return _update(lambda spec: spec["tags"].append({"key": "cost-centre", "value": "42"}))


def _profiler_removed(tmp_path: Path, capsys: Capture) -> list[Finding]:
    return _update(lambda spec: spec.pop("profilerConfig"))


def _labels_unknown(tmp_path: Path, capsys: Capture) -> list[Finding]:
    policy = "match: {namespaceSelector: {matchLabels: {tier: prod}}}\n" + NAMING
    return _findings(tmp_path, policy, _job(), namespace="team-a", namespace_labels=None)


def _exemption_ignored(tmp_path: Path, capsys: Capture) -> list[Finding]:
    policy = "exemptions: {annotation: {annotation: guard-exempt, groups: [platform]}}\n" + NAMING
    job = _job()
    job["metadata"]["annotations"] = {"guard-exempt": "true"}
    return _findings(tmp_path, policy, job, namespace="team-a", user="ana", groups=("ml",))


def _namespace_unset(tmp_path: Path, capsys: Capture) -> list[Finding]:
    """What ``validate -o json`` reports for a manifest without a namespace."""
    job = _job()
    del job["metadata"]["namespace"]
    manifest = write(tmp_path, "job.yaml", json.dumps(job))
    policy = write(tmp_path, "policy.yaml", POLICY_HEAD + "match: {namespaces: [team-*]}\n")
    assert main(["validate", "-o", "json", "--policy", str(policy), str(manifest)]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    return [Finding(v["rule"], (), v["message"], Action(v["action"])) for v in result["violations"]]


SCENARIOS: dict[str, Callable[[Path, Capture], list[Finding]]] = {
    "update.not-propagated": _not_propagated,
    "update.profiler-removed": _profiler_removed,
    "policy.namespace-labels-unknown": _labels_unknown,
    "policy.exemption-ignored": _exemption_ignored,
    "cli.namespace-unset": _namespace_unset,
}


def test_every_rule_marked_warn_has_a_scenario() -> None:
    assert set(SCENARIOS) == WARN_BY_DEFAULT


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_a_rule_marked_warn_warns_by_default(tmp_path: Path, capsys: Capture, rule: str) -> None:
    """The catalogue's default is what the check does: the job is admitted, with a warning."""
    findings = SCENARIOS[rule](tmp_path, capsys)
    assert [(f.rule, f.action) for f in findings if f.rule == rule] == [(rule, Action.WARN)]
    assert all(f.action is not Action.DENY for f in findings), findings
