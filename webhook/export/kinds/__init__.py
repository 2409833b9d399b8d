"""Each rule kind's exporter, by the ``kind`` value of the policy file.

A kind not listed here (``secrets``) has no CEL form: its rules are reported
as left to the webhook. :data:`COVERED` names the options each exporter
handles: an option a kind's model gains and its exporter does not know makes
the kind's rules unexported until it does (and a test fails meanwhile), as
:data:`webhook.policy.rules.registry.SCHEMAS` does for the native proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from webhook.export.kinds import (
    cel,
    encryption,
    hyperparameters,
    images,
    naming,
    network,
    required,
    resources,
    tags,
    tenancy,
)
from webhook.export.kinds.common import NotExportableError, RuleContext
from webhook.export.model import Validation

Exporter = Callable[[RuleContext], list[Validation]]

KINDS: Final[dict[str, Exporter]] = {
    "required": required.export,
    "resources": resources.export,
    "network": network.export,
    "encryption": encryption.export,
    "tenancy": tenancy.export,
    "naming": naming.export,
    "images": images.export,
    "tags": tags.export,
    "hyperparameters": hyperparameters.export,
    "cel": cel.export,
}

COVERED: Final[dict[str, frozenset[str]]] = {
    "required": frozenset({"fields", "whenSpot", "tagKeys"}),
    "resources": frozenset(
        {
            "instanceTypes",
            "maxInstanceCount",
            "maxVolumeSizeInGB",
            "maxRuntimeInSeconds",
            "maxWaitTimeInSeconds",
            "spot",
        }
    ),
    "network": frozenset(
        {
            "requireVpc",
            "subnets",
            "securityGroups",
            "requireNetworkIsolation",
            "interContainerEncryption",
        }
    ),
    "encryption": frozenset(
        {"requireOutputKey", "requireVolumeKey", "keys", "sameAccountAsRole", "region"}
    ),
    "tenancy": frozenset({"roles", "s3", "fileSystems", "hubContents", "kmsKeys"}),
    "naming": frozenset({"pattern", "prefix"}),
    "images": frozenset(
        {"registries", "repositories", "algorithms", "forbidLatest", "requireTag", "requireDigest"}
    ),
    "tags": frozenset({"required", "controllerTags", "budget", "duplicates"}),
    "hyperparameters": frozenset({"maxCount", "allowKeys", "denyKeys", "keys"}),
    "cel": frozenset({"expression", "messageExpression", "fieldPath"}),
}

WHY_NOT: Final = {
    "secrets": (
        "credential detection decodes base64, removes invisible characters and weighs "
        "entropy, which CEL's standard library cannot"
    ),
}

__all__ = ["COVERED", "KINDS", "WHY_NOT", "NotExportableError", "RuleContext"]
