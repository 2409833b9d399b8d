"""What the exporter produces before it becomes Kubernetes objects: typed, for every step.

A :class:`Validation` is one CEL test with the rule it stands for; a
:class:`Part` is what one source (SageMaker's constraints, one policy) exports:
its validations, the variables they share, where it applies, and what it
could not export (:class:`Skipped`), each with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webhook.findings import Action


@dataclass(frozen=True, slots=True)
class Validation:
    """One CEL test: true when the job is fine as far as *rule* is concerned at *path*."""

    rule: str
    """The webhook's rule id (``sagemaker.pattern``, ``<policy>/<rule>``)."""
    path: str
    """The field it tests, in the findings' notation (``[*]`` for every item or key)."""
    expression: str
    message: str
    """A CEL string expression: the message when the test fails."""
    action: Action = Action.DENY
    reason: str = "Invalid"
    """The HTTP reason of a denial: ``Invalid`` for the job's own mistakes, ``Forbidden``
    for a policy's."""
    gate: bool = False
    """A finding of the size gate, which always denies (no action overrides it)."""


@dataclass(frozen=True, slots=True)
class Variable:
    """A named CEL expression the validations of a policy share (``variables.<name>``)."""

    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A rule (or an option of one) left to the webhook, and why."""

    rule: str
    why: str


@dataclass(slots=True)
class Part:
    """What one source exports: the constraints, or one policy."""

    name: str
    """``sagemaker`` or the policy id."""
    validations: list[Validation] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    match_conditions: list[Variable] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What else of the source is left to the webhook (its defaults)."""
    description: str = ""
