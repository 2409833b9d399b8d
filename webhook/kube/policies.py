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

import random
import socket
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final, Self

from kubernetes import client, watch

from webhook.kube.client import call_json, derived_client, error_message, status_code
from webhook.kube.policy_status import Log, StatusWriter, standard_log
from webhook.policy.crd import GROUP, PLURAL, VERSION
from webhook.policy.objects import PolicyObject, Verdict

__all__ = ["PolicyWatch"]

_CONNECT_TIMEOUT: Final = 5.0
_LIST_TIMEOUT: Final = 60.0
_GONE: Final = 410
_NOT_FOUND: Final = 404


class _StoppedError(Exception):
    """Raised in the background thread to end it."""


class PolicyWatch:
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
        self._watch_timeout = watch_timeout
        self._page_size = page_size
        self._backoff = backoff
        self._absent_retry = absent_retry
        self._log: Log = log or standard_log
        self._api = derived_client(api)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[str, PolicyObject] = {}
        self._revision = 0
        self._synced = False
        self._absent = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: watch.Watch | None = None
        self.writer = StatusWriter(api, instance=instance or socket.gethostname(), log=self._log)
        """Writes the verdicts given to :meth:`report`."""

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start the background list and watch, and the status writer (returns at once)."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("a stopped PolicyWatch cannot be started again")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="policy-watch", daemon=True)
                self._thread.start()
        self.writer.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End both threads (waiting up to *timeout* seconds each) and close the clients."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            for _ in range(int(timeout / 0.05) or 1):
                if not thread.is_alive():
                    break
                with self._lock:
                    current = self._watch
                if current is not None:
                    current.stop()  # type: ignore[no-untyped-call]  # ends the blocked read
                thread.join(0.05)
        self.writer.stop(timeout)
        self._api.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def synced(self) -> bool:
        """Whether the objects have been listed (or the CRD found missing) once."""
        with self._lock:
            return self._synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for :attr:`synced`; return it."""
        with self._changed:
            return (
                self._changed.wait_for(lambda: self._synced or self._stopping.is_set(), timeout)
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

    # --- the background list and watch --------------------------------------------

    def _run(self) -> None:
        initial, ceiling = self._backoff
        delay = initial
        expired_once = False
        while not self._stopping.is_set():
            try:
                version = self._relist()
                delay = initial
                if version is None:  # the CRD is not installed
                    if self._stopping.wait(self._absent_retry):
                        break
                    continue
                while not self._stopping.is_set():
                    version = self._watch_once(version)
                    expired_once = False
            except Exception as error:
                if self._stopping.is_set():
                    break
                expired = status_code(error) == _GONE
                if expired and not expired_once:
                    expired_once = True
                    self._log("cluster-policies-expired", "info")
                    continue  # list again at once
                self._log("cluster-policies-watch-failed", "warning", error=error_message(error))
                jitter = random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not crypto)
                if self._stopping.wait(delay * jitter):
                    break
                delay = min(delay * 2, ceiling)

    def _relist(self) -> str | None:
        """List every object (paginated); the list's resourceVersion, or None without the CRD."""
        list_objects = client.CustomObjectsApi(self._api).list_cluster_custom_object
        token: str | None = None
        version = ""
        found: dict[str, PolicyObject] = {}
        while True:
            if self._stopping.is_set():
                raise _StoppedError
            try:
                page = call_json(
                    list_objects,
                    GROUP,
                    VERSION,
                    PLURAL,
                    limit=self._page_size,
                    _continue=token,
                    _request_timeout=(_CONNECT_TIMEOUT, _LIST_TIMEOUT),
                )
            except client.ApiException as error:
                if status_code(error) != _NOT_FOUND or token is not None:
                    raise
                self._replace({}, absent=True)
                return None
            metadata = page.get("metadata") if isinstance(page, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            version = version or str(metadata.get("resourceVersion") or "")
            items = page.get("items") if isinstance(page, dict) else None
            for item in items if isinstance(items, list) else ():
                read = PolicyObject.of(item)
                if read is not None:
                    found[read.name] = read
            token = metadata.get("continue") or None
            if not token:
                break
        self._replace(found, absent=False)
        self._log("cluster-policies-listed", objects=len(found), resourceVersion=version)
        return version

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

    def _watch_once(self, version: str) -> str:
        stream = watch.Watch(return_type="object")  # type: ignore[no-untyped-call]
        with self._lock:
            if self._stopping.is_set():
                raise _StoppedError
            self._watch = stream
        try:
            events = stream.stream(  # type: ignore[no-untyped-call]
                client.CustomObjectsApi(self._api).list_cluster_custom_object,
                GROUP,
                VERSION,
                PLURAL,
                resource_version=version,
                timeout_seconds=self._watch_timeout,
                allow_watch_bookmarks=True,
                _request_timeout=(_CONNECT_TIMEOUT, self._watch_timeout + 30),
            )
            for event in events:
                if self._stopping.is_set():
                    raise _StoppedError
                version = self._apply(event, version)
        finally:
            with self._lock:
                self._watch = None
        return version

    def _apply(self, event: Any, version: str) -> str:
        if not isinstance(event, dict):
            return version
        obj = event.get("raw_object", event.get("object"))
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(metadata, dict):
            return version
        new_version = metadata.get("resourceVersion")
        if isinstance(new_version, str) and new_version:
            version = new_version
        kind = event.get("type")
        read = PolicyObject.of(obj)
        if read is None or kind not in ("ADDED", "MODIFIED", "DELETED"):
            return version  # BOOKMARK: only the resourceVersion
        with self._changed:
            if kind == "DELETED":
                self._objects.pop(read.name, None)
            else:
                self._objects[read.name] = read
            self._revision += 1
            self._changed.notify_all()
        return version


def _versions(objects: dict[str, PolicyObject]) -> dict[str, str]:
    return {name: item.resource_version for name, item in objects.items()}
