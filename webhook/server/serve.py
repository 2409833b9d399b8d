"""``trainingjob-guard serve``: the webhook on uvicorn, over TLS only.

Certificates come from ``--tls-cert-file``/``--tls-key-file``, or from
``--cert-dir`` holding ``tls.crt``, ``tls.key`` and ``ca.crt`` (the file names
of a Kubernetes TLS Secret and of cert-manager); with neither, a CA and a
serving certificate are generated into the cert dir. One event loop serves
requests; a background task polls the policy files and the certificate every
``reload_interval`` seconds and swaps in what changed (a mounted ConfigMap or
Secret changes through a symlink swap, which the polling sees), together with
the cluster's TrainingJobPolicy objects when ``--cluster-policies`` is given
(their list and watch, and their status writes, run in threads of their own). uvicorn
finishes in-flight requests on SIGTERM before it exits.

Connections are bounded (:mod:`webhook.server.connections`): a read timeout
for the TLS handshake and for each request, a keep-alive timeout, a limit on
how many are open; the defaults and their reasons are in
:mod:`webhook.server.limits`. Everything written to standard error is a JSON
line, uvicorn's own messages included (:mod:`webhook.server.logs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from webhook.certs import CertFiles, CertificateError, RotatingContext, ensure_cert_dir
from webhook.constraints.update import DEFAULT_CONTROLLER_USERS
from webhook.findings import Action
from webhook.kube.errors import KubeError
from webhook.policy.load import PolicyLoadError
from webhook.server.app import MAX_BODY_BYTES, Admissions, build_app
from webhook.server.connections import event_loop
from webhook.server.direct import protocol
from webhook.server.limits import Limits
from webhook.server.logs import json_logging
from webhook.server.state import JsonLog, ServerState

if TYPE_CHECKING:
    from webhook.kube.certificates import SelfManagedCertificates
    from webhook.kube.continuous import ContinuousAudit
    from webhook.kube.namespaces import NamespaceLabels
    from webhook.kube.policies import PolicyWatch


def default_cert_dir() -> Path:
    """Where generated certificates go when no ``--cert-dir`` is given."""
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state_home) / "trainingjob-guard" / "certs"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What ``serve`` was asked to do."""

    host: str = "127.0.0.1"
    port: int = 8443
    policy_paths: tuple[str, ...] = ()
    actions: Mapping[str, Action] = field(default_factory=dict)
    cert_file: Path | None = None
    key_file: Path | None = None
    cert_dir: Path | None = None
    dns_names: tuple[str, ...] = ()
    reload_interval: float = 2.0
    max_body: int = MAX_BODY_BYTES
    graceful_seconds: int = 15
    limits: Limits = field(default_factory=Limits)
    """Read and keep-alive timeouts, and the connection limit."""
    kubeconfig: str | None = None
    namespace_labels: bool = False
    """Look up namespace labels in the API server."""
    self_managed: str | None = None
    """``namespace/secret`` of the TLS Secret the webhook keeps itself."""
    validating_webhook: str | None = None
    mutating_webhook: str | None = None
    certificate_check_seconds: float = 3600.0
    """How often a self-managed certificate is checked for renewal."""
    controller_users: frozenset[str] = DEFAULT_CONTROLLER_USERS
    """Kubernetes user names of the ACK controller (``--controller-user``)."""
    audit_interval: float | None = None
    """Seconds between continuous audits (``--audit-interval``); None: none."""
    audit_lease: str | None = None
    """``namespace/name`` of the Lease electing the replica that audits."""
    audit_identity: str = "trainingjob-guard"
    """This replica's name in the Lease."""
    cluster_policies: bool = False
    """Also enforce the cluster's TrainingJobPolicy objects (``--cluster-policies``)."""


def certificates(options: ServeOptions, log: JsonLog) -> CertFiles:
    """The certificate files to serve with, generated when there are none.

    Self-managed certificates (``--self-managed-certs``) come from
    :func:`self_managed` instead: they need the API server.
    """
    if options.cert_file or options.key_file:
        if not (options.cert_file and options.key_file):
            raise CertificateError("--tls-cert-file and --tls-key-file go together")
        return CertFiles(options.cert_file, options.key_file, None)
    cert_dir = options.cert_dir or default_cert_dir()
    files, generated = ensure_cert_dir(cert_dir, options.dns_names)
    if generated:
        log("certificates-generated", directory=str(cert_dir), ca=str(files.ca))
    return files


