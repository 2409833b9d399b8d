"""Leader election on a Lease, with the real client against the fake API server.

Clocks are the replicas' own (a fake monotonic clock each, moved by the test), so
expiry is shown without waiting; the lease objects and the compare-and-swap
conflicts are the API server's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.kube.fake_apiserver import FakeApiServer, Resource
from webhook.kube.lease import LeaderElector, LeaseTiming

LEASES = Resource("coordination.k8s.io/v1", "leases", "Lease", namespaced=True)
TIMING = LeaseTiming(lease_duration=15, renew_deadline=10, retry_period=2)


class Clock:
    """A replica's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer(resources=[LEASES]) as fake:
        yield fake


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[client.ApiClient]:
    for lease in server.objects("coordination.k8s.io/v1", "Lease"):
        server.delete("coordination.k8s.io/v1", "Lease", lease["metadata"]["name"], "guard")
    server.clear_faults()
    with server.api_client() as api:
        yield api


def replica(
    api: client.ApiClient, name: str, changes: list[bool] | None = None
) -> tuple[LeaderElector, Clock]:
    clock = Clock()
    on_change = changes.append if changes is not None else None
    elector = LeaderElector(
        api, "guard", "trainingjob-guard-audit", name, TIMING, clock=clock, on_change=on_change
    )
    return elector, clock


def lease_spec(server: FakeApiServer) -> dict[str, Any]:
    lease = server.get("coordination.k8s.io/v1", "Lease", "trainingjob-guard-audit", "guard")
    assert lease is not None
    spec: dict[str, Any] = lease["spec"]
    return spec


def holder(server: FakeApiServer) -> str:
    return str(lease_spec(server)["holderIdentity"])


def test_the_first_replica_creates_the_lease_and_leads(
    server: FakeApiServer, api: client.ApiClient
) -> None:
    changes: list[bool] = []
    a, _ = replica(api, "pod-a", changes)
    assert a.tick() is True
    assert holder(server) == "pod-a"
    assert lease_spec(server)["leaseDurationSeconds"] == 15
    assert lease_spec(server)["leaseTransitions"] == 0
    assert changes == [True]


def test_a_second_replica_follows_while_the_leader_renews(
    server: FakeApiServer, api: client.ApiClient
) -> None:
    a, a_clock = replica(api, "pod-a")
    b, b_clock = replica(api, "pod-b")
    assert a.tick()
    for _ in range(20):  # 40 s: well past a lease duration, with renewals every 2 s
        a_clock.now += 2
        b_clock.now += 2
        assert a.tick()
        assert not b.tick()
    assert holder(server) == "pod-a"


def test_a_silent_leader_is_replaced_after_the_lease_duration_on_the_follower_clock(
    server: FakeApiServer, api: client.ApiClient
) -> None:
    a_changes: list[bool] = []
    a, a_clock = replica(api, "pod-a", a_changes)
    b, b_clock = replica(api, "pod-b")
    assert a.tick()
    assert not b.tick()  # b sees the record now
    b_clock.now += 14
    assert not b.tick()  # not yet expired on b's clock
    # a, cut off, stops leading at its renew deadline, before b may take over.
    a_clock.now += 10
    assert not a.is_leader()
    b_clock.now += 1
    assert b.tick()
    assert holder(server) == "pod-b"
    assert lease_spec(server)["leaseTransitions"] == 1
    # a comes back: it sees b's renewals and follows.
    a_clock.now += 1
    assert not a.tick()
    assert a_changes == [True]


def test_a_leader_that_cannot_reach_the_api_server_stops_leading_by_its_renew_deadline(
    server: FakeApiServer, api: client.ApiClient
) -> None:
    a, clock = replica(api, "pod-a")
    assert a.tick()
    server.fail("/apis/coordination.k8s.io/v1/*", method="GET", times=None)
    clock.now += 2
    assert a.tick()  # renewed 2 s ago: still leading
    assert "500" in str(a.error)
    clock.now += 8
    assert not a.tick()  # 10 s without a renewal: the renew deadline
    server.clear_faults()
    clock.now += 2
    assert a.tick()  # its own lease: renewed again
    assert a.error is None


def test_of_two_replicas_racing_for_an_expired_lease_one_wins(
    server: FakeApiServer, api: client.ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = replica(api, "pod-a")
    b, b_clock = replica(api, "pod-b")
    c, c_clock = replica(api, "pod-c")
    assert a.tick()
    assert not b.tick()
    assert not c.tick()
    b_clock.now += 15
    c_clock.now += 15
    # c reads the expired record before b writes, and writes after: the API server's
    # compare-and-swap on resourceVersion refuses c's write.
    leases = client.CoordinationV1Api(api)
    stale = leases.read_namespaced_lease("trainingjob-guard-audit", "guard")
    assert b.tick()
    monkeypatch.setattr(c._leases, "read_namespaced_lease", lambda *_args: stale)
    assert not c.tick()
    assert c.error is None  # a lost race is not an error
    assert holder(server) == "pod-b"  # c's write, had it gone through, would say pod-c


def test_a_released_lease_is_taken_at_once(server: FakeApiServer, api: client.ApiClient) -> None:
    a_changes: list[bool] = []
    a, _ = replica(api, "pod-a", a_changes)
    b, _ = replica(api, "pod-b")
    assert a.tick()
    assert not b.tick()
    a.release()
    assert not a.is_leader()
    assert a_changes == [True, False]
    assert holder(server) == ""
    assert b.tick()  # no wait for expiry
    assert holder(server) == "pod-b"


def test_timing_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="retry period < renew deadline < lease duration"):
        LeaseTiming(lease_duration=10, renew_deadline=10, retry_period=2)
