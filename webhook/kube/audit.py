"""``trainingjob-guard audit``: the TrainingJobs already in a cluster, listed for an audit.

Policies change and webhooks get installed after the fact, so this lists the
TrainingJobs (one namespace or all, paginated with ``limit``/``continue``) and looks
up their namespaces' labels, for :mod:`webhook.audit` to judge each exactly as the
webhook would judge a CREATE today. It only reads: no write request is ever sent
(writing PolicyReports is :mod:`webhook.kube.policyreports`'s).

The pure part of an audit lives in :mod:`webhook.audit`; its report types and
renderers are re-exported here, where the command line and the tests found them first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final

from kubernetes import client

from webhook.audit.examine import NamespaceLabelLookup
from webhook.audit.report import AuditReport, AuditResult, audit
from webhook.kube.client import error_message, status_code
from webhook.kube.errors import KubeError
from webhook.model import API_VERSION, GROUP, KIND, VERSION

__all__ = [
    "PLURAL",
    "AuditReport",
    "AuditResult",
    "NamespaceLabelLookup",
    "audit",
    "list_training_jobs",
    "namespace_lookup",
]

PLURAL: Final = "trainingjobs"


def list_training_jobs(
    api: client.ApiClient,
    namespace: str | None = None,
    page_size: int = 200,
    on_total: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the TrainingJobs of *namespace* (None: all namespaces) as plain dicts, page by page.

    *on_total*, when given, is told as each page arrives (before its jobs are yielded)
    how many TrainingJobs the list is expected to hold in all: those of the pages so far
    plus the API server's ``metadata.remainingItemCount`` (an estimate it may leave out;
    then nothing is told until the last page, when the count is exact). A progress
    display needs no more.

    Raises:
        KubeError: The list failed (the message names the scope and the API server's reason).
    """
    custom = client.CustomObjectsApi(api)
    token: str | None = None
    listed = 0
    while True:
        try:
            if namespace is None:
                page = custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, limit=page_size, _continue=token
                )
            else:
                page = custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, limit=page_size, _continue=token
                )
        except Exception as error:
            raise KubeError(_list_error(error, namespace)) from error
        if not isinstance(page, dict):
            raise KubeError(f"listing TrainingJobs returned {type(page).__name__}, not a list")
        items = page.get("items")
        items = items if isinstance(items, list) else []
        listed += len(items)
        metadata = page.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        token = metadata.get("continue")
        remaining = metadata.get("remainingItemCount")
        if on_total is not None and (not token or isinstance(remaining, int)):
            on_total(listed + (remaining if token and isinstance(remaining, int) else 0))
        for item in items:
            if isinstance(item, dict):
                # Items of a custom resource list carry these; be sure for the engine.
                item.setdefault("apiVersion", API_VERSION)
                item.setdefault("kind", KIND)
                yield item
        if not token:
            return


def _list_error(error: BaseException, namespace: str | None) -> str:
    scope = f'in namespace "{namespace}"' if namespace else "in all namespaces"
    if status_code(error) == 404 and namespace is None:
        return (
            f"cannot list TrainingJobs {scope}: the API server does not serve "
            f"{PLURAL}.{GROUP}/{VERSION} (is the ACK SageMaker controller's CRD installed?)"
        )
    return f"cannot list TrainingJobs {scope}: {error_message(error)}"


def namespace_lookup(api: client.ApiClient) -> NamespaceLabelLookup:
    """Look up each namespace's labels once (a GET); None when that fails (e.g. forbidden)."""
    core = client.CoreV1Api(api)
    known: dict[str, Mapping[str, str] | None] = {}

    def labels(namespace: str) -> Mapping[str, str] | None:
        if namespace not in known:
            try:
                found = core.read_namespace(namespace, _request_timeout=30)
                raw = found.metadata.labels if found.metadata is not None else None
                known[namespace] = MappingProxyType(dict(raw or {}))
            except Exception:
                known[namespace] = None
        return known[namespace]

    return labels
