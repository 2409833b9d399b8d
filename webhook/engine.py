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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import jsonpatch
from jsonpointer import JsonPointer

from webhook.constraints import messages
from webhook.constraints.bounds import RELAXABLE, UNCHECKED, metadata_fits
from webhook.constraints.check import SpecChecker, default_checker, find_placeholder
from webhook.constraints.proof import NO_MAX_WAIT, builtin_schema
from webhook.constraints.rules import UNPROVEN, check_rules
from webhook.constraints.sizes import gate_findings
from webhook.constraints.update import DEFAULT_CONTROLLER_USERS, review_update, spec_unchanged
from webhook.findings import Action, Decision, Finding
from webhook.model import API_VERSION, KIND, TrainingJobSpec
from webhook.model.parse import parse
from webhook.native import Guard, Proof, Schema
from webhook.policy.compiled import EMPTY, STRICTNESS, PolicySet, Selection
from webhook.policy.subject import Subject, namespace_of
from webhook.request import Context, Operation

__all__ = [
    "CleanCreate",
    "Config",
    "Context",
    "Operation",
    "builtin_proof",
    "check_object",
    "clean_create",
    "oversized",
    "patched",
    "review",
]

# RFC 1123 subdomain: what Kubernetes requires of a custom resource's name.
_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN: Final = re.compile(rf"{_LABEL}(\.{_LABEL})*")


@dataclass(frozen=True, slots=True)
class Config:
    """How the engine decides; built once, shared by every review."""

    actions: Mapping[str, Action] = field(default_factory=dict)
    """Action per rule id, overriding the default (deny) and the policies' choice."""
    checker: SpecChecker = field(default_factory=default_checker)
    """The compiled SageMaker constraints."""
    policies: PolicySet = EMPTY
    """The platform team's policies."""
    mutate: bool = True
    """Apply the policies' defaults on CREATE before validating (as the API server
    would after the mutating webhook); False for a validating-only call."""
    native: bool = True
    """Let the native proof (:mod:`webhook.native`) skip the checks it proves find
    nothing; False runs every check in Python (the reference the tests hold it to)."""
    gate: bool = True
    """Check sizes first and deny what is over its bound unchecked
    (:mod:`webhook.constraints.bounds`); False checks a job of any size in full, at any
    cost (the reference the tests hold the gate to, never for others' input)."""
    controller_users: frozenset[str] = DEFAULT_CONTROLLER_USERS
    """Kubernetes user names of the ACK controller. On UPDATE, only their requests may fill
    in late-initialized fields without that counting as a spec change."""
    relaxable: frozenset[str] = field(init=False, repr=False, compare=False)
    """The rules of SageMaker's bounds relaxed (warn or audit) for some job: by :attr:`actions`,
    or where they leave a rule alone, by the ``apiConstraints`` of some policy. Derived from
    the two; empty (the gate as SageMaker's model has it, for every job) by default."""

    def __post_init__(self) -> None:
        actions, policies = self.actions, self.policies.policies
        relaxable = frozenset(
            rule
            for rule in RELAXABLE
            if _lenient(actions.get(rule))
            or (
                rule not in actions
                and any(_lenient(policy.document.apiConstraints.get(rule)) for policy in policies)
            )
        )
        object.__setattr__(self, "relaxable", relaxable)


#: The actions that admit a job: a rule of SageMaker's bounds set to one of them is relaxed.
LENIENT: Final = frozenset({Action.WARN, Action.AUDIT})
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
    selection: Selection | None = None
    if config.gate:
        over = _gate(obj, stored, config, bool(proven))
        if over and config.relaxable and any(f.rule in config.relaxable for f in over):
            relaxed, selection = _relaxed(obj, old, context, config)
            if not relaxed.isdisjoint(finding.rule for finding in over):
                over = _gate(obj, stored, config, bool(proven), relaxed)
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
        if chosen and _lenient(max(chosen, key=STRICTNESS.__getitem__)):
            relaxed.add(rule)
    return frozenset(relaxed), selection


def _lenient(action: Action | None) -> bool:
    return action in LENIENT


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


def check_object(
    obj: Mapping[str, Any],
    checker: SpecChecker,
    *,
    full: bool = False,
    native: bool = True,
    proven: bool | None = None,
) -> list[Finding]:
    """Return every finding of the built-in checks on *obj*, all denying.

    Three ways to the same answer, fastest first: the native proof of
    the built-in checks (:mod:`webhook.native`) says the checks would find
    nothing, and only the cross-field rule it cannot state runs; else the walk; the
    typed model (pydantic) gives the exact schema errors, but costs more than
    the rest of the checks together, so it runs only when the walk notes
    something that does not fit the CRD's types, or when the object's top
    level or metadata is anything but plain. *full* always runs the walk and
    the model (the reference the tests hold the fast paths to); *native*
    False skips the proof; *proven* is its answer when the caller has it.
    """
    if proven is None:
        proven = native and not full and builtin_proof(checker).holds(obj)
    if native and not full and proven:
        return check_rules(obj["spec"], UNPROVEN)
    spec = obj.get("spec")
    spec_findings: list[Finding] = []
    suspect = True
    if isinstance(spec, dict):
        spec_findings, suspect = checker.walk(spec)
    findings: list[Finding] = []
    if full or suspect or not _plain(obj, spec):
        _, findings = parse(obj)
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        findings.extend(_check_name(metadata))
    if isinstance(spec, dict):
        # A field both the CRD and SageMaker require is reported once, by the CRD.
        missing = {f.path for f in findings if f.rule == "crd.required"}
        findings.extend(
            f for f in spec_findings if f.rule != "sagemaker.required" or f.path not in missing
        )
        findings.extend(check_rules(spec))
    return findings


