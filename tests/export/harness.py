"""The exported policies and the webhook, asked about the same admission request.

Also what the export tests share: a policy folder's cases as requests
(:func:`case_requests`), and ``export`` run as the command line runs it
(:func:`export_cli`, :func:`yaml_objects`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from tests.export.apiserver import admitted
from webhook.engine import Config, review
from webhook.export.offline import admission_request, evaluate, namespace_object
from webhook.export.vap import Export
from webhook.findings import Action
from webhook.request import Context
from webhook.testing import Case, CasesFile, read_case_file

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


def case_requests(folder: Path) -> Iterator[tuple[Case, Request]]:
    """Each case of a policy folder's ``tests/cases.yaml``, with the request it stands for."""
    cases = CasesFile.model_validate(read_case_file(folder / "tests" / "cases.yaml"))
    for case in cases.cases:
        job: Any = read_case_file(folder / "tests" / case.object)
        old = read_case_file(folder / "tests" / case.oldObject) if case.oldObject else None
        namespace = case.namespace or (job.get("metadata") or {}).get("namespace") or "default"
        yield (
            case,
            Request(
                job,
                namespace,
                case.namespaceLabels or {},
                case.userInfo.username or "alice",
                tuple(case.userInfo.groups),
                case.operation,
                old,
            ),
        )


def export_cli(kind: str, *args: str) -> tuple[int, str, str]:
    """``trainingjob-guard export KIND ARGS...``: its exit code, stdout and stderr."""
    from webhook.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["export", kind, *args])
    return code, out.getvalue(), err.getvalue()


def yaml_objects(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream, as ``kubectl apply -f -`` reads them."""
    return [item for item in yaml.safe_load_all(text) if item]
