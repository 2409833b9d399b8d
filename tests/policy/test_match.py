"""Which policies apply to a TrainingJob: selectors, scope, exclude and exemptions."""

from __future__ import annotations

from typing import Any

import pytest

from webhook.findings import Action, Finding
from webhook.policy.match import (
    ANNOTATION_IGNORED,
    LABELS_UNKNOWN,
    Applicability,
    PolicyScope,
    selector_matches,
)
from webhook.policy.model import LabelSelector, PolicyDocument
from webhook.policy.subject import Subject
from webhook.request import Context

EXEMPT_ANNOTATION = "guard.example.com/exempt"


def scope(**fields: Any) -> PolicyScope:
    document = PolicyDocument.model_validate(
        {
            "apiVersion": "trainingjob-guard.io/v1alpha1",
            "kind": "TrainingJobPolicy",
            "metadata": {"name": "team-policy"},
            "id": "team-policy",
            **fields,
        }
    )
    return PolicyScope(document.id, document.match, document.exclude, document.exemptions)


def check(policy: PolicyScope, job: dict[str, Any], **context: Any) -> Applicability:
    context.setdefault("namespace", "team-a")
    return policy.check(Subject.of(job, Context(**context)))


def labelled(job: dict[str, Any], **labels: str) -> dict[str, Any]:
    job["metadata"]["labels"] = labels
    return job


def annotated(job: dict[str, Any], **annotations: str) -> dict[str, Any]:
    job["metadata"]["annotations"] = annotations
    return job


# --- selector_matches ----------------------------------------------------------------------------


def selector(
    match_labels: dict[str, str] | None = None, *expressions: tuple[str, str, list[str]]
) -> LabelSelector:
    return LabelSelector.model_validate(
        {
            "matchLabels": match_labels or {},
            "matchExpressions": [
                {"key": key, "operator": operator, "values": values}
                for key, operator, values in expressions
            ],
        }
    )


