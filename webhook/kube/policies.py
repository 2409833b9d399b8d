"""The cluster's TrainingJobPolicy objects, listed and watched for ``serve --cluster-policies``.

A background thread LISTs the objects (paginated), then WATCHes from the list's
resourceVersion, as :mod:`webhook.kube.namespaces` does for namespaces: the watch
is restarted from the last resourceVersion seen when it times out, the objects
are listed again at once when the API server says that version is too old (410
Gone), and other errors are retried with exponential backoff and jitter. What
the thread holds is the set of objects the API server last reported;
:meth:`PolicyWatch.snapshot` hands it over with a revision that changes with it.
The server takes it up on its reload tick (:mod:`webhook.server.cluster`) and
gives back each object's verdict through :meth:`PolicyWatch.report`, which a
:class:`~webhook.kube.policy_status.StatusWriter` writes from a thread of its own.
No API call is ever made on the server's event loop.

Choices:

* **A missing CRD means no policy objects.** The list answers 404 when the
  ``trainingjobpolicies`` resource is not served (``helm install --skip-crds``, or
  an upgrade from a chart without the CRD, which Helm does not install): there
  can be no such object, so the webhook is synced with none, says so in the log,
  and lists again every *absent_retry* seconds to see the CRD arrive.
* **Not synced until listed.** Before the first complete list, :meth:`snapshot`
  is None and the server is not ready: it cannot know the cluster's policies
  (forbidden, API server down). Once listed, a broken watch keeps the objects
  last seen (policies change rarely; the webhook keeps enforcing them) while it
  reconnects.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from typing import Self

from kubernetes import client

from webhook.kube.client import derived_client
from webhook.kube.logs import Log, standard_log
from webhook.kube.policy_status import StatusWriter
from webhook.kube.watch import Background, EventType, ListWatch
from webhook.policy.crd import GROUP, PLURAL, VERSION
from webhook.policy.objects import PolicyObject, Verdict

__all__ = ["PolicyWatch"]


class PolicyWatch(Background):
    """A list- and watch-backed copy of the TrainingJobPolicy objects (module docstring)."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        watch_timeout: int = 300,
        page_size: int = 100,
        backoff: tuple[float, float] = (0.5, 30.0),
        absent_retry: float = 30.0,
        instance: str | None = None,
        log: Log | None = None,
    ) -> None:
        self._absent_retry = absent_retry
        self._log: Log = log or standard_log
        self._api = derived_client(api)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[str, PolicyObject] = {}
        self._revision = 0
        self._synced = False
        self._absent = False
        self._stopped = False
        self._lists = ListWatch[PolicyObject](
            client.CustomObjectsApi(self._api).list_cluster_custom_object,
            (GROUP, VERSION, PLURAL),
            name="cluster-policies",
            read=PolicyObject.of,
            on_list=self._listed,
            on_event=self._watched,
            on_absent=lambda: self._replace({}, absent=True),
            absent_retry=absent_retry,
            page_size=page_size,
            watch_timeout=watch_timeout,
            backoff=backoff,
            log=self._log,
        )
        self.writer = StatusWriter(api, instance=instance or socket.gethostname(), log=self._log)
        """Writes the verdicts given to :meth:`report`."""

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start the background list and watch, and the status writer (returns at once)."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped PolicyWatch cannot be started again")
        self._lists.start()
        self.writer.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End both threads (waiting up to *timeout* seconds each) and close the clients."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        self._lists.stop(timeout)
        self.writer.stop(timeout)
        self._api.close()  # type: ignore[no-untyped-call]

    @property
    def synced(self) -> bool:
        """Whether the objects have been listed (or the CRD found missing) once."""
        with self._lock:
            return self._synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for :attr:`synced`; return it."""
        with self._changed:
            return (
                self._changed.wait_for(lambda: self._synced or self._stopped, timeout)
                and self._synced
            )

    # --- what the server reads and gives back ------------------------------------

    def snapshot(self) -> tuple[int, Sequence[PolicyObject]] | None:
        """(revision, the objects in name order) once listed; else None."""
        with self._lock:
            if not self._synced:
                return None
            return self._revision, [self._objects[name] for name in sorted(self._objects)]

    def report(self, verdicts: Sequence[Verdict]) -> None:
        """Have the verdicts written into the objects' status (in the writer's thread)."""
        self.writer.submit(verdicts)

    # --- what the list and watch deliver -----------------------------------------

    def _listed(self, objects: list[PolicyObject], version: str) -> None:
        self._replace({item.name: item for item in objects}, absent=False)
        self._log("cluster-policies-listed", objects=len(objects), resourceVersion=version)

    def _replace(self, found: dict[str, PolicyObject], *, absent: bool) -> None:
        with self._changed:
            if absent and not self._absent:
                self._log(
                    "cluster-policies-crd-absent",
                    "warning",
                    error=f"{PLURAL}.{GROUP} is not served (the CRD is not installed): "
                    f"no TrainingJobPolicy objects; listing again every {self._absent_retry:g} s",
                )
            self._absent = absent
            if _versions(found) != _versions(self._objects) or not self._synced:
                self._objects = found
                self._revision += 1
            self._synced = True
            self._changed.notify_all()

    def _watched(self, kind: EventType, item: PolicyObject) -> None:
        with self._changed:
            if kind == "DELETED":
                self._objects.pop(item.name, None)
            else:
                self._objects[item.name] = item
            self._revision += 1
            self._changed.notify_all()


def _versions(objects: dict[str, PolicyObject]) -> dict[str, str]:
    return {name: item.resource_version for name, item in objects.items()}
