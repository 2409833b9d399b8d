"""The decision function never fails, whatever the object holds; on UPDATE only the ACK
controller fills in late-initialized fields unchecked."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT, AckData
from webhook.constraints.update import ACK_CONTROLLER_USER, LATE_INITIALIZED
from webhook.engine import Config, Context, review
from webhook.findings import Decision
from webhook.policy.load import load_policies

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**64,
    1.5,
    True,
    "",
    "ä" * 3000,
    "$X",
    [],
    [None],
    {},
    {"k": None},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(obj)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def test_any_value_anywhere_gives_a_decision(job: dict[str, Any], config: Config) -> None:
    checked = 0
    for path in list(_paths(job)):
        for value in ODD_VALUES:
            obj = _replace(job, path, value)
            if not isinstance(obj, dict):
                continue
            decision = review(obj, config=config)
            for finding in decision.findings:
                assert finding.rule
                assert finding.message
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
def test_delete_and_connect_are_allowed_even_for_garbage(operation: str, config: Config) -> None:
    context = Context(operation=operation)  # type: ignore[arg-type]
    assert review({"spec": "garbage"}, context=context, config=config).allowed


def test_an_empty_object_is_denied_with_what_is_missing(config: Config) -> None:
    decision = review({}, config=config)
    assert not decision.allowed
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("crd.required", "apiVersion"),
        ("crd.required", "kind"),
        ("crd.required", "metadata"),
        ("crd.required", "spec"),
    ]


def test_long_values_are_shown_by_their_start_and_end() -> None:
    from webhook.text import show

    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml/" + "x" * 80 + ":latest"
    shown = show(image)
    assert shown.startswith('"123456789012.dkr.ecr.us-east-1')
    assert shown.endswith(f':latest" ({len(image)} chars)')
    assert len(shown) < 120
    assert show("short") == '"short"'


def test_the_fast_path_reports_exactly_what_the_typed_model_does(job: dict[str, Any]) -> None:
    """check_object skips the typed model when the walk finds nothing it would reject;
    over every odd value at every path, the findings equal those of always parsing."""
    from webhook.constraints.check import default_checker
    from webhook.engine import check_object

    checker = default_checker()
    compared = 0
    objects = [
        job,
        {"apiVersion": "v1"},
        {**job, "status": {"conditions": "x"}},
        {**job, "extra": 1},
    ]
    for path in list(_paths(job)):
        for value in ODD_VALUES:
            obj = _replace(job, path, value)
            if isinstance(obj, dict):
                objects.append(obj)
    for obj in objects:
        assert check_object(obj, checker) == check_object(obj, checker, full=True), obj
        compared += 1
    assert compared > 500


# --- UPDATE: late-initialized fields are the controller's to fill in -------------------------

POLICIES = PROJECT / "policies"
ANOTHER_ACCOUNTS_KEY = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SMUGGLED = {
    ("outputDataConfig", "kmsKeyID"): ANOTHER_ACCOUNTS_KEY,
    ("resourceConfig", "instanceCount"): 1000000,
}


@pytest.fixture(scope="module")
def guarded() -> Config:
    """The tenancy and instance-limits policies of the library, as a cluster would run them."""
    return Config(
        policies=load_policies(
            [POLICIES / "tenancy" / "policy.yaml", POLICIES / "instance-limits" / "policy.yaml"]
        )
    )


def running_job() -> dict[str, Any]:
    """A team-a job as stored right after creation: no output key, no instance count yet."""
    job: dict[str, Any] = yaml.safe_load((POLICIES / "tenancy/tests/good-team-a.yaml").read_text())
    job["metadata"].update(uid="6a4e2d1c", resourceVersion="4711", generation=1)
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    del job["spec"]["resourceConfig"]["instanceCount"]
    return job


def smuggled(old: dict[str, Any]) -> dict[str, Any]:
    """*old* with another account's key and a million instances added."""
    new = copy.deepcopy(old)
    for (block, name), value in SMUGGLED.items():
        new["spec"][block][name] = value
    return new


def update_by(user: str | None) -> Context:
    return Context("UPDATE", namespace="team-a", user=user, groups=("team-a-developers",))


def seen(decision: Decision) -> list[tuple[str, str, str]]:
    return sorted((f.rule, f.where, f.action.value) for f in decision.findings)


@pytest.mark.parametrize("user", ["alice", None], ids=["a user", "an unknown user"])
def test_late_initialized_values_added_by_a_user_are_checked_as_on_create(
    guarded: Config, user: str | None
) -> None:
    old = running_job()
    new = smuggled(old)
    created = review(new, context=Context("CREATE", namespace="team-a"), config=guarded)
    assert not created.allowed

    updated = review(new, old=old, context=update_by(user), config=guarded)

    assert not updated.allowed
    immutable = [
        ("update.immutable", "spec.outputDataConfig.kmsKeyID", "deny"),
        ("update.immutable", "spec.resourceConfig.instanceCount", "deny"),
    ]
    assert seen(updated) == sorted([*immutable, *seen(created)])
    # What the CREATE found, the UPDATE finds: the new values, not the stored ones.
    assert ("tenancy/keys", "spec.outputDataConfig.kmsKeyID", "deny") in seen(updated)
    assert ("instance-limits/size", "spec.resourceConfig.instanceCount", "deny") in seen(updated)
    messages = {f.where: f.message for f in updated.findings if f.rule == "update.immutable"}
    assert messages["spec.resourceConfig.instanceCount"].startswith(
        "spec.resourceConfig.instanceCount cannot change after creation (unset -> 1000000): "
        "only the ACK controller fills it in (late initialization"
    )
    size = next(f for f in updated.findings if f.rule == "instance-limits/size")
    assert size.message.startswith("1000000 instances; the policy allows at most 4")


