"""The chart's ``mode``: the webhook, the exported ValidatingAdmissionPolicies, or both.

Rendered by Helm's own engine; the shipped baseline export is the CLI's output
to the byte (regenerate it with the command its first line names).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout

import helm_python
import kubernetes_validate
import pytest

from tests.chart.test_chart import CHART, NAMESPACE, RELEASE, Obj, Rendered
from webhook.cli import main

BASELINE = CHART / "files" / "vap-baseline.yaml"
WEBHOOK_KINDS = {
    "Deployment",
    "Service",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ServiceAccount",
}
EXTRA = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: trainingjob-guard.team.deny
spec:
  policyName: trainingjob-guard.team.deny
  validationActions: [Deny]
"""


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def _render(chart: helm_python.Chart, values: Obj) -> Rendered:
    return Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))


def _policies(out: Rendered) -> set[str]:
    return {o["metadata"]["name"] for o in out.all("ValidatingAdmissionPolicy")}


def test_the_shipped_baseline_is_the_exports_output() -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["export", "vap"]) == 0
    assert BASELINE.read_text(encoding="utf-8") == out.getvalue(), (
        "files/vap-baseline.yaml is stale: run `trainingjob-guard export vap > "
        "charts/trainingjob-guard/files/vap-baseline.yaml`"
    )


def test_webhook_mode_is_the_default_and_installs_no_policy(chart: helm_python.Chart) -> None:
    out = _render(chart, {})
    assert _policies(out) == set()
    assert {o["kind"] for o in out.objects} >= WEBHOOK_KINDS


def test_vap_mode_installs_the_policies_and_nothing_of_the_webhook(
    chart: helm_python.Chart,
) -> None:
    out = _render(chart, {"mode": "vap"})
    assert not WEBHOOK_KINDS & {o["kind"] for o in out.objects}
    assert {o["kind"] for o in out.objects} == {
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
    assert _policies(out) == {
        "trainingjob-guard.sagemaker.deny",
        "trainingjob-guard.baseline.deny",
        "trainingjob-guard.baseline.warn",
    }
    for item in out.objects:
        kubernetes_validate.validate(item, "1.30.0", strict=True)


def test_both_mode_installs_both(chart: helm_python.Chart) -> None:
    out = _render(chart, {"mode": "both"})
    assert {o["kind"] for o in out.objects} >= WEBHOOK_KINDS
    assert "trainingjob-guard.sagemaker.deny" in _policies(out)


def test_extra_manifests_are_installed_as_given(chart: helm_python.Chart) -> None:
    out = _render(chart, {"mode": "vap", "vap": {"baseline": False, "extraManifests": EXTRA}})
    assert _policies(out) == set()
    binding = out.one("ValidatingAdmissionPolicyBinding")
    assert binding["metadata"]["name"] == "trainingjob-guard.team.deny"


def test_extra_manifests_are_ignored_in_webhook_mode(chart: helm_python.Chart) -> None:
    out = _render(chart, {"vap": {"extraManifests": EXTRA}})
    assert out.all("ValidatingAdmissionPolicyBinding") == []


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"mode": "policies"}, "mode"),
        ({"vap": {"baselines": True}}, "baselines"),
        ({"vap": {"extraManifests": ["x"]}}, "extraManifests"),
    ],
)
def test_schema_rejects(chart: helm_python.Chart, values: Obj, complaint: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)


@pytest.mark.parametrize("mode", ["webhook", "vap", "both"])
def test_lint_is_clean(mode: str) -> None:
    report = helm_python.lint(CHART, {"mode": mode}, strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
