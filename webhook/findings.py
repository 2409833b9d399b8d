"""Findings and decisions: what every check returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from webhook.paths import Path, format_path


class Action(enum.StrEnum):
    """What a finding does to the request."""

    DENY = "deny"
    """Reject the object."""
    WARN = "warn"
    """Admit it and show the user a warning."""
    AUDIT = "audit"
    """Admit it silently; the finding is only recorded (logs, metrics, reports)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of one rule at one field."""

    rule: str
    """Stable rule id, e.g. ``sagemaker.enum``."""
    path: Path
    """Where, as a path tuple; :attr:`where` renders it."""
    message: str
    """What is wrong and what is allowed; never a hyperparameter or environment value."""
    action: Action = Action.DENY
    on_key: bool = False
    """True when the finding is about the map key / field name itself, not its value."""

    @property
    def where(self) -> str:
        """The field path in the documented notation."""
        return format_path(self.path)

    def with_action(self, action: Action) -> Finding:
        """Return a copy with another action."""
        return Finding(self.rule, self.path, self.message, action, self.on_key)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one object: allowed or not, and every finding behind it."""

    findings: tuple[Finding, ...] = ()
    patch: tuple[dict[str, object], ...] = field(default=())
    """RFC 6902 operations to apply first (mutation); empty when nothing changes."""

    @property
    def allowed(self) -> bool:
        """True unless some finding denies."""
        return not any(f.action is Action.DENY for f in self.findings)

    @property
    def denials(self) -> tuple[Finding, ...]:
        """The findings that deny."""
        return tuple(f for f in self.findings if f.action is Action.DENY)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that warn."""
        return tuple(f for f in self.findings if f.action is Action.WARN)
