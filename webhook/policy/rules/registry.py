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


#: Rule kinds that can state, as JSON Schema, what a job they find nothing in looks like.
SCHEMAS: Final[dict[str, Callable[[Any], Schema | None]]] = {
    "required": required.native_schema,
    "secrets": secrets.native_schema,
    "resources": resources.native_schema,
    "network": network.native_schema,
    "images": images.native_schema,
    "tags": tags.native_schema,
}


#: Rule kinds whose schema needs a Python guard for what JSON Schema cannot state.
GUARDS: Final[dict[str, Callable[[Any], Guard | None]]] = {
    "tags": tags.native_guard,
}


def native_guard(rule: model.Rule) -> Guard | None:
    """The guard that completes *rule*'s schema, if it needs one (:mod:`webhook.native`)."""
    build = GUARDS.get(rule.kind)
    return build(rule) if build is not None else None


def native_schema(rule: model.Rule) -> Schema | None:
    """The schema of a job *rule* finds nothing in, if its kind can say (:mod:`webhook.native`)."""
    build = SCHEMAS.get(rule.kind)
    return build(rule) if build is not None else None


def compile_rule(rule: model.Rule, document: model.PolicyDocument) -> Check:
    """Compile *rule* of *document* with its kind's compiler."""
    return KINDS[rule.kind](rule, document)
