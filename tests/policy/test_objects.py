"""TrainingJobPolicy objects as policies: verdicts, the last good version, unique ids, status."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT
from webhook.policy.crd import Condition
from webhook.policy.load import PolicyError
from webhook.policy.objects import (
    DUPLICATE,
    INVALID,
    LOADED,
    MAX_MESSAGE,
    ObjectPolicies,
    PolicyObject,
    Verdict,
    describe_errors,
    document_of,
    is_reported,
    ready_condition,
    status_of,
)

Obj = dict[str, Any]
NOW = "2025-06-01T12:00:00Z"
EARLIER = "2025-05-01T08:00:00Z"


def _stored(
    name: str = "require-vpc", *, generation: int = 1, uid: str = "uid-1", **extra: Any
) -> Obj:
    """A policy file as the API server returns the object: metadata filled in."""
    obj: Obj = yaml.safe_load((PROJECT / "policies" / name / "policy.yaml").read_text())
    obj["metadata"].update(
        uid=uid,
        generation=generation,
        resourceVersion=str(100 + generation),
        creationTimestamp="2025-01-01T00:00:00Z",
        managedFields=[{"manager": "kubectl", "operation": "Update"}],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    )
    obj.update(extra)
    return obj


def _object(obj: Obj) -> PolicyObject:
    read = PolicyObject.of(obj)
    assert read is not None
    return read


def _broken(obj: Obj) -> Obj:
    """The network rule given an encryption rule's field: the CRD's schema lets it through."""
    broken = copy.deepcopy(obj)
    broken["rules"][0]["requireVolumeKey"] = True
    broken["metadata"]["generation"] += 1
    broken["metadata"]["resourceVersion"] = str(int(broken["metadata"]["resourceVersion"]) + 1)
    return broken


def test_an_object_loads_as_its_file_does() -> None:
    obj = _stored(status={"observedGeneration": 1, "conditions": []})
    [verdict] = ObjectPolicies().update([_object(obj)])
    assert (verdict.ready, verdict.reason) == (True, LOADED)
    assert verdict.message == "version 1.0.0 in force: 3 rules"
    assert verdict.policy is not None
    assert verdict.policy.id == "require-vpc"
    assert verdict.policy.source == "trainingjobpolicy/require-vpc"
    assert [rule.id for rule in verdict.policy.rules] == [
        "require-vpc/vpc",
        "require-vpc/distributed-encryption",
        "require-vpc/network-isolation",
    ]


def test_the_document_leaves_out_status_and_server_metadata() -> None:
    document = document_of(_stored(status={"conditions": []}))
    assert "status" not in document
    assert set(document["metadata"]) == {"name", "annotations"}


def test_a_broken_generation_keeps_the_last_good_one_in_force() -> None:
    objects = ObjectPolicies()
    good = _stored()
    [first] = objects.update([_object(good)])
    [verdict] = objects.update([_object(_broken(good))])
    assert (verdict.ready, verdict.reason) == (False, INVALID)
    assert verdict.message == (
        'rules[0].requireVolumeKey: unknown field "requireVolumeKey"; did you mean '
        '"requireVpc"?; the last good generation, 1 (version 1.0.0), stays in force'
    )
    assert verdict.policy is first.policy
    assert "policy.yaml" not in verdict.message  # no file, no line


def test_a_broken_first_generation_puts_nothing_in_force() -> None:
    [verdict] = ObjectPolicies().update([_object(_broken(_stored()))])
    assert verdict.policy is None
    assert verdict.message.endswith("; nothing of this policy is in force")


def test_a_fixed_generation_replaces_the_last_good_one() -> None:
    objects = ObjectPolicies()
    good = _stored()
    broken = _broken(good)
    objects.update([_object(good)])
    objects.update([_object(broken)])
    fixed = copy.deepcopy(broken)
    del fixed["rules"][0]["requireVolumeKey"]
    fixed["action"] = "warn"
    fixed["metadata"]["generation"] = 3
    [verdict] = objects.update([_object(fixed)])
    assert verdict.ready
    assert verdict.policy is not None
    assert verdict.policy.document.action == "warn"


def test_a_deleted_object_is_forgotten_last_good_version_included() -> None:
    objects = ObjectPolicies()
    good = _stored()
    objects.update([_object(good)])
    assert objects.update([]) == []
    [verdict] = objects.update([_object(_broken(good))])
    assert verdict.policy is None


def test_an_object_created_again_does_not_inherit_the_old_ones_version() -> None:
    objects = ObjectPolicies()
    objects.update([_object(_stored(uid="first"))])
    again = _broken(_stored(uid="second"))
    [verdict] = objects.update([_object(again)])
    assert verdict.policy is None


def test_unchanged_generations_are_not_compiled_again() -> None:
    objects = ObjectPolicies()
    obj = _stored()
    [first] = objects.update([_object(obj)])
    relabelled = copy.deepcopy(obj)
    relabelled["metadata"]["labels"] = {"team": "platform"}  # no new generation
    relabelled["metadata"]["resourceVersion"] = "999"
    [second] = objects.update([_object(relabelled)])
    assert second.policy is first.policy


def test_an_id_the_policy_files_have_is_refused() -> None:
    taken = {"require-vpc": "/policies/require-vpc.yaml"}
    [verdict] = ObjectPolicies().update([_object(_stored())], taken)
    assert (verdict.ready, verdict.reason, verdict.policy) == (False, DUPLICATE, None)
    assert verdict.message.startswith(
        'policy id "require-vpc" is already loaded from /policies/require-vpc.yaml; ids must be '
        "unique"
    )


def test_a_name_that_is_not_the_id_is_refused_at_the_name() -> None:
    obj = _stored()
    obj["metadata"]["name"] = "vpc"
    [verdict] = ObjectPolicies().update([_object(obj)])
    assert verdict.reason == INVALID
    assert verdict.message.startswith('metadata.name: "vpc" is not the policy\'s id "require-vpc"')


def test_several_objects_each_get_a_verdict_in_name_order() -> None:
    broken = _broken(_stored("tenancy"))
    verdicts = ObjectPolicies().update([_object(broken), _object(_stored())])
    assert [(v.object.name, v.reason) for v in verdicts] == [
        ("require-vpc", LOADED),
        ("tenancy", INVALID),
    ]


def test_errors_are_bounded_in_a_message() -> None:
    errors = [
        PolicyError("x", 0, 0, f"rules[{i}].id", "required field is missing") for i in range(30)
    ]
    text = describe_errors(errors)
    assert text.count("required field is missing") == 20
    assert text.endswith("; and 10 more")
    long = [PolicyError("x", 0, 0, "", "m" * 10_000)]
    assert len(describe_errors(long)) == MAX_MESSAGE


@pytest.mark.parametrize("name", [None, "", 5])
def test_something_without_a_name_is_not_an_object(name: Any) -> None:
    assert PolicyObject.of({"metadata": {"name": name}}) is None
    assert PolicyObject.of("not a mapping") is None


# --- the Ready condition -----------------------------------------------------------------------


def _verdict(obj: Obj, ready: bool = True, reason: str = LOADED, message: str = "ok") -> Verdict:
    return Verdict(_object(obj), ready, reason, message, None)


def _ready(status: str, *, generation: int = 1, message: str = "ok", reason: str = LOADED) -> Obj:
    return {
        "type": "Ready",
        "status": status,
        "observedGeneration": generation,
        "lastTransitionTime": EARLIER,
        "reason": reason,
        "message": message,
    }


def test_a_new_condition_starts_now() -> None:
    condition = ready_condition(_verdict(_stored()), NOW)
    assert condition == Condition(
        type="Ready",
        status="True",
        observedGeneration=1,
        lastTransitionTime=NOW,
        reason=LOADED,
        message="ok",
    )


def test_the_transition_time_moves_only_when_the_status_does() -> None:
    obj = _stored(generation=2, status={"conditions": [_ready("True")]})
    same = ready_condition(_verdict(obj, message="version 2 in force"), NOW)
    assert same.lastTransitionTime == EARLIER
    flipped = ready_condition(_verdict(obj, False, INVALID, "broken"), NOW)
    assert flipped.lastTransitionTime == NOW


@pytest.mark.parametrize(
    ("status", "reported"),
    [
        ({"observedGeneration": 1, "conditions": [_ready("True")]}, True),
        ({"observedGeneration": 1, "conditions": [_ready("True", message="old")]}, False),
        ({"observedGeneration": 0, "conditions": [_ready("True")]}, False),
        ({"observedGeneration": 1, "conditions": [_ready("True", generation=0)]}, False),
        ({"observedGeneration": 1, "conditions": [_ready("False")]}, False),
        ({"observedGeneration": 1, "conditions": []}, False),
        (None, False),
    ],
)
def test_is_reported(status: Obj | None, reported: bool) -> None:
    obj = _stored()
    if status is not None:
        obj["status"] = status
    assert is_reported(_verdict(obj)) is reported


def test_the_new_status_keeps_other_conditions() -> None:
    other = {**_ready("True"), "type": "example.com/Audited"}
    obj = _stored(
        generation=3, status={"observedGeneration": 2, "conditions": [other, _ready("True")]}
    )
    status = status_of(_verdict(obj, False, INVALID, "broken"), NOW)
    assert status["observedGeneration"] == 3
    assert status["conditions"] == [
        other,
        {
            "type": "Ready",
            "status": "False",
            "observedGeneration": 3,
            "lastTransitionTime": NOW,
            "reason": INVALID,
            "message": "broken",
        },
    ]
