"""The exported objects: valid Kubernetes 1.30 objects, with the messages, actions, report and
cost figures a user reads, from the pure core and from ``trainingjob-guard export vap``."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.conftest import PROJECT, write
from tests.export.harness import Request, decide, export_cli, yaml_objects
from webhook.engine import Config
from webhook.export.cost import PER_CALL_LIMIT, RUNTIME_BUDGET
from webhook.export.offline import admission_request, evaluate, namespace_object
from webhook.export.vap import ExportError, export
from webhook.findings import Action
from webhook.policy.load import baseline_policy, load_policies

ALL = sorted(glob.glob(str(PROJECT / "policies" / "*" / "policy.yaml")))


@pytest.fixture(scope="module")
def everything() -> tuple[int, str, str]:
    return export_cli("vap", *(arg for path in ALL for arg in ("--policy", path)))


def test_every_object_is_valid_against_the_kubernetes_1_30_schemas(
    everything: tuple[int, str, str],
) -> None:
    code, out, _ = everything
    assert code == 0
    objects = yaml_objects(out)
    kinds = {item["kind"] for item in objects}
    assert kinds == {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    for item in objects:
        kubernetes_validate.validate(item, "1.30.0", strict=True)


def test_each_policy_has_a_binding_with_its_action(everything: tuple[int, str, str]) -> None:
    objects = yaml_objects(everything[1])
    policies = {o["metadata"]["name"] for o in objects if o["kind"] == "ValidatingAdmissionPolicy"}
    bindings = {
        o["spec"]["policyName"]: o["spec"]["validationActions"]
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicyBinding"
    }
    assert set(bindings) == policies
    assert bindings["trainingjob-guard.sagemaker.deny"] == ["Deny"]
    assert bindings["trainingjob-guard.baseline.warn"] == ["Warn"]
    assert bindings["trainingjob-guard.required-blocks.deny"] == ["Deny"]
    for item in objects:
        if item["kind"] == "ValidatingAdmissionPolicy":
            assert item["spec"]["failurePolicy"] == "Fail"


def test_the_report_names_every_rule_left_to_the_webhook_and_the_costs(
    everything: tuple[int, str, str],
) -> None:
    _, out, err = everything
    for text in (out, err):
        assert "baseline/no-secrets: credential detection" in text
        assert "encryption/key-location: sameAccountAsRole" in text
        assert "hyperparameter-limits/values: keys.epochs: numeric limits" in text
        assert "trusted-images/registries: registries and repositories" in text
        assert "trainingjob-guard.sagemaker.deny: " in text
    assert "org-defaults: its defaults" in err
    header = out.split("\n---\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())


def test_costs_are_within_the_api_servers_limits() -> None:
    exported = export(Config(policies=load_policies(ALL)))
    assert not exported.errors
    for cost in exported.costs:
        assert 0 < cost.highest <= PER_CALL_LIMIT, cost
        assert cost.total <= RUNTIME_BUDGET, cost


def test_strict_fails_when_a_rule_is_left_to_the_webhook() -> None:
    assert export_cli("vap", "--strict")[0] == 1
    assert export_cli("vap", "--strict", "--no-policy")[0] == 0


def test_a_policy_that_does_not_load_is_a_usage_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "p.yaml", "apiVersion: trainingjob-guard.io/v1alpha1\nkind: Nope\n")
    code, out, err = export_cli("vap", "--policy", str(bad))
    assert code == 2
    assert out == ""
    assert "p.yaml" in err


def test_a_relaxed_size_rule_cannot_be_exported() -> None:
    config = Config(actions={"sagemaker.length": Action.WARN})
    with pytest.raises(ExportError, match=r"sagemaker\.length relaxed"):
        export(config)
    code, out, err = export_cli("vap", "--rule-action", "sagemaker.length=warn")
    assert code == 2
    assert out == ""
    assert "sagemaker.length relaxed" in err


def test_a_rule_action_moves_the_rule_to_the_binding_of_that_action() -> None:
    exported = export(
        Config(
            actions={"sagemaker.instance-type": Action.WARN},
            policies=load_policies([baseline_policy()]),
        )
    )
    warn = next(
        o for o in exported.objects if o["metadata"]["name"] == "trainingjob-guard.sagemaker.warn"
    )
    assert (
        "sagemaker.instance-type" in warn["metadata"]["annotations"]["trainingjob-guard.io/rules"]
    )


def _denial(policies: list[str | Path], job: dict[str, Any], namespace: str) -> list[str]:
    exported = export(Config(policies=load_policies(policies)))
    failures = evaluate(
        exported.objects,
        obj=job,
        old=None,
        request=admission_request(job, namespace=namespace, username="alice"),
        namespace=namespace_object(namespace, {}),
    )
    return [f"{failure.action}: {failure.message}" for failure in failures]


def test_messages_name_the_field_and_the_rule() -> None:
    job = yaml.safe_load((PROJECT / "webhook" / "examples" / "training-job.yaml").read_text())
    job["spec"]["resourceConfig"]["instanceType"] = "ml.m5.bogus"
    job["spec"]["roleARN"] = "arn:aws:iam::12345:role/x"
    messages = _denial([], job, "team-a")
    assert any(
        m.startswith("Deny: spec.resourceConfig.instanceType: not one of the 225 values")
        and m.endswith("[sagemaker.instance-type]")
        for m in messages
    ), messages
    assert any(
        m.startswith("Deny: spec.roleARN: is not an IAM role ARN")
        and m.endswith("[sagemaker.pattern]")
        for m in messages
    ), messages


def test_policy_messages_fill_the_namespace() -> None:
    tests = PROJECT / "policies" / "tenancy" / "tests"
    job = yaml.safe_load((tests / "good-team-a.yaml").read_text())
    messages = _denial([PROJECT / "policies" / "tenancy"], job, "team-b")
    assert (
        "Deny: spec.roleARN: not one of the IAM roles allowed in namespace team-b: "
        "arn:aws:iam::123456789012:role/team-b-* [tenancy/roles]"
    ) in messages


def test_cel_rules_read_their_params_from_a_variable() -> None:
    exported = export(Config(policies=load_policies([PROJECT / "policies" / "custom-cel"])))
    deny = next(
        o for o in exported.objects if o["metadata"]["name"] == "trainingjob-guard.custom-cel.deny"
    )
    names = [variable["name"] for variable in deny["spec"]["variables"]]
    assert names == ["fits", "params"]
    assert any(
        "variables.params.maxInstances" in v["expression"] for v in deny["spec"]["validations"]
    )


def test_exemptions_become_match_conditions() -> None:
    tests = PROJECT / "policies" / "exemptions" / "tests"
    config = Config(policies=load_policies([PROJECT / "policies" / "exemptions"]))
    exported = export(config)
    job = yaml.safe_load((tests / "bad-p4d.yaml").read_text())
    admin = decide(Request(job, "team-a", {}, "bob", ("ml-platform-admins",)), config, exported)
    member = decide(Request(job, "team-a", {}, "alice", ("team-a-developers",)), config, exported)
    assert admin is not None
    assert member is not None
    assert admin.vap == frozenset()
    assert ("exemptions/instance-types", Action.DENY) in member.vap
