"""Policies compiled for evaluation, and the set of them the engine uses.

Compiling happens once, at load: rules become closures with their regexes,
globs and CEL programs prepared, so evaluating a job is a scope check per
policy plus the rules of the policies that apply.

Order and precedence: policies are kept sorted by ``id``. Their findings are
all reported. Their defaults are applied in that order, each seeing what the
previous ones added, so for a field two policies default differently the
first by id wins (``policy lint`` reports such conflicts). When several
applying policies set ``apiConstraints`` for the same rule, the strictest
action wins (deny over warn over audit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from webhook.findings import Action, Finding
from webhook.native import Guard, Proof, Schema
from webhook.paths import format_path
from webhook.policy.defaults import DefaultsPlan, compile_defaults, patch_for
from webhook.policy.match import PolicyScope
from webhook.policy.model import PolicyDocument
from webhook.policy.rules import Check, PolicyConfigError, RuleConfigError
from webhook.policy.rules.registry import compile_rule, native_guard, native_schema
from webhook.policy.subject import Subject

STRICTNESS: Final = {Action.AUDIT: 0, Action.WARN: 1, Action.DENY: 2}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule of one policy, ready to run."""

    id: str
    """``<policy id>/<rule id>``: the rule id findings carry."""
    action: Action
    message: str | None
    check: Check
    schema: Schema | None = None
    """What a job the rule finds nothing in looks like, as JSON Schema (a stricter
    statement is fine, a looser one is a bug: see :mod:`webhook.native`); None
    when the rule kind cannot say it."""
    guard: Guard | None = None
    """What the schema cannot state, in Python (only with a schema)."""

    def findings(self, subject: Subject) -> Iterable[Finding]:
        """Run the check and turn its violations into findings."""
        for violation in self.check(subject):
            message = violation.message
            if self.message is not None:
                message = (
                    subject.template(self.message)
                    .replace("{path}", format_path(violation.path))
                    .replace("{detail}", violation.message)
                )
            yield Finding(self.id, violation.path, message, self.action)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy document with its scope, rules and defaults compiled."""

    document: PolicyDocument
    scope: PolicyScope
    rules: tuple[CompiledRule, ...]
    defaults: DefaultsPlan | None
    source: str = ""
    """Where it was loaded from (file), for messages."""
    proof: Proof | None = None
    """The native proof of the rules that have a schema (:mod:`webhook.native`):
    when a job holds it, those rules have nothing to say; None when no rule has one."""

    @property
    def id(self) -> str:
        """The policy id."""
        return self.document.id


def compile_policy(document: PolicyDocument, source: str = "") -> CompiledPolicy:
    """Compile one policy; raises PolicyConfigError with every rule's and the defaults' errors."""
    rules = []
    errors: list[RuleConfigError] = []
    for index, rule in enumerate(document.rules):
        try:
            check = compile_rule(rule, document)
        except RuleConfigError as error:
            errors.append(_within(("rules", index), error))
            continue
        schema = native_schema(rule)
        rules.append(
            CompiledRule(
                f"{document.id}/{rule.id}",
                rule.action or document.action,
                rule.message,
                check,
                schema,
                native_guard(rule) if schema is not None else None,
            )
        )
    defaults = None
    if document.defaults is not None:
        try:
            defaults = compile_defaults(document.defaults)
        except RuleConfigError as error:
            errors.append(_within(("defaults",), error))
    if errors:
        raise PolicyConfigError(errors)
    scope = PolicyScope(document.id, document.match, document.exclude, document.exemptions)
    schemas = [rule.schema for rule in rules if rule.schema is not None]
    guards = [rule.guard for rule in rules if rule.guard is not None]
    proof = Proof(schemas, guards) if schemas else None  # a millisecond or less
    return CompiledPolicy(document, scope, tuple(rules), defaults, source, proof)


def _within(prefix: tuple[str | int, ...], error: RuleConfigError) -> RuleConfigError:
    return RuleConfigError((*prefix, *error.path), error.message, on_key=error.on_key)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What the policies say about one job."""

    findings: list[Finding] = field(default_factory=list)
    api_actions: dict[str, Action] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    """The policies that apply to one job, and notes about how they were chosen.

    Which policies apply depends on the request and the job's metadata, never
    on its spec, so one selection serves both the defaults and the rules.
    """

    policies: tuple[CompiledPolicy, ...]
    notes: tuple[Finding, ...] = ()

    def patch(self, obj: Mapping[str, Any], subject: Subject) -> list[dict[str, Any]]:
        """The JSON Patch of the defaults of the selected policies (in id order)."""
        plans = [policy.defaults for policy in self.policies if policy.defaults is not None]
        return patch_for(obj, subject, plans) if plans else []

    def evaluate(self, subject: Subject, *, native: bool = False) -> Evaluation:
        """Run the rules of the selected policies.

        *native*: skip the rules with a schema of every policy whose
        proof the job holds (they have nothing to say).
        """
        evaluation = Evaluation(list(self.notes))
        for policy in self.policies:
            proof = policy.proof if native else None
            proven = proof is not None and proof.holds(subject.obj)
            for rule in policy.rules:
                if proven and rule.schema is not None:
                    continue
                evaluation.findings.extend(rule.findings(subject))
            for rule_id, action in policy.document.apiConstraints.items():
                current = evaluation.api_actions.get(rule_id)
                if current is None or STRICTNESS[action] > STRICTNESS[current]:
                    evaluation.api_actions[rule_id] = action
        return evaluation


