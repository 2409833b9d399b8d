"""Why a document cannot be read.

Readers never raise to their callers: every problem becomes a
:class:`YAMLProblem` (line, column, message) in a list the caller passes.
Inside the package, a rule that refuses a document raises
:class:`RefusedError` at the offending node's mark, and
:func:`~webhook.yamlio.documents.read_document` turns it, or libyaml's own
error, into an :class:`UnreadableError` that says whether the YAML *syntax*
was the cause (which a JSON parser may still read) or a deliberate refusal
(which must stay one).
"""

from __future__ import annotations

from typing import NamedTuple

import yaml


class YAMLProblem(NamedTuple):
    """A document that could not be parsed: where (1-based; 0 if unknown) and why."""

    line: int
    column: int
    message: str


class RefusedError(Exception):
    """A document kubectl would refuse, or that readers read differently."""

    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class UnreadableError(Exception):
    """A document that could not be read, and whether its YAML syntax was the cause."""

    def __init__(self, problem: YAMLProblem, *, syntax: bool) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.syntax = syntax
