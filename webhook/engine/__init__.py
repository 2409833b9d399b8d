"""The decision function: one object in, one decision out, no I/O.

The CLI, the webhook server and the policy test runner all call
:func:`review`, so a manifest checked in CI and the same manifest sent by the
API server get the same answer by construction.

What it does, in the API server's own order, after one step of its own:

0. the size gate (:mod:`webhook.constraints.bounds`): a list, map or string over
   its bound (SageMaker's, else a fixed one) is the whole answer, a denial with
   one finding each, and nothing else runs, so no job costs more to check than
   the largest one SageMaker accepts. Where the rule of a SageMaker bound is
   relaxed (its action, as below, is warn or audit), the fixed bound stands in
   for SageMaker's. On UPDATE the stored object is held to the same bounds,
   after the one test that reads no field (an unchanged spec is allowed, so
   deletion never gets stuck);
1. on CREATE, the org defaults of the policies that apply, as a JSON Patch
   (mutating admission runs before the schema check and validation);
2. on UPDATE, the controller's update rules (``update.*``). An update that
   leaves the spec as it was is always allowed, by anyone, so deletion never
   gets stuck; so is the ACK controller's own late initialization (fields of
   :data:`~webhook.constraints.update.LATE_INITIALIZED` going from absent to a
   value, the spec otherwise unchanged) when the request comes from one of
   :attr:`Config.controller_users`, even for a job that breaks a policy added
   since. From anyone else, and from an unknown user (the CLI without
   ``--user``, a policy test case without ``userInfo``), such an addition is a
   spec change: denied (``update.immutable``), and the new spec goes through
   every check below, as on CREATE;
3. the typed model (``crd.*``): what the API server's schema check rejects;
4. the Kubernetes object name (``k8s.name``);
5. the SageMaker API's constraints (``sagemaker.*``), generated from the
   service model, and the rules it cannot express; unsubstituted template
   placeholders (``placeholder``);
6. the platform team's policies (``<policy id>/<rule id>``).

Every finding is reported, not the first one. Built-in rules deny by default;
a policy's ``apiConstraints`` can change that for the jobs it applies to, and
:attr:`Config.actions` (the operator's setting) overrides both. Not the size
gate's findings, which always deny: past those bounds nothing was checked.
Relaxing ``sagemaker.list-size``, ``sagemaker.map-size`` or
``sagemaker.length`` (for when AWS raises a limit before the pinned service
model knows it) moves the gate's bound for that rule from SageMaker's out to
the fixed one: in between, the checks run and report the rule's findings with
the relaxed action.

The package: :func:`review` and the size gate's part of it here;
:class:`Config` in :mod:`webhook.engine.config`; the built-in checks on one
object and their native proof (:func:`check_object`, :func:`builtin_proof`) in
:mod:`webhook.engine.builtin`; what proves a CREATE clean for the webhook's
fast path (:func:`clean_create`) in :mod:`webhook.engine.clean`. Every public
name is importable from :mod:`webhook.engine` itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import jsonpatch
from jsonpointer import JsonPointer

from webhook.constraints.bounds import UNCHECKED
from webhook.constraints.gate import metadata_fits
from webhook.constraints.sizes import gate_findings
from webhook.constraints.update import review_update, spec_unchanged
from webhook.engine.builtin import DNS_SUBDOMAIN, builtin_proof, builtin_schema_of, check_object
from webhook.engine.clean import CleanCreate, clean_create
from webhook.engine.config import Config, lenient
from webhook.findings import Action, Decision, Finding
from webhook.policy.compiled import STRICTNESS, Selection
from webhook.policy.subject import Subject
from webhook.request import Context, Operation

__all__ = [
    "DNS_SUBDOMAIN",
    "CleanCreate",
    "Config",
    "Context",
    "Operation",
    "builtin_proof",
    "builtin_schema_of",
    "check_object",
    "clean_create",
    "oversized",
    "patched",
    "review",
]

DEFAULT_CONTEXT: Final = Context()
NOTHING: Final = Decision()
"""The decision on a job with nothing to report and nothing to default."""


def review(
    obj: Mapping[str, Any],
    *,
    old: Mapping[str, Any] | None = None,
    context: Context = DEFAULT_CONTEXT,
    config: Config,
) -> Decision:
    """Decide on *obj*, the TrainingJob as JSON or YAML decoding gives it.

    Dicts, lists and scalars: a hand-built object with tuples for lists is not
    what the native proofs read (:mod:`webhook.native`).

    *old* is the stored object on UPDATE; ``context.user`` then tells the ACK
    controller's late initialization (:attr:`Config.controller_users`) from a
    user's change. DELETE and CONNECT are always allowed: a guard must never
    keep a resource from being deleted. The decision's ``patch`` holds the
    defaults applied on CREATE; its findings are about the object with that
    patch applied.
    """
    if context.operation in ("DELETE", "CONNECT"):
        return Decision()
    stored = old if context.operation == "UPDATE" else None
    if stored is not None and spec_unchanged(stored, obj):
        return NOTHING
    proven: bool | None = config.native and builtin_proof(config.checker).holds(obj)
    over, selection = _size_gate(obj, stored, config, old=old, context=context, proven=bool(proven))
    if over:
        return Decision(tuple(over))
    findings: list[Finding] = []
    patch: list[dict[str, Any]] = []
    if stored is not None:
        by_controller = context.user is not None and context.user in config.controller_users
        update = review_update(stored, obj, by_controller=by_controller)
        if update.spec_unchanged:
            return Decision(update.findings)
        findings.extend(update.findings)
    actions: Mapping[str, Action] = config.actions
    if not config.policies:
        findings.extend(check_object(obj, config.checker, native=config.native, proven=proven))
    else:
        subject = Subject.of(obj, context, old)
        if selection is None:
            selection = config.policies.select(subject)
        if context.operation == "CREATE" and config.mutate:
            patch = selection.patch(obj, subject)
            if patch:
                obj = patched(obj, patch)
                subject = Subject.of(obj, context, old)
                proven = None
        findings.extend(check_object(obj, config.checker, native=config.native, proven=proven))
        evaluation = selection.evaluate(subject, native=config.native)
        findings.extend(evaluation.findings)
        if evaluation.api_actions:
            actions = {**evaluation.api_actions, **config.actions}
    if not findings and not patch:
        return NOTHING
    findings = _root_causes(findings)
    if actions:
        findings = [_override(finding, actions) for finding in findings]
    return Decision(tuple(findings), tuple(patch))


def oversized(obj: Mapping[str, Any], config: Config) -> tuple[Finding, ...]:
    """The size gate's findings on *obj* (:mod:`webhook.constraints.bounds`); () when it fits.

    For a caller that walks the job without :func:`review` (the defaults of ``/mutate``).
    A rule of SageMaker's bounds counts as relaxed here when it is for some job
    (:attr:`Config.relaxable`), whichever policies apply: so no job :func:`review` lets
    through is found oversized.
    """
    if not config.gate:
        return ()
    proven = config.native and builtin_proof(config.checker).holds(obj)
    over = gate_findings(obj, config.checker, proven=proven)
    if over and config.relaxable and any(f.rule in config.relaxable for f in over):
        over = gate_findings(obj, config.checker, proven=proven, relaxed=config.relaxable)
    return tuple(over)


def _size_gate(
    obj: Mapping[str, Any],
    stored: Mapping[str, Any] | None,
    config: Config,
    *,
    old: Mapping[str, Any] | None,
    context: Context,
    proven: bool,
) -> tuple[list[Finding], Selection | None]:
    """The size gate's findings on *obj* (else on *stored*), and the selection it read.

    A finding of a rule relaxed for some job (:attr:`Config.relaxable`) stands only
    when the rule is not relaxed for this one (:func:`_relaxed`); that question may
    select the policies that apply, which :func:`review` then keeps. Nothing, and no
    selection, when :attr:`Config.gate` is off.
    """
    if not config.gate:
        return [], None
    over = _gate(obj, stored, config, proven)
    if not (over and config.relaxable and any(f.rule in config.relaxable for f in over)):
        return over, None
    relaxed, selection = _relaxed(obj, old, context, config)
    if not relaxed.isdisjoint(finding.rule for finding in over):
        over = _gate(obj, stored, config, proven, relaxed)
    return over, selection


def _gate(
    obj: Mapping[str, Any],
    stored: Mapping[str, Any] | None,
    config: Config,
    proven: bool,
    relaxed: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The size gate's findings on *obj*, else on the stored object (said to be about it)."""
    over = gate_findings(obj, config.checker, proven=proven, relaxed=relaxed)
    if not over and stored is not None:
        over = [_in_stored(f) for f in gate_findings(stored, config.checker, relaxed=relaxed)]
    return over


