"""PolicyWatch and StatusWriter against the fake API server, through the real ``kubernetes`` client.

The fake serves ``trainingjobpolicies`` as the CRD declares them: cluster-scoped,
with the status subresource (a write to the object leaves its status alone; a
write to ``/status`` changes nothing else; the generation follows everything but
metadata and status).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from tests.conftest import PROJECT, eventually
from tests.kube.fake_apiserver import DEFAULT_RESOURCES, FakeApiServer
from webhook.kube.policies import PolicyWatch
from webhook.kube.policy_status import StatusWriter
from webhook.policy.model import API_VERSION, KIND
from webhook.policy.objects import INVALID, LOADED, ObjectPolicies, PolicyObject, Verdict

FAST: dict[str, Any] = {"backoff": (0.01, 0.05), "watch_timeout": 5, "absent_retry": 0.05}
POLICIES = "/apis/trainingjob-guard.io/v1alpha1/trainingjobpolicies"

Obj = dict[str, Any]


def policy(name: str) -> Obj:
    data: Obj = yaml.safe_load((PROJECT / "policies" / name / "policy.yaml").read_text())
    return data


class Log:
    """Records the events the watch and the writer log."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        self.lines.append((event, level, fields))

    def events(self) -> list[str]:
        return [event for event, _, _ in self.lines]


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as fake:
        for name in ("tenancy", "require-vpc", "job-naming"):
            fake.create(policy(name))
        yield fake


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def watch(api: ApiClient, log: Log) -> Iterator[PolicyWatch]:
    policies = PolicyWatch(api, page_size=2, instance="guard-0", log=log, **FAST)
    yield policies
    policies.stop()


def started(watch: PolicyWatch, server: FakeApiServer) -> PolicyWatch:
    watch.start()
    assert watch.wait_synced(5)
    assert eventually(lambda: server.watch_count() == 1)
    return watch


def names(watch: PolicyWatch) -> list[str]:
    snapshot = watch.snapshot()
    assert snapshot is not None
    return [item.name for item in snapshot[1]]


def revision(watch: PolicyWatch) -> int:
    snapshot = watch.snapshot()
    assert snapshot is not None
    return snapshot[0]


def stored(server: FakeApiServer, name: str) -> Obj:
    found = server.get(API_VERSION, KIND, name)
    assert found is not None
    return found


# --- list and watch ----------------------------------------------------------------------------


def test_nothing_before_the_first_list(watch: PolicyWatch) -> None:
    assert watch.snapshot() is None
    assert not watch.synced


def test_the_list_is_paginated_and_watched_from_its_version(
    server: FakeApiServer, watch: PolicyWatch
) -> None:
    version = str(server.resource_version)
    started(watch, server)
    assert names(watch) == ["job-naming", "require-vpc", "tenancy"]
    lists = server.requests_to(POLICIES, "GET", watch=False)
    assert [r.query.get("limit") for r in lists] == ["2", "2"]
    [opened] = server.requests_to(POLICIES, "GET", watch=True)
    assert opened.query["resourceVersion"] == version


def test_changes_arrive_through_the_watch(server: FakeApiServer, watch: PolicyWatch) -> None:
    started(watch, server)
    before = revision(watch)
    server.create(policy("secrets"))
    assert eventually(lambda: "secrets" in names(watch))
    edited = stored(server, "tenancy")
    edited["action"] = "warn"
    server.put(edited)
    assert eventually(lambda: _generation(watch, "tenancy") == 2)
    server.delete(API_VERSION, KIND, "require-vpc")
    assert eventually(lambda: names(watch) == ["job-naming", "secrets", "tenancy"])
    assert revision(watch) > before
    assert len(server.requests_to(POLICIES, "GET", watch=False)) == 2  # no relist


def _generation(watch: PolicyWatch, name: str) -> int:
    snapshot = watch.snapshot()
    assert snapshot is not None
    return next((item.generation for item in snapshot[1] if item.name == name), 0)


