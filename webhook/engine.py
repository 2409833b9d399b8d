"""The decision function: one object in, one decision out, no I/O.

The CLI, the webhook server and the policy test runner all call
:func:`review`, so a manifest checked in CI and the same manifest sent by the
API server get the same answer by construction.

Checks, in the order the user would meet them:

1. the typed model (``crd.*``): what the API server's schema check rejects;
2. the Kubernetes object name (``k8s.name``);
3. the SageMaker API's constraints (``sagemaker.*``), generated from the
   service model, and the rules it cannot express;
4. unsubstituted template placeholders (``placeholder``).

Every finding is reported, not the first one. Each rule denies by default;
:class:`Config` can change a rule's action (e.g. ``sagemaker.instance-type``
to ``warn`` when AWS has added instance types that the pinned model lacks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from webhook.constraints import messages
from webhook.constraints.check import SpecChecker, default_checker, find_placeholder
from webhook.constraints.rules import check_rules
from webhook.findings import Action, Decision, Finding
from webhook.model.parse import parse

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]

# RFC 1123 subdomain: what Kubernetes requires of a custom resource's name.
_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN: Final = re.compile(rf"{_LABEL}(\.{_LABEL})*")


@dataclass(frozen=True, slots=True)
class Config:
    """How the engine treats findings; built once, shared by every review."""

    actions: Mapping[str, Action] = field(default_factory=dict)
    """Action per rule id, overriding the default (deny)."""
    checker: SpecChecker = field(default_factory=default_checker)
    """The compiled SageMaker constraints."""


@dataclass(frozen=True, slots=True)
class Context:
    """What the request says besides the object (all optional for the CLI)."""

    operation: Operation = "CREATE"
    namespace: str | None = None
    user: str | None = None
    groups: tuple[str, ...] = ()
    dry_run: bool = False


DEFAULT_CONTEXT: Final = Context()


def review(
    obj: Mapping[str, Any],
    *,
    old: Mapping[str, Any] | None = None,
    context: Context = DEFAULT_CONTEXT,
    config: Config,
) -> Decision:
    """Decide on *obj* (the TrainingJob as a JSON-like mapping).

    *old* is the stored object on UPDATE. DELETE and CONNECT are always
    allowed: a guard must never keep a resource from being deleted.
    """
    if context.operation in ("DELETE", "CONNECT"):
        return Decision()
    findings = check_object(obj, config.checker)
    if config.actions:
        findings = [_override(finding, config.actions) for finding in findings]
    return Decision(tuple(findings))


def check_object(obj: Mapping[str, Any], checker: SpecChecker) -> list[Finding]:
    """Return every finding of the built-in checks on *obj*, all denying."""
    _, findings = parse(obj)
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        findings.extend(_check_name(metadata))
    spec = obj.get("spec")
    if isinstance(spec, dict):
        # A field both the CRD and SageMaker require is reported once, by the CRD.
        missing = {f.path for f in findings if f.rule == "crd.required"}
        findings.extend(
            f for f in checker(spec) if f.rule != "sagemaker.required" or f.path not in missing
        )
        findings.extend(check_rules(spec))
    return findings


def _check_name(metadata: Mapping[str, Any]) -> list[Finding]:
    name = metadata.get("name")
    if not isinstance(name, str):
        if name is None and not metadata.get("generateName"):
            return [Finding("k8s.name", ("metadata", "name"), "metadata.name is required")]
        return []
    placeholder = find_placeholder(name)
    if placeholder is not None:
        return [Finding("placeholder", ("metadata", "name"), messages.placeholder(placeholder))]
    if len(name) > 253 or DNS_SUBDOMAIN.fullmatch(name) is None:
        return [
            Finding(
                "k8s.name",
                ("metadata", "name"),
                f"{name[:60]!r} is not a valid Kubernetes name: at most 253 lower-case "
                "letters, digits, '-' and '.', starting and ending with a letter or digit",
            )
        ]
    return []


def _override(finding: Finding, actions: Mapping[str, Action]) -> Finding:
    action = actions.get(finding.rule)
    return finding if action is None or action is finding.action else finding.with_action(action)
