"""What an admission request says besides the object: typed, for every caller.

The webhook fills it from the AdmissionReview; the CLI from its flags
(``--namespace``, ``--namespace-label``, ``--user``, ``--group``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]


@dataclass(slots=True)
class Context:
    """The request around the object (all optional for the CLI); read-only by convention.

    Not a frozen dataclass: one is built per admission request, and a frozen
    dataclass's ``__init__`` costs three times as much.
    """

    operation: Operation = "CREATE"
    namespace: str | None = None
    """The request's namespace; the object's ``metadata.namespace`` when absent."""
    user: str | None = None
    """The requesting user's name; None when not known (the CLI without ``--user``), which
    is never taken for the ACK controller (:attr:`webhook.engine.Config.controller_users`)."""
    groups: tuple[str, ...] = ()
    namespace_labels: Mapping[str, str] | None = None
    """Labels of the namespace; None when not known (policies that select on them then
    report that instead of guessing)."""
    dry_run: bool = False
    extra: Mapping[str, object] | None = None
    """Anything else a caller wants CEL rules to see under ``request``."""
