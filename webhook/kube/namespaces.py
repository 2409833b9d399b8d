"""Namespace labels for policies' ``namespaceSelector``: a watch-backed, bounded cache.

An AdmissionReview names the namespace but not its labels, so the webhook keeps
them. A :class:`~webhook.kube.watch.ListWatch` of the namespaces (list, watch from
the list's resourceVersion, relist at once after 410 Gone, backoff on errors) keeps
the cache current; :meth:`NamespaceLabels.labels` answers from memory, and a
namespace it does not hold (created a moment ago, evicted, or the initial list not
done) is fetched with one GET under a short timeout and kept.

Choices:

* **Unknown is None, never a guess.** When the lookup fails (API server down, slow,
  forbidden) or the namespace does not exist, ``labels()`` returns None and the engine
  reports ``policy.namespace-labels-unknown``. After a failed lookup, further lookups
  are skipped for *failure_backoff* seconds (they return None at once), so an API
  server outage costs the admission path one timeout, not one per request.
* **Stale is bounded.** While the watch is healthy the cache is current. When it
  breaks, entries stay trusted for *max_stale* seconds after the last sign of life,
  then are fetched again by GET (and are None if that fails).
* **Bounded memory.** At most *max_namespaces* are kept, least recently used evicted
  first. The list and the watch only refresh what is held, or add while there is
  room: they never evict a namespace the webhook asked for. A relist drops what it
  no longer finds (namespaces deleted while the watch was down).
* **Never raises into the request path**: ``labels()`` catches everything.
* ``labels()`` blocks for up to *lookup_timeout* on a miss: call it from a worker
  thread, not from an event loop, if that matters.

The watch and the lookups use their own clients, derived from the given one's
configuration with urllib3 retries limited to one reconnect and no read retry (so
a hanging API server costs one *lookup_timeout*); :meth:`stop` closes them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Self

from kubernetes import client

from webhook.kube.client import call_json, derived_client, error_message, status_code
from webhook.kube.logs import Log, standard_log
from webhook.kube.watch import Background, EventType, ListWatch

__all__ = ["CacheStats", "Log", "NamespaceLabels"]

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})
_NOT_FOUND: Final = 404
_Listed = tuple[str, Mapping[str, str]]
"""A namespace as the list and watch deliver it: its name and labels."""


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a :class:`NamespaceLabels` since it was created."""

    size: int
    """Namespaces held."""
    synced: bool
    """Whether the watch is up after a complete list."""
    hits: int
    """``labels()`` answered from memory."""
    lookups: int
    """GETs of a namespace that was not held (or was too stale)."""
    lookup_failures: int
    """Of those, the ones that failed (not counting 404)."""
    relists: int
    """Complete LISTs started (the first one, then after expiry or errors)."""
    watch_errors: int
    """Lists or watches ended by an error other than 410 Gone."""


@dataclass(frozen=True, slots=True)
class _Entry:
    labels: Mapping[str, str]
    confirmed: float
    """When the API server last told us (monotonic clock)."""