def self_managed(options: ServeOptions, log: JsonLog) -> SelfManagedCertificates:
    """The keeper of a self-managed TLS Secret (``--self-managed-certs``)."""
    namespace, _, secret = (options.self_managed or "").partition("/")
    if not namespace or not secret:
        raise CertificateError("--self-managed-certs takes NAMESPACE/SECRET")
    # The Kubernetes client only when a cluster is asked for: it doubles start-up time.
    from webhook.kube.certificates import SelfManagedCertificates  # noqa: PLC0415
    from webhook.kube.client import api_client  # noqa: PLC0415

    try:
        api = api_client(options.kubeconfig)
    except KubeError as error:
        raise CertificateError(f"--self-managed-certs needs the API server: {error}") from None
    return SelfManagedCertificates.of(
        api,
        namespace,
        secret,
        dns_names=options.dns_names or ("localhost",),
        cert_dir=options.cert_dir or default_cert_dir(),
        validating=options.validating_webhook,
        mutating=options.mutating_webhook,
        log=log,
    )


def continuous_audit(options: ServeOptions, state: ServerState, log: JsonLog) -> ContinuousAudit:
    """The continuous audit ``--audit-interval`` asks for, with its leader election."""
    from webhook.kube.client import api_client  # noqa: PLC0415 (see self_managed)
    from webhook.kube.continuous import ContinuousAudit  # noqa: PLC0415
    from webhook.kube.lease import LeaderElector  # noqa: PLC0415

    assert options.audit_interval is not None
    try:
        api = api_client(options.kubeconfig)
    except KubeError as error:
        raise KubeError(f"--audit-interval needs the API server: {error}") from None
    elector = None
    if options.audit_lease:
        namespace, _, name = options.audit_lease.partition("/")
        if not namespace or not name:
            raise KubeError("--audit-lease takes NAMESPACE/NAME")
        elector = LeaderElector(api, namespace, name, options.audit_identity)
    cached = state.namespace_labels  # the watch-backed cache, when --namespace-labels
    audit = ContinuousAudit(
        api,
        lambda: state.config,
        interval=options.audit_interval,
        log=log,
        elector=elector,
        labels=(lambda: cached) if cached is not None else None,
    )
    state.metrics.audit = audit.status
    return audit


def cluster_policies(options: ServeOptions, state: ServerState) -> PolicyWatch:
    """Start the list and watch of the TrainingJobPolicy objects, taken up on each reload.

    The server is not ready until they have been listed (see webhook.server.cluster).
    """
    from webhook.kube.client import api_client  # noqa: PLC0415 (see self_managed)
    from webhook.kube.policies import PolicyWatch  # noqa: PLC0415
    from webhook.server.cluster import ClusterPolicies  # noqa: PLC0415

    watch = PolicyWatch(api_client(options.kubeconfig), log=state.log)
    state.cluster = ClusterPolicies(watch, state.log, state.metrics)
    watch.start()
    return watch


def banner(options: ServeOptions, files: CertFiles, port: int, policies: Sequence[str]) -> str:
    """How to call the running server, printed once it listens."""
    host = "localhost" if options.host in ("127.0.0.1", "::1", "localhost") else options.host
    ca = files.ca or files.cert
    example = Path(__file__).resolve().parent.parent / "examples" / "admission-review.json"
    return "\n".join(
        [
            f"trainingjob-guard is serving https://{host}:{port} "
            f"(policies: {', '.join(policies) or 'none'})",
            f"  CA bundle:  {ca}",
            "  endpoints:  POST /validate, POST /mutate (AdmissionReview v1); "
            "GET /healthz, /readyz, /metrics",
            "  try it:",
            f"    curl --cacert {ca} https://{host}:{port}/readyz",
            f"    curl --cacert {ca} -H 'Content-Type: application/json' "
            f"--data @{example} https://{host}:{port}/validate",
            "",
        ]
    )


async def _watch(
    state: ServerState,
    rotating: RotatingContext,
    interval: float,
    keeper: SelfManagedCertificates | None = None,
    keeper_interval: float = 3600.0,
) -> None:
    signature = rotating.signature()
    next_check = time.monotonic() + keeper_interval
    while True:
        await asyncio.sleep(interval)
        state.log.flush()
        await asyncio.to_thread(state.reload)
        if keeper is not None and time.monotonic() >= next_check:
            next_check = time.monotonic() + keeper_interval
            try:
                await asyncio.to_thread(keeper.ensure)  # renews and rewrites the files if due
            except Exception as error:  # the API server may be away: try again next time
                state.log("certificate-check-failed", "error", error=str(error))
        current = rotating.signature()
        if current != signature:
            signature = current
            try:
                rotating.reload()
            except CertificateError as error:
                state.metrics.certificate_reloads.labels("failure").inc()
                state.log("certificate-reload-failed", "error", error=str(error))
            else:
                state.metrics.certificate_reloads.labels("success").inc()
                state.log("certificate-reloaded", expires=str(rotating.expiry))