def test_an_expired_watch_lists_again_at_once(
    server: FakeApiServer, watch: PolicyWatch, log: Log
) -> None:
    started(watch, server)
    server.expire()
    server.delete(API_VERSION, KIND, "job-naming")  # while no watch is open
    assert eventually(lambda: names(watch) == ["require-vpc", "tenancy"])
    assert "cluster-policies-expired" in log.events()
    assert "cluster-policies-watch-failed" not in log.events()


def test_errors_are_retried_and_the_objects_kept(
    server: FakeApiServer, watch: PolicyWatch, log: Log
) -> None:
    started(watch, server)
    server.fail(POLICIES, watch=True, times=3)
    server.close_watches()
    assert eventually(lambda: log.events().count("cluster-policies-watch-failed") == 3)
    assert eventually(lambda: server.watch_count() == 1)
    assert names(watch) == ["job-naming", "require-vpc", "tenancy"]  # kept meanwhile
    server.create(policy("secrets"))
    assert eventually(lambda: "secrets" in names(watch))


def test_forbidden_is_not_synced(server: FakeApiServer, api: ApiClient, log: Log) -> None:
    server.fail(POLICIES, status=403, times=None)
    watch = PolicyWatch(api, log=log, **FAST)
    try:
        watch.start()
        assert not watch.wait_synced(0.3)
        assert watch.snapshot() is None
        [(_, level, fields), *_] = [line for line in log.lines if line[0].endswith("failed")]
        assert level == "warning"
        assert fields["error"].startswith("403")
    finally:
        watch.stop()


def test_without_the_crd_there_are_no_policy_objects(log: Log) -> None:
    resources = [r for r in DEFAULT_RESOURCES if r.kind != KIND]
    with FakeApiServer(resources) as server, server.api_client() as api:
        watch = PolicyWatch(api, log=log, **FAST)
        try:
            watch.start()
            assert watch.wait_synced(5)
            assert watch.snapshot() == (1, [])
            [(_, level, fields)] = [
                line for line in log.lines if line[0] == "cluster-policies-crd-absent"
            ]
            assert level == "warning"
            assert "trainingjobpolicies.trainingjob-guard.io is not served" in fields["error"]
            # The CRD is installed later: its objects are found on the next list.
            server.register(next(r for r in DEFAULT_RESOURCES if r.kind == KIND))
            server.create(policy("tenancy"))
            assert eventually(lambda: names(watch) == ["tenancy"])
        finally:
            watch.stop()


def test_stop_ends_the_threads_and_the_watch(server: FakeApiServer, watch: PolicyWatch) -> None:
    started(watch, server)
    watch.stop()
    assert eventually(lambda: server.watch_count() == 0)


# --- status and events -------------------------------------------------------------------------


def verdicts_of(server: FakeApiServer, *objects: str) -> list[Verdict]:
    """The verdicts on the stored objects, as the server would reach them."""
    found = [PolicyObject.of(stored(server, name)) for name in objects]
    return ObjectPolicies().update([item for item in found if item is not None])


def events(server: FakeApiServer) -> list[tuple[str, str, str, str, int]]:
    return [
        (
            e["involvedObject"]["name"],
            e["type"],
            e["reason"],
            e["message"],
            e["count"],
        )
        for e in server.objects("v1", "Event", "default")
    ]


@pytest.fixture
def writer(api: ApiClient, log: Log) -> Iterator[StatusWriter]:
    status = StatusWriter(api, instance="guard-0", backoff=(0.01, 0.05), log=log)
    status.start()
    yield status
    status.stop()