class NamespaceLabels(Background):
    """A watch-backed, bounded, thread-safe cache of namespace labels (module docstring)."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        max_namespaces: int = 10_000,
        lookup_timeout: float = 1.0,
        failure_backoff: float = 2.0,
        max_stale: float = 60.0,
        watch_timeout: int = 300,
        page_size: int = 500,
        backoff: tuple[float, float] = (0.5, 30.0),
        log: Log | None = None,
    ) -> None:
        if max_namespaces < 1:
            raise ValueError("max_namespaces must be at least 1")
        self._max = max_namespaces
        self._lookup_timeout = lookup_timeout
        self._failure_backoff = failure_backoff
        self._max_stale = max_stale
        self._log: Log = log or standard_log
        self._lookup_api = derived_client(api)
        self._watch_api = derived_client(api)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lookups_paused_until = float("-inf")
        self._hits = self._lookups = self._lookup_failures = 0
        self._stopped = False
        self._lists = ListWatch[_Listed](
            client.CoreV1Api(self._watch_api).list_namespace,
            name="namespace-labels",
            read=_read,
            on_list=self._listed,
            on_event=self._watched,
            page_size=page_size,
            watch_timeout=watch_timeout,
            backoff=backoff,
            log=self._log,
        )

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start the background list and watch (once; returns at once)."""
        if self._stopped:
            raise RuntimeError("a stopped NamespaceLabels cannot be started again")
        self._lists.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the background thread (waiting up to *timeout* seconds) and close the clients."""
        self._stopped = True
        self._lists.stop(timeout)
        self._watch_api.close()  # type: ignore[no-untyped-call]
        self._lookup_api.close()  # type: ignore[no-untyped-call]

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._lists.running

    @property
    def synced(self) -> bool:
        """Whether a complete list was loaded and the watch has not failed since."""
        return self._lists.synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for :attr:`synced`; return it."""
        return self._lists.wait_synced(timeout)

    def stats(self) -> CacheStats:
        """The counters so far."""
        lists = self._lists
        synced, relists, watch_errors = lists.synced, lists.lists, lists.errors
        with self._lock:
            return CacheStats(
                size=len(self._entries),
                synced=synced,
                hits=self._hits,
                lookups=self._lookups,
                lookup_failures=self._lookup_failures,
                relists=relists,
                watch_errors=watch_errors,
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, namespace: object) -> bool:
        with self._lock:
            return namespace in self._entries

    # --- the request path --------------------------------------------------------

    def labels(self, namespace: str) -> Mapping[str, str] | None:
        """The namespace's labels (read-only), or None when they cannot be known now."""
        try:
            return self._labels(namespace)
        except Exception as error:  # the admission path must get an answer, not an exception
            self._log("namespace-labels-error", "error", namespace=namespace, error=repr(error))
            return None

    __call__ = labels

    def _labels(self, namespace: str) -> Mapping[str, str] | None:
        if not namespace:
            return None
        synced, heard_at = self._lists.synced, self._lists.heard_at
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(namespace)
            if entry is not None and (
                synced or now - max(entry.confirmed, heard_at) <= self._max_stale
            ):
                self._entries.move_to_end(namespace)
                self._hits += 1
                return entry.labels
            if now < self._lookups_paused_until:
                return None
            self._lookups += 1
        return self._lookup(namespace, entry)

    def _lookup(self, namespace: str, seen: _Entry | None) -> Mapping[str, str] | None:
        try:
            obj = call_json(
                client.CoreV1Api(self._lookup_api).read_namespace,
                namespace,
                _request_timeout=self._lookup_timeout,
            )
        except Exception as error:
            with self._lock:
                if status_code(error) == _NOT_FOUND:
                    if self._entries.get(namespace) is seen:
                        self._entries.pop(namespace, None)
                    return None
                self._lookup_failures += 1
                self._lookups_paused_until = time.monotonic() + self._failure_backoff
            self._log(
                "namespace-labels-lookup-failed",
                "warning",
                namespace=namespace,
                error=error_message(error),
            )
            return None
        labels = _labels_of(obj)
        with self._lock:
            current = self._entries.get(namespace)
            if current is not None and current is not seen:
                labels = current.labels  # the watch (or another lookup) was as quick
            self._put(namespace, labels, time.monotonic(), touch=True)
        return labels

    # --- what the list and watch deliver -----------------------------------------

    def _listed(self, namespaces: list[_Listed], version: str) -> None:
        """A complete list: refresh what it holds, drop what it no longer finds."""
        now = time.monotonic()
        with self._lock:
            for name, labels in namespaces:
                self._put(name, labels, now, touch=False)
            found = {name for name, _ in namespaces}
            for gone in [name for name in self._entries if name not in found]:
                del self._entries[gone]
        self._log(
            "namespace-labels-synced", "info", namespaces=len(namespaces), resourceVersion=version
        )

    def _watched(self, kind: EventType, namespace: _Listed) -> None:
        name, labels = namespace
        with self._lock:
            if kind == "DELETED":
                self._entries.pop(name, None)
            else:
                self._put(name, labels, time.monotonic(), touch=False)

    def _put(
        self,
        name: str,
        labels: Mapping[str, str],
        now: float,
        *,
        touch: bool,
    ) -> None:
        """Store *labels* (the lock is held).

        *touch* (a lookup for a request) makes the entry the most recently used and
        may evict; otherwise (list, watch) a held entry is refreshed in place and a
        new one is added as the least recently used, only while there is room.
        """
        entry = _Entry(labels, now)
        if name in self._entries:
            self._entries[name] = entry
            if touch:
                self._entries.move_to_end(name)
        elif touch:
            self._entries[name] = entry
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        elif len(self._entries) < self._max:
            self._entries[name] = entry
            self._entries.move_to_end(name, last=False)


def _read(obj: Any) -> _Listed | None:
    name = _name_of(obj)
    return None if name is None else (name, _labels_of(obj))


def _name_of(obj: Any) -> str | None:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


def _labels_of(obj: Any) -> Mapping[str, str]:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if not isinstance(labels, dict) or not labels:
        return _EMPTY
    return MappingProxyType(
        {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}
    )