@pytest.mark.parametrize(
    ("terms", "labels", "expected"),
    [
        (selector(), {}, True),
        (selector(), {"any": "thing"}, True),
        (selector({"tier": "prod"}), {"tier": "prod", "team": "a"}, True),
        (selector({"tier": "prod"}), {"tier": "dev"}, False),
        (selector({"tier": "prod"}), {}, False),
        (selector({"tier": "prod", "team": "a"}), {"tier": "prod"}, False),
        (selector(None, ("tier", "In", ["prod", "staging"])), {"tier": "staging"}, True),
        (selector(None, ("tier", "In", ["prod", "staging"])), {"tier": "dev"}, False),
        (selector(None, ("tier", "In", ["prod"])), {}, False),
        (selector(None, ("tier", "NotIn", ["prod"])), {"tier": "prod"}, False),
        (selector(None, ("tier", "NotIn", ["prod"])), {"tier": "dev"}, True),
        (selector(None, ("tier", "NotIn", ["prod"])), {}, True),  # absent key: matches
        (selector(None, ("tier", "Exists", [])), {"tier": ""}, True),
        (selector(None, ("tier", "Exists", [])), {"team": "a"}, False),
        (selector(None, ("tier", "DoesNotExist", [])), {"team": "a"}, True),
        (selector(None, ("tier", "DoesNotExist", [])), {"tier": "prod"}, False),
        (
            selector({"team": "a"}, ("tier", "In", ["prod"]), ("legacy", "DoesNotExist", [])),
            {"team": "a", "tier": "prod"},
            True,
        ),
        (
            selector({"team": "a"}, ("tier", "In", ["prod"]), ("legacy", "DoesNotExist", [])),
            {"team": "a", "tier": "prod", "legacy": "yes"},
            False,
        ),
    ],
)
def test_selector_matches(terms: LabelSelector, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(terms, labels) is expected


# --- match ---------------------------------------------------------------------------------------


def test_policy_without_match_applies_everywhere(job: dict[str, Any]) -> None:
    assert check(scope(), job) == Applicability(True)
    assert check(scope(), job, namespace="anything") == Applicability(True)


@pytest.mark.parametrize(
    ("namespace", "applies"),
    [("team-a", True), ("team-b", True), ("team-", True), ("prod", False), ("my-team-a", False)],
)
def test_namespace_globs(job: dict[str, Any], namespace: str, applies: bool) -> None:
    policy = scope(match={"namespaces": ["team-*", "shared"]})
    assert check(policy, job, namespace=namespace) == Applicability(applies)


def test_namespace_comes_from_the_object_when_the_request_has_none(job: dict[str, Any]) -> None:
    policy = scope(match={"namespaces": ["team-a"]})
    assert check(policy, job, namespace=None).applies  # metadata.namespace: team-a
    job["metadata"]["namespace"] = "team-b"
    assert not check(policy, job, namespace=None).applies


def test_object_selector_on_the_job_labels(job: dict[str, Any]) -> None:
    policy = scope(match={"objectSelector": {"matchLabels": {"guard": "strict"}}})
    assert not check(policy, job).applies  # no labels at all
    assert check(policy, labelled(job, guard="strict")) == Applicability(True)
    assert not check(policy, labelled(job, guard="lenient")).applies


def test_object_selector_ignores_labels_of_the_wrong_type(job: dict[str, Any]) -> None:
    policy = scope(
        match={"objectSelector": {"matchExpressions": [{"key": "guard", "operator": "Exists"}]}}
    )
    job["metadata"]["labels"] = {"guard": 1}
    assert not check(policy, job).applies
    job["metadata"]["labels"] = ["guard"]
    assert not check(policy, job).applies
    job["metadata"] = "not a mapping"
    assert not check(policy, job).applies


def test_namespace_selector_with_known_labels(job: dict[str, Any]) -> None:
    policy = scope(match={"namespaceSelector": {"matchLabels": {"env": "prod"}}})
    assert check(policy, job, namespace_labels={"env": "prod"}) == Applicability(True)
    assert check(policy, job, namespace_labels={"env": "dev"}) == Applicability(False)
    assert check(policy, job, namespace_labels={}) == Applicability(False)


def test_namespace_selector_with_unknown_labels_applies_and_warns(job: dict[str, Any]) -> None:
    policy = scope(match={"namespaceSelector": {"matchLabels": {"env": "prod"}}})
    result = check(policy, job)
    assert result.applies
    assert result.notes == (
        Finding(
            LABELS_UNKNOWN,
            ("metadata", "namespace"),
            "the labels of namespace team-a are not known, so policy team-policy was applied "
            "without its match namespaceSelector",
            Action.WARN,
        ),
    )


def test_unknown_labels_do_not_matter_when_the_namespace_does_not_match(
    job: dict[str, Any],
) -> None:
    policy = scope(
        match={"namespaces": ["team-*"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}
    )
    assert check(policy, job, namespace="prod") == Applicability(False)


def test_every_match_term_must_hold(job: dict[str, Any]) -> None:
    policy = scope(
        match={
            "namespaces": ["team-*"],
            "objectSelector": {"matchLabels": {"guard": "strict"}},
            "namespaceSelector": {"matchLabels": {"env": "prod"}},
        }
    )
    labelled(job, guard="strict")
    assert check(policy, job, namespace_labels={"env": "prod"}).applies
    assert not check(policy, job, namespace="other", namespace_labels={"env": "prod"}).applies
    assert not check(policy, job, namespace_labels={"env": "dev"}).applies
    assert not check(policy, labelled(job), namespace_labels={"env": "prod"}).applies


# --- exclude -------------------------------------------------------------------------------------


def test_exclude_by_namespace(job: dict[str, Any]) -> None:
    policy = scope(match={"namespaces": ["team-*"]}, exclude={"namespaces": ["team-sandbox"]})
    assert check(policy, job).applies
    assert check(policy, job, namespace="team-sandbox") == Applicability(False)


def test_exclude_by_object_labels(job: dict[str, Any]) -> None:
    policy = scope(exclude={"objectSelector": {"matchLabels": {"guard": "off"}}})
    assert check(policy, job).applies
    assert not check(policy, labelled(job, guard="off")).applies


def test_exclude_by_namespace_labels(job: dict[str, Any]) -> None:
    policy = scope(exclude={"namespaceSelector": {"matchLabels": {"env": "dev"}}})
    assert check(policy, job, namespace_labels={"env": "dev"}) == Applicability(False)
    assert check(policy, job, namespace_labels={"env": "prod"}) == Applicability(True)


def test_exclude_with_unknown_labels_applies_and_warns(job: dict[str, Any]) -> None:
    policy = scope(exclude={"namespaceSelector": {"matchLabels": {"env": "dev"}}})
    result = check(policy, job)
    assert result.applies
    (note,) = result.notes
    assert (note.rule, note.action) == (LABELS_UNKNOWN, Action.WARN)
    assert note.message == (
        "the labels of namespace team-a are not known, so policy team-policy was applied "
        "without its exclude namespaceSelector"
    )


def test_exclude_that_matches_regardless_of_labels_drops_the_policy_silently(
    job: dict[str, Any],
) -> None:
    policy = scope(
        match={"namespaceSelector": {"matchLabels": {"env": "prod"}}},
        exclude={"namespaces": ["team-a"]},
    )
    assert check(policy, job) == Applicability(False)


# --- exemptions ----------------------------------------------------------------------------------


def test_exempt_user(job: dict[str, Any]) -> None:
    policy = scope(exemptions={"users": ["system:serviceaccount:ops:deployer"]})
    assert check(policy, job, user="system:serviceaccount:ops:deployer") == Applicability(False)
    assert check(policy, job, user="alice") == Applicability(True)
    assert check(policy, job) == Applicability(True)


def test_exempt_group(job: dict[str, Any]) -> None:
    policy = scope(exemptions={"groups": ["platform-admins"]})
    assert not check(policy, job, user="bob", groups=("devs", "platform-admins")).applies
    assert check(policy, job, user="alice", groups=("devs",)).applies
    assert check(policy, job).applies


def test_exempt_namespace_glob(job: dict[str, Any]) -> None:
    policy = scope(exemptions={"namespaces": ["kube-*", "ops"]})
    assert not check(policy, job, namespace="kube-system").applies
    assert not check(policy, job, namespace="ops").applies
    assert check(policy, job, namespace="team-a").applies


def exempting_policy() -> PolicyScope:
    return scope(
        exemptions={"annotation": {"annotation": EXEMPT_ANNOTATION, "groups": ["platform", "sre"]}}
    )


def test_annotation_exempts_when_set_by_an_allowed_group(job: dict[str, Any]) -> None:
    annotated(job, **{EXEMPT_ANNOTATION: "INC-1234"})
    result = check(exempting_policy(), job, user="carol", groups=("sre",))
    assert result == Applicability(False)


def test_annotation_from_anyone_else_is_ignored_with_a_warning(job: dict[str, Any]) -> None:
    annotated(job, **{EXEMPT_ANNOTATION: "trust me"})
    result = check(exempting_policy(), job, user="mallory", groups=("devs",))
    assert result.applies
    assert result.notes == (
        Finding(
            ANNOTATION_IGNORED,
            ("metadata", "annotations", EXEMPT_ANNOTATION),
            f"annotation {EXEMPT_ANNOTATION} does not exempt this job from policy team-policy: "
            "only members of platform, sre may use it",
            Action.WARN,
        ),
    )


def test_annotation_alone_never_exempts(job: dict[str, Any]) -> None:
    annotated(job, **{EXEMPT_ANNOTATION: "true"})
    result = check(exempting_policy(), job)  # no user, no groups (a CI run)
    assert result.applies
    assert [note.rule for note in result.notes] == [ANNOTATION_IGNORED]


def test_group_without_the_annotation_does_not_exempt(job: dict[str, Any]) -> None:
    assert check(exempting_policy(), job, groups=("sre",)) == Applicability(True)
    annotated(job, other="x")
    assert check(exempting_policy(), job, groups=("sre",)) == Applicability(True)


def test_annotations_of_the_wrong_type_do_not_exempt(job: dict[str, Any]) -> None:
    job["metadata"]["annotations"] = [EXEMPT_ANNOTATION]
    assert check(exempting_policy(), job, groups=("sre",)) == Applicability(True)
    job["metadata"] = None
    assert check(exempting_policy(), job, groups=("sre",)) == Applicability(True)


def test_exempt_request_gets_no_note_claiming_the_policy_was_applied(
    job: dict[str, Any],
) -> None:
    policy = scope(
        match={"namespaceSelector": {"matchLabels": {"env": "prod"}}},
        exemptions={"users": ["alice"]},
    )
    result = check(policy, job, user="alice")
    assert not result.applies
    assert result.notes == ()
