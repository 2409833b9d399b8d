"""Every built-in rule kind, by the ``kind`` value a policy file uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from webhook.native import Guard, Schema
from webhook.policy import model
from webhook.policy.rules import (
    Check,
    cel,
    encryption,
    hyperparameters,
    images,
    naming,
    network,
    required,
    resources,
    secrets,
    tags,
    tenancy,
)

KINDS: Final[dict[str, Callable[[Any, model.PolicyDocument], Check]]] = {
    "required": lambda rule, _: required.compile_rule(rule),
    "hyperparameters": lambda rule, _: hyperparameters.compile_rule(rule),
    "secrets": lambda rule, _: secrets.compile_rule(rule),
    "resources": lambda rule, _: resources.compile_rule(rule),
    "network": lambda rule, _: network.compile_rule(rule),
    "encryption": lambda rule, _: encryption.compile_rule(rule),
    "tenancy": lambda rule, _: tenancy.compile_rule(rule),
    "images": lambda rule, _: images.compile_rule(rule),
    "tags": lambda rule, _: tags.compile_rule(rule),
    "naming": lambda rule, _: naming.compile_rule(rule),
    "cel": lambda rule, document: cel.compile_rule(rule, document.params),
}


#: Rule kinds that can state, as JSON Schema, what a job they find nothing in looks like,
#: with the options of the kind that schema covers. A schema is a second statement of the
#: check, kept in step by hand: an option added to a kind's model and not listed here
#: would be one the schema knows nothing of, so such a kind gets no schema at all (its
#: rules run in Python) until the schema covers the option and it is listed here; a test
#: fails meanwhile, so the gap is loud as well as closed.
SCHEMAS: Final[dict[str, tuple[Callable[[Any], Schema | None], frozenset[str]]]] = {
    "required": (required.native_schema, frozenset({"fields", "whenSpot", "tagKeys"})),
    "secrets": (secrets.native_schema, frozenset({"maps", "allowKeys"})),
    "resources": (
        resources.native_schema,
        frozenset(
            {
                "instanceTypes",
                "maxInstanceCount",
                "maxVolumeSizeInGB",
                "maxRuntimeInSeconds",
                "maxWaitTimeInSeconds",
                "spot",
            }
        ),
    ),
    "network": (
        network.native_schema,
        frozenset(
            {
                "requireVpc",
                "subnets",
                "securityGroups",
                "requireNetworkIsolation",
                "interContainerEncryption",
            }
        ),
    ),
    "images": (
        images.native_schema,
        frozenset(
            {
                "registries",
                "repositories",
                "algorithms",
                "forbidLatest",
                "requireTag",
                "requireDigest",
            }
        ),
    ),
    "tags": (
        tags.native_schema,
        frozenset({"required", "controllerTags", "budget", "duplicates"}),
    ),
}

#: What every rule has besides its kind's options (:class:`~webhook.policy.model.RuleBase`).
COMMON_FIELDS: Final = frozenset({*model.RuleBase.model_fields, "kind"})


def options(rule_type: type[model.RuleBase]) -> frozenset[str]:
    """The options of a rule kind: the fields of its model beyond the common ones."""
    return frozenset(rule_type.model_fields) - COMMON_FIELDS


#: Rule kinds whose schema needs a Python guard for what JSON Schema cannot state.
GUARDS: Final[dict[str, Callable[[Any], Guard | None]]] = {
    "tags": tags.native_guard,
}


def native_guard(rule: model.Rule) -> Guard | None:
    """The guard that completes *rule*'s schema, if it needs one (:mod:`webhook.native`)."""
    build = GUARDS.get(rule.kind)
    return build(rule) if build is not None else None


def native_schema(rule: model.Rule) -> Schema | None:
    """The schema of a job *rule* finds nothing in, if its kind can say (:mod:`webhook.native`).

    None when the kind has no schema, or when its model has an option the schema
    does not declare covering (see :data:`SCHEMAS`).
    """
    entry = SCHEMAS.get(rule.kind)
    if entry is None:
        return None
    build, covered = entry
    if not options(type(rule)) <= covered:
        return None
    return build(rule)


def compile_rule(rule: model.Rule, document: model.PolicyDocument) -> Check:
    """Compile *rule* of *document* with its kind's compiler."""
    return KINDS[rule.kind](rule, document)
