r"""Rule kind ``naming``: how ``spec.trainingJobName`` is spelled.

* ``prefix``: the name must start with it, placeholders filled (``{namespace}-``).
* ``pattern``: a regex the whole name must match (``re.fullmatch``). The placeholders
  ``{namespace}``, ``{name}`` and ``{trainingJobName}`` are replaced with the
  ``re.escape``'d values first, so a value is always matched literally; other braces
  (``\d{4}``) stay regex syntax.

Choices:

* A pattern without placeholders is compiled once at load; a templated one is compiled
  per distinct substituted text and cached (namespaces repeat). Its syntax is checked at
  load with a sample value in the placeholders.
* A missing, empty or non-string name is skipped (other rules require fields).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Final

from webhook.paths import Path
from webhook.policy.model import NamingRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show, suggestion

PATH: Final[Path] = ("spec", "trainingJobName")
NAME_MAX: Final = 63
"""Longest training job name SageMaker accepts (for suggestions)."""
PLACEHOLDERS: Final = ("{namespace}", "{name}", "{trainingJobName}")
_SAMPLE: Final = "sample"


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> re.Pattern[str]:
    return re.compile(text)


def fill_pattern(pattern: str, subject: Subject) -> str:
    """Substitute the placeholders of regex *pattern* with *subject*'s values, escaped."""
    return (
        pattern.replace("{namespace}", re.escape(subject.namespace))
        .replace("{name}", re.escape(subject.name))
        .replace("{trainingJobName}", re.escape(subject.training_job_name))
    )


def _pattern(pattern: str) -> Callable[[Subject], re.Pattern[str]]:
    """A function giving the compiled *pattern* for a subject; RuleConfigError if invalid."""
    templated = any(p in pattern for p in PLACEHOLDERS)
    sample = pattern
    for placeholder in PLACEHOLDERS:
        sample = sample.replace(placeholder, _SAMPLE)
    try:
        static = re.compile(sample)
    except re.error as error:
        raise RuleConfigError(
            "pattern", f"{show(pattern)} is not a valid regular expression: {error}"
        ) from error
    if not templated:
        return lambda _subject: static
    return lambda subject: _compiled(fill_pattern(pattern, subject))


def compile_rule(rule: NamingRule) -> Check:
    """Compile a ``naming`` rule into a check."""
    prefix = rule.prefix
    pattern = rule.pattern
    regex = _pattern(pattern) if pattern is not None else None

    def check(subject: Subject) -> Iterator[Violation]:
        name = subject.training_job_name
        if not name:
            return
        if prefix is not None:
            wanted = subject.template(prefix)
            if not name.startswith(wanted):
                fixed = wanted + name
                hint = suggestion([fixed]) if len(fixed) <= NAME_MAX else ""
                yield Violation(
                    PATH,
                    f"{show(name)} does not start with the required prefix {show(wanted)}{hint}",
                )
        if regex is not None and pattern is not None and not regex(subject).fullmatch(name):
            yield Violation(
                PATH,
                f"{show(name)} does not match the naming pattern {subject.template(pattern)}",
            )

    return check
