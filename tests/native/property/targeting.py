"""Jobs aimed at the rules under test.

A rule's schema and its check can only disagree on a field the rule reads, so
most edits go there (:func:`.reads.read_by`), with values from the pools and from
the policies themselves: each limit and its neighbours, each glob with its
wildcards filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from hypothesis import strategies as st

from tests.native.property.fields import (
    MAP_KEYS,
    MAP_VALUES,
    MAPS,
    NAMESPACES,
    ODD,
    SPEC_FIELDS,
    is_block,
    sampled,
    values_for,
)
from tests.native.property.jobs import Edit, Mutant, edits_at, entry_edits, mutants
from tests.native.property.reads import read_by
from webhook.engine import Config
from webhook.policy.model import Rule


def _derived(documents: list[dict[str, Any]]) -> list[Any]:
    """Values from the policies themselves: each number and its neighbours (also as
    strings, for hyperparameters), each string, and globs with their wildcards filled."""
    found: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, bool):
            return
        elif isinstance(value, int | float):
            found.extend(n for near in (-1, 0, 1) for n in (value + near, str(value + near)))
        elif isinstance(value, str) and value:
            filled = value.replace("{namespace}", "team-a").replace("*", "x").replace("?", "x")
            found.extend((value, filled))

    for document in documents:
        for rule in document["rules"]:
            walk({key: value for key, value in rule.items() if key not in ("id", "kind")})
    return list(dict.fromkeys(found))


#: The edits of each field of the spec (built once: strategies are costly to build).
EDITS_AT: Final = {
    pattern: edits_at(
        pattern, sampled(({}, [], *ODD)) if is_block(kind) else values_for(pattern[-1], kind)
    )
    for pattern, kind in SPEC_FIELDS
}


def _first(pattern: tuple[str, ...], value: Any) -> Edit:
    return Edit(("spec", *(0 if step == "[]" else step for step in pattern)), value)


def targeted_edits(
    rules: Sequence[Rule], documents: list[dict[str, Any]]
) -> st.SearchStrategy[Edit] | None:
    """Edits of the fields *rules* read, with values from the pools and from the policies."""
    read = frozenset().union(*(read_by(rule) for rule in rules))
    fields = [pattern for pattern, _ in SPEC_FIELDS if pattern in read]
    maps = [name for name in MAPS if any(path[: len(name)] == name != path for path in read)]
    strategies = [EDITS_AT[pattern] for pattern in fields]
    derived = _derived(documents)
    if derived and fields:
        strategies.append(st.builds(_first, st.sampled_from(fields), st.sampled_from(derived)))
    if maps:
        strings = [value for value in derived if isinstance(value, str)]
        strategies.append(
            entry_edits(
                st.sampled_from(maps),
                st.sampled_from((*MAP_KEYS, *strings)),
                st.sampled_from((*MAP_VALUES, *strings)),
            )
        )
    return st.one_of(strategies) if strategies else None


Case = tuple[Mutant, str | None]


def cases(config: Config, documents: list[dict[str, Any]]) -> st.SearchStrategy[list[Case]]:
    """Jobs to review under *config* (compiling policies costs more than a review), each
    with the request's namespace (None: the job's own ``metadata.namespace``)."""
    rules = [rule for policy in config.policies.policies for rule in policy.document.rules]
    job = st.tuples(mutants(targeted_edits(rules, documents)), st.sampled_from((*NAMESPACES, None)))
    return st.lists(job, min_size=1, max_size=5)
