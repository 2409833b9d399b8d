"""Writing our PolicyReports to the cluster: create, update, delete, idempotently.

:func:`write_reports` makes the cluster hold exactly the given reports in the namespaces
it is told about: it lists our reports there (one list, by the
``app.kubernetes.io/managed-by`` label), creates the missing ones, replaces those whose
results changed (with the stored ``resourceVersion``, so a concurrent change is never
overwritten blindly: a ``409 Conflict`` reads the report again and retries) and deletes
ours in namespaces that no longer have results. A report that has not changed is not
written at all (:func:`webhook.audit.policyreport.reconcile` keeps the timestamps of
unchanged results), so running it twice writes nothing the second time.

A report of that name that we do not manage (no label) is never overwritten: that is an
error. When the API server does not serve the PolicyReport resource (the CRD is not
installed) or forbids the list, nothing is written and the :class:`KubeError` says how
to fix it. A write that fails is reported and the others still happen.

RBAC: ``list``, ``get``, ``create``, ``update`` and ``delete`` on
``policyreports.wgpolicyk8s.io``, in the namespaces audited (a ClusterRole for ``-A``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from kubernetes import client

from webhook.audit.policyreport import MANAGED_BY, REPORT_NAME, SOURCE, reconcile
from webhook.audit.wgpolicyk8s import GROUP, PLURAL, VERSION, PolicyReport, Summary
from webhook.kube.client import error_message, status_code
from webhook.kube.errors import KubeError

__all__ = ["INSTALL_HINT", "WriteResult", "Written", "write_reports"]

Outcome = Literal["created", "updated", "unchanged", "deleted"]
RESOURCE: Final = f"{PLURAL}.{GROUP}"
SELECTOR: Final = f"{MANAGED_BY}={SOURCE}"
ATTEMPTS: Final = 3
"""Tries of one write that keeps meeting a concurrent change (409)."""
INSTALL_HINT: Final = (
    f"the API server does not serve {RESOURCE}/{VERSION}: install the PolicyReport CRD "
    "first; Kyverno's and Policy Reporter's Helm charts install it, and "
    "kubernetes-sigs/wg-policy-prototypes publishes it (policy-report/crd/v1alpha2)"
)
PERMISSIONS: Final = f"writing reports needs list, get, create, update and delete on {RESOURCE}"


@dataclass(frozen=True, slots=True)
class Written:
    """What happened to one namespace's report."""

    namespace: str
    outcome: Outcome
    summary: Summary | None = None
    """The written report's counts (None for a deleted one)."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Every namespace's outcome, and the writes that failed (one line each)."""

    written: list[Written]
    errors: list[str]

    @property
    def writes(self) -> int:
        """Requests that changed something."""
        return sum(1 for item in self.written if item.outcome != "unchanged")


def write_reports(
    api: client.ApiClient,
    reports: Sequence[PolicyReport],
    namespace: str | None,
    *,
    before_write: Callable[[], None] | None = None,
) -> WriteResult:
    """Make the cluster hold exactly *reports* of ours in *namespace* (None: everywhere).

    Our reports in that scope whose namespace has no report in *reports* are deleted.
    *before_write* is called before each namespace's create, update or delete; what it
    raises stops the writing there (the continuous audit stops when its lease is lost).

    Raises:
        KubeError: Our reports could not be listed (nothing was written).
    """
    custom = client.CustomObjectsApi(api)
    stored = {
        _namespace(obj): obj
        for obj in _list_ours(custom, namespace)
        if (obj.get("metadata") or {}).get("name") == REPORT_NAME
    }
    written: list[Written] = []
    errors: list[str] = []
    ready = before_write or (lambda: None)
    for report in reports:
        name = report["metadata"]["namespace"]
        ready()
        try:
            written.append(_write(custom, report, stored.get(name)))
        except KubeError as error:
            errors.append(str(error))
    wanted = {report["metadata"]["namespace"] for report in reports}
    for name in sorted(set(stored) - wanted):
        ready()
        try:
            custom.delete_namespaced_custom_object(GROUP, VERSION, name, PLURAL, REPORT_NAME)
        except Exception as error:
            if status_code(error) != 404:  # gone already: what we wanted
                errors.append(_failed("delete", name, error))
                continue
        written.append(Written(name, "deleted"))
    return WriteResult(written, errors)


def _list_ours(custom: client.CustomObjectsApi, namespace: str | None) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        try:
            if namespace is None:
                page = custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, label_selector=SELECTOR, limit=500, _continue=token
                )
            else:
                page = custom.list_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    namespace,
                    PLURAL,
                    label_selector=SELECTOR,
                    limit=500,
                    _continue=token,
                )
        except Exception as error:
            raise KubeError(_list_error(error, namespace)) from error
        items = page.get("items") if isinstance(page, dict) else None
        yield from (item for item in items or () if isinstance(item, dict))
        metadata = page.get("metadata") if isinstance(page, dict) else None
        token = metadata.get("continue") if isinstance(metadata, dict) else None
        if not token:
            return


def _list_error(error: BaseException, namespace: str | None) -> str:
    scope = f'in namespace "{namespace}"' if namespace else "in all namespaces"
    code = status_code(error)
    if code == 404:
        return f"cannot list PolicyReports {scope}: {INSTALL_HINT}"
    reason = error_message(error)
    return f"cannot list PolicyReports {scope}: {reason}" + (
        f" ({PERMISSIONS})" if code == 403 else ""
    )


def _write(
    custom: client.CustomObjectsApi, report: PolicyReport, stored: dict[str, Any] | None
) -> Written:
    namespace = report["metadata"]["namespace"]
    for _ in range(ATTEMPTS):
        try:
            if stored is None:
                custom.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, dict(report)
                )
                return Written(namespace, "created", report["summary"])
            body = reconcile(report, stored)
            if body is None:
                return Written(namespace, "unchanged", report["summary"])
            custom.replace_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, REPORT_NAME, body
            )
            return Written(namespace, "updated", report["summary"])
        except Exception as error:
            if status_code(error) == 404 and stored is None:
                raise KubeError(
                    f"cannot create PolicyReport in {namespace}: {INSTALL_HINT}"
                ) from None
            if status_code(error) != 409:
                action = "create" if stored is None else "update"
                raise KubeError(_failed(action, namespace, error)) from None
        # 409: created or changed meanwhile. Read it again and decide anew.
        stored = _read(custom, namespace)
    raise KubeError(
        f"cannot write PolicyReport {namespace}/{REPORT_NAME}: it kept changing while "
        f"being written ({ATTEMPTS} tries)"
    )


def _read(custom: client.CustomObjectsApi, namespace: str) -> dict[str, Any] | None:
    try:
        found = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, REPORT_NAME)
    except Exception as error:
        if status_code(error) == 404:
            return None
        raise KubeError(_failed("read", namespace, error)) from None
    if not isinstance(found, dict):
        raise KubeError(f"reading PolicyReport {namespace}/{REPORT_NAME} returned no object")
    labels = (found.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY) != SOURCE:
        raise KubeError(
            f"PolicyReport {namespace}/{REPORT_NAME} exists and is not ours (no label "
            f"{SELECTOR}): not overwriting it; delete it or give it that label"
        )
    return found


def _failed(action: str, namespace: str, error: BaseException) -> str:
    message = f"cannot {action} PolicyReport {namespace}/{REPORT_NAME}: {error_message(error)}"
    return message + (f" ({PERMISSIONS})" if status_code(error) == 403 else "")


def _namespace(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    return namespace if isinstance(namespace, str) else ""
