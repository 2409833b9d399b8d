"""For ``policy lint``: policies that default one field to different values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from webhook.paths import SENSITIVE_MAPS, format_path
from webhook.policy.defaults.plan import BRANCH, TAGS, DefaultsPlan, Field
from webhook.text import SHOWN, show


def conflicts(plans: Sequence[tuple[str, DefaultsPlan]]) -> list[str]:
    """Describe each pair of policies that default one field to different values."""
    settings: dict[str, list[tuple[str, Any, bool]]] = {}
    for policy, plan in plans:
        for where, value, sensitive in _leaves(plan.fields):
            settings.setdefault(where, []).append((policy, value, sensitive))
    lines: list[str] = []
    for where, setters in settings.items():
        for index, (first, first_value, sensitive) in enumerate(setters):
            for second, second_value, _ in setters[index + 1 :]:
                if first_value == second_value:
                    continue
                if sensitive:
                    detail = f'policies "{first}" and "{second}" set different values'
                else:
                    detail = (
                        f'policy "{first}" sets {_display(first_value)}, '
                        f'policy "{second}" sets {_display(second_value)}'
                    )
                lines.append(f"{where}: {detail} (the first in order wins)")
    return lines


def _leaves(fields: tuple[Field, ...]) -> list[tuple[str, Any, bool]]:
    """Every field a plan sets: ``(rendered path, value, value is secret)``."""
    leaves: list[tuple[str, Any, bool]] = []
    for field in fields:
        if field.kind == BRANCH:
            leaves.extend(_leaves(field.children))
        elif field.kind == TAGS:
            leaves.extend((f"spec.tags[{key}]", value, False) for key, value in field.value)
        else:
            sensitive = len(field.parts) == 3 and field.parts[1] in SENSITIVE_MAPS
            leaves.append((format_path(field.parts), field.value, sensitive))
    return leaves


def _display(value: Any) -> str:
    if isinstance(value, str):
        return show(value)
    if value is None:
        return "no value"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."
