"""ListWatch against the fake API server, through the real ``kubernetes`` client.

A view of ConfigMaps (name -> data) and of TrainingJobs (a custom resource: the
list call takes group, version and plural) is kept by the generic list and watch;
the tests change the objects, break the API server in the ways a real one breaks,
and look at what the callbacks were given, the requests sent and the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi

from tests.conftest import eventually
from tests.kube.fake_apiserver import DEFAULT_RESOURCES, FakeApiServer, RecordedRequest
from webhook.kube.client import derived_client
from webhook.kube.watch import EventType, ListWatch

CONFIGMAPS = "/api/v1/configmaps"
TRAINING_JOBS = "/apis/sagemaker.services.k8s.aws/v1alpha1/trainingjobs"
FAST = (0.01, 0.05)

Item = tuple[str, str]
"""namespace/name and the ``data.v`` of a ConfigMap."""


def configmap(name: str, value: str, namespace: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"v": value},
    }


def read(obj: Any) -> Item | None:
    metadata = obj.get("metadata") or {}
    if metadata.get("labels", {}).get("skip") == "yes":
        return None
    return f"{metadata['namespace']}/{metadata['name']}", (obj.get("data") or {}).get("v", "")


class View:
    """What the callbacks were told, and the log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, str] = {}
        self.lists: list[tuple[list[str], str]] = []
        self.events: list[tuple[EventType, str, str]] = []
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        self.times: list[tuple[str, float]] = []
        """When each list was handed over and each line logged (monotonic clock)."""
        self.absent = 0
        self.fail_next_event = False

    def on_list(self, items: list[Item], version: str) -> None:
        with self.lock:
            self.items = dict(items)
            self.lists.append(([key for key, _ in items], version))
            self.times.append(("list", time.monotonic()))

    def on_event(self, kind: EventType, item: Item) -> None:
        if self.fail_next_event:
            self.fail_next_event = False
            raise ValueError("the view could not take it")
        key, value = item
        with self.lock:
            self.events.append((kind, key, value))
            if kind == "DELETED":
                self.items.pop(key, None)
            else:
                self.items[key] = value

    def on_absent(self) -> None:
        with self.lock:
            self.items = {}
            self.absent += 1

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        with self.lock:
            self.log.append((event, level, fields))
            self.times.append((event, time.monotonic()))

    def logged(self, event: str) -> list[dict[str, Any]]:
        with self.lock:
            return [fields for name, _, fields in self.log if name == event]

    def when(self, event: str) -> list[float]:
        with self.lock:
            return [at for name, at in self.times if name == event]


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as fake:
        for name, value in (("a", "1"), ("b", "2"), ("c", "3")):
            fake.create(configmap(name, value))
        yield fake


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[ApiClient]:
    with server.api_client() as client, derived_client(client) as derived:
        yield derived


@pytest.fixture
def view() -> View:
    return View()


def configmaps(
    api: ApiClient, view: View, *, backoff: tuple[float, float] = FAST, **options: Any
) -> ListWatch[Item]:
    return ListWatch[Item](
        CoreV1Api(api).list_config_map_for_all_namespaces,
        name="configmaps",
        read=read,
        on_list=view.on_list,
        on_event=view.on_event,
        backoff=backoff,
        log=view,
        **{"page_size": 2, "watch_timeout": 5, **options},
    )


@pytest.fixture
def lists(api: ApiClient, view: View) -> Iterator[ListWatch[Item]]:
    watch = configmaps(api, view)
    yield watch
    watch.stop()


def started(lists: ListWatch[Item], server: FakeApiServer, watches: int = 1) -> ListWatch[Item]:
    lists.start()
    assert lists.wait_synced(5)
    assert eventually(lambda: server.watch_count() == watches)
    return lists


def watches(server: FakeApiServer, path: str = CONFIGMAPS) -> list[RecordedRequest]:
    return server.requests_to(path, "GET", watch=True)


def list_pages(server: FakeApiServer, path: str = CONFIGMAPS) -> list[RecordedRequest]:
    return server.requests_to(path, "GET", watch=False)


# --- list, then watch ----------------------------------------------------------------------------


