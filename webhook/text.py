"""Small text helpers shared by messages: quoting values, did-you-mean."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Sequence
from typing import Final

SHOWN: Final = 100
"""Longest part of a bad value a message shows."""


def show(value: str) -> str:
    """Quote *value* for a message, cut to about :data:`SHOWN` characters.

    A long value keeps its start and its end (where an image's tag or a key's
    id is), and says how long it was.
    """
    if len(value) <= SHOWN:
        return json.dumps(value, ensure_ascii=False)
    head, tail = value[: SHOWN // 2], value[-(SHOWN // 2 - 3) :]
    quoted = json.dumps(f"{head}...{tail}", ensure_ascii=False)
    return f"{quoted} ({len(value)} chars)"


def did_you_mean(value: str, choices: Sequence[str], limit: int = 3) -> list[str]:
    """Return the choices closest to *value*, a case-only difference first."""
    return list(_closest(value, tuple(choices), limit))


@functools.lru_cache(maxsize=1024)
def _closest(value: str, choices: tuple[str, ...], limit: int) -> tuple[str, ...]:
    # difflib costs about a millisecond against the 225 instance types; the same
    # typo tends to arrive many times (CI runs, webhook retries), so cache it.
    folded = value.lower()
    same_case = [choice for choice in choices if choice.lower() == folded]
    close = difflib.get_close_matches(value, choices, n=limit, cutoff=0.6)
    return tuple(dict.fromkeys(same_case + close))[:limit]


def suggestion(candidates: list[str]) -> str:
    """Render did-you-mean candidates, or nothing."""
    if not candidates:
        return ""
    return "; did you mean " + " or ".join(json.dumps(c) for c in candidates) + "?"
