"""Jobs: the corpus (:mod:`tests.native.corpus`), each with up to six edits.

An edit sets one value of a job. The edits are of the leaves rule kinds read (most
often), of every other field of the spec (:mod:`.fields`), of whole blocks,
instance groups, tags, data sources, map entries and the namespace; and, when the
rules under test are known, of the fields they read (:mod:`.targeting`).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import Any, Final, NamedTuple

from hypothesis import strategies as st

from tests.native.corpus import jobs
from tests.native.property.fields import (
    COUNTS,
    DELETE,
    INSTANCE_TYPES,
    MAP_KEYS,
    MAP_VALUES,
    MAPS,
    NAMESPACES,
    ODD,
    SPEC_FIELDS,
    TAG_KEYS,
    TAG_VALUES,
    is_block,
    pool_of,
    sampled,
    values_for,
)

Job = dict[str, Any]


class Append(NamedTuple):
    """An edit's value that adds entries to a list (or makes one of them)."""

    entries: tuple[Any, ...]


Step = str | int


class Edit(NamedTuple):
    """Set the value at *path* of the job (creating objects and list entries on the way)."""

    path: tuple[Step, ...]
    value: Any


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A corpus job and the edits that make it a new one."""

    source: str
    edits: tuple[Edit, ...]

    def job(self) -> Job:
        """The edited copy of the corpus job."""
        return _edited(self.source, self.edits)

    def variants(self) -> Iterator[Job]:
        """The job, then each edit alone: on the corpus job and on the clean example.

        One edit of a job that passes a rule's schema is the likeliest way to a job
        that still passes it and that the rule finds something in; and checking a
        rule costs far less than drawing a job.
        """
        yield self.job()
        for edit in self.edits:
            if len(self.edits) > 1:
                yield _edited(self.source, [edit])
            if self.source != CLEAN:
                yield _edited(CLEAN, [edit])


def _edited(source: str, edits: Sequence[Edit]) -> Job:
    job = copy.deepcopy(CORPUS[source])
    for edit in edits:
        _apply(job, edit)
    return job


def _apply(job: Job, edit: Edit) -> None:
    path, value = edit
    parent: Any = job
    for step, following in itertools.pairwise(path):
        if isinstance(parent, dict) and isinstance(step, str):
            child = parent.get(step)
            if child is None:
                if value is DELETE:
                    return
                child = [] if isinstance(following, int) else {}
                parent[step] = child
        elif isinstance(parent, list) and isinstance(step, int):
            while len(parent) <= step:
                parent.append({})
            child = parent[step]
        else:
            return  # something of another type on the way: leave the job as it is
        parent = child
    last = path[-1]
    if not isinstance(parent, dict) or not isinstance(last, str):
        return
    if value is DELETE:
        parent.pop(last, None)
    elif isinstance(value, Append):
        current = parent.get(last)
        entries = copy.deepcopy(list(value.entries))
        parent[last] = current + entries if isinstance(current, list) else entries
    else:
        parent[last] = copy.deepcopy(value)


CLEAN: Final = "webhook/examples/training-job.yaml#0"
"""The bundled example, which passes every check (and the rules of most policies)."""


def _corpus() -> dict[str, Job]:
    found = dict(jobs())
    return {CLEAN: found.pop(CLEAN), **found}  # first: minimal examples shrink to it


CORPUS: Final = _corpus()


def edits_at(pattern: tuple[str, ...], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Edit]:
    """Edits of the field at *pattern* (``[]``: the first or second entry of the list)."""
    count = pattern.count("[]")
    indexes = st.lists(st.sampled_from((0, 1)), min_size=count, max_size=count)

    def edit(drawn: tuple[list[int], Any]) -> Edit:
        numbers, value = drawn
        steps = iter(numbers)
        return Edit(
            tuple(next(steps) if step == "[]" else step for step in ("spec", *pattern)), value
        )

    return st.tuples(indexes, values).map(edit)


def _read_edits() -> st.SearchStrategy[Edit]:
    by_pool: dict[str, list[st.SearchStrategy[Edit]]] = {}
    for path, kind in SPEC_FIELDS:
        pool = None if is_block(kind) else pool_of(path[-1], kind)
        if pool is not None:
            by_pool.setdefault(pool, []).append(edits_at(path, values_for(path[-1], kind)))
    return st.one_of([st.one_of(edits) for edits in by_pool.values()])


#: Edits of the leaves rule kinds read (by name: :func:`.fields.pool_of`), each from its
#: pool: first a pool (instance types, KMS keys...), then one of the fields that take it.
READ_EDITS: Final = _read_edits()
#: Edits of every other leaf: a field the CRD adds is changed too, by type.
OTHER_EDITS: Final = st.one_of(
    [
        edits_at(path, values_for(path[-1], kind))
        for path, kind in SPEC_FIELDS
        if not is_block(kind) and pool_of(path[-1], kind) is None
    ]
)
#: Edits that remove, empty or null a block (or a list of them).
BLOCK_EDITS: Final = st.one_of(
    [edits_at(path, sampled(({}, [], *ODD))) for path, kind in SPEC_FIELDS if is_block(kind)]
)

_TAG: Final = st.fixed_dictionaries(
    {"key": st.sampled_from(TAG_KEYS)}, optional={"value": st.sampled_from(TAG_VALUES)}
)
_GROUP: Final = st.fixed_dictionaries(
    {"instanceGroupName": st.sampled_from(("a", "b"))},
    optional={
        "instanceType": st.sampled_from(INSTANCE_TYPES),
        "instanceCount": st.sampled_from(COUNTS),
    },
)
_DATA_SOURCES: Final[tuple[dict[str, Any], ...]] = (
    {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ml-team-a/churn/train/"}},
    {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ml-team-b/x/"}},
    {
        "fileSystemDataSource": {
            "directoryPath": "/fsx/train",
            "fileSystemAccessMode": "ro",
            "fileSystemID": "fs-0abc1234",
            "fileSystemType": "FSxLustre",
        }
    },
    {"fileSystemDataSource": {"fileSystemID": "fs-9999", "fileSystemType": "EFS"}},
    {},
)
#: Edits that make whole structures (tags, instance groups, data sources) and the namespace.
SHAPED_EDITS: Final = st.one_of(
    st.builds(Edit, st.just(("spec", "tags")), st.lists(_TAG, max_size=5)),
    st.builds(
        Edit,
        st.just(("spec", "tags")),
        st.lists(_TAG, min_size=1, max_size=3).map(lambda tags: Append(tuple(tags))),
    ),
    st.builds(
        Edit,
        st.just(("spec", "tags")),
        st.integers(44, 52).map(lambda n: [{"key": f"k{i}", "value": "v"} for i in range(n)]),
    ),
    st.builds(
        Edit, st.just(("spec", "resourceConfig", "instanceGroups")), st.lists(_GROUP, max_size=3)
    ),
    edits_at(("inputDataConfig", "[]", "dataSource"), st.sampled_from(_DATA_SOURCES)),
    st.builds(Edit, st.just(("metadata", "namespace")), st.sampled_from((*NAMESPACES, DELETE))),
)


def entry_edits(
    maps: st.SearchStrategy[tuple[str, ...]],
    keys: st.SearchStrategy[Any],
    values: st.SearchStrategy[Any],
) -> st.SearchStrategy[Edit]:
    """Edits of one entry of one of the *maps* (the first entry of a list on the way)."""

    def edit(path: tuple[str, ...], key: Any, value: Any) -> Edit:
        return Edit(("spec", *(0 if step == "[]" else step for step in path), key), value)

    return st.builds(edit, maps, keys, values)


#: Edits of one entry of a string map (the first entry of a list on the way), most of
#: them of hyperParameters and environment.
ENTRY_EDITS: Final = entry_edits(
    st.sampled_from((*[("hyperParameters",), ("environment",)] * 3, *MAPS)),
    st.sampled_from(MAP_KEYS),
    st.sampled_from(MAP_VALUES),
)


@st.composite
def mutants(draw: st.DrawFn, targeted: st.SearchStrategy[Edit] | None = None) -> Mutant:
    """A corpus job with up to six changes, most of them to what rule kinds read.

    *targeted*: edits of what the rules under test read
    (:func:`.targeting.targeted_edits`), which then make a third of the changes.
    """
    source = draw(st.sampled_from(tuple(CORPUS)))
    edits = [READ_EDITS, READ_EDITS, ENTRY_EDITS, SHAPED_EDITS, BLOCK_EDITS, OTHER_EDITS]
    if targeted is not None:
        edits = [targeted] * 3 + edits
    return Mutant(source, tuple(draw(st.lists(st.one_of(edits), max_size=6))))