def test_the_same_values_filled_in_by_the_controller_are_allowed(guarded: Config) -> None:
    old = running_job()
    decision = review(
        smuggled(old), old=old, context=update_by(ACK_CONTROLLER_USER), config=guarded
    )
    assert decision.allowed
    assert decision.findings == ()


def test_a_late_initialized_value_reaches_the_built_in_checks(config: Config) -> None:
    old = running_job()
    new = copy.deepcopy(old)
    new["spec"]["outputDataConfig"]["compressionType"] = "BZIP2"

    decision = review(new, old=old, context=update_by("alice"), config=config)

    assert not decision.allowed
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("update.immutable", "spec.outputDataConfig.compressionType"),
        ("sagemaker.enum", "spec.outputDataConfig.compressionType"),
    ]
    assert review(new, old=old, context=update_by(ACK_CONTROLLER_USER), config=config).allowed


@pytest.mark.parametrize("path", sorted(LATE_INITIALIZED), ids=".".join)
def test_each_late_initialized_field_added_by_a_user_is_a_change(
    ack: AckData, config: Config, path: tuple[str, ...]
) -> None:
    old = ack.unit_test_manifest("readone/desired/after_create_inprogress.yaml")
    filled = ack.unit_test_manifest("readone/observed/late_initialize.yaml")
    parent = old
    for step in path[:-1]:
        parent = parent.setdefault(step, {})
    parent.pop(path[-1], None)  # not filled in yet
    new = copy.deepcopy(old)
    source, target = filled, new
    for step in path[:-1]:
        source, target = source[step], target[step]
    target[path[-1]] = source[path[-1]]

    by_user = review(new, old=old, context=update_by("alice"), config=config)
    by_controller = review(new, old=old, context=update_by(ACK_CONTROLLER_USER), config=config)

    assert not by_user.allowed
    assert ("update.immutable", ".".join(path), "deny") in seen(by_user)
    assert (by_controller.allowed, by_controller.findings) == (True, ())


def test_the_controller_late_initializes_a_job_that_breaks_policies_added_since(
    ack: AckData,
) -> None:
    """All of it at once, values from the controller's own late_initialize fixture."""
    policies = load_policies([POLICIES / "instance-limits" / "policy.yaml"])
    config = Config(policies=policies)
    old = ack.unit_test_manifest("readone/desired/after_create_inprogress.yaml")
    filled = ack.unit_test_manifest("readone/observed/late_initialize.yaml")["spec"]
    new = copy.deepcopy(old)
    for path in LATE_INITIALIZED:
        source, target = filled, new["spec"]
        for step in path[1:-1]:
            source, target = source[step], target.setdefault(step, {})
        target[path[-1]] = source[path[-1]]
    assert not review(new, config=config).allowed  # ml.m4.xlarge: not an allowed type

    decision = review(new, old=old, context=update_by(ACK_CONTROLLER_USER), config=config)

    assert (decision.allowed, decision.findings) == (True, ())


def test_a_configured_controller_user_replaces_the_default(guarded: Config) -> None:
    ours = "system:serviceaccount:ml-platform:sagemaker-controller"
    config = Config(policies=guarded.policies, controller_users=frozenset({ours}))
    old = running_job()
    new = smuggled(old)

    assert review(new, old=old, context=update_by(ours), config=config).findings == ()
    default = review(new, old=old, context=update_by(ACK_CONTROLLER_USER), config=config)
    assert not default.allowed
    assert ("update.immutable", "spec.resourceConfig.instanceCount", "deny") in seen(default)


def test_a_group_is_not_an_identity(guarded: Config) -> None:
    old = running_job()
    context = Context("UPDATE", namespace="team-a", user="mallory", groups=(ACK_CONTROLLER_USER,))
    assert not review(smuggled(old), old=old, context=context, config=guarded).allowed


@pytest.mark.parametrize("user", ["alice", None, ACK_CONTROLLER_USER])
def test_metadata_only_update_and_delete_are_allowed_for_anyone(
    guarded: Config, user: str | None
) -> None:
    stored = smuggled(running_job())  # breaks tenancy and instance-limits
    assert not review(stored, context=Context("CREATE", namespace="team-a"), config=guarded).allowed
    relabelled = copy.deepcopy(stored)
    relabelled["metadata"]["labels"] = {"owner": "alice"}
    relabelled["metadata"]["finalizers"] = []  # the controller letting go
    relabelled["metadata"]["resourceVersion"] = "4712"

    update = review(relabelled, old=stored, context=update_by(user), config=guarded)
    delete = Context("DELETE", namespace="team-a", user=user)

    assert (update.allowed, update.findings) == (True, ())
    assert review(stored, old=stored, context=delete, config=guarded) == Decision()


def test_the_default_config_knows_the_ack_controller() -> None:
    assert Config().controller_users == frozenset({ACK_CONTROLLER_USER})
    assert ACK_CONTROLLER_USER == "system:serviceaccount:ack-system:ack-sagemaker-controller"
