"""What a policy test run found: a result per case, and the text report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class CaseResult:
    """The outcome of one case (or of a folder that could not run)."""

    folder: str
    name: str
    """The case's name; empty for a problem of the whole folder."""
    problems: list[str] = field(default_factory=list)
    file: str = ""
    """Where to look: ``cases.yaml`` (at the case, or at the mistake), the policy file."""
    line: int = 0
    """1-based; 0 when unknown."""
    column: int = 0
    seconds: float = 0.0
    """How long the case took to run."""
    error: bool = False
    """True when the case could not run (an unreadable or invalid file), not a mismatch."""

    @property
    def passed(self) -> bool:
        """True when the policy decided as the case expects."""
        return not self.problems


@dataclass(slots=True)
class Results:
    """Every case of every folder."""

    cases: list[CaseResult] = field(default_factory=list)
    deselected: int = 0
    """Cases left out because their name does not contain ``select``."""

    @property
    def passed(self) -> bool:
        """True when every case passed (and there was at least one)."""
        return bool(self.cases) and all(case.passed for case in self.cases)

    @property
    def failed(self) -> int:
        """How many cases (and folders) failed."""
        return sum(1 for case in self.cases if not case.passed)


def label(case: CaseResult) -> str:
    """``FOLDER: NAME``, or ``FOLDER`` for a problem of the whole folder."""
    return f"{case.folder}: {case.name}" if case.name else case.folder


def summary(results: Results) -> str:
    """``N passed, N failed``, then ``, N deselected`` when ``select`` left cases out."""
    failed = results.failed
    line = f"{len(results.cases) - failed} passed, {failed} failed"
    return f"{line}, {results.deselected} deselected" if results.deselected else line


def render(results: Results) -> str:
    """Text report: one line per case, details under failures, then a summary."""
    lines = []
    for case in results.cases:
        status = "PASS" if case.passed else "FAIL"
        lines.append(f"{status} {label(case)}")
        lines.extend(f"    {problem}" for problem in case.problems)
    lines.append("")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"
