"""The ``wgpolicyk8s.io/v1alpha2`` API: the PolicyReport as we write it, typed.

Written from the published Go types (kubernetes-sigs/wg-policy-prototypes,
``policy-report/apis/wgpolicyk8s.io/v1alpha2``), with the fields we set; what we choose
to put in them is :mod:`webhook.audit.policyreport`'s.
"""

from __future__ import annotations

from typing import Final, Literal, Required, TypedDict

GROUP: Final = "wgpolicyk8s.io"
VERSION: Final = "v1alpha2"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "PolicyReport"
PLURAL: Final = "policyreports"

ResultKind = Literal["pass", "fail", "warn", "error", "skip"]
Severity = Literal["critical", "high", "medium", "low", "info"]


class ObjectReference(TypedDict, total=False):
    """A ``core/v1`` ObjectReference, the fields a result's ``resources`` uses."""

    apiVersion: str
    kind: str
    name: str
    namespace: str
    uid: str


class Timestamp(TypedDict):
    """A ``metav1.Timestamp``: seconds since the epoch, and nanoseconds."""

    seconds: int
    nanos: int


class ReportResult(TypedDict, total=False):
    """One ``PolicyReportResult``."""

    source: str
    policy: Required[str]
    rule: str
    severity: Severity
    timestamp: Timestamp
    result: ResultKind
    scored: bool
    resources: list[ObjectReference]
    message: str
    properties: dict[str, str]


Summary = TypedDict("Summary", {"pass": int, "fail": int, "warn": int, "error": int, "skip": int})
"""``PolicyReportSummary``: results by kind (``pass`` is a Python keyword)."""


class ReportMetadata(TypedDict):
    """What we set of a report's metadata."""

    name: str
    namespace: str
    labels: dict[str, str]


class PolicyReport(TypedDict):
    """A ``wgpolicyk8s.io/v1alpha2`` ``PolicyReport`` as we write it."""

    apiVersion: str
    kind: str
    metadata: ReportMetadata
    results: list[ReportResult]
    summary: Summary
