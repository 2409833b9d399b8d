"""Writing the webhook's verdicts into TrainingJobPolicy objects: status and events.

:meth:`StatusWriter.submit` takes the verdicts of a reload (never blocking) and
keeps the latest one per object; a thread of its own writes those whose status
says something else (:func:`webhook.policy.objects.is_reported`):

* **Status**: a merge patch of the ``status`` subresource with the object's
  ``metadata.resourceVersion`` as a precondition. Where the object changed since
  the verdict (a user's edit, or another replica's write) the API server answers
  409 Conflict and the verdict is dropped: the watch brings the newer object, and
  the next reload decides again. So replicas that agree write once between them,
  and nothing stale is ever written over a newer generation. A deleted object
  (404) is dropped too; other failures are retried with backoff.
* **Events**, on the object, as ``kubectl describe`` shows them: one for each
  status this replica writes, Warning for a policy not in force (its reason and
  message are the condition's), Normal when a generation is put in force.
  Cluster-scoped objects' events go to the ``default`` namespace, as client-go's
  recorder puts them. A repeat of the same event (same object, type, reason and
  message) patches the first one's ``count`` and ``lastTimestamp`` instead of
  adding another, as client-go's event correlator does.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from kubernetes import client

from webhook.kube.client import call_json, derived_client, error_message, status_code
from webhook.kube.logs import Log, standard_log
from webhook.policy.crd import GROUP, PLURAL, VERSION
from webhook.policy.model import API_VERSION, KIND
from webhook.policy.objects import Verdict, is_reported, status_of

__all__ = ["COMPONENT", "EVENTS_NAMESPACE", "Log", "StatusWriter", "standard_log"]

COMPONENT: Final = "trainingjob-guard"
"""The events' ``source.component`` and ``reportingComponent``."""
EVENTS_NAMESPACE: Final = "default"
"""Where events on cluster-scoped objects go (client-go's recorder: ``metav1.NamespaceDefault``)."""
MAX_EVENT_MESSAGE: Final = 1024
"""Characters of an event's message (events.k8s.io/v1's limit; the condition has it all)."""
_REMEMBERED_EVENTS: Final = 1000
_GONE_OR_STALE: Final = frozenset({404, 409})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class _Pending:
    verdict: Verdict
    due: float
    attempts: int = 0


@dataclass(slots=True)
class _Sent:
    name: str
    count: int


class StatusWriter:
    """Writes verdicts into objects' status and events, from a thread (module docstring)."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        instance: str,
        timeout: float = 10.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        log: Log | None = None,
    ) -> None:
        self._api = derived_client(api)
        self._instance = instance
        self._timeout = timeout
        self._backoff = backoff
        self._log: Log = log or standard_log
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: dict[str, _Pending] = {}
        self._events: OrderedDict[tuple[str, str, str, str], _Sent] = OrderedDict()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.writes = 0
        """Status writes done, each with its event sent or given up (for tests and logs)."""

    def start(self) -> None:
        """Start the writing thread (once)."""
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="policy-status", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (what is pending is not written) and close the client."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._api.close()  # type: ignore[no-untyped-call]

    def submit(self, verdicts: Sequence[Verdict]) -> None:
        """Write what *verdicts* say where the objects' status says otherwise (returns at once)."""
        now = time.monotonic()
        with self._wake:
            for verdict in verdicts:
                name = verdict.object.name
                if is_reported(verdict):
                    self._pending.pop(name, None)
                else:
                    self._pending[name] = _Pending(verdict, now)
            self._wake.notify_all()

    # --- the thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            item = self._next()
            if item is None:
                continue
            try:
                self._write(item.verdict)
            except Exception as error:
                self._failed(item, error)

    def _next(self) -> _Pending | None:
        """The next verdict due, taken out of the queue (None: woken for nothing)."""
        with self._wake:
            if not self._pending:
                self._wake.wait()
                return None
            name, item = min(self._pending.items(), key=lambda entry: entry[1].due)
            wait = item.due - time.monotonic()
            if wait > 0:
                self._wake.wait(wait)
                return None
            del self._pending[name]
            return item

    def _failed(self, item: _Pending, error: Exception) -> None:
        name = item.verdict.object.name
        if status_code(error) in _GONE_OR_STALE:
            # Changed or deleted since: the watch brings what is current, and the next
            # reload decides again (or the object is gone).
            self._log("policy-status-skipped", "debug", policy=name, error=error_message(error))
            return
        initial, ceiling = self._backoff
        delay = min(initial * 2**item.attempts, ceiling) * random.uniform(0.8, 1.2)  # noqa: S311
        self._log(
            "policy-status-failed",
            "warning",
            policy=name,
            error=error_message(error),
            retryIn=round(delay, 1),
        )
        with self._wake:
            if name not in self._pending:  # else a newer verdict came meanwhile
                self._pending[name] = _Pending(
                    item.verdict, time.monotonic() + delay, item.attempts + 1
                )

    def _write(self, verdict: Verdict) -> None:
        item = verdict.object
        now = _now()
        body = {
            "metadata": {"resourceVersion": item.resource_version},
            "status": status_of(verdict, now),
        }
        written = call_json(
            client.CustomObjectsApi(self._api).patch_cluster_custom_object_status,
            GROUP,
            VERSION,
            PLURAL,
            item.name,
            body,
            _request_timeout=self._timeout,
        )
        version = (written.get("metadata") or {}).get("resourceVersion", "")
        self._log(
            "policy-status-written",
            policy=item.name,
            generation=item.generation,
            ready=verdict.ready,
            reason=verdict.reason,
        )
        try:
            self._event(verdict, str(version), now)
        except Exception as error:  # the status is what matters; an event may be lost
            self._log(
                "policy-event-failed", "warning", policy=item.name, error=error_message(error)
            )
        self.writes += 1  # counted once the event was sent too, so a count seen means both

    def _event(self, verdict: Verdict, version: str, now: str) -> None:
        item = verdict.object
        kind = "Normal" if verdict.ready else "Warning"
        message = verdict.message
        if len(message) > MAX_EVENT_MESSAGE:
            message = message[: MAX_EVENT_MESSAGE - 1] + "…"
        key = (item.uid, kind, verdict.reason, message)
        events = client.CoreV1Api(self._api)
        sent = self._events.get(key)
        if sent is not None:
            patch = {"count": sent.count + 1, "lastTimestamp": now}
            try:
                call_json(
                    events.patch_namespaced_event,
                    sent.name,
                    EVENTS_NAMESPACE,
                    patch,
                    _content_type="application/strategic-merge-patch+json",
                    _request_timeout=self._timeout,
                )
            except client.ApiException as error:
                if status_code(error) != 404:  # expired (events live an hour): a new one
                    raise
            else:
                sent.count += 1
                self._events.move_to_end(key)
                return
        name = f"{item.name}.{time.time_ns():x}"  # client-go's naming: <object>.<unix nanos>
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": EVENTS_NAMESPACE},
            "involvedObject": {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "name": item.name,
                "uid": item.uid,
                "resourceVersion": version,
            },
            "type": kind,
            "reason": verdict.reason,
            "message": message,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self._instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        call_json(
            events.create_namespaced_event,
            EVENTS_NAMESPACE,
            event,
            _request_timeout=self._timeout,
        )
        self._events[key] = _Sent(name, 1)
        while len(self._events) > _REMEMBERED_EVENTS:
            self._events.popitem(last=False)
