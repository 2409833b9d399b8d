"""``policy lint``: problems in policies that load but cannot do what they say.

Loading already rejects unknown fields, bad regexes, globs and CEL, and a
``metadata.name`` other than the policy's ``id`` (the id is its one name; see
:mod:`webhook.policy.model`), each at its line. Lint adds what only shows across
rules or against the SageMaker model:

- defaults that two policies set differently (the first by id wins);
- a policy whose ``exclude`` or exemptions cover everything its ``match`` does;
- instance type globs that match no SageMaker training instance type;
- hyperparameter limits for keys that the same rule's allow / deny lists reject;
- a ``secrets`` rule that sets ``maps``, which no longer narrows the scan.
"""

from __future__ import annotations

import fnmatch

from webhook.constraints.check import default_checker
from webhook.constraints.schema import StringShape, StructShape
from webhook.policy.compiled import CompiledPolicy, PolicySet
from webhook.policy.defaults import conflicts
from webhook.policy.model import HyperparametersRule, ResourcesRule, SecretsRule


def lint(policies: PolicySet) -> list[str]:
    """Return one readable line per problem."""
    problems: list[str] = []
    plans = [(p.id, p.defaults) for p in policies.policies if p.defaults is not None]
    problems.extend(f"defaults conflict: {line}" for line in conflicts(plans))
    instance_types = _training_instance_types()
    for policy in policies.policies:
        problems.extend(_never_applies(policy))
        for index, rule in enumerate(policy.document.rules):
            where = f"{policy.source or policy.id}: rules[{index}] ({policy.id}/{rule.id})"
            if isinstance(rule, ResourcesRule) and rule.instanceTypes:
                for glob in rule.instanceTypes:
                    if "{" not in glob and not fnmatch.filter(instance_types, glob):
                        problems.append(
                            f"{where}: instanceTypes glob {glob!r} matches no SageMaker "
                            "training instance type"
                        )
            if isinstance(rule, SecretsRule) and rule.maps is not None:
                problems.append(
                    f"{where}: maps is ignored: the secrets rule scans every string of the "
                    "spec; remove it"
                )
            if isinstance(rule, HyperparametersRule):
                for key in rule.keys:
                    if any(fnmatch.fnmatchcase(key, glob) for glob in rule.denyKeys):
                        problems.append(f"{where}: limits for key {key!r}, which denyKeys denies")
                    elif rule.allowKeys is not None and not any(
                        fnmatch.fnmatchcase(key, glob) for glob in rule.allowKeys
                    ):
                        problems.append(
                            f"{where}: limits for key {key!r}, which allowKeys does not allow"
                        )
    return problems


def _never_applies(policy: CompiledPolicy) -> list[str]:
    document = policy.document
    where = policy.source or policy.id
    excluded = set(document.exclude.namespaces) if document.exclude else set()
    excluded |= set(document.exemptions.namespaces)
    matched = set(document.match.namespaces)
    if "*" in excluded or (matched and matched <= excluded):
        return [f"{where}: policy {policy.id} never applies: exclude/exemptions cover its match"]
    if not document.rules and document.defaults is None:
        return [f"{where}: policy {policy.id} has neither rules nor defaults"]
    return []


def _training_instance_types() -> list[str]:
    root = default_checker().constraints.root
    resources = root.members["resourceConfig"].shape
    assert isinstance(resources, StructShape)
    shape = resources.members["instanceType"].shape
    assert isinstance(shape, StringShape)
    return list(shape.enum)
