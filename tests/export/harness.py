"""The exported policies and the webhook, asked about the same admission request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch

from tests.export.apiserver import admitted
from webhook.engine import Config, review
from webhook.export.offline import admission_request, evaluate, namespace_object
from webhook.export.vap import Export
from webhook.findings import Action
from webhook.request import Context

ACTIONS = {"Deny": Action.DENY, "Warn": Action.WARN, "Audit": Action.AUDIT}


@dataclass(frozen=True)
class Request:
    """One admission request: the job, and what the API server knows around it."""

    job: Mapping[str, Any]
    namespace: str
    labels: Mapping[str, str]
    username: str = "alice"
    groups: tuple[str, ...] = ()
    operation: str = "CREATE"
    old: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Verdicts:
    """The (rule, action) pairs each side reports for the exported rules."""

    webhook: frozenset[tuple[str, Action]]
    vap: frozenset[tuple[str, Action]]
    messages: tuple[str, ...]


def decide(request: Request, config: Config, exported: Export) -> Verdicts | None:
    """Both answers for *request*; None when the API server would refuse the object."""
    job = admitted(request.job, request.operation)
    old = admitted(request.old, "UPDATE") if request.old is not None else None
    if job is None or (request.old is not None and old is None):
        return None
    if old is not None:
        job = {**job, **({"status": old["status"]} if "status" in old else {})}
        job.pop("status", None) if "status" not in old else None
    labels = dict(namespace_object(request.namespace, request.labels)["metadata"]["labels"])
    context = Context(
        request.operation,  # type: ignore[arg-type]
        namespace=request.namespace,
        user=request.username,
        groups=request.groups,
        namespace_labels=labels,
    )
    decision = review(job, old=old, context=context, config=config)
    patched = jsonpatch.apply_patch(job, list(decision.patch)) if decision.patch else job
    rules = exported.rules
    webhook = frozenset((f.rule, f.action) for f in decision.findings if f.rule in rules)
    failures = evaluate(
        exported.objects,
        obj=patched,
        old=old,
        request=admission_request(
            patched,
            operation=request.operation,
            namespace=request.namespace,
            username=request.username,
            groups=request.groups,
            old=old,
        ),
        namespace=namespace_object(request.namespace, request.labels),
    )
    vap = set()
    for failure in failures:
        validation = exported.index.get((failure.policy, failure.index))
        rule = validation.rule if validation is not None else f"{failure.policy}!{failure.error}"
        vap.add((rule, ACTIONS[failure.action]))
    return Verdicts(webhook, frozenset(vap), tuple(f.message for f in failures))


def described(verdicts: Verdicts) -> str:
    """The difference, for an assertion message."""
    only_webhook = sorted(verdicts.webhook - verdicts.vap)
    only_vap = sorted(verdicts.vap - verdicts.webhook)
    return f"webhook only: {only_webhook}; VAP only: {only_vap}"


def pairs(items: Iterable[tuple[str, Action]]) -> list[str]:
    return sorted(f"{action.value} {rule}" for rule, action in items)
