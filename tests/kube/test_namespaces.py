"""NamespaceLabels against the fake API server, through the real ``kubernetes`` client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.conftest import eventually
from tests.kube.fake_apiserver import FakeApiServer
from webhook.kube.namespaces import NamespaceLabels

FAST: dict[str, Any] = {"backoff": (0.01, 0.05), "watch_timeout": 5, "lookup_timeout": 0.5}
NAMESPACES = "/api/v1/namespaces"


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def expected(name: str, **labels: str) -> dict[str, str]:
    """The labels the API server returns: the ones set, plus kubernetes.io/metadata.name."""
    return {**labels, "kubernetes.io/metadata.name": name}


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as fake:
        fake.create(namespace("team-a", env="prod"))
        fake.create(namespace("team-b", env="dev"))
        fake.create(namespace("team-c"))
        yield fake


@pytest.fixture
def cache(api: ApiClient) -> Iterator[NamespaceLabels]:
    labels = NamespaceLabels(api, page_size=2, **FAST)
    yield labels
    labels.stop()


def started(cache: NamespaceLabels, server: FakeApiServer) -> NamespaceLabels:
    """Start *cache* and wait until it has listed and its watch is open."""
    cache.start()
    assert cache.wait_synced(3)
    assert eventually(lambda: server.watch_count() == 1)
    return cache


def gets(server: FakeApiServer, name: str) -> int:
    return len(server.requests_to(f"{NAMESPACES}/{name}", "GET"))


def test_initial_list_is_paginated_and_answers_from_memory(
    server: FakeApiServer, cache: NamespaceLabels
) -> None:
    started(cache, server)
    assert cache.labels("team-a") == expected("team-a", env="prod")
    assert cache.labels("team-b") == expected("team-b", env="dev")
    assert cache.labels("team-c") == expected("team-c")
    assert gets(server, "*") == 0
    lists = server.requests_to(NAMESPACES, "GET", watch=False)
    assert [r.query.get("limit") for r in lists] == ["2", "2"]
    assert "continue" not in lists[0].query
    assert lists[1].query["continue"]
    (watch,) = server.requests_to(NAMESPACES, "GET", watch=True)
    assert watch.query["resourceVersion"] == str(server.resource_version)
    assert cache.stats().hits == 3
    assert server.writes() == []


def test_returned_labels_are_read_only(server: FakeApiServer, cache: NamespaceLabels) -> None:
    labels = started(cache, server).labels("team-a")
    assert labels is not None
    with pytest.raises(TypeError):
        labels["env"] = "dev"  # type: ignore[index]


def test_label_change_is_seen_through_the_watch(
    server: FakeApiServer, cache: NamespaceLabels
) -> None:
    started(cache, server)
    changed = server.get("v1", "Namespace", "team-a")
    assert changed is not None
    changed["metadata"]["labels"]["env"] = "staging"
    server.put(changed)
    assert eventually(lambda: cache.labels("team-a") == expected("team-a", env="staging"))
    server.delete("v1", "Namespace", "team-b")
    assert eventually(lambda: "team-b" not in cache)
    assert gets(server, "*") == 0


def test_namespace_created_later_arrives_through_the_watch(
    server: FakeApiServer, cache: NamespaceLabels
) -> None:
    started(cache, server)
    server.create(namespace("late", env="prod"))
    assert eventually(lambda: "late" in cache)
    assert cache.labels("late") == expected("late", env="prod")
    assert gets(server, "late") == 0


def test_namespace_not_held_is_fetched_once_and_kept(
    server: FakeApiServer, cache: NamespaceLabels
) -> None:
    # Not started: nothing listed, every namespace is a miss.
    assert cache.labels("team-b") == expected("team-b", env="dev")
    assert cache.labels("team-b") == expected("team-b", env="dev")
    assert gets(server, "team-b") == 1
    assert cache.stats().lookups == 1


def test_fallback_get_when_the_watch_fails(server: FakeApiServer, cache: NamespaceLabels) -> None:
    started(cache, server)
    server.fail(NAMESPACES, status=500, times=None)  # the watch and the lists, not the GETs
    server.close_watches()
    assert eventually(lambda: cache.stats().watch_errors >= 2)  # and it keeps trying
    assert not cache.synced
    server.create(namespace("late", team="x"))
    assert cache.labels("late") == expected("late", team="x")
    assert gets(server, "late") == 1
    # What the lists loaded is still answered (the watch broke less than max_stale ago).
    assert cache.labels("team-a") == expected("team-a", env="prod")
    assert gets(server, "team-a") == 0


def test_watch_recovers_after_errors(server: FakeApiServer, cache: NamespaceLabels) -> None:
    server.fail(NAMESPACES, status=503, watch=True, times=3)
    started(cache, server)
    assert cache.stats().watch_errors == 3
    server.create(namespace("late"))
    assert eventually(lambda: "late" in cache)


def test_expired_watch_relists_at_once(server: FakeApiServer, cache: NamespaceLabels) -> None:
    started(cache, server)
    server.expire()  # compaction: resuming from any resourceVersion seen is 410 Gone
    assert eventually(lambda: cache.stats().relists == 2)
    assert eventually(lambda: server.watch_count() == 1)
    assert cache.stats().watch_errors == 0
    server.create(namespace("late"))
    assert eventually(lambda: "late" in cache)


def test_relist_drops_namespaces_deleted_meanwhile(
    server: FakeApiServer, cache: NamespaceLabels
) -> None:
    assert cache.labels("team-c") == expected("team-c")
    server.delete("v1", "Namespace", "team-c")
    assert "team-c" in cache
    started(cache, server)
    assert "team-c" not in cache
    assert cache.labels("team-c") is None  # 404: not a namespace, nothing to select on


def test_none_when_the_api_server_is_down(server: FakeApiServer, api: ApiClient) -> None:
    server.fail("*", status=503, times=None)
    cache = NamespaceLabels(api, failure_backoff=0.2, **FAST)
    try:
        assert cache.labels("team-a") is None
        # Within the failure backoff, no more requests: the admission path is not held up.
        before = len(server.requests)
        assert cache.labels("team-b") is None
        assert len(server.requests) == before
        assert cache.stats().lookup_failures == 1
        server.clear_faults()
        assert eventually(lambda: cache.labels("team-a") == expected("team-a", env="prod"))
    finally:
        cache.stop()


def test_none_within_the_timeout_when_the_api_server_hangs(
    server: FakeApiServer, api: ApiClient
) -> None:
    server.hang(f"{NAMESPACES}/team-a", seconds=10)
    cache = NamespaceLabels(api, **{**FAST, "lookup_timeout": 0.2})
    try:
        began = time.monotonic()
        assert cache.labels("team-a") is None
        assert time.monotonic() - began < 1.0
        assert gets(server, "team-a") == 1  # no retry of a read that timed out
    finally:
        cache.stop()


def test_stale_entries_are_fetched_again_and_unknown_if_that_fails(
    server: FakeApiServer, api: ApiClient
) -> None:
    cache = NamespaceLabels(api, max_stale=0.0, failure_backoff=0.0, **FAST)
    try:
        started(cache, server)
        server.fail(NAMESPACES, status=500, times=None)  # watch and relists fail
        server.close_watches()
        assert eventually(lambda: not cache.synced)
        # Not trusted any more: a GET, which answers the current labels.
        assert cache.labels("team-a") == expected("team-a", env="prod")
        assert gets(server, "team-a") == 1
        server.fail(f"{NAMESPACES}/*", status=500, times=None)
        assert cache.labels("team-a") is None  # no guess from stale data
    finally:
        cache.stop()


def test_at_most_max_namespaces_are_kept(server: FakeApiServer, api: ApiClient) -> None:
    for index in range(7):
        server.create(namespace(f"ns-{index}", index=str(index)))
    cache = NamespaceLabels(api, max_namespaces=3, page_size=4, **FAST)
    try:
        started(cache, server)
        assert len(cache) == 3
        for index in range(7):
            name = f"ns-{index}"
            assert cache.labels(name) == expected(name, index=str(index))
            assert len(cache) <= 3
        # The most recently used are kept, the rest evicted.
        assert [name in cache for name in ("ns-4", "ns-5", "ns-6")] == [True] * 3
        # New namespaces from the watch never evict the ones in use.
        server.create(namespace("late"))
        server.create(namespace("later"))
        server.put(namespace("ns-5", index="five"))
        assert eventually(lambda: cache.labels("ns-5") == expected("ns-5", index="five"))
        assert [name in cache for name in ("ns-4", "ns-5", "ns-6")] == [True] * 3
        assert "late" not in cache
    finally:
        cache.stop()


def test_stop_ends_the_thread_and_the_watch(server: FakeApiServer, cache: NamespaceLabels) -> None:
    started(cache, server)
    assert cache.running
    began = time.monotonic()
    cache.stop()
    assert not cache.running
    assert time.monotonic() - began < 1.0
    assert eventually(lambda: server.watch_count() == 0)
    with pytest.raises(RuntimeError):
        cache.start()


def test_labels_never_raise(server: FakeApiServer, cache: NamespaceLabels) -> None:
    assert cache("team-b") == expected("team-b", env="dev")  # callable, as the server wants
    assert cache.labels("") is None
    assert cache.labels("no-such-namespace") is None
    server.drop(f"{NAMESPACES}/team-a")
    assert cache.labels("team-a") is None
