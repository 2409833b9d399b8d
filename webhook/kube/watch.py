"""List, then watch, one kind of object: the loop every watch-backed view here shares.

:class:`ListWatch` keeps a view of some objects current from a thread of its own,
the way client-go's reflector does:

1. **List** every object, page by page (``limit``/``continue``), and hand the complete
   set to ``on_list(items, resourceVersion)``: the view is replaced, not patched.
2. **Watch** from the list's resourceVersion, with bookmarks, handing each ``ADDED``,
   ``MODIFIED`` and ``DELETED`` to ``on_event(type, item)``. A watch ends after
   *watch_timeout* seconds (or when the API server closes it) and is opened again
   from the last resourceVersion seen, an event's or a bookmark's.
3. **410 Gone** (that version is older than the API server keeps: compaction) lists
   again at once, with no pause; a second 410 before a watch has run its course is
   treated as any other error. A relist means events were missed: ``on_list`` is
   the place to say what that means for the view.
4. **Other errors** (of the list, the watch, or a callback) are logged and retried
   after an exponential backoff with jitter (*backoff* is the first and the longest
   pause), which a complete list resets.

Each item of a list or an event goes through *read* first, which keeps what the
view needs of the object (None: skip it), so a list of thousands of large objects
is not held whole. A resource that may not be served (a CRD that may not be
installed) can be given *on_absent*: a 404 on the list then calls it, counts as
a complete answer (there can be no such object) and the list is tried again every
*absent_retry* seconds; without it a 404 is an error like any other.

Log events: ``<name>-expired`` (info, a relist after 410) and
``<name>-watch-failed`` (warning, with the error), where *name* is the view's
name; the callbacks log what was listed, in their own words.

The callbacks run in the thread, never under a lock of this class, so they may
take their own locks and read :attr:`ListWatch.synced`. :meth:`ListWatch.stop`
ends the thread from any other one, closing the open watch's connection so the
blocked read returns at once. The caller owns the client the list call is bound
to (close it after :meth:`ListWatch.stop`); a client from
:func:`webhook.kube.client.derived_client` makes a hanging API server cost one
request timeout.
"""

from __future__ import annotations

import abc
import random
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Final, Generic, Literal, Self, TypeVar

from kubernetes import client, watch

from webhook.kube.client import call_json, error_message, status_code
from webhook.kube.logs import Log, standard_log

__all__ = ["EventType", "ListWatch"]

T = TypeVar("T")
EventType = Literal["ADDED", "MODIFIED", "DELETED"]

_CONNECT_TIMEOUT: Final = 5.0
_LIST_TIMEOUT: Final = 60.0
_WATCH_GRACE: Final = 30
"""Seconds a watch's read may outlast its ``timeoutSeconds`` before the client gives up."""
_GONE: Final = 410
_NOT_FOUND: Final = 404
_CHANGES: Final = ("ADDED", "MODIFIED", "DELETED")


class Background(abc.ABC):
    """Work on a background thread: ``start()``, ``stop()``, or ``with`` for both."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Start the thread; return self."""

    @abc.abstractmethod
    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, waiting up to *timeout* seconds."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _StoppedError(Exception):
    """Raised in the background thread to end it."""


