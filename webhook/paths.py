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
    """Render *path* in the documented notation."""
    parts: list[str] = []
    key_next = False
    for step in path:
        if isinstance(step, int) or key_next:
            parts.append(f"[{step}]")
            key_next = False
        else:
            parts.append(f".{step}" if parts else step)
            key_next = step in MAP_FIELDS
    return "".join(parts)


#: Maps whose values may hold secrets: no message, log or report shows them.
SENSITIVE_MAPS: Final = frozenset({"hyperParameters", "environment"})
