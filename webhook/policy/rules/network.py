"""Rule kind ``network``: VPC placement, network isolation and inter-container encryption.

* ``requireVpc``: ``spec.vpcConfig`` with at least one subnet and one security
  group (every problem is reported on ``spec.vpcConfig``).
* ``subnets`` / ``securityGroups`` (globs) apply to each entry of
  ``vpcConfig.subnets`` / ``vpcConfig.securityGroupIDs``.
* ``requireNetworkIsolation``: ``enableNetworkIsolation: true``.
* ``interContainerEncryption``: ``always`` wants
  ``enableInterContainerTrafficEncryption: true``; ``distributed`` wants it when
  the job has more than one instance: ``resourceConfig.instanceCount`` above 1,
  or instance groups whose counts add up to more than 1, or more than one
  instance group.

An empty ``subnets``/``securityGroups`` list, or a glob that cannot match a
subnet id (``subnet-...``) or security group id (``sg-...``), is a policy error.
Values of the wrong type (``vpcConfig: "x"``, ``enableNetworkIsolation:
"true"``) are skipped: the CRD's type check reports them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from webhook.native import Schema, at, on_spec, required_at
from webhook.paths import Path
from webhook.policy.globs import Globs, can_start_with, native_regex
from webhook.policy.model import NetworkRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show

_VPC: Final[Path] = ("spec", "vpcConfig")
_ISOLATION: Final[Path] = ("spec", "enableNetworkIsolation")
_ENCRYPTION: Final[Path] = ("spec", "enableInterContainerTrafficEncryption")
_SET_ENCRYPTION: Final = "set enableInterContainerTrafficEncryption: true"


def _unset(value: Any) -> bool:
    """True when a boolean field is absent or false (not when it has the wrong type)."""
    return value is None or value is False


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _instances(config: Any) -> str | None:
    """Describe the job's instances when there is more than one, else None."""
    if not isinstance(config, dict):
        return None
    groups = config.get("instanceGroups")
    if isinstance(groups, list) and groups:
        total = sum(_count(g.get("instanceCount")) for g in groups if isinstance(g, dict))
        if total > 1:
            return f"{total} instances"
        return f"{len(groups)} instance groups" if len(groups) > 1 else None
    count = _count(config.get("instanceCount"))
    return f"{count} instances" if count > 1 else None


def _entries(
    vpc: Mapping[str, Any], field: str, globs: Globs, noun: str, subject: Subject
) -> Iterator[Violation]:
    values = vpc.get(field)
    if not isinstance(values, list):
        return
    for index, value in enumerate(values):
        if isinstance(value, str) and not globs.matches(value, subject):
            yield Violation(
                (*_VPC, field, index),
                f"{show(value)} is not an allowed {noun}; allowed: {globs.describe(subject)}",
            )


def _require_vpc(vpc: Any) -> Iterator[Violation]:
    if vpc is None:
        yield Violation(
            _VPC,
            "the policy requires the job to run in a VPC: set vpcConfig with subnets and "
            "securityGroupIDs",
        )
        return
    if not isinstance(vpc, dict):
        return
    for field, noun in (("subnets", "subnet"), ("securityGroupIDs", "security group")):
        values = vpc.get(field)
        if values is None or values == []:
            yield Violation(
                _VPC,
                f"vpcConfig has no {field}; the policy requires the job to run in a VPC with "
                f"at least one {noun}",
            )


def _ids(field: str, patterns: list[str] | None, prefix: str) -> Globs | None:
    """Compile allowed ids, rejecting an empty list and globs that can never match."""
    if patterns is None:
        return None
    if not patterns:
        raise RuleConfigError(
            field, "is empty: no job in a VPC could pass; leave it out to allow any"
        )
    for pattern in patterns:
        if not can_start_with(pattern, prefix):
            raise RuleConfigError(
                field, f"{show(pattern)} can never match: the ids start with {prefix}"
            )
    return Globs(patterns)


def compile_rule(rule: NetworkRule) -> Check:
    """Compile a ``network`` rule into a check."""
    require_vpc = rule.requireVpc
    subnets = _ids("subnets", rule.subnets, "subnet-")
    groups = _ids("securityGroups", rule.securityGroups, "sg-")
    isolation = rule.requireNetworkIsolation
    encryption = rule.interContainerEncryption

    def check(subject: Subject) -> Iterator[Violation]:
        spec = subject.spec
        vpc = spec.get("vpcConfig")
        if require_vpc:
            yield from _require_vpc(vpc)
        if isinstance(vpc, dict):
            if subnets is not None:
                yield from _entries(vpc, "subnets", subnets, "subnet", subject)
            if groups is not None:
                yield from _entries(vpc, "securityGroupIDs", groups, "security group", subject)
        if isolation and _unset(spec.get("enableNetworkIsolation")):
            yield Violation(
                _ISOLATION,
                "the policy requires network isolation (no network access from the training "
                "containers): set enableNetworkIsolation: true",
            )
        if encryption == "optional" or not _unset(
            spec.get("enableInterContainerTrafficEncryption")
        ):
            return
        if encryption == "always":
            yield Violation(
                _ENCRYPTION,
                f"the policy requires encrypting traffic between training containers: "
                f"{_SET_ENCRYPTION}",
            )
            return
        instances = _instances(spec.get("resourceConfig"))
        if instances is not None:
            yield Violation(
                _ENCRYPTION,
                f"the job runs on {instances} and the policy requires encrypting traffic "
                f"between them: {_SET_ENCRYPTION}",
            )

    return check


_EMPTY_LIST: Final = {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]}
_ONE_INSTANCE: Final = at(
    ("resourceConfig",),
    {
        "properties": {
            "instanceCount": {"maximum": 1},
            "instanceGroups": {
                "maxItems": 1,
                "items": {"properties": {"instanceCount": {"maximum": 1}}},
            },
        }
    },
)


def native_schema(rule: NetworkRule) -> Schema | None:
    """A job this rule finds nothing in (:mod:`webhook.native`); None with templated ids.

    Stricter than the check: ``vpcConfig`` must be an object when required, and
    ``distributed`` encryption counts ``instanceCount`` even beside instance groups.
    """
    parts: list[Schema] = []
    if rule.requireVpc:
        vpc = {
            "type": "object",
            "required": ["subnets", "securityGroupIDs"],
            "properties": {
                "subnets": {"not": _EMPTY_LIST},
                "securityGroupIDs": {"not": _EMPTY_LIST},
            },
        }
        parts.append(required_at(("vpcConfig",), vpc))
    for field, patterns in (("subnets", rule.subnets), ("securityGroupIDs", rule.securityGroups)):
        if patterns is not None:
            ids = native_regex(patterns)
            if ids is None:
                return None
            parts.append(at(("vpcConfig", field), {"items": {"pattern": ids}}))
    if rule.requireNetworkIsolation:
        parts.append(required_at(("enableNetworkIsolation",), {"enum": [True]}))
    encrypted = required_at(("enableInterContainerTrafficEncryption",), {"enum": [True]})
    if rule.interContainerEncryption == "always":
        parts.append(encrypted)
    elif rule.interContainerEncryption == "distributed":
        parts.append({"anyOf": [encrypted, _ONE_INSTANCE]})
    return on_spec(*parts)
