"""Which namespaces' TrainingJobs changed: a watch for the continuous audit.

:class:`JobChanges` watches the TrainingJobs of every namespace (a
:class:`~webhook.kube.watch.ListWatch`) and marks the namespaces whose jobs were
added, deleted, or changed in what an audit reads:

* ``metadata.generation``, which the API server bumps on every change to the spec
  (and on deletion), never on a write to the status subresource;
* ``metadata.labels``, which policies select on (``match.objectSelector``...);
* ``metadata.annotations``, since a policy's exemption annotation turns into a
  finding (``policy.exemption-ignored``) and CEL rules may read them.

Everything else, above all the status the ACK controller writes all the time
(and the finalizer it adds), marks nothing: it cannot change a report. Of each
job only its namespace, name, uid, generation and a digest of its labels and
annotations are kept.

A complete list (the first, or a relist after 410 Gone or an error) means events
may have been missed while no watch was open: :attr:`JobChanges.full` then asks
for a full round rather than a guess at what changed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from webhook.kube.audit import PLURAL
from webhook.kube.client import derived_client
from webhook.kube.logs import Log, standard_log
from webhook.kube.watch import EventType, ListWatch
from webhook.model import GROUP, VERSION

__all__ = ["JobChanges"]


@dataclass(frozen=True, slots=True)
class _Job:
    """What an audit's result depends on, of one TrainingJob."""

    namespace: str
    name: str
    uid: str
    generation: int
    metadata: bytes
    """A digest of its labels and annotations."""

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name


class JobChanges:
    """A watch of every TrainingJob that marks the namespaces to audit again (module docstring)."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        page_size: int = 250,
        watch_timeout: int = 300,
        backoff: tuple[float, float] = (0.5, 30.0),
        log: Log | None = None,
    ) -> None:
        self._log: Log = log or standard_log
        self._api = derived_client(api)
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._marked: set[str] = set()
        self._full = False
        self._lists = ListWatch[_Job](
            client.CustomObjectsApi(self._api).list_cluster_custom_object,
            (GROUP, VERSION, PLURAL),
            name="audit-jobs",
            read=_read,
            on_list=self._listed,
            on_event=self._watched,
            page_size=page_size,
            watch_timeout=watch_timeout,
            backoff=backoff,
            log=self._log,
        )

    def start(self) -> JobChanges:
        """Start watching (returns at once)."""
        self._lists.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and close the client; a stopped one is not started again."""
        self._lists.stop(timeout)
        self._api.close()  # type: ignore[no-untyped-call]

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for the list to be complete and the watch open."""
        return self._lists.wait_synced(timeout)

    # --- what the audit reads -----------------------------------------------------

    @property
    def full(self) -> bool:
        """Whether the jobs were listed since :meth:`clear`: only a full round is sure."""
        with self._lock:
            return self._full

    def pending(self) -> int:
        """How many namespaces are marked."""
        with self._lock:
            return len(self._marked)

    def take(self) -> set[str]:
        """The namespaces marked since the last take (or clear), unmarked."""
        with self._lock:
            marked, self._marked = self._marked, set()
            return marked

    def mark(self, namespace: str) -> None:
        """Mark *namespace* again (its audit failed: the next one tries again)."""
        with self._lock:
            self._marked.add(namespace)

    def clear(self) -> None:
        """A full round starts: forget every mark and the wish for one."""
        with self._lock:
            self._marked.clear()
            self._full = False

    # --- what the list and watch deliver -------------------------------------------

    def _listed(self, jobs: list[_Job], version: str) -> None:
        with self._lock:
            self._jobs = {job.key: job for job in jobs}
            self._full = True
        self._log("audit-jobs-listed", jobs=len(jobs), resourceVersion=version)

    def _watched(self, kind: EventType, job: _Job) -> None:
        with self._lock:
            if kind == "DELETED":
                self._jobs.pop(job.key, None)
                self._marked.add(job.namespace)
                return
            if self._jobs.get(job.key) != job:
                self._marked.add(job.namespace)
            self._jobs[job.key] = job


def _read(obj: Any) -> _Job | None:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(metadata, dict):
        return None
    namespace, name = metadata.get("namespace"), metadata.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        return None
    generation = metadata.get("generation")
    read = {"labels": metadata.get("labels"), "annotations": metadata.get("annotations")}
    digest = hashlib.blake2b(
        json.dumps(read, sort_keys=True, default=str).encode(), digest_size=16
    ).digest()
    return _Job(
        namespace,
        name,
        str(metadata.get("uid") or ""),
        generation if isinstance(generation, int) and not isinstance(generation, bool) else 0,
        digest,
    )
