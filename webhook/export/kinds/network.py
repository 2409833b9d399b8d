"""Rule kind ``network`` as CEL (:mod:`webhook.policy.rules.network`)."""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import RuleContext, globs, shown, string_check
from webhook.export.kinds.resources import GROUPS, MAX_GROUPS, group_total, has_groups
from webhook.export.model import Validation
from webhook.model.concepts import ITEMS
from webhook.policy.model import NetworkRule

_VPC = "object.spec.vpcConfig"


def _set(field: str) -> str:
    """CEL: the boolean field of the spec is true."""
    return f"has(object.spec) && has(object.spec.{field}) && object.spec.{field} == true"


def single_instance() -> str:
    """CEL: the job runs on one instance (counting instance groups as the webhook does)."""
    config = "object.spec.resourceConfig"
    count = f"{config}.instanceCount"
    grouped = text.all_of(
        [
            f"size({GROUPS}) <= {MAX_GROUPS}",
            f"({group_total()}) <= 1",
            f"size({GROUPS}) <= 1",
        ]
    )
    plain = f"!has(object.spec) || !has({config}) || !has({count}) || {count} <= 1"
    return f"({has_groups(config)}) ? ({grouped}) : ({plain})"


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``network`` rule."""
    rule: NetworkRule = context.rule
    return [
        *_vpc(context, rule),
        *_network_isolation(context, rule),
        *_inter_container_encryption(context, rule),
    ]


def _vpc(context: RuleContext, rule: NetworkRule) -> list[Validation]:
    """``requireVpc``, ``subnets``, ``securityGroups``: the job's VPC, and what it may use."""
    out: list[Validation] = []
    if rule.requireVpc:
        parts = ["has(object.spec)", f"has({_VPC})"]
        parts += [
            f"has({_VPC}.{f}) && size({_VPC}.{f}) > 0" for f in ("subnets", "securityGroupIDs")
        ]
        out.append(
            context.validation(
                "spec.vpcConfig",
                text.all_of(parts),
                "the policy requires the job to run in a VPC: set vpcConfig with subnets and "
                "securityGroupIDs",
            )
        )
    for field, patterns, noun in (
        ("subnets", rule.subnets, "subnet"),
        ("securityGroupIDs", rule.securityGroups, "security group"),
    ):
        if patterns is None:
            continue
        allowed = globs(patterns)
        pattern = ("vpcConfig", field, ITEMS)
        out.append(
            context.validation(
                f"spec.vpcConfig.{field}[*]",
                string_check(context.walker, pattern, allowed.matches),
                [f"not an allowed {noun}; allowed: ", *shown(patterns)],
            )
        )
    return out


def _network_isolation(context: RuleContext, rule: NetworkRule) -> list[Validation]:
    """``requireNetworkIsolation``."""
    if not rule.requireNetworkIsolation:
        return []
    return [
        context.validation(
            "spec.enableNetworkIsolation",
            _set("enableNetworkIsolation"),
            "the policy requires network isolation: set enableNetworkIsolation: true",
        )
    ]


def _inter_container_encryption(context: RuleContext, rule: NetworkRule) -> list[Validation]:
    """``interContainerEncryption``: always, or when the job runs on more than one instance."""
    encrypted = _set("enableInterContainerTrafficEncryption")
    if rule.interContainerEncryption == "always":
        return [
            context.validation(
                "spec.enableInterContainerTrafficEncryption",
                encrypted,
                "the policy requires encrypting traffic between training containers: set "
                "enableInterContainerTrafficEncryption: true",
            )
        ]
    if rule.interContainerEncryption == "distributed":
        return [
            context.validation(
                "spec.enableInterContainerTrafficEncryption",
                text.any_of([encrypted, single_instance()]),
                "the job runs on more than one instance and the policy requires encrypting "
                "traffic between them: set enableInterContainerTrafficEncryption: true",
            )
        ]
    return []