class ListWatch(Background, Generic[T]):
    """A list and watch of one resource in a thread, feeding two callbacks (module docstring).

    *list_call* is the client's list method for the resource (e.g.
    ``CoreV1Api(api).list_namespace`` or ``CustomObjectsApi(api).list_cluster_custom_object``)
    and *args* its positional arguments (group, version, plural...); it is called
    with ``limit``/``_continue`` to list and with ``watch`` to watch.
    """

    def __init__(
        self,
        list_call: Callable[..., Any],
        args: Sequence[Any] = (),
        *,
        name: str,
        read: Callable[[Any], T | None],
        on_list: Callable[[list[T], str], None],
        on_event: Callable[[EventType, T], None],
        on_absent: Callable[[], None] | None = None,
        absent_retry: float = 30.0,
        page_size: int = 500,
        watch_timeout: int = 300,
        backoff: tuple[float, float] = (0.5, 30.0),
        log: Log | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.name = name
        self._call = list_call
        self._args = tuple(args)
        self._read = read
        self._on_list = on_list
        self._on_event = on_event
        self._on_absent = on_absent
        self._absent_retry = absent_retry
        self._page_size = page_size
        self._watch_timeout = watch_timeout
        self._backoff = backoff
        self._log: Log = log or standard_log
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._synced = False
        self._heard_at = float("-inf")
        self._lists = self._errors = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: watch.Watch | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start the thread (once; returns at once)."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError(f"{self.name}: a stopped list and watch cannot start again")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread, waiting up to *timeout* seconds.

        An open watch is closed at once; a list in flight is not interrupted, but
        what it brings is dropped: no callback runs once the thread has seen the stop.
        """
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

    # --- state -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def synced(self) -> bool:
        """Whether a complete list was delivered and nothing has failed since."""
        with self._lock:
            return self._synced

    def wait_synced(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for :attr:`synced` (not past :meth:`stop`); return it."""
        with self._changed:
            return (
                self._changed.wait_for(lambda: self._synced or self._stopping.is_set(), timeout)
                and self._synced
            )

    @property
    def heard_at(self) -> float:
        """When the API server last delivered: a complete list or an event (monotonic clock)."""
        with self._lock:
            return self._heard_at

    @property
    def lists(self) -> int:
        """Complete lists started: the first one, then after 410 Gone or an error."""
        with self._lock:
            return self._lists

    @property
    def errors(self) -> int:
        """Lists or watches ended by an error other than 410 Gone."""
        with self._lock:
            return self._errors

    # --- the thread ------------------------------------------------------------

    def _run(self) -> None:
        initial, ceiling = self._backoff
        delay = initial
        expired_once = False
        while not self._stopping.is_set():
            try:
                version = self._list()
                delay = initial
                if version is None:  # not served: no such object, for now
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
                with self._lock:
                    self._synced = False
                    if not expired:
                        self._errors += 1
                if expired and not expired_once:
                    expired_once = True
                    self._log(f"{self.name}-expired", "info")
                    continue  # list again at once
                self._log(f"{self.name}-watch-failed", "warning", error=error_message(error))
                jitter = random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not crypto)
                if self._stopping.wait(delay * jitter):
                    break
                delay = min(delay * 2, ceiling)

    def _list(self) -> str | None:
        """List every object and deliver them; the list's resourceVersion (None: not served)."""
        with self._lock:
            self._lists += 1
        token: str | None = None
        version = ""
        items: list[T] = []
        while True:
            if self._stopping.is_set():
                raise _StoppedError
            try:
                page = call_json(
                    self._call,
                    *self._args,
                    limit=self._page_size,
                    _continue=token,
                    _request_timeout=(_CONNECT_TIMEOUT, _LIST_TIMEOUT),
                )
            except client.ApiException as error:
                if self._on_absent is None or token is not None or status_code(error) != _NOT_FOUND:
                    raise
                self._on_absent()
                self._delivered()
                return None
            metadata = page.get("metadata") if isinstance(page, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            version = version or str(metadata.get("resourceVersion") or "")
            found = page.get("items") if isinstance(page, dict) else None
            for item in found if isinstance(found, list) else ():
                read = self._read(item)
                if read is not None:
                    items.append(read)
            token = metadata.get("continue") or None
            if not token:
                break
        if self._stopping.is_set():
            raise _StoppedError
        self._on_list(items, version)
        self._delivered()
        return version

    def _delivered(self) -> None:
        with self._changed:
            self._synced = True
            self._heard_at = time.monotonic()
            self._changed.notify_all()

    def _watch_once(self, version: str) -> str:
        stream = watch.Watch(return_type="object")  # type: ignore[no-untyped-call]
        with self._lock:
            if self._stopping.is_set():
                raise _StoppedError
            self._watch = stream
        try:
            events = stream.stream(  # type: ignore[no-untyped-call]
                self._call,
                *self._args,
                resource_version=version,
                timeout_seconds=self._watch_timeout,
                allow_watch_bookmarks=True,
                _request_timeout=(_CONNECT_TIMEOUT, self._watch_timeout + _WATCH_GRACE),
            )
            for event in events:
                if self._stopping.is_set():
                    raise _StoppedError
                version = self._deliver(event, version)
        finally:
            with self._lock:
                self._watch = None
        return version

    def _deliver(self, event: Any, version: str) -> str:
        """Hand one event over (a bookmark only moves the resourceVersion); the new version."""
        obj = event.get("raw_object", event.get("object")) if isinstance(event, dict) else None
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(metadata, dict):
            return version
        new_version = metadata.get("resourceVersion")
        if isinstance(new_version, str) and new_version:
            version = new_version
        with self._lock:
            self._heard_at = time.monotonic()
        kind = event.get("type")
        if kind in _CHANGES:
            item = self._read(obj)
            if item is not None:
                self._on_event(kind, item)
        return version