def test_the_verdict_is_written_to_the_status_with_an_event(
    server: FakeApiServer, writer: StatusWriter
) -> None:
    writer.submit(verdicts_of(server, "tenancy"))
    assert eventually(lambda: "status" in stored(server, "tenancy"))
    obj = stored(server, "tenancy")
    [condition] = obj["status"]["conditions"]
    assert condition["type"] == "Ready"
    assert (condition["status"], condition["reason"]) == ("True", LOADED)
    assert condition["observedGeneration"] == obj["status"]["observedGeneration"] == 1
    assert obj["metadata"]["generation"] == 1  # a status write is no new generation
    assert eventually(lambda: len(events(server)) == 1)
    [event] = server.objects("v1", "Event", "default")
    assert event["involvedObject"] == {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": "tenancy",
        "uid": obj["metadata"]["uid"],
        "resourceVersion": obj["metadata"]["resourceVersion"],
    }
    assert (event["type"], event["reason"]) == ("Normal", LOADED)
    assert (event["source"], event["reportingComponent"], event["reportingInstance"]) == (
        {"component": "trainingjob-guard"},
        "trainingjob-guard",
        "guard-0",
    )
    # Written with the object's resourceVersion as a precondition, to /status only.
    [patch] = server.requests_to(f"{POLICIES}/tenancy/status", "PATCH")
    assert patch.body["metadata"] == {"resourceVersion": "101"}
    assert patch.content_type == "application/merge-patch+json"


def test_a_verdict_already_reported_is_not_written_again(
    server: FakeApiServer, writer: StatusWriter
) -> None:
    writer.submit(verdicts_of(server, "tenancy"))
    assert eventually(lambda: writer.writes == 1)
    writer.submit(verdicts_of(server, "tenancy"))  # the object now says so
    time.sleep(0.1)
    assert writer.writes == 1
    assert len(server.requests_to(f"{POLICIES}/*/status", "PATCH")) == 1


def test_a_verdict_on_a_changed_object_is_dropped(
    server: FakeApiServer, writer: StatusWriter, log: Log
) -> None:
    [stale] = verdicts_of(server, "tenancy")
    edited = stored(server, "tenancy")
    edited["action"] = "warn"
    server.put(edited)  # a user's edit (or another replica's write) came first
    writer.submit([stale])
    assert eventually(lambda: "policy-status-skipped" in log.events())
    assert "status" not in stored(server, "tenancy")
    assert events(server) == []


def test_failed_writes_are_retried(server: FakeApiServer, writer: StatusWriter, log: Log) -> None:
    server.fail(f"{POLICIES}/tenancy/status", times=2)
    writer.submit(verdicts_of(server, "tenancy"))
    assert eventually(lambda: "status" in stored(server, "tenancy"))
    assert log.events().count("policy-status-failed") == 2


def test_a_broken_policy_gets_a_warning_and_a_repeat_is_counted(
    server: FakeApiServer, writer: StatusWriter
) -> None:
    broken = stored(server, "require-vpc")
    broken["rules"][0]["requireVolumeKey"] = True
    server.put(broken)

    def write_and_wait(*objects: str) -> None:
        before = writer.writes
        writer.submit(verdicts_of(server, *objects))
        assert eventually(lambda: writer.writes == before + 1)

    write_and_wait("require-vpc")
    [condition] = stored(server, "require-vpc")["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", INVALID)
    message = (
        'rules[0].requireVolumeKey: unknown field "requireVolumeKey"; did you mean '
        '"requireVpc"?; nothing of this policy is in force'
    )
    assert condition["message"] == message
    assert events(server) == [("require-vpc", "Warning", INVALID, message, 1)]

    # Fixed, then broken the same way again: the same warning, counted, not repeated.
    fixed = copy.deepcopy(broken)
    del fixed["rules"][0]["requireVolumeKey"]
    server.put(fixed)
    write_and_wait("require-vpc")
    server.put(broken)
    write_and_wait("require-vpc")
    assert eventually(lambda: ("require-vpc", "Warning", INVALID, message, 2) in events(server))
    assert sorted(events(server)) == [
        ("require-vpc", "Normal", LOADED, "version 1.0.0 in force: 3 rules", 1),
        ("require-vpc", "Warning", INVALID, message, 2),
    ]
