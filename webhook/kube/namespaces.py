"""Namespace labels for policies' ``namespaceSelector``: a watch-backed, bounded cache.

An AdmissionReview names the namespace but not its labels, so the webhook keeps
them: a background thread LISTs the namespaces (paginated), then WATCHes from the
list's resourceVersion, restarting the watch when it times out, relisting at once
when the API server says the resourceVersion is too old (410 Gone), and backing off
(exponentially, with jitter) on other errors. :meth:`NamespaceLabels.labels` answers
from memory; a namespace it does not hold (created a moment ago, evicted, or the
initial list not done) is fetched with one GET under a short timeout and kept.

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

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Final, Protocol, Self

from kubernetes import client, watch

from webhook.kube.client import call_json, derived_client, error_message, status_code

__all__ = ["CacheStats", "Log", "NamespaceLabels"]

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})
_CONNECT_TIMEOUT: Final = 5.0
_LIST_TIMEOUT: Final = 60.0
_GONE: Final = 410
_NOT_FOUND: Final = 404
_LOGGER: Final = logging.getLogger(__name__)
_LEVELS: Final = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log(Protocol):
    """Where events go: the server's JSON log has this shape (``log(event, level, **fields)``)."""

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        """Record one event."""


def _standard_log(event: str, level: str = "info", **fields: Any) -> None:
    _LOGGER.log(_LEVELS.get(level, logging.INFO), "%s %s", event, fields)


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
    generation: int
    """The list generation that last saw it (a relist drops older ones)."""


class _StoppedError(Exception):
    """Raised in the background thread to end it."""


class NamespaceLabels:
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
        self._watch_timeout = watch_timeout
        self._page_size = page_size
        self._backoff = backoff
        self._log: Log = log or _standard_log
        self._lookup_api = derived_client(api)
        self._watch_api = derived_client(api)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation = 0
        self._synced = False
        self._healthy_at = float("-inf")
        """When the list or watch last delivered (monotonic clock)."""
        self._lookups_paused_until = float("-inf")
        self._hits = self._lookups = self._lookup_failures = 0
        self._relists = self._watch_errors = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: watch.Watch | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start the background list and watch (once; returns at once)."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("a stopped NamespaceLabels cannot be started again")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="namespace-labels", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the background thread (waiting up to *timeout* seconds) and close the clients."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
            thread = self._thread
        deadline = time.monotonic() + timeout
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            with self._lock:
                current = self._watch
            if current is not None:
                # Shuts the stream's socket down, so the blocked read returns.
                current.stop()  # type: ignore[no-untyped-call]
            thread.join(0.05)
        self._watch_api.close()  # type: ignore[no-untyped-call]
        self._lookup_api.close()  # type: ignore[no-untyped-call]

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
    def running(self) -> bool:
        """Whether the background thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def synced(self) -> bool:
        """Whether a complete list was loaded and the watch has not failed since."""
        with self._lock:
            return self._synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for :attr:`synced`; return it."""
        with self._changed:
            return (
                self._changed.wait_for(lambda: self._synced or self._stopping.is_set(), timeout)
                and self._synced
            )

    def stats(self) -> CacheStats:
        """The counters so far."""
        with self._lock:
            return CacheStats(
                size=len(self._entries),
                synced=self._synced,
                hits=self._hits,
                lookups=self._lookups,
                lookup_failures=self._lookup_failures,
                relists=self._relists,
                watch_errors=self._watch_errors,
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
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(namespace)
            if entry is not None and (
                self._synced or now - max(entry.confirmed, self._healthy_at) <= self._max_stale
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

    # --- the background list and watch --------------------------------------------

    def _run(self) -> None:
        initial, ceiling = self._backoff
        delay = initial
        expired_once = False
        while not self._stopping.is_set():
            try:
                version = self._relist()
                delay = initial
                while not self._stopping.is_set():
                    version = self._watch_once(version)
                    expired_once = False
            except Exception as error:
                if self._stopping.is_set():
                    break
                expired = status_code(error) == _GONE
                with self._lock:
                    self._synced = False
                    if not expired:
                        self._watch_errors += 1
                if expired and not expired_once:
                    expired_once = True
                    self._log("namespace-labels-expired", "info")
                    continue  # relist at once
                self._log("namespace-labels-watch-failed", "warning", error=error_message(error))
                jitter = random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not crypto)
                if self._stopping.wait(delay * jitter):
                    break
                delay = min(delay * 2, ceiling)

    def _relist(self) -> str:
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._relists += 1
        list_namespace = client.CoreV1Api(self._watch_api).list_namespace
        token: str | None = None
        version = ""
        count = 0
        while True:
            if self._stopping.is_set():
                raise _StoppedError
            page = call_json(
                list_namespace,
                limit=self._page_size,
                _continue=token,
                _request_timeout=(_CONNECT_TIMEOUT, _LIST_TIMEOUT),
            )
            metadata = page.get("metadata") if isinstance(page, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            version = version or str(metadata.get("resourceVersion") or "")
            items = page.get("items") if isinstance(page, dict) else None
            now = time.monotonic()
            with self._lock:
                for item in items if isinstance(items, list) else ():
                    name = _name_of(item)
                    if name is not None:
                        self._put(name, _labels_of(item), now, touch=False, generation=generation)
                        count += 1
            token = metadata.get("continue") or None
            if not token:
                break
        with self._changed:
            gone = [name for name, entry in self._entries.items() if entry.generation < generation]
            for name in gone:
                del self._entries[name]
            self._synced = True
            self._healthy_at = time.monotonic()
            self._changed.notify_all()
        self._log("namespace-labels-synced", "info", namespaces=count, resourceVersion=version)
        return version

    def _watch_once(self, version: str) -> str:
        stream = watch.Watch(return_type="object")  # type: ignore[no-untyped-call]
        with self._lock:
            if self._stopping.is_set():
                raise _StoppedError
            self._watch = stream
        try:
            events = stream.stream(  # type: ignore[no-untyped-call]
                client.CoreV1Api(self._watch_api).list_namespace,
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
        name = _name_of(obj)
        now = time.monotonic()
        with self._lock:
            self._healthy_at = now
            if name is None or kind == "BOOKMARK":
                return version
            if kind == "DELETED":
                self._entries.pop(name, None)
            elif kind in ("ADDED", "MODIFIED"):
                self._put(name, _labels_of(obj), now, touch=False)
        return version

    def _put(
        self,
        name: str,
        labels: Mapping[str, str],
        now: float,
        *,
        touch: bool,
        generation: int | None = None,
    ) -> None:
        """Store *labels* (the lock is held).

        *touch* (a lookup for a request) makes the entry the most recently used and
        may evict; otherwise (list, watch) a held entry is refreshed in place and a
        new one is added as the least recently used, only while there is room.
        """
        entry = _Entry(labels, now, self._generation if generation is None else generation)
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
