"""Connecting to the Kubernetes API with the ``kubernetes`` client.

Where the cluster configuration comes from, first found wins:

1. ``--kubeconfig FILE`` (with ``--context``, else its current context);
2. the pod's service account (in-cluster: ``KUBERNETES_SERVICE_HOST`` and the token
   mounted under ``/var/run/secrets/kubernetes.io/serviceaccount``), unless a context
   was asked for (only kubeconfig files have contexts);
3. the default kubeconfig, as kubectl finds it: the files of ``$KUBECONFIG``, else
   ``~/.kube/config``.

Kubeconfig files are only read (never written back, e.g. on a token refresh). Each
call builds its own :class:`~kubernetes.client.Configuration`: nothing is set as the
client library's global default, so several clusters can be used at once (and tests
can point a client at a fake API server with :func:`client_for`).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import urllib3
from kubernetes import client
from kubernetes import config as kube_config

from webhook.kube.errors import KubeConfigError

SERVICE_ACCOUNT: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_KUBECONFIG: Final = "~/.kube/config"
_LOOPBACK: Final = "127.0.0.1,localhost,::1"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """A loaded cluster configuration."""

    configuration: client.Configuration
    namespace: str
    """The default namespace: the context's, the pod's, else ``default``."""
    source: str
    """Where it came from, for messages (e.g. ``kubeconfig ~/.kube/config (context prod)``)."""


def load_config(kubeconfig: str | None = None, context: str | None = None) -> ClusterConfig:
    """Load the cluster configuration (see the module docstring); raise KubeConfigError."""
    if kubeconfig is not None:
        return _from_kubeconfig(kubeconfig, context)
    tried: list[str] = []
    if context is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            try:
                return _in_cluster()
            except kube_config.ConfigException as error:
                tried.append(f"in-cluster ({error})")
        else:
            tried.append("in-cluster (KUBERNETES_SERVICE_HOST is not set)")
    files = _default_kubeconfig_files()
    existing = [f for f in files if Path(f).expanduser().is_file()]
    if existing:
        return _from_kubeconfig(os.pathsep.join(existing), context)
    tried.append(f"kubeconfig {os.pathsep.join(files)} (no such file)")
    raise KubeConfigError(
        "no Kubernetes cluster configuration found: tried "
        + "; ".join(tried)
        + "; give --kubeconfig or set KUBECONFIG"
    )


def api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    """A new ApiClient for the cluster (see the module docstring); close it after use."""
    return connect(load_config(kubeconfig, context))


def connect(cluster: ClusterConfig) -> client.ApiClient:
    """A new ApiClient for a loaded cluster configuration; close it after use."""
    return client.ApiClient(cluster.configuration)


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace kubectl would use without ``-n`` (the context's, the pod's, or default)."""
    return load_config(kubeconfig, context).namespace


def client_for(
    host: str,
    *,
    token: str | None = None,
    ca_file: str | None = None,
    retries: int | None = None,
) -> client.ApiClient:
    """A new ApiClient for the API server at *host* (a URL), e.g. a fake one in tests.

    Loopback hosts bypass any proxy of the environment; *retries* is urllib3's
    retry count (None: its default).
    """
    configuration = client.Configuration(host=host)
    if token is not None:
        configuration.api_key["BearerToken"] = f"Bearer {token}"
    if ca_file is not None:
        configuration.ssl_ca_cert = ca_file
    if retries is not None:
        configuration.retries = retries
    hostname = urllib3.util.parse_url(host).host or ""
    if hostname.strip("[]") in _LOOPBACK.split(","):
        configuration.no_proxy = _LOOPBACK
    return client.ApiClient(configuration)


def derived_client(api: client.ApiClient) -> client.ApiClient:
    """A client like *api* that retries one failed connect and never a read.

    For background threads' calls (lists, watches, lookups, status writes): a
    hanging API server then costs one request timeout, not several.
    """
    configuration = copy.deepcopy(api.configuration)
    configuration.retries = urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
    return client.ApiClient(configuration)


def call_json(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an API method and parse its body ourselves (no typed models, any client version)."""
    response = call(*args, _preload_content=False, **kwargs)
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def status_code(error: BaseException) -> int | None:
    """The HTTP status of a failed API call (None when there was no answer)."""
    if isinstance(error, client.ApiException) and error.status:
        return int(error.status)
    return None


def error_message(error: BaseException) -> str:
    """Describe a failed API call in one line: status, reason and the server's message."""
    if isinstance(error, client.ApiException):
        message = _status_message(error.body)
        if not error.status:
            return str(error.reason or message or "the request failed").splitlines()[0]
        head = f"{error.status} {error.reason}" if error.reason else str(error.status)
        return f"{head}: {message}" if message else head
    if isinstance(error, urllib3.exceptions.MaxRetryError):
        return f"cannot reach the API server: {error.reason}"
    if isinstance(error, urllib3.exceptions.HTTPError):
        return f"API request failed: {error}"
    return f"{type(error).__name__}: {error}"


def _status_message(body: Any) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return body.strip().splitlines()[0][:200] if body.strip() else ""
    message = status.get("message") if isinstance(status, dict) else None
    return message if isinstance(message, str) else ""


def _default_kubeconfig_files() -> list[str]:
    value = os.environ.get("KUBECONFIG", "")
    files = [f for f in value.split(os.pathsep) if f]
    return files or [DEFAULT_KUBECONFIG]


def _from_kubeconfig(files: str, context: str | None) -> ClusterConfig:
    paths = [f for f in files.split(os.pathsep) if f]
    missing = [f for f in paths if not Path(f).expanduser().is_file()]
    if missing or not paths:
        raise KubeConfigError(f"kubeconfig {', '.join(missing) or repr(files)}: no such file")
    configuration = client.Configuration()
    try:
        kube_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=files,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        contexts, current = kube_config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=files
        )
    except (kube_config.ConfigException, OSError, ValueError, TypeError, KeyError) as error:
        where = f"kubeconfig {files}" + (f" (context {context})" if context else "")
        raise KubeConfigError(f"{where}: {error}") from None
    name = context or (current or {}).get("name")
    chosen = next((c for c in contexts or () if c.get("name") == name), None) or current or {}
    namespace = (chosen.get("context") or {}).get("namespace") or "default"
    return ClusterConfig(configuration, namespace, f"kubeconfig {files} (context {name})")


def _in_cluster() -> ClusterConfig:
    configuration = client.Configuration()
    load = kube_config.load_incluster_config
    load(client_configuration=configuration)  # type: ignore[no-untyped-call]
    namespace = os.environ.get("POD_NAMESPACE", "")
    if not namespace:
        try:
            namespace = (SERVICE_ACCOUNT / "namespace").read_text(encoding="utf-8").strip()
        except OSError:
            namespace = ""
    return ClusterConfig(configuration, namespace or "default", "in-cluster service account")