@functools.cache
def builtin_schema_of(checker: SpecChecker) -> Schema:
    """The schema of an object the built-in checks with *checker* find nothing in."""
    return builtin_schema(
        checker.constraints, API_VERSION, KIND, _CRD_REQUIRED, DNS_SUBDOMAIN.pattern
    )


@functools.cache
def builtin_proof(checker: SpecChecker) -> Proof:
    """The native proof of the built-in checks with *checker* (built once)."""
    return Proof([builtin_schema_of(checker)])


_TOP_LEVEL: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_CRD_REQUIRED: Final = tuple(
    name for name, info in TrainingJobSpec.model_fields.items() if info.is_required()
)


def _plain(obj: Mapping[str, Any], spec: Any) -> bool:
    """True when the typed model could only agree with the walk.

    That is when what it types outside the spec walk (the top level, metadata,
    the CRD's required fields) is all as the CRD wants.
    """
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") != KIND:
        return False
    if not _TOP_LEVEL.issuperset(obj) or obj.get("status") is not None:
        return False
    metadata = obj.get("metadata")
    if type(metadata) is not dict or type(spec) is not dict:
        return False
    for name in ("name", "generateName", "namespace"):
        value = metadata.get(name)
        if value is not None and type(value) is not str:
            return False
    for name in ("labels", "annotations"):
        value = metadata.get(name)
        if value is not None and (
            type(value) is not dict
            or not all(type(k) is str and type(v) is str for k, v in value.items())
        ):
            return False
    finalizers = metadata.get("finalizers")
    if finalizers is not None and (
        type(finalizers) is not list or not all(type(f) is str for f in finalizers)
    ):
        return False
    return all(spec.get(name) is not None for name in _CRD_REQUIRED)


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


@dataclass(frozen=True, slots=True)
class CleanCreate:
    """What proves, for one configuration, that a CREATE has nothing to report.

    The webhook's fast path (:mod:`webhook.server.fast`) compiles :attr:`schemas`
    into its proof of the whole AdmissionReview and asks :meth:`holds_beyond`
    for the rest; when both hold, :func:`review` would find nothing and patch
    nothing with ``mutate`` off. Which policies a job must satisfy is decided
    here, from the policy set's own selection (:meth:`PolicySet.for_proofs`),
    so the server never re-derives it. Like every proof it may only be stricter
    than the checks.
    """

    schemas: tuple[Schema, ...]
    """The job holds every one: the built-in checks, no ``maxWaitTimeInSeconds`` (the
    cross-field rule no schema states has nothing to say then), and the rules of every
    policy that may apply to any job."""
    guards: tuple[Guard, ...]
    """What those policies' schemas cannot state."""
    namespaced: Mapping[str, tuple[Proof | None, ...]]
    """The proofs of the policies limited to named namespaces, by namespace (None: a
    policy with a rule that has no schema, so a job there is never proven clean)."""

    def holds_beyond(self, job: Mapping[str, Any], request_namespace: str | None) -> bool:
        """True when *job* (which holds :attr:`schemas`) holds the rest of the proof.

        That is the guards, and the proofs of the job's namespace: the
        request's, else the job's, as selection takes it.
        """
        for guard in self.guards:
            if not guard(job):
                return False
        if not self.namespaced:
            return True
        for proof in self.namespaced.get(namespace_of(job, request_namespace), ()):
            if proof is None or not proof.holds(job):
                return False
        return True


def clean_create(config: Config) -> CleanCreate | None:
    """The proof of a clean CREATE under *config*, or None when no proof can stand in.

    None when the native proofs are off, when selection could add a note to a
    clean job, or when a policy that may apply to any job has a rule without
    a schema (CEL, tenancy ...). A namespaced policy with such a rule leaves only
    its namespaces' jobs to the full checks.
    """
    if not config.native:
        return None
    scope = config.policies.for_proofs()
    if scope is None:
        return None
    schemas: list[Schema] = [builtin_schema_of(config.checker), NO_MAX_WAIT]
    guards: list[Guard] = []
    for policy in scope.everywhere:
        if any(rule.schema is None for rule in policy.rules):
            return None
        schemas.extend(rule.schema for rule in policy.rules if rule.schema is not None)
        guards.extend(rule.guard for rule in policy.rules if rule.guard is not None)
    namespaced: dict[str, tuple[Proof | None, ...]] = {}
    for name, policies in scope.by_namespace.items():
        entries = [
            policy.proof if all(rule.schema is not None for rule in policy.rules) else None
            for policy in policies
            if policy.rules
        ]
        if entries:
            namespaced[name] = tuple(entries)
    return CleanCreate(tuple(schemas), tuple(guards), namespaced)
