"""A fake Kubernetes API server for tests of code that uses the ``kubernetes`` client.

No kube-apiserver runs here, so tests point the real client at this HTTP server
(127.0.0.1, a free port, threads) that answers the REST API the way the real one
does for the calls our code makes::

    with FakeApiServer() as server, server.api_client() as api:
        server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
        CoreV1Api(api).read_namespace("a")

What it serves (JSON only, HTTP/1.1 keep-alive):

* ``GET`` of one object, ``GET`` of a list (one namespace or all: ``/api/v1/secrets``,
  ``/apis/{group}/{version}/{plural}``) with ``limit`` and ``continue`` (an opaque token;
  later pages keep the first page's ``resourceVersion``, ``metadata.remainingItemCount``
  is set), ``fieldSelector`` (``metadata.name``/``metadata.namespace`` with ``=``, ``==``,
  ``!=``) and ``labelSelector`` (``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``; no set syntax).
  Lists are sorted by namespace and name.
* ``POST`` (create; ``409 AlreadyExists``; ``metadata.generateName``; ``dryRun``), ``PUT``
  (replace; ``409 Conflict`` when ``metadata.resourceVersion`` is stale, unconditional
  without one), ``PATCH`` (``merge-patch+json``; ``strategic-merge-patch+json`` and
  ``apply-patch+yaml`` are applied as merge patches; ``json-patch+json`` as RFC 6902,
  a failed ``test`` is ``422 Invalid``), ``DELETE`` (answers a ``Success`` Status; deleting
  a namespace deletes what is in it at once, there is no ``Terminating`` phase).
* Watches: ``?watch=true`` on a list path, from ``resourceVersion`` (absent or ``"0"``:
  ``ADDED`` for every current object first), newline-delimited ``ADDED``/``MODIFIED``/
  ``DELETED`` events pushed as objects change, until ``timeoutSeconds`` (default 60), the
  client going away, :meth:`FakeApiServer.close_watches` or :meth:`FakeApiServer.stop`.
  Watches that ask for ``allowWatchBookmarks`` get a ``BOOKMARK`` (the resource's
  ``apiVersion`` and ``kind``, and ``metadata.resourceVersion``: the latest, all events
  before it sent) when :meth:`FakeApiServer.bookmark` says so, as the real server sends
  one now and then.
  A watch from a resourceVersion older than the kept history (more than *history* writes
  ago, or before :meth:`FakeApiServer.compact` / :meth:`FakeApiServer.expire`) gets one
  ``ERROR`` event with a ``410 Expired`` Status, as the real server sends.
* Every write assigns a new ``metadata.resourceVersion`` (one counter for all objects,
  like etcd's); creation sets ``uid``, ``creationTimestamp`` and ``generation`` (bumped when
  ``spec`` changes; for a resource with a status subresource, as for custom resources:
  when anything but ``metadata`` and ``status`` changes). Namespaces get the ``kubernetes.io/metadata.name`` label and
  ``status.phase: Active``. Errors are ``Status`` objects with the real reasons
  (``NotFound``, ``AlreadyExists``, ``Conflict``, ``Invalid``, ``BadRequest``...).
* Finalizers, as the generic registry handles them: ``DELETE`` of an object with
  ``metadata.finalizers`` only sets ``deletionTimestamp`` (and ``deletionGracePeriodSeconds:
  0``, a new ``generation``) and answers the object; the update that empties the finalizers
  deletes it (after admission, as the real server does). An update keeps the stored
  ``deletionTimestamp``, cannot set one (422) and cannot add a finalizer to an object being
  deleted (422); its spec may still change, as for any custom resource. Deleting a
  namespace removes what is in it at once, finalizers or not.
* Admission webhooks (:mod:`tests.kube.fake_admission`): HTTP writes (``POST``, ``PUT``,
  ``PATCH``, ``DELETE``) run the stored Validating- and MutatingWebhookConfigurations,
  with their rules, selectors, CEL ``matchConditions`` and ``failurePolicy``, and call the
  webhooks over HTTP(S). The requesting user is ``Impersonate-User`` (and
  ``Impersonate-Group``) when sent, else :data:`DEFAULT_USER`:
  ``server.api_client(user="system:serviceaccount:ack-system:ack-sagemaker-controller")``
  acts as the ACK controller. A webhook's Service has no endpoint until
  :meth:`FakeApiServer.route_service` gives it one (so a fresh server behaves as if the
  webhook's pods were down); :attr:`FakeApiServer.webhook_calls` records what each
  webhook did. Configurations whose ``matchConditions`` do not compile are refused (422).
  Writes through the direct methods below skip admission.
* The status subresource of resources registered with ``status_subresource=True``, as
  for a CRD's ``subresources: {status: {}}``: ``GET``, ``PUT`` and ``PATCH`` of
  ``.../{name}/status`` change the status alone (the rest of the body is ignored, a
  ``metadata.resourceVersion`` in it is a precondition: ``409 Conflict`` when stale), while
  writes to the object itself leave the status as it was, and a create drops it. Status
  writes skip admission (webhooks registered for a resource are not called for its
  ``/status``, and none of the tests registers one for it).
* Not modelled: authentication/RBAC, discovery, other subresources (``/scale``),
  schema validation, server-side apply field ownership, namespace existence for
  namespaced objects, ValidatingAdmissionPolicy. A write whose admission ran while another
  write changed the same object gets ``409 Conflict`` (the real server would retry).

For tests:

* Start it with ``with FakeApiServer() as server:`` (or :func:`running`); a module's
  fixture is three lines (``with FakeApiServer() as fake: yield fake``).
  :meth:`FakeApiServer.api_client` (or :meth:`FakeApiServer.configuration`) points the
  real client at it, without proxies or urllib3 retries.
* Objects are set up and inspected without HTTP (no request recorded): :meth:`create`,
  :meth:`put` (create or replace), :meth:`get`, :meth:`objects`, :meth:`delete`; these
  write like the API would, so watches see them. :attr:`resource_version` is the latest.
* :attr:`requests` records every request (method, path, query, body, headers) so tests
  can assert the calls made, e.g. that a list was paginated (:meth:`requests_to`) or that
  nothing was written (:meth:`writes`); :meth:`clear_requests` after the setup.
  :meth:`watch_count` is the number of watches open now (wait for 1 before changing
  objects a watcher must see).
* Faults, matched by method, ``fnmatch`` path pattern and watch or not, for the next
  *times* requests (``None``: until :meth:`clear_faults`): :meth:`fail` answers an error
  Status (500 by default, any code: 403, 409, 410...), :meth:`hang` holds the request for
  some seconds first, :meth:`drop` closes the connection without an answer. Stop the
  server to see "connection refused".

Adding a resource: the server knows the resources in :data:`DEFAULT_RESOURCES`;
register another one with :meth:`FakeApiServer.register` (or pass ``resources=``)::

    server.register(Resource("apps/v1", "deployments", "Deployment", namespaced=True))

after which its paths (``/apis/apps/v1/namespaces/{ns}/deployments[/{name}]``,
``/apis/apps/v1/deployments``) and ``server.create({"apiVersion": "apps/v1",
"kind": "Deployment", ...})`` work. Core resources use ``api_version="v1"``
(paths under ``/api/v1``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import fnmatch
import json
import secrets
import select
import socket
import socketserver
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

import jsonpatch
import jsonpointer
import yaml
from kubernetes import client

from tests.kube.fake_admission import (
    MUTATING,
    VALIDATING,
    AdmissionError,
    Attributes,
    Dispatcher,
    Operation,
    UserInfo,
    WebhookCall,
    configuration_problems,
)

JSON: Final = "application/json"
NAME_LABEL: Final = "kubernetes.io/metadata.name"
DEFAULT_USER: Final = UserInfo(
    "kubernetes-admin", ("kubeadm:cluster-admins", "system:authenticated")
)
"""Who sends a request without ``Impersonate-User`` (kubeadm's admin)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A REST resource the fake serves: ``api_version`` is ``v1`` or ``group/version``."""

    api_version: str
    plural: str
    kind: str
    namespaced: bool
    status_subresource: bool = False
    """``/status`` is a subresource (see the module docstring)."""

    @property
    def group(self) -> str:
        """The API group ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def qualified(self) -> str:
        """``plural.group`` as the real server names the resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


POLICY_REPORTS: Final = Resource(
    "wgpolicyk8s.io/v1alpha2", "policyreports", "PolicyReport", namespaced=True
)
"""The PolicyReport CRD's resource (Kyverno's or Policy Reporter's install); served by default,
leave it out (``resources=``) for a cluster without it."""

DEFAULT_RESOURCES: Final = (
    Resource("v1", "namespaces", "Namespace", namespaced=False),
    Resource("v1", "secrets", "Secret", namespaced=True),
    Resource("v1", "configmaps", "ConfigMap", namespaced=True),
    Resource("v1", "services", "Service", namespaced=True),
    Resource("v1", "events", "Event", namespaced=True),
    Resource("coordination.k8s.io/v1", "leases", "Lease", namespaced=True),
    Resource(
        "admissionregistration.k8s.io/v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        namespaced=False,
    ),
    Resource(
        "admissionregistration.k8s.io/v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        namespaced=False,
    ),
    Resource("sagemaker.services.k8s.aws/v1alpha1", "trainingjobs", "TrainingJob", namespaced=True),
    POLICY_REPORTS,
    Resource(
        "trainingjob-guard.io/v1alpha1",
        "trainingjobpolicies",
        "TrainingJobPolicy",
        namespaced=False,
        status_subresource=True,
    ),
)
"""What a new :class:`FakeApiServer` serves."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    """Query parameters (the last value of each)."""
    body: Any = None
    """The parsed JSON (or YAML) body; None without one."""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """The request headers, names lower-cased."""

    @property
    def watch(self) -> bool:
        """True for a watch request."""
        return self.query.get("watch", "").lower() in ("true", "1")

    @property
    def write(self) -> bool:
        """True for a request that may change something (not GET, HEAD, OPTIONS)."""
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass(slots=True)
class Fault:
    """An injected misbehaviour for matching requests."""

    pattern: str
    """``fnmatch`` pattern of the path (no query), e.g. ``/api/v1/namespaces*``."""
    method: str | None = None
    """Only this method (None: any)."""
    watch: bool | None = None
    """Only watch requests (True), only others (False), or both (None)."""
    status: int | None = 500
    """Answer this error status (None: answer normally, after the delay)."""
    delay: float = 0.0
    """Seconds to hold the request first (cut short by :meth:`FakeApiServer.stop`)."""
    drop: bool = False
    """Close the connection without answering."""
    times: int | None = 1
    """How many more requests it applies to (None: until cleared)."""

    def matches(self, request: RecordedRequest) -> bool:
        """True when this fault applies to *request* (and is not used up)."""
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != request.method:
            return False
        if self.watch is not None and self.watch != request.watch:
            return False
        return fnmatch.fnmatchcase(request.path, self.pattern)


class ApiError(Exception):
    """An error answered as a ``Status`` object."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The Status object the API server sends for this error."""
        return status_object(self.code, self.reason, self.message, self.details)


def status_object(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A failure ``Status`` as the API server returns it."""
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        status["details"] = details
    return status


_REASONS: Final = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass(frozen=True, slots=True)
class _Event:
    rv: int
    type: str
    resource: Resource
    obj: dict[str, Any]


_Key = tuple[str, str, str, str]  # api_version, plural, namespace ("" if cluster-scoped), name


@dataclass(frozen=True, slots=True)
class _Target:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None = None


@dataclass(slots=True)
class _Selector:
    fields: list[tuple[str, str, str]] = field(default_factory=list)
    labels: list[tuple[str, str, str]] = field(default_factory=list)

    def matches(self, obj: dict[str, Any]) -> bool:
        metadata = obj.get("metadata") or {}
        for name, op, value in self.fields:
            actual = metadata.get(name.removeprefix("metadata.")) or ""
            if (actual == value) != (op == "="):
                return False
        labels = metadata.get("labels") or {}
        for key, op, value in self.labels:
            if op == "exists" and key not in labels:
                return False
            if op == "!exists" and key in labels:
                return False
            if op == "=" and labels.get(key) != value:
                return False
            if op == "!=" and labels.get(key) == value:
                return False
        return True


def _parse_selector(query: dict[str, str]) -> _Selector:
    selector = _Selector()
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        name, op, value = _split_term(term)
        if name not in ("metadata.name", "metadata.namespace") or op not in ("=", "!="):
            raise ApiError(400, "BadRequest", f'field label not supported: "{name}"')
        selector.fields.append((name, op, value))
    for raw in filter(None, query.get("labelSelector", "").split(",")):
        term = raw.strip()
        if " in " in term or " notin " in term or "(" in term:
            raise ApiError(
                400, "BadRequest", f"set-based label selectors are not supported: {term}"
            )
        if term.startswith("!"):
            selector.labels.append((term[1:], "!exists", ""))
        elif "=" in term:
            selector.labels.append(_split_term(term))
        else:
            selector.labels.append((term, "exists", ""))
    return selector


def _split_term(term: str) -> tuple[str, str, str]:
    for op, normal in (("!=", "!="), ("==", "="), ("=", "=")):
        name, sep, value = term.partition(op)
        if sep:
            return name.strip(), normal, value.strip()
    return term.strip(), "exists", ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """What a custom resource's generation follows: all but ``metadata`` and ``status``."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def _label_namespace(obj: dict[str, Any], name: str) -> None:
    """Set the label the API server keeps on every namespace."""
    metadata = obj["metadata"]
    labels = metadata.get("labels")
    metadata["labels"] = {**(labels if isinstance(labels, dict) else {}), NAME_LABEL: name}


def _bookmark(resource: Resource, rv: int) -> dict[str, Any]:
    """A BOOKMARK event's object: only the kind and the resourceVersion, as the real server sends."""
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": {"resourceVersion": str(rv)},
    }


def _client_gone(connection: socket.socket) -> bool:
    """True when the peer closed the connection (a watch's client stopped reading)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and not connection.recv(1, socket.MSG_PEEK)
    except (OSError, ValueError):
        return True


def _encode_token(rv: int, after: tuple[str, str]) -> str:
    raw = json.dumps({"rv": rv, "after": list(after)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, (namespace, name) = int(data["rv"]), data["after"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise ApiError(400, "BadRequest", f"invalid continue token: {error}") from None
    return rv, (str(namespace), str(name))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeApiServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would do a reverse DNS lookup of the address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each small answer waits for a delayed ACK (40 ms)
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.fake._connected(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.fake._disconnected(self.connection)

    def do_GET(self) -> None:
        self.server.fake._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.fake._handle(self, "POST")

    def do_PUT(self) -> None:
        self.server.fake._handle(self, "PUT")

    def do_PATCH(self) -> None:
        self.server.fake._handle(self, "PATCH")

    def do_DELETE(self) -> None:
        self.server.fake._handle(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests assert on :attr:`FakeApiServer.requests` instead."""


class FakeApiServer:
    """An in-memory Kubernetes API server on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        resources: Iterable[Resource] = DEFAULT_RESOURCES,
        *,
        history: int = 10_000,
        default_watch_timeout: float = 60.0,
    ) -> None:
        self._resources: dict[tuple[str, str], Resource] = {}
        self._kinds: dict[tuple[str, str], Resource] = {}
        for resource in resources:
            self.register(resource)
        self._history = history
        self._default_watch_timeout = default_watch_timeout
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[_Key, dict[str, Any]] = {}
        self._events: list[_Event] = []
        self._event_rvs: list[int] = []
        self._rv = 100
        self._compacted = 0
        """Watches from a resourceVersion below this get 410 Expired."""
        self._watch_generation = 0
        self._bookmarks = 0
        """How many times :meth:`bookmark` was called (each watch sends the ones after its start)."""
        self._open_watches = 0
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._admission = Dispatcher()

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 and serve from a thread."""
        if self._httpd is not None:
            raise RuntimeError("the fake API server is already running")
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-apiserver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """End every watch and connection, stop listening and wait for the threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        httpd.shutdown()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for handler in threads:
            handler.join(timeout=5)
        httpd.server_close()
        thread.join(timeout=5)
        self._httpd = self._thread = None

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
    def port(self) -> int:
        """The port listened on."""
        if self._httpd is None:
            raise RuntimeError("the fake API server is not running")
        return self._httpd.server_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def configuration(self) -> client.Configuration:
        """A client configuration for this server (no proxy, no retries)."""
        configuration = client.Configuration(host=self.url)
        configuration.no_proxy = "*"
        configuration.retries = 0
        return configuration

    def api_client(self, user: str | None = None) -> client.ApiClient:
        """A new ApiClient talking to this server; close it (it is a context manager).

        With *user*, its requests impersonate that user (``Impersonate-User``), which is
        who admission webhooks and their matchConditions see.
        """
        api = client.ApiClient(self.configuration())
        if user is not None:
            api.default_headers["Impersonate-User"] = user
        return api

    # --- resources -------------------------------------------------------------

    def register(self, resource: Resource) -> None:
        """Serve *resource* too (see the module docstring)."""
        self._resources[resource.api_version, resource.plural] = resource
        self._kinds[resource.api_version, resource.kind] = resource

    def resource(self, api_version: str, kind: str) -> Resource:
        """The registered resource of *kind* (KeyError if none)."""
        try:
            return self._kinds[api_version, kind]
        except KeyError:
            raise KeyError(f"{kind} of {api_version} is not registered") from None

    # --- direct access for tests (no HTTP, nothing recorded) --------------------

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create *obj* (its apiVersion, kind and metadata.namespace say where)."""
        resource = self._resource_of(obj)
        with self._changed:
            return copy.deepcopy(self._create(resource, self._namespace_of(resource, obj), obj))

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create *obj*, or replace the stored one unconditionally."""
        resource = self._resource_of(obj)
        namespace = self._namespace_of(resource, obj)
        name = (obj.get("metadata") or {}).get("name")
        body = copy.deepcopy(obj)
        body.get("metadata", {}).pop("resourceVersion", None)
        with self._changed:
            if self._key(resource, namespace, name) in self._objects:
                return copy.deepcopy(self._replace(resource, namespace, name, body))
            return copy.deepcopy(self._create(resource, namespace, body))

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The stored object, or None."""
        resource = self.resource(api_version, kind)
        with self._lock:
            found = self._objects.get(self._key(resource, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def objects(
        self, api_version: str, kind: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """The stored objects of a kind (in one namespace or all), sorted."""
        resource = self.resource(api_version, kind)
        with self._lock:
            return [copy.deepcopy(o) for _, o in self._select(resource, namespace, _Selector())]

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete the object (KeyError if there is none); with finalizers, mark it deleted."""
        resource = self.resource(api_version, kind)
        with self._changed:
            try:
                self._delete_request(resource, namespace, name)
            except ApiError as error:
                raise KeyError(error.message) from None

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out."""
        with self._lock:
            return self._rv

    def compact(self) -> None:
        """Forget the event history: watches from an older resourceVersion get 410 Expired."""
        with self._lock:
            self._events.clear()
            self._event_rvs.clear()
            self._compacted = self._rv

    def expire(self) -> None:
        """Compact as etcd does: open watches end, and resuming from any resourceVersion
        handed out so far gets 410 Expired (a client must list again)."""
        with self._changed:
            self._rv += 1
            self._events.clear()
            self._event_rvs.clear()
            self._compacted = self._rv
            self._watch_generation += 1
            self._changed.notify_all()

    def bookmark(self) -> None:
        """Send a BOOKMARK with the latest resourceVersion on every watch that allows them."""
        with self._changed:
            self._bookmarks += 1
            self._changed.notify_all()

    def close_watches(self) -> None:
        """End every open watch now, as an API server restart or timeout would."""
        with self._changed:
            self._watch_generation += 1
            self._changed.notify_all()

    def watch_count(self) -> int:
        """How many watch requests are being served right now."""
        with self._lock:
            return self._open_watches

    # --- admission webhooks -----------------------------------------------------

    def route_service(self, namespace: str, name: str, url: str, *, port: int = 443) -> None:
        """Give Service *name*.*namespace* (port *port*) an endpoint: webhook calls go to *url*.

        *url* is ``https://127.0.0.1:<port>`` (verified against the configuration's
        caBundle, as the Service's DNS name ``<name>.<namespace>.svc``) or plain http.
        """
        self._admission.route(namespace, name, url, port=port)

    def unroute_service(self, namespace: str, name: str, *, port: int = 443) -> None:
        """Take the Service's endpoint away, as when the webhook's pods are all down."""
        self._admission.unroute(namespace, name, port=port)

    @property
    def webhook_calls(self) -> list[WebhookCall]:
        """What each matching webhook did with each write so far, in order (a copy)."""
        return self._admission.calls

    def clear_webhook_calls(self) -> None:
        """Forget :attr:`webhook_calls`."""
        self._admission.clear_calls()

    # --- requests and faults ----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(
        self, path: str, method: str | None = None, *, watch: bool | None = None
    ) -> list[RecordedRequest]:
        """The requests to a path (``fnmatch`` pattern), optionally of one method."""
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r.path, path)
            and (method is None or r.method == method)
            and (watch is None or r.watch == watch)
        ]

    def writes(self) -> list[RecordedRequest]:
        """The requests that could change something (POST, PUT, PATCH, DELETE)."""
        return [r for r in self.requests if r.write]

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def fail(
        self,
        pattern: str = "*",
        *,
        status: int = 500,
        method: str | None = None,
        watch: bool | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Answer the next *times* matching requests with an error Status."""
        return self.add_fault(
            Fault(pattern, method=method, watch=watch, status=status, times=times)
        )

    def hang(
        self,
        pattern: str = "*",
        *,
        seconds: float = 30.0,
        method: str | None = None,
        watch: bool | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Hold the next *times* matching requests for *seconds*, then answer normally."""
        return self.add_fault(
            Fault(pattern, method=method, watch=watch, status=None, delay=seconds, times=times)
        )

    def drop(
        self,
        pattern: str = "*",
        *,
        method: str | None = None,
        watch: bool | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Close the connection of the next *times* matching requests without answering."""
        return self.add_fault(
            Fault(pattern, method=method, watch=watch, status=None, drop=True, times=times)
        )

    def add_fault(self, fault: Fault) -> Fault:
        """Inject *fault*; it applies before any fault added later."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    # --- HTTP -------------------------------------------------------------------

    def _connected(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            self._threads.add(threading.current_thread())

    def _disconnected(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
            self._threads.discard(threading.current_thread())

    def _handle(self, handler: _Handler, method: str) -> None:
        url = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        content_type = handler.headers.get("Content-Type")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body: Any = None
        parse_error = None
        if raw:
            try:
                body = yaml.safe_load(raw) if "yaml" in (content_type or "") else json.loads(raw)
            except (ValueError, yaml.YAMLError) as error:
                parse_error = str(error)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        request = RecordedRequest(method, url.path, query, body, content_type, headers)
        with self._lock:
            self._requests.append(request)
            fault = next((f for f in self._faults if f.matches(request)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
        if fault is not None:
            if fault.delay and self._stopping.wait(fault.delay):
                handler.close_connection = True
                return
            if fault.drop:
                handler.close_connection = True
                with contextlib.suppress(OSError):
                    handler.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                reason = _REASONS.get(fault.status, "InternalError")
                message = f"injected fault: {fault.status} {reason}"
                self._send(handler, fault.status, status_object(fault.status, reason, message))
                return
        try:
            if parse_error is not None:
                raise ApiError(400, "BadRequest", f"the request body is not valid: {parse_error}")
            target = self._route(url.path)
            if method == "GET" and request.watch:
                self._serve_watch(handler, target, query)
                return
            user = DEFAULT_USER
            impersonated = handler.headers.get("Impersonate-User")
            if impersonated:
                user = UserInfo(
                    impersonated, tuple(handler.headers.get_all("Impersonate-Group", []))
                )
            code, answer = self._dispatch(method, target, query, body, content_type, user)
        except ApiError as error:
            code, answer = error.code, error.status()
        self._send(handler, code, answer)

    def _send(self, handler: _Handler, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", JSON)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            handler.close_connection = True

    def _route(self, path: str) -> _Target:
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "api":
            api_version, rest = parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        subresource = None
        if len(rest) == 3 and rest[2] == "status":
            subresource, rest = rest[2], rest[:2]
        if not rest or len(rest) > 2:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resource = self._resources.get((api_version, rest[0]))
        if resource is None or (namespace is not None and not resource.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if subresource is not None and not resource.status_subresource:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) == 2 else None
        if name is not None and resource.namespaced and namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return _Target(resource, namespace, name, subresource)

    def _dispatch(
        self,
        method: str,
        target: _Target,
        query: dict[str, str],
        body: Any,
        content_type: str | None,
        user: UserInfo = DEFAULT_USER,
    ) -> tuple[int, dict[str, Any]]:
        """Serve one request: a write is prepared, admitted (without the lock) and stored.

        The store refuses the write (409) if the object changed while it was admitted.
        """
        resource, namespace, name = target.resource, target.namespace, target.name
        dry_run = bool(query.get("dryRun"))
        if target.subresource is not None and name is not None:
            return self._dispatch_status(method, target, name, body, content_type, dry_run)
        if method == "GET":
            with self._lock:
                if name is None:
                    return 200, self._list(resource, namespace, query)
                return 200, copy.deepcopy(self._get(resource, namespace, name))
        if method == "POST" and name is None:
            with self._changed:
                candidate = self._create(resource, namespace, self._object_body(body), True)
            admitted = self._admit("CREATE", target, candidate, None, user, dry_run)
            assert admitted is not None  # only a DELETE leaves no object
            with self._changed:
                return 201, copy.deepcopy(self._create(resource, namespace, admitted, dry_run))
        if method in ("PUT", "PATCH") and name is not None:
            with self._changed:
                old = copy.deepcopy(self._get(resource, namespace, name))
                if method == "PUT":
                    candidate = self._replace(
                        resource, namespace, name, self._object_body(body), True
                    )
                else:
                    candidate = self._patch(resource, namespace, name, body, content_type, True)
            admitted = self._admit("UPDATE", target, candidate, old, user, dry_run)
            assert admitted is not None
            with self._changed:
                return 200, copy.deepcopy(
                    self._replace(resource, namespace, name, admitted, dry_run)
                )
        if method == "DELETE" and name is not None:
            with self._changed:
                old = copy.deepcopy(self._get(resource, namespace, name))
            self._admit("DELETE", target, None, old, user, dry_run)
            with self._changed:
                obj, deleted = self._delete_request(resource, namespace, name, dry_run)
            if not deleted:
                return 200, copy.deepcopy(obj)  # finalizers pending: the object, marked
            details = {
                "name": name,
                "group": resource.group,
                "kind": resource.plural,
                "uid": obj["metadata"]["uid"],
            }
            return 200, {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on this path")

    def _dispatch_status(
        self,
        method: str,
        target: _Target,
        name: str,
        body: Any,
        content_type: str | None,
        dry_run: bool,
    ) -> tuple[int, dict[str, Any]]:
        """A request to ``/status``: only the status changes (module docstring)."""
        resource, namespace = target.resource, target.namespace
        with self._changed:
            old = self._get(resource, namespace, name)
            if method == "GET":
                return 200, copy.deepcopy(old)
            if method == "PUT":
                given = self._check_body(resource, namespace, self._object_body(body))
            elif method == "PATCH":
                given = self._patched(resource, old, body, content_type)
            else:
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on this path")
            new = copy.deepcopy(old)
            new["metadata"]["resourceVersion"] = (given.get("metadata") or {}).get(
                "resourceVersion"
            )
            if "status" in given:
                new["status"] = given["status"]
            else:
                new.pop("status", None)
            stored = self._store(resource, namespace, name, old, new, dry_run, status=True)
            return 200, copy.deepcopy(stored)

    def _admit(
        self,
        operation: Operation,
        target: _Target,
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        user: UserInfo,
        dry_run: bool,
    ) -> dict[str, Any] | None:
        """The object to store, as the stored webhook configurations admit it (None on DELETE).

        Call without the lock held: a webhook may call this server.
        """
        resource, namespace = target.resource, target.namespace
        if resource.group == "admissionregistration.k8s.io":
            # The API server never sends webhook configurations to webhooks (no deadlock).
            return obj
        with self._lock:
            configurations = [
                copy.deepcopy(stored)
                for key, stored in self._objects.items()
                if key[0] == "admissionregistration.k8s.io/v1"
                and stored.get("kind") in (VALIDATING, MUTATING)
            ]
            stored_namespace = self._objects.get(("v1", "namespaces", "", namespace or ""))
        if not configurations:
            return obj
        # A namespace that is not stored still has the label the API server sets on every one.
        labels = {NAME_LABEL: namespace} if namespace else {}
        if stored_namespace is not None:
            labels = dict(stored_namespace["metadata"].get("labels") or {})
        subject = obj if obj is not None else old
        assert subject is not None
        attributes = Attributes(
            operation,
            resource.group,
            resource.api_version.rpartition("/")[2],
            resource.plural,
            resource.kind,
            resource.namespaced,
            namespace,
            str(subject["metadata"].get("name") or ""),
            obj,
            old,
            user,
            dry_run,
        )
        try:
            return self._admission.admit(attributes, configurations, labels)
        except AdmissionError as rejection:
            raise ApiError(rejection.code, rejection.reason, rejection.message) from None

    @staticmethod
    def _object_body(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        return body

    # --- the store (callers hold the lock) --------------------------------------

    def _resource_of(self, obj: dict[str, Any]) -> Resource:
        return self.resource(str(obj.get("apiVersion")), str(obj.get("kind")))

    @staticmethod
    def _namespace_of(resource: Resource, obj: dict[str, Any]) -> str | None:
        if not resource.namespaced:
            return None
        namespace = (obj.get("metadata") or {}).get("namespace")
        return namespace if isinstance(namespace, str) and namespace else "default"

    @staticmethod
    def _is_namespace(resource: Resource) -> bool:
        return resource.api_version == "v1" and resource.plural == "namespaces"

    @staticmethod
    def _check_configuration(resource: Resource, obj: dict[str, Any]) -> None:
        """Refuse webhook configurations the real API server's validation refuses."""
        if resource.kind not in (VALIDATING, MUTATING):
            return
        problems = configuration_problems(obj)
        if problems:
            name = (obj.get("metadata") or {}).get("name")
            message = f'{resource.kind}.admissionregistration.k8s.io "{name}" is invalid: ' + (
                ", ".join(problems)
            )
            raise ApiError(422, "Invalid", message)

    @staticmethod
    def _key(resource: Resource, namespace: str | None, name: str | None) -> _Key:
        return (resource.api_version, resource.plural, namespace or "", name or "")

    @staticmethod
    def _not_found(resource: Resource, name: str) -> ApiError:
        details = {"name": name, "group": resource.group, "kind": resource.plural}
        return ApiError(404, "NotFound", f'{resource.qualified} "{name}" not found', details)

    def _get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        found = self._objects.get(self._key(resource, namespace, name))
        if found is None:
            raise self._not_found(resource, name)
        return found

    def _select(
        self, resource: Resource, namespace: str | None, selector: _Selector
    ) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        found = [
            ((key[2], key[3]), obj)
            for key, obj in self._objects.items()
            if key[0] == resource.api_version
            and key[1] == resource.plural
            and (namespace is None or key[2] == namespace)
            and selector.matches(obj)
        ]
        found.sort(key=lambda item: item[0])
        return found

    def _list(
        self, resource: Resource, namespace: str | None, query: dict[str, str]
    ) -> dict[str, Any]:
        selector = _parse_selector(query)
        items = self._select(resource, namespace, selector)
        rv = self._rv
        token = query.get("continue")
        if token:
            rv, after = _decode_token(token)
            items = [item for item in items if item[0] > after]
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        limit_text = query.get("limit")
        try:
            limit = int(limit_text) if limit_text else 0
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid limit: {limit_text!r}") from None
        if 0 < limit < len(items):
            metadata["continue"] = _encode_token(rv, items[limit - 1][0])
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "metadata": metadata,
            "items": [copy.deepcopy(obj) for _, obj in items],
        }

    def _check_body(
        self, resource: Resource, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        for field_name, expected in (("apiVersion", resource.api_version), ("kind", resource.kind)):
            given = obj.get(field_name)
            if given is not None and given != expected:
                message = f"{field_name} {given!r} does not match the path's {expected!r}"
                raise ApiError(400, "BadRequest", message)
            obj[field_name] = expected
        metadata = obj.get("metadata")
        if metadata is None:
            metadata = obj["metadata"] = {}
        if not isinstance(metadata, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if resource.namespaced:
            given = metadata.get("namespace")
            if given and given != namespace:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace "
                    "sent on the request",
                )
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        return obj

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _record(self, kind: str, resource: Resource, obj: dict[str, Any], rv: int) -> None:
        self._events.append(_Event(rv, kind, resource, copy.deepcopy(obj)))
        self._event_rvs.append(rv)
        if len(self._events) > self._history:
            dropped = len(self._events) - self._history
            self._compacted = self._events[dropped - 1].rv
            del self._events[:dropped]
            del self._event_rvs[:dropped]
        self._changed.notify_all()

    def _create(
        self,
        resource: Resource,
        namespace: str | None,
        body: dict[str, Any],
        dry_run: bool = False,
    ) -> dict[str, Any]:
        obj = self._check_body(resource, namespace, body)
        metadata = obj["metadata"]
        name = metadata.get("name")
        if not name:
            prefix = metadata.get("generateName")
            if not prefix:
                details = {"kind": resource.plural, "group": resource.group}
                raise ApiError(422, "Invalid", "name or generateName is required", details)
            name = metadata["name"] = prefix + secrets.token_hex(3)[:5]
        key = self._key(resource, namespace, name)
        if key in self._objects:
            details = {"name": name, "group": resource.group, "kind": resource.plural}
            message = f'{resource.qualified} "{name}" already exists'
            raise ApiError(409, "AlreadyExists", message, details)
        self._check_configuration(resource, obj)
        metadata.pop("resourceVersion", None)
        if resource.status_subresource:
            obj.pop("status", None)  # a create cannot set the status
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        metadata["generation"] = 1
        if self._is_namespace(resource):
            _label_namespace(obj, name)
            obj.setdefault("status", {"phase": "Active"})
        if dry_run:
            return obj
        rv = self._next_rv()
        metadata["resourceVersion"] = str(rv)
        self._objects[key] = obj
        self._record("ADDED", resource, obj, rv)
        return obj

    def _store(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        old: dict[str, Any],
        new: dict[str, Any],
        dry_run: bool,
        *,
        status: bool = False,
    ) -> dict[str, Any]:
        """Store an update of *old* (*status*: a write to the status subresource)."""
        metadata = new.get("metadata")
        if not isinstance(metadata, dict):
            raise ApiError(422, "Invalid", "metadata must be an object")
        given_rv = metadata.get("resourceVersion")
        if given_rv and given_rv != old["metadata"]["resourceVersion"]:
            message = (
                f'Operation cannot be fulfilled on {resource.qualified} "{name}": the object '
                "has been modified; please apply your changes to the latest version and try again"
            )
            details = {"name": name, "group": resource.group, "kind": resource.plural}
            raise ApiError(409, "Conflict", message, details)
        if metadata.get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
        for kept in ("name", "uid", "creationTimestamp"):
            metadata[kept] = old["metadata"][kept]
        self._check_deletion_fields(resource, name, old["metadata"], metadata)
        self._check_configuration(resource, new)
        if resource.namespaced:
            metadata["namespace"] = namespace
        if self._is_namespace(resource):
            _label_namespace(new, name)
        if resource.status_subresource and not status:
            if "status" in old:  # the object itself cannot change its status
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        generation = old["metadata"].get("generation", 1)
        if resource.status_subresource:
            changed = _content(new) != _content(old)
        else:
            changed = new.get("spec") != old.get("spec")
        metadata["generation"] = generation + 1 if changed else generation
        metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old or dry_run:
            return new if dry_run else old
        rv = self._next_rv()
        metadata["resourceVersion"] = str(rv)
        key = self._key(resource, namespace, name)
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            # The last finalizer is gone: the update deletes the object (after admission).
            del self._objects[key]
            self._record("DELETED", resource, new, rv)
            return new
        self._objects[key] = new
        self._record("MODIFIED", resource, new, rv)
        return new

    @staticmethod
    def _check_deletion_fields(
        resource: Resource, name: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        """What the API server's update does with deletion fields (rest.BeforeUpdate)."""
        invalid = f'{resource.kind}.{resource.group or "core"} "{name}" is invalid: '
        stamp = old.get("deletionTimestamp")
        if stamp:
            # An update never removes or changes a deletion timestamp or grace period.
            new["deletionTimestamp"] = stamp
            if "deletionGracePeriodSeconds" in old:
                new["deletionGracePeriodSeconds"] = old["deletionGracePeriodSeconds"]
            before = old.get("finalizers") or []
            added = [f for f in new.get("finalizers") or [] if f not in before]
            if added:
                raise ApiError(
                    422,
                    "Invalid",
                    f"{invalid}metadata.finalizers: Forbidden: no new finalizers can be added "
                    f"if the object is being deleted, found new finalizers {added}",
                )
        elif new.get("deletionTimestamp"):
            raise ApiError(
                422,
                "Invalid",
                f"{invalid}metadata.deletionTimestamp: Invalid value: "
                f"{new['deletionTimestamp']!r}: field is immutable",
            )

    def _replace(
        self,
        resource: Resource,
        namespace: str | None,
        name: str | None,
        body: dict[str, Any],
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if name is None:
            raise ApiError(400, "BadRequest", "a name is required")
        old = self._get(resource, namespace, name)
        new = self._check_body(resource, namespace, body)
        return self._store(resource, namespace, name, old, new, dry_run)

    def _patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        body: Any,
        content_type: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        old = self._get(resource, namespace, name)
        new = self._patched(resource, old, body, content_type)
        return self._store(resource, namespace, name, old, new, dry_run)

    @staticmethod
    def _patched(
        resource: Resource, old: dict[str, Any], body: Any, content_type: str | None
    ) -> dict[str, Any]:
        """*old* with the patch *body* applied (a new object; nothing is stored)."""
        media = (content_type or "").split(";")[0].strip()
        if media == "application/json-patch+json":
            if not isinstance(body, list):
                raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
            try:
                new = jsonpatch.apply_patch(copy.deepcopy(old), body)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
                raise ApiError(
                    422, "Invalid", f"the JSON patch cannot be applied: {error}"
                ) from None
        elif media in (
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ):
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
            new = _merge(copy.deepcopy(old), body)  # never share dicts with the store
        else:
            raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {media!r}")
        if not isinstance(new, dict):
            raise ApiError(422, "Invalid", "the patched object is not an object")
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        return new

    def _delete_request(
        self, resource: Resource, namespace: str | None, name: str, dry_run: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """A DELETE: (the object, True) when it is gone; (the object marked for deletion,
        False) while finalizers remain (again False, unchanged, when it already was)."""
        obj = self._get(resource, namespace, name)
        metadata = obj["metadata"]
        if not metadata.get("finalizers"):
            return self._delete(resource, namespace, name, dry_run), True
        if metadata.get("deletionTimestamp") or dry_run:
            return obj, False
        marked = copy.deepcopy(obj)
        marked_metadata = marked["metadata"]
        marked_metadata["deletionTimestamp"] = _now()
        marked_metadata["deletionGracePeriodSeconds"] = 0
        marked_metadata["generation"] = metadata.get("generation", 1) + 1
        rv = self._next_rv()
        marked_metadata["resourceVersion"] = str(rv)
        self._objects[self._key(resource, namespace, name)] = marked
        self._record("MODIFIED", resource, marked, rv)
        return marked, False

    def _delete(
        self, resource: Resource, namespace: str | None, name: str, dry_run: bool = False
    ) -> dict[str, Any]:
        """Remove the object at once, finalizers or not."""
        obj = self._get(resource, namespace, name)
        if dry_run:
            return obj
        if self._is_namespace(resource):
            for key in [k for k in self._objects if k[2] == name]:
                inner = self._resources[key[0], key[1]]
                self._delete(inner, name, key[3])
        del self._objects[self._key(resource, namespace, name)]
        rv = self._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._record("DELETED", resource, obj, rv)
        return obj

    # --- watch ------------------------------------------------------------------

    def _serve_watch(self, handler: _Handler, target: _Target, query: dict[str, str]) -> None:
        resource, namespace = target.resource, target.namespace
        if target.name is not None:
            raise ApiError(405, "MethodNotAllowed", "watch a list path with a fieldSelector")
        selector = _parse_selector(query)
        try:
            timeout = float(query.get("timeoutSeconds") or self._default_watch_timeout)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid timeoutSeconds") from None
        since = query.get("resourceVersion", "")
        with self._lock:
            initial: list[tuple[str, dict[str, Any]]] = []
            if since in ("", "0"):
                last = self._rv
                initial = [
                    ("ADDED", copy.deepcopy(obj))
                    for _, obj in self._select(resource, namespace, selector)
                ]
            else:
                try:
                    last = int(since)
                except ValueError:
                    raise ApiError(
                        400, "BadRequest", f"invalid resourceVersion {since!r}"
                    ) from None
                if last < self._compacted:
                    message = f"too old resource version: {last} ({self._compacted})"
                    initial = [("ERROR", status_object(410, "Expired", message))]
            generation = self._watch_generation
            bookmarked = self._bookmarks if query.get("allowWatchBookmarks") == "true" else None
            self._open_watches += 1
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", JSON)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            self._stream(handler, initial)
            if initial and initial[0][0] == "ERROR":
                self._end_stream(handler)
                return
            deadline = time.monotonic() + timeout
            while True:
                with self._changed:
                    while (
                        not self._stream_over(generation, deadline)
                        and not self._newer(last)
                        and bookmarked in (None, self._bookmarks)
                    ):
                        self._changed.wait(min(max(deadline - time.monotonic(), 0.001), 0.05))
                        if _client_gone(handler.connection):
                            raise ConnectionResetError("the client went away")
                    if self._stream_over(generation, deadline):
                        break
                    start = bisect_right(self._event_rvs, last)
                    events = self._events[start:]
                    last = self._rv
                    mark = bookmarked is not None and bookmarked != self._bookmarks
                    if mark:
                        bookmarked = self._bookmarks
                matching = [
                    (event.type, event.obj)
                    for event in events
                    if event.resource == resource
                    and (namespace is None or event.obj["metadata"].get("namespace") == namespace)
                    and selector.matches(event.obj)
                ]
                if mark:
                    matching.append(("BOOKMARK", _bookmark(resource, last)))
                self._stream(handler, matching)
            self._end_stream(handler)
        except OSError:
            handler.close_connection = True
        finally:
            with self._lock:
                self._open_watches -= 1

    def _stream_over(self, generation: int, deadline: float) -> bool:
        return (
            self._stopping.is_set()
            or generation != self._watch_generation
            or time.monotonic() >= deadline
        )

    def _newer(self, last: int) -> bool:
        return bool(self._event_rvs) and self._event_rvs[-1] > last

    @staticmethod
    def _stream(handler: _Handler, events: list[tuple[str, dict[str, Any]]]) -> None:
        for kind, obj in events:
            line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        if events:
            handler.wfile.flush()

    @staticmethod
    def _end_stream(handler: _Handler) -> None:
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()


@contextlib.contextmanager
def running(*resources: Resource) -> Iterator[FakeApiServer]:
    """A started fake API server (with *resources* registered too), stopped at the end."""
    with FakeApiServer() as server:
        for resource in resources:
            server.register(resource)
        yield server


__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_USER",
    "ApiError",
    "FakeApiServer",
    "Fault",
    "RecordedRequest",
    "Resource",
    "UserInfo",
    "WebhookCall",
    "running",
    "status_object",
]
