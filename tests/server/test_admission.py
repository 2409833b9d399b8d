"""The pure AdmissionReview handlers: what the API server and the user get back."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from tests.conftest import EXAMPLES, baseline_config
from webhook.findings import Action, Finding
from webhook.server import admission
from webhook.server.wire import AdmissionRequest, parse_request

REVIEW: dict[str, Any] = json.loads((EXAMPLES / "admission-review.json").read_text())


def request_of(obj: dict[str, Any], operation: str = "CREATE", **extra: Any) -> AdmissionRequest:
    data = copy.deepcopy(REVIEW)
    data["request"].update(object=obj, operation=operation, **extra)
    return parse_request(data)


def test_the_bundled_review_holds_the_invalid_example() -> None:
    import yaml

    assert REVIEW["request"]["object"] == yaml.safe_load(
        (EXAMPLES / "training-job-invalid.yaml").read_text()
    )


def test_a_denied_create_lists_every_violation_with_its_path(job: dict[str, Any]) -> None:
    job["spec"]["trainingJobName"] = "bad_name"
    job["spec"]["resourceConfig"]["instanceType"] = "ml.t2.medium"
    answer = admission.validate(request_of(job), baseline_config(mutate=False))
    assert (answer.allowed, answer.decision, answer.code) == (False, "denied", 403)
    lines = answer.message.splitlines()
    assert lines[0] == "TrainingJob team-a/churn-xgboost-broken has 2 violations:"
    assert lines[1].startswith('- spec.trainingJobName: "bad_name" is not 1-63 letters')
    assert lines[1].endswith("[sagemaker.pattern]")
    assert lines[2].startswith('- spec.resourceConfig.instanceType: "ml.t2.medium" is not')
    body = json.loads(admission.response("u-1", answer))
    assert body["apiVersion"] == "admission.k8s.io/v1"
    assert body["response"]["uid"] == "u-1"
    assert body["response"]["allowed"] is False
    assert body["response"]["status"] == {
        "code": 403,
        "reason": "Forbidden",
        "message": answer.message,
    }


def test_a_warned_create_is_allowed_with_warnings(job: dict[str, Any]) -> None:
    job["spec"]["algorithmSpecification"]["trainingImage"] = (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:latest"
    )
    answer = admission.validate(request_of(job), baseline_config(mutate=False))
    assert (answer.allowed, answer.decision) == (True, "warned")
    [warning] = answer.warnings
    assert warning.startswith("spec.algorithmSpecification.trainingImage: ")
    assert warning.endswith("[baseline/pinned-images]")
    body = json.loads(admission.response("u-2", answer))["response"]
    assert body == {"uid": "u-2", "allowed": True, "warnings": [warning]}


@pytest.mark.parametrize("uid", ["u-4", 'quote " and \\ backslash', "\u00e9t\u00e9 \u2603"])
def test_an_allowed_answer_is_an_admission_review_with_the_uid_as_sent(uid: str) -> None:
    body = json.loads(admission.response(uid, admission.ALLOWED))
    assert body == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": uid, "allowed": True},
    }


def test_mutate_returns_the_defaults_as_a_base64_json_patch() -> None:
    answer = admission.mutate(
        request_of(copy.deepcopy(REVIEW["request"]["object"])), baseline_config(mutate=False)
    )
    assert (answer.allowed, answer.decision) == (True, "allowed")
    body = json.loads(admission.response("u-3", answer))["response"]
    assert body["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(body["patch"])) == [
        {"op": "replace", "path": "/spec/hyperParameters/max_depth", "value": "5"}
    ]


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE", "CONNECT"])
def test_mutate_leaves_other_operations_alone(operation: str, job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"]["max_depth"] = 5
    extra = {"oldObject": job} if operation == "UPDATE" else {}
    answer = admission.mutate(request_of(job, operation, **extra), baseline_config(mutate=False))
    assert (answer.allowed, answer.patch) == (True, ())


def test_other_kinds_and_the_status_subresource_are_allowed(job: dict[str, Any]) -> None:
    pod = request_of(
        {"apiVersion": "v1", "kind": "Pod"}, kind={"group": "", "version": "v1", "kind": "Pod"}
    )
    assert admission.validate(pod, baseline_config(mutate=False)).decision == "ignored"
    job["spec"]["trainingJobName"] = "bad_name"
    status = request_of(job, subResource="status")
    assert admission.validate(status, baseline_config(mutate=False)).allowed


def test_update_and_delete_follow_the_engine(job: dict[str, Any]) -> None:
    old = copy.deepcopy(job)
    job["spec"]["resourceConfig"]["instanceType"] = "ml.m5.2xlarge"
    answer = admission.validate(
        request_of(job, "UPDATE", oldObject=old), baseline_config(mutate=False)
    )
    assert not answer.allowed
    assert "update.immutable" in answer.message
    assert admission.validate(
        request_of(job, "DELETE", oldObject=old), baseline_config(mutate=False)
    ).allowed


def test_a_missing_object_is_a_deliberate_error() -> None:
    data = copy.deepcopy(REVIEW)
    data["request"]["object"] = None
    answer = admission.validate(parse_request(data), baseline_config(mutate=False))
    assert (answer.allowed, answer.code, answer.message) == (
        False,
        400,
        "request.object is missing on CREATE",
    )


def test_warnings_stay_within_the_api_server_limits() -> None:
    findings = [
        Finding(f"policy/rule-{i}", ("spec", "tags", i), "x" * 400, Action.WARN) for i in range(40)
    ]
    warnings = admission.fit_warnings(findings)
    assert all(len(w) <= admission.WARNING_CHARS for w in warnings)
    assert sum(len(w) for w in warnings) <= admission.WARNINGS_TOTAL_CHARS
    assert warnings[-1].startswith("... and ")
    assert warnings[0].endswith("...")
