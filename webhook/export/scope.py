"""Which requests an exported policy looks at: ``matchConditions`` from the policy's scope.

Every exported policy (SageMaker's constraints included) has the condition
:func:`reviewed`: a CREATE, or an UPDATE that changes the spec, by anyone but
the ACK controller. That is when the webhook checks a job: an update that
leaves the spec as it was is allowed whatever it holds, so deletion never gets
stuck, and the controller only ever fills in fields SageMaker reports (late
initialization), which the webhook lets through even for a job a newer policy
would deny.

A policy's ``match``, ``exclude`` and ``exemptions`` (:mod:`webhook.policy.match`)
become conditions that must all hold: namespaces by glob (``request.namespace``),
label selectors on the job's labels and on its namespace's
(``namespaceObject``, which the API server always has for a namespaced
request), exempt users and groups (``request.userInfo``) and the exemption
annotation, honoured only for a member of its groups.

A user in more than :data:`MAX_GROUPS` groups is never exempt by group: the
cost of looking through an unbounded list must be bounded (the safe side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from webhook.export import text
from webhook.export.kinds.common import globs
from webhook.export.model import Variable
from webhook.policy.model import LabelSelector, PolicyDocument, Scope

MAX_GROUPS: Final = 1000
"""Groups of a user looked through for an exemption."""
_GROUPS: Final = "request.userInfo.groups"


def reviewed(controller_users: Iterable[str]) -> Variable:
    """CREATE, or an UPDATE of the spec by someone else than the ACK controller."""
    users = text.strings(sorted(controller_users))
    changed = "!has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec"
    return Variable(
        "spec-changed",
        f"request.operation == 'CREATE' || (!(request.userInfo.username in {users}) && "
        f"({changed}))",
    )


def selector(labels: str, chosen: LabelSelector) -> str:
    """CEL: the map *labels* (maybe absent: a ``has()`` target) satisfies *chosen*."""
    present = f"has({labels})"

    def there(key: str) -> str:
        return f"({present} && {text.string(key)} in {labels})"

    def value(key: str) -> str:
        return f"{labels}[{text.string(key)}]"

    parts: list[str] = []
    for key, wanted in chosen.matchLabels.items():
        parts.append(f"{there(key)} && {value(key)} == {text.string(wanted)}")
    for requirement in chosen.matchExpressions:
        key, values = requirement.key, text.strings(requirement.values)
        if requirement.operator == "In":
            parts.append(f"{there(key)} && {value(key)} in {values}")
        elif requirement.operator == "NotIn":
            parts.append(f"!{there(key)} || !({value(key)} in {values})")
        elif requirement.operator == "Exists":
            parts.append(there(key))
        else:
            parts.append(f"!{there(key)}")
    return text.all_of(parts)


def _scope(scope: Scope) -> list[str]:
    """CEL terms that all hold where *scope* matches (namespace labels known)."""
    terms: list[str] = []
    if scope.namespaces:
        terms.append(globs(scope.namespaces).matches("request.namespace"))
    if scope.objectSelector is not None:
        terms.append(selector("object.metadata.labels", scope.objectSelector))
    if scope.namespaceSelector is not None:
        terms.append(
            text.any_of(
                [
                    "namespaceObject == null",
                    selector("namespaceObject.metadata.labels", scope.namespaceSelector),
                ]
            )
        )
    return terms


def _in_groups(groups: list[str]) -> str:
    return f"size({_GROUPS}) <= {MAX_GROUPS} && {_GROUPS}.exists(x0, x0 in {text.strings(groups)})"


def conditions(document: PolicyDocument) -> list[Variable]:
    """The ``matchConditions`` of *document* besides :func:`reviewed`."""
    out: list[Variable] = []
    for index, term in enumerate(_scope(document.match)):
        out.append(Variable(f"match-{index}", term))
    if document.exclude is not None:
        terms = _scope(document.exclude)
        if document.exclude.namespaceSelector is not None:
            terms[-1] = text.all_of(
                [
                    "namespaceObject != null",
                    selector("namespaceObject.metadata.labels", document.exclude.namespaceSelector),
                ]
            )
        if terms:
            out.append(Variable("not-excluded", text.negate(text.all_of(terms))))
    exemptions = document.exemptions
    if exemptions.users:
        users = text.strings(exemptions.users)
        out.append(Variable("not-exempt-user", f"!(request.userInfo.username in {users})"))
    if exemptions.groups:
        out.append(Variable("not-exempt-group", text.negate(_in_groups(exemptions.groups))))
    if exemptions.namespaces:
        out.append(
            Variable(
                "not-exempt-namespace",
                text.negate(globs(exemptions.namespaces).matches("request.namespace")),
            )
        )
    if exemptions.annotation is not None:
        annotations = "object.metadata.annotations"
        name = text.string(exemptions.annotation.annotation)
        annotated = f"has({annotations}) && {name} in {annotations}"
        out.append(
            Variable(
                "not-exempt-annotation",
                text.negate(text.all_of([annotated, _in_groups(exemptions.annotation.groups)])),
            )
        )
    return out


def condition_name(name: str) -> str:
    """A ``matchConditions`` name (a qualified name) from *name*."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:63].strip("-._")