def literal_namespaces(policy: CompiledPolicy) -> tuple[str, ...]:
    """The namespaces a policy is limited to when they are plain names, else ()."""
    names = tuple(policy.document.match.namespaces)
    if any(set(name) & set("*?[{") for name in names):
        return ()
    return names


@dataclass(frozen=True, slots=True)
class ProofScope:
    """The policies a clean job must satisfy, for a proof that skips selection."""

    everywhere: tuple[CompiledPolicy, ...]
    """Policies that may apply to any job."""
    by_namespace: Mapping[str, tuple[CompiledPolicy, ...]]
    """Policies limited to named namespaces, by namespace."""


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The loaded policies, sorted by id.

    Policies limited to named namespaces (``match.namespaces: [team-a]``, the
    usual per-team policy) are indexed by namespace, so a hundred team
    policies cost a dictionary lookup, not a hundred scope checks.
    """

    policies: tuple[CompiledPolicy, ...] = ()
    _general: tuple[tuple[int, CompiledPolicy], ...] = ()
    _by_namespace: Mapping[str, tuple[tuple[int, CompiledPolicy], ...]] = field(
        default_factory=dict
    )

    @classmethod
    def of(cls, policies: Iterable[CompiledPolicy]) -> PolicySet:
        """Sort *policies* by id (ids are unique: the loader checks) and index them."""
        ordered = tuple(sorted(policies, key=lambda policy: policy.id))
        general: list[tuple[int, CompiledPolicy]] = []
        by_namespace: dict[str, list[tuple[int, CompiledPolicy]]] = {}
        for position, policy in enumerate(ordered):
            names = literal_namespaces(policy)
            if not names:
                general.append((position, policy))
            for name in names:
                by_namespace.setdefault(name, []).append((position, policy))
        return cls(
            ordered,
            tuple(general),
            {name: tuple(entries) for name, entries in by_namespace.items()},
        )

    def __len__(self) -> int:
        return len(self.policies)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of every policy's rules (``<policy id>/<rule id>``)."""
        return tuple(rule.id for policy in self.policies for rule in policy.rules)

    def select(self, subject: Subject) -> Selection:
        """The policies that apply to *subject*, in id order."""
        candidates = self._general
        named = self._by_namespace.get(subject.namespace)
        if named:
            candidates = tuple(sorted(candidates + named, key=lambda entry: entry[0]))
        applying: list[CompiledPolicy] = []
        notes: list[Finding] = []
        for _, policy in candidates:
            decision = policy.scope.check(subject)
            notes.extend(decision.notes)
            if decision.applies:
                applying.append(policy)
        return Selection(tuple(applying), tuple(notes))

    def for_proofs(self) -> ProofScope | None:
        """Which policies a proof that skips selection must hold a clean job to.

        A policy limited to named namespaces counts in those namespaces; any
        other policy is taken to apply to every job, whatever its other match
        terms, exclusions and exemptions say (stricter, so safe). None when
        selection could add a note to a clean job (:attr:`PolicyScope.silent`):
        then no proof stands in for it.
        """
        if not all(policy.scope.silent for policy in self.policies):
            return None
        return ProofScope(
            tuple(policy for _, policy in self._general),
            {
                name: tuple(policy for _, policy in entries)
                for name, entries in self._by_namespace.items()
            },
        )

    def evaluate(self, subject: Subject) -> Evaluation:
        """Run the rules of every policy that applies to *subject*."""
        return self.select(subject).evaluate(subject)

    def patch(self, obj: Mapping[str, Any], subject: Subject) -> list[dict[str, Any]]:
        """The JSON Patch of the defaults of every policy that applies (in id order)."""
        return self.select(subject).patch(obj, subject)


EMPTY: Final = PolicySet()
