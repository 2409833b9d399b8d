"""Leader election on a ``coordination.k8s.io/v1`` Lease, as Kubernetes controllers do it.

Every replica serves admission requests; only one at a time does the work that
writes to the cluster (the continuous audit). The replicas agree on which one
through a Lease object: its holder renews it every ``retry_period``; another
replica takes it over only when it has seen no renewal for ``lease_duration``.

The rules are client-go's (``k8s.io/client-go/tools/leaderelection``):

* Expiry is judged on this replica's own clock, from when it last *saw* the lease
  record change, never from the ``renewTime`` written by another replica's clock:
  clocks of two machines need not agree.
* Every write is a compare-and-swap on ``metadata.resourceVersion``: of two
  replicas that both see the lease expire, one write wins and the other gets
  ``409 Conflict`` and stays a follower.
* A leader that cannot renew for ``renew_deadline`` (shorter than
  ``lease_duration``) stops being leader on its own, before any other replica may
  take over, so two replicas never both believe they lead, whatever the network
  does. :meth:`LeaderElector.is_leader` is asked before every write.
* On a clean stop the leader gives the lease up (empty holder), so the next
  replica need not wait for it to expire.

:meth:`LeaderElector.tick` does one round (get, then create or update) and is
called every ``retry_period`` by whoever owns the loop (a thread; the calls block).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from webhook.kube.client import error_message, status_code


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """How long a lease lasts without renewal, how long a leader keeps trying, how often."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "leader election needs 0 < retry period < renew deadline < lease duration"
            )


class LeaderElector:
    """One replica's view of the Lease *namespace*/*name*, as *identity*."""

    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        name: str,
        identity: str,
        timing: LeaseTiming | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._leases = client.CoordinationV1Api(api)
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing or LeaseTiming()
        self._clock = clock
        self._on_change = on_change
        self._observed: tuple[Any, ...] | None = None
        """The lease record last seen (holder, renew time, transitions)."""
        self._observed_at = 0.0
        """When it was seen to change, on this replica's clock."""
        self._renewed_at: float | None = None
        """When this replica last renewed its own lease (None: it does not hold it)."""
        self.error: str | None = None
        """What went wrong in the last round, if anything."""

    def is_leader(self) -> bool:
        """True while this replica holds the lease and renewed it within the renew deadline."""
        renewed = self._renewed_at
        return renewed is not None and self._clock() - renewed < self.timing.renew_deadline

    def tick(self) -> bool:
        """One round: take the lease if it is free or expired, renew it if held; is_leader()."""
        was = self.is_leader()
        try:
            self._round()
            self.error = None
        except Exception as error:  # the API server or the network: the next round tries again
            self.error = f"lease {self.namespace}/{self.name}: {error_message(error)}"
        now = self.is_leader()
        if now != was and self._on_change is not None:
            self._on_change(now)
        return now

    def release(self) -> None:
        """Give the lease up if held (a clean stop): the next replica takes over at once."""
        if self._renewed_at is None:
            return
        self._renewed_at = None
        try:
            lease = self._leases.read_namespaced_lease(self.name, self.namespace)
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = ""
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time = _now()
            self._leases.replace_namespaced_lease(self.name, self.namespace, lease)
        except Exception as error:  # the lease expires on its own
            self.error = f"lease {self.namespace}/{self.name} not released: {error_message(error)}"
        finally:
            if self._on_change is not None:
                self._on_change(False)

    def _round(self) -> None:
        try:
            lease = self._leases.read_namespaced_lease(self.name, self.namespace)
        except ApiException as error:
            if status_code(error) != 404:
                raise
            self._create()
            return
        spec = lease.spec or client.V1LeaseSpec()
        record = (spec.holder_identity, spec.renew_time, spec.lease_transitions)
        if record != self._observed:
            self._observed, self._observed_at = record, self._clock()
        holder = spec.holder_identity or ""
        mine = holder == self.identity
        expired = self._clock() - self._observed_at >= self.timing.lease_duration
        if holder and not mine and not expired:
            self._renewed_at = None  # someone else leads
            return
        now = _now()
        if not mine:
            spec.holder_identity = self.identity
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.lease_duration_seconds = round(self.timing.lease_duration)
        spec.renew_time = now
        lease.spec = spec
        try:  # compare-and-swap: lease.metadata.resource_version is the one read
            self._leases.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as error:
            if status_code(error) == 409:  # another replica wrote first
                self._renewed_at = None
                return
            raise
        self._renewed_at = self._clock()

    def _create(self) -> None:
        now = _now()
        lease = client.V1Lease(
            metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
            spec=client.V1LeaseSpec(
                holder_identity=self.identity,
                lease_duration_seconds=round(self.timing.lease_duration),
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            self._leases.create_namespaced_lease(self.namespace, lease)
        except ApiException as error:
            if status_code(error) == 409:  # another replica created it first
                return
            raise
        self._renewed_at = self._clock()


def _now() -> datetime:
    return datetime.now(UTC)
