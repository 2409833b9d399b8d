"""Field paths: one notation for every finding.

A path is a tuple of map keys / field names (``str``) and list indexes
(``int``). It is rendered the way Kubernetes renders field paths in its own
validation errors (``k8s.io/apimachinery/pkg/util/validation/field``): fields
joined by dots, list indexes in brackets, map keys in brackets without quotes::

    spec.inputDataConfig[1].dataSource.s3DataSource.s3DataDistributionType
    spec.hyperParameters[max_depth]

A step is a map key rather than a field name when the step before it names
a map (``hyperParameters``, ``environment``, ``labels`` ...); :data:`MAP_FIELDS`
lists those, so ``format_path`` needs no schema.
"""

from __future__ import annotations

import json
from typing import Final, TypeAlias

Path: TypeAlias = tuple[str | int, ...]

#: Fields whose value is a map with free-form keys (from the CRD's
#: ``additionalProperties`` and ObjectMeta).
MAP_FIELDS: Final = frozenset(
    {
        "hyperParameters",
        "environment",
        "hookParameters",
        "collectionParameters",
        "ruleParameters",
        "profilingParameters",
        "labels",
        "annotations",
    }
)


def format_path(path: Path) -> str:
    r"""Render *path* in the documented notation.

    A key or field name that is not plain printable text (a line break, a
    control character, a bracket) is shown quoted and escaped, as JSON writes
    it (``spec.hyperParameters["bad\nkey"]``): a path is one line in every
    output, and a reader can tell where the key ends.
    """
    parts: list[str] = []
    key_next = False
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            key_next = False
        elif not _plain(step):
            parts.append(f"[{json.dumps(step)}]")
            key_next = False
        elif key_next:
            parts.append(f"[{step}]")
            key_next = False
        else:
            parts.append(f".{step}" if parts else step)
            key_next = step in MAP_FIELDS
    return "".join(parts)


def _plain(step: str) -> bool:
    return step.isprintable() and not _BRACKETS.intersection(step)


_BRACKETS: Final = frozenset("[]")


#: Maps whose values may hold secrets: no message, log or report shows them.
SENSITIVE_MAPS: Final = frozenset({"hyperParameters", "environment"})
