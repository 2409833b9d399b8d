"""What a ``validate`` run found, located in the input files.

These types are what every output format (text, json, junit, sarif, github)
renders; they carry no I/O of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webhook.findings import Action, Finding
from webhook.policy.compiled import EMPTY, PolicySet


@dataclass(frozen=True, slots=True)
class Violation:
    """A finding and where it is in the file (1-based line and column; 0 if unknown)."""

    finding: Finding
    line: int
    column: int

    @property
    def rule(self) -> str:
        """The rule id."""
        return self.finding.rule

    @property
    def action(self) -> Action:
        """deny, warn or audit."""
        return self.finding.action

    @property
    def path(self) -> str:
        """The field path in the documented notation."""
        return self.finding.where

    @property
    def message(self) -> str:
        """What is wrong and what is allowed."""
        return self.finding.message


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """The decision on one TrainingJob document."""

    file: str
    line: int
    column: int
    name: str | None
    namespace: str | None
    allowed: bool
    violations: tuple[Violation, ...] = ()
    patch: tuple[dict[str, object], ...] = ()
    """The defaults applied before checking (RFC 6902 operations)."""
    seconds: float = 0.0
    """How long the decision took (defaults and checks), for test reports."""


@dataclass(frozen=True, slots=True)
class InputError:
    """A file that could not be read or a document that is not valid YAML."""

    file: str
    line: int
    column: int
    message: str


@dataclass(slots=True)
class Report:
    """Everything one run found."""

    results: list[ObjectResult] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    documents: int = 0
    """Documents read (after expanding ``kind: List``)."""
    skipped: int = 0
    """Documents of other kinds, not checked."""
    show_patch: bool = False
    """Whether text output prints each job's patch (``--show-patch``)."""
    policies: PolicySet = EMPTY
    """The policies checked against: what ``sarif`` says about their rules."""

    @property
    def denied(self) -> int:
        """TrainingJobs with at least one denying finding."""
        return sum(1 for result in self.results if not result.allowed)

    @property
    def warned(self) -> int:
        """TrainingJobs allowed with warnings."""
        return sum(
            1
            for result in self.results
            if result.allowed and any(v.action is Action.WARN for v in result.violations)
        )

    @property
    def exit_code(self) -> int:
        """2 on any input error, else 1 if anything is denied, else 0."""
        if self.errors:
            return 2
        return 1 if self.denied else 0