async def run(options: ServeOptions, log: JsonLog | None = None) -> int:
    """Serve until SIGINT / SIGTERM; return the exit code.

    Everything written to standard error from here on is a line of *log*: the
    libraries' log records (:mod:`webhook.server.logs`) and why the server could
    not start, if it could not.
    """
    log = log or JsonLog()
    with json_logging(log):
        return await _run(options, log)


async def _run(options: ServeOptions, log: JsonLog) -> int:
    keeper: SelfManagedCertificates | None = None
    labels: NamespaceLabels | None = None
    audit: ContinuousAudit | None = None
    watch: PolicyWatch | None = None
    try:
        state = ServerState.load(
            options.policy_paths,
            options.actions,
            log,
            controller_users=options.controller_users,
            cluster_policies=options.cluster_policies,
        )
        if options.self_managed:
            keeper = self_managed(options, log)
            files = await asyncio.to_thread(keeper.ensure)
        else:
            files = certificates(options, log)
        rotating = RotatingContext(files.cert, files.key)
        if options.namespace_labels:
            from webhook.kube.client import api_client  # noqa: PLC0415 (see self_managed)
            from webhook.kube.namespaces import NamespaceLabels  # noqa: PLC0415

            labels = NamespaceLabels(api_client(options.kubeconfig), log=log)
            labels.start()
            state.namespace_labels = labels
        if options.audit_interval is not None:
            audit = continuous_audit(options, state, log)
        if options.cluster_policies:
            watch = cluster_policies(options, state)
    except PolicyLoadError as error:
        log("startup-failed", "error", errors=[str(problem) for problem in error.errors])
        return 2
    except (CertificateError, KubeError) as error:
        log("startup-failed", "error", error=str(error))
        return 2
    state.certificate_file = files.cert
    if audit is not None:
        audit.start()
    served = await _serve(options, state, files, rotating, keeper)
    if audit is not None:
        await asyncio.to_thread(audit.stop)  # gives the lease up
    if labels is not None:
        labels.stop()
    if watch is not None:
        watch.stop()
    log("stopped")
    log.flush()
    return 0 if served else 1


async def _serve(
    options: ServeOptions,
    state: ServerState,
    files: CertFiles,
    rotating: RotatingContext,
    keeper: SelfManagedCertificates | None,
) -> bool:
    """Serve until SIGINT / SIGTERM; False if the server did not start."""

    def ssl_context(_config: uvicorn.Config, _default: object) -> ssl.SSLContext:
        return rotating.context

    admissions = Admissions(state, options.max_body)  # the application's and the connections'
    config = uvicorn.Config(
        build_app(state, options.max_body, admissions),
        host=options.host,
        port=options.port,
        ssl_context_factory=ssl_context,
        loop="uvloop",
        http=protocol(options.limits, state.log, admissions),
        ws="none",  # the webhook never upgrades a connection (to WebSocket or anything else)
        lifespan="off",
        access_log=False,
        # The API server calls the webhook itself: no X-Forwarded-* header is to be
        # trusted (and no middleware runs per request for them); no Server header either.
        proxy_headers=False,
        server_header=False,
        log_config=None,  # its records go to the JSON log (webhook.server.logs)
        log_level="warning",
        timeout_keep_alive=options.limits.keep_alive_timeout,
        timeout_graceful_shutdown=options.graceful_seconds,
    )
    server = uvicorn.Server(config)
    # uvicorn stops gracefully on SIGTERM / SIGINT, then raises the signal again for the
    # handler it found installed: make that ours, so the process logs and exits 0.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: setattr(server, "should_exit", True))
    watcher = asyncio.create_task(
        _watch(state, rotating, options.reload_interval, keeper, options.certificate_check_seconds)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        policies = [p.id for p in state.config.policies.policies]
        state.log("serving", host=options.host, port=port, policies=policies)
        sys.stdout.write(banner(options, files, port, policies))
        sys.stdout.flush()
    await serving
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    return server.started


def serve_forever(options: ServeOptions) -> int:
    """Run :func:`run` on uvloop, the event loop uvicorn is fastest on.

    ``asyncio.run`` would give the default loop: uvicorn picks uvloop only when
    it creates the loop itself, and here the loop is ours (the reload task
    shares it, and it bounds TLS handshakes by the read timeout).
    """
    with asyncio.Runner(loop_factory=event_loop(options.limits.read_timeout)) as runner:
        return runner.run(run(options))