def test_a_paginated_list_is_handed_over_whole_then_watched_from_its_version(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    version = str(server.resource_version)
    assert not lists.synced
    started(lists, server)
    assert view.lists == [(["team-a/a", "team-a/b", "team-a/c"], version)]
    pages = list_pages(server)
    assert [page.query.get("limit") for page in pages] == ["2", "2"]
    assert pages[1].query["continue"]
    [opened] = watches(server)
    assert opened.query["resourceVersion"] == version
    assert opened.query["allowWatchBookmarks"] == "true"
    assert opened.query["timeoutSeconds"] == "5"
    assert (lists.lists, lists.errors) == (1, 0)
    assert server.writes() == []


def test_changes_arrive_as_events_read_first(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    server.create(configmap("d", "4", namespace="team-b"))
    server.put(configmap("a", "10"))
    server.delete("v1", "ConfigMap", "b", "team-a")
    skipped = configmap("e", "5")
    skipped["metadata"]["labels"] = {"skip": "yes"}  # read() says None: not handed over
    server.create(skipped)
    server.put(configmap("c", "30"))
    assert eventually(lambda: len(view.events) == 4)
    assert view.events == [
        ("ADDED", "team-b/d", "4"),
        ("MODIFIED", "team-a/a", "10"),
        ("DELETED", "team-a/b", "2"),
        ("MODIFIED", "team-a/c", "30"),
    ]
    assert view.items == {"team-a/a": "10", "team-a/c": "30", "team-b/d": "4"}
    assert len(list_pages(server)) == 2  # no list again


def test_a_closed_watch_resumes_from_the_last_version_seen(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    changed = server.put(configmap("a", "10"))
    assert eventually(lambda: len(view.events) == 1)
    server.close_watches()  # a timeout, an API server restart
    assert eventually(lambda: len(watches(server)) == 2)
    assert watches(server)[1].query["resourceVersion"] == changed["metadata"]["resourceVersion"]
    assert lists.lists == 1
    assert lists.synced


def test_a_bookmark_moves_the_version_and_is_no_event(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    heard = lists.heard_at
    server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}})
    latest = str(server.resource_version)  # no ConfigMap changed up to there
    server.bookmark()
    assert eventually(lambda: lists.heard_at > heard)
    server.close_watches()
    assert eventually(lambda: len(watches(server)) == 2)
    assert watches(server)[1].query["resourceVersion"] == latest
    assert view.events == []


def test_gone_lists_again_at_once(server: FakeApiServer, api: ApiClient, view: View) -> None:
    lists = configmaps(api, view, backoff=(30.0, 30.0))  # a pause would be seen
    try:
        started(lists, server)
        server.expire()  # compaction: every version handed out is too old now
        server.delete("v1", "ConfigMap", "a", "team-a")  # while no watch is open
        assert eventually(lambda: len(view.lists) == 2)
        assert view.lists[1][0] == ["team-a/b", "team-a/c"]
        assert view.items == {"team-a/b": "2", "team-a/c": "3"}
        assert eventually(lambda: server.watch_count() == 1)
        assert (lists.lists, lists.errors) == (2, 0)
        assert len(view.logged("configmaps-expired")) == 1
        assert view.logged("configmaps-watch-failed") == []
    finally:
        lists.stop()


def test_gone_twice_in_a_row_is_an_error(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    server.fail(CONFIGMAPS, status=410, watch=True, times=2)
    server.close_watches()
    assert eventually(lambda: len(view.logged("configmaps-watch-failed")) == 1)
    [failed] = view.logged("configmaps-watch-failed")
    assert failed["error"].startswith("410")
    assert len(view.logged("configmaps-expired")) == 1
    assert eventually(lambda: server.watch_count() == 1)  # and it recovers
    assert lists.errors == 0  # 410 is never counted as an error


def test_errors_back_off_exponentially_until_a_list_succeeds(
    server: FakeApiServer, api: ApiClient, view: View
) -> None:
    server.fail(CONFIGMAPS, status=503, watch=False, times=4)
    lists = configmaps(api, view, backoff=(0.1, 0.4))
    try:
        started(lists, server)
        failed = view.when("configmaps-watch-failed")
        tries = [*failed, *view.when("list")]
        assert len(tries) == 5
        # Pauses of 0.1, 0.2, 0.4 and 0.4 s (the longest), each with up to 20 % jitter.
        for earlier, later, pause in zip(tries, tries[1:], (0.1, 0.2, 0.4, 0.4), strict=False):
            assert later - earlier >= pause * 0.8
        assert lists.errors == 4
        errors = [fields["error"] for fields in view.logged("configmaps-watch-failed")]
        assert [error.split(":")[0] for error in errors] == ["503 Service Unavailable"] * 4
        # A complete list resets the backoff: the next failure waits the first pause again.
        server.fail(CONFIGMAPS, status=500, watch=True, times=1)
        server.close_watches()
        assert eventually(lambda: len(view.lists) == 2)
        again = view.when("configmaps-watch-failed")[-1]
        assert 0.08 <= view.when("list")[-1] - again < 0.3
    finally:
        lists.stop()


def test_not_synced_while_the_list_fails(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    server.fail(CONFIGMAPS, status=403, times=None)
    server.close_watches()
    assert eventually(lambda: not lists.synced)
    assert not lists.wait_synced(0.2)
    assert view.items  # the view keeps what it had: its owner decides what that means
    server.clear_faults()
    assert lists.wait_synced(5)


def test_a_dropped_connection_is_retried(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    server.drop(CONFIGMAPS, watch=False, times=1)
    started(lists, server)
    [failed] = view.logged("configmaps-watch-failed")
    assert failed["error"]
    assert lists.errors == 1
    assert view.lists[-1][0] == ["team-a/a", "team-a/b", "team-a/c"]


def test_a_failing_callback_is_logged_and_the_view_listed_again(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    view.fail_next_event = True
    server.put(configmap("a", "10"))
    assert eventually(lambda: len(view.lists) == 2)
    [failed] = view.logged("configmaps-watch-failed")
    assert failed["error"] == "ValueError: the view could not take it"
    assert view.items["team-a/a"] == "10"  # the relist brought what the event could not


def test_a_hanging_list_is_waited_for(server: FakeApiServer, lists: ListWatch[Item]) -> None:
    server.hang(CONFIGMAPS, seconds=0.3, watch=False, times=1)
    lists.start()
    assert not lists.wait_synced(0.1)
    assert lists.wait_synced(5)
    assert lists.errors == 0


# --- a custom resource, and one that is not served ----------------------------------------------


def test_a_custom_resource_is_listed_with_its_arguments(
    server: FakeApiServer, api: ApiClient, job: dict[str, Any], view: View
) -> None:
    job = {**job, "metadata": {"name": "churn", "namespace": "team-a"}}
    server.create(job)
    lists = ListWatch[str](
        CustomObjectsApi(api).list_cluster_custom_object,
        ("sagemaker.services.k8s.aws", "v1alpha1", "trainingjobs"),
        name="jobs",
        read=lambda obj: obj["metadata"]["name"],
        on_list=lambda items, _: view.lists.append((items, "")),
        on_event=lambda kind, name: view.events.append((kind, name, "")),
        backoff=FAST,
    )
    with lists:
        assert lists.wait_synced(5)
        assert eventually(lambda: server.watch_count() == 1)
        server.delete(job["apiVersion"], job["kind"], "churn", "team-a")
        assert eventually(lambda: view.events == [("DELETED", "churn", "")])
    assert view.lists == [(["churn"], "")]
    assert len(list_pages(server, TRAINING_JOBS)) == 1
    assert len(watches(server, TRAINING_JOBS)) == 1


def test_a_resource_not_served_is_absent_and_listed_again(view: View) -> None:
    resources = [r for r in DEFAULT_RESOURCES if r.kind != "ConfigMap"]
    with FakeApiServer(resources) as server, server.api_client() as api:
        lists = configmaps(api, view, on_absent=view.on_absent, absent_retry=0.05)
        try:
            lists.start()
            assert lists.wait_synced(5)  # "none" is a complete answer
            assert view.absent >= 1
            assert view.lists == []
            assert view.logged("configmaps-watch-failed") == []
            server.register(next(r for r in DEFAULT_RESOURCES if r.kind == "ConfigMap"))
            server.create(configmap("a", "1"))
            assert eventually(lambda: view.lists != [])
            assert view.lists[0][0] == ["team-a/a"]
            assert eventually(lambda: server.watch_count() == 1)
        finally:
            lists.stop()


def test_without_on_absent_not_served_is_an_error(view: View) -> None:
    resources = [r for r in DEFAULT_RESOURCES if r.kind != "ConfigMap"]
    with FakeApiServer(resources) as server, server.api_client() as api:
        lists = configmaps(api, view)
        try:
            lists.start()
            assert not lists.wait_synced(0.2)
            assert view.logged("configmaps-watch-failed")[0]["error"].startswith("404")
        finally:
            lists.stop()


# --- stop ---------------------------------------------------------------------------------------


def test_stop_closes_the_open_watch_at_once_and_hands_nothing_over_after(
    server: FakeApiServer, lists: ListWatch[Item], view: View
) -> None:
    started(lists, server)
    assert lists.running
    stopper = threading.Thread(target=lists.stop)  # from another thread, as a server does
    began = time.monotonic()
    stopper.start()
    stopper.join(5)
    assert time.monotonic() - began < 1.0
    assert not lists.running
    assert eventually(lambda: server.watch_count() == 0)
    server.put(configmap("a", "10"))
    time.sleep(0.05)
    assert view.events == []
    began = time.monotonic()
    lists.wait_synced(5)  # no waiting on a stopped one
    assert time.monotonic() - began < 0.5
    with pytest.raises(RuntimeError, match="configmaps"):
        lists.start()


def test_stop_during_the_backoff_returns_at_once(
    server: FakeApiServer, api: ApiClient, view: View
) -> None:
    server.fail(CONFIGMAPS, times=None)
    lists = configmaps(api, view, backoff=(30.0, 30.0))
    lists.start()
    assert eventually(lambda: lists.errors == 1)
    began = time.monotonic()
    lists.stop()
    assert time.monotonic() - began < 1.0
    assert not lists.running