def _relaxed(
    obj: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    context: Context,
    config: Config,
) -> tuple[frozenset[str], Selection | None]:
    """The rules of SageMaker's bounds whose action is warn or audit, and the selection read.

    The actions :func:`review` gives their findings: the operator's, else the strictest of
    the ``apiConstraints`` of the policies that apply (selection reads only the request and
    the job's metadata). A job whose ``metadata`` is over the fixed bounds is denied by the
    gate whatever is relaxed, and selecting policies for it could cost what the gate
    spares: then no policy is selected and only the operator's actions count.
    """
    relaxed = {rule for rule in config.relaxable if rule in config.actions}
    undecided = config.relaxable - relaxed  # relaxed by some policy: by one that applies?
    if not undecided or not metadata_fits(obj):
        return frozenset(relaxed), None
    selection = config.policies.select(Subject.of(obj, context, old))
    for rule in undecided:
        chosen = [
            policy.document.apiConstraints[rule]
            for policy in selection.policies
            if rule in policy.document.apiConstraints
        ]
        if chosen and lenient(max(chosen, key=STRICTNESS.__getitem__)):
            relaxed.add(rule)
    return frozenset(relaxed), selection


def _in_stored(finding: Finding) -> Finding:
    """A finding of the gate on the stored object (``oldObject``), said to be about it."""
    return Finding(
        finding.rule,
        finding.path,
        f"in the stored object (oldObject), {finding.where or 'the object'} "
        f"{finding.message.removesuffix(UNCHECKED)}: no update of it is checked; delete the "
        "TrainingJob and create it again",
        on_key=finding.on_key,
    )


def patched(obj: Mapping[str, Any], patch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """*obj* with *patch* applied, copying only the objects and lists on its paths.

    A deep copy would cost as much as walking the whole object, ``metadata``
    members no check reads (and the size gate does not bound) included.
    """
    root = dict(obj)
    owned = {id(root)}
    for operation in patch:
        node: Any = root
        for part in JsonPointer(operation["path"]).parts[:-1]:
            key: str | int = int(part) if isinstance(node, list) else part
            child = node[key]
            if id(child) not in owned:
                child = dict(child) if isinstance(child, dict) else list(child)
                node[key] = child
                owned.add(id(child))
            node = child
    result: dict[str, Any] = jsonpatch.apply_patch(root, list(patch), in_place=True)
    return result


def _root_causes(findings: list[Finding]) -> list[Finding]:
    """Keep only the placeholder finding of a field that holds an unsubstituted placeholder.

    ``$BUCKET`` in an S3 URI is the one thing to fix there; a policy rule
    judging that URI would only repeat the problem in other words.
    """
    templated = {f.path for f in findings if f.rule == "placeholder"}
    if not templated:
        return findings
    return [f for f in findings if f.rule == "placeholder" or f.path not in templated]


def _override(finding: Finding, actions: Mapping[str, Action]) -> Finding:
    action = actions.get(finding.rule)
    return finding if action is None or action is finding.action else finding.with_action(action)
