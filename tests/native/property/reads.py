"""Which fields a rule reads, found by running its check on a job that has them all.

The check runs on a job whose mappings and lists note every path looked up: a rule
kind that reads a new field (or an old one for a new option) gets that field
edited (:mod:`.targeting`), without a list of fields here to keep in step.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import typing
from collections.abc import Iterator
from typing import Any, Final

from tests.native.property.fields import POOLS, SPEC_FIELDS, is_block, pool_of
from tests.native.property.jobs import CLEAN, CORPUS, Job, Step
from tests.native.property.policies import policy_document
from webhook.policy.compiled import compile_policy
from webhook.policy.model import PolicyDocument, Rule
from webhook.policy.subject import Subject
from webhook.request import Context


class _ReadDict(dict[Any, Any]):
    """A mapping of a job that notes the path of every key a check looks up."""

    def __init__(self, data: dict[Any, Any], path: tuple[Step, ...], seen: set[Any]) -> None:
        super().__init__(data)
        self.path = path
        self.seen = seen

    def _read(self, key: Any) -> Any:
        return _reading(dict.__getitem__(self, key), (*self.path, key), self.seen)

    def get(self, key: Any, default: Any = None) -> Any:
        self.seen.add((*self.path, key))
        return self._read(key) if dict.__contains__(self, key) else default

    def __getitem__(self, key: Any) -> Any:
        return self._read(key)

    def items(self) -> Any:
        return [(key, self._read(key)) for key in dict.keys(self)]

    def values(self) -> Any:
        return [self._read(key) for key in dict.keys(self)]


class _ReadList(list[Any]):
    """A list of a job that notes the path of its items (``[]``) when a check reads them."""

    def __init__(self, data: list[Any], path: tuple[Step, ...], seen: set[Any]) -> None:
        super().__init__(data)
        self.path = (*path, "[]")
        self.seen = seen

    def __iter__(self) -> Iterator[Any]:
        for item in list.__iter__(self):
            yield _reading(item, self.path, self.seen)

    def __getitem__(self, index: Any) -> Any:
        item = list.__getitem__(self, index)
        return item if isinstance(index, slice) else _reading(item, self.path, self.seen)


def _reading(value: Any, path: tuple[Step, ...], seen: set[Any]) -> Any:
    seen.add(path)
    if isinstance(value, dict):
        return _ReadDict(value, path, seen)
    if isinstance(value, list):
        return _ReadList(value, path, seen)
    return value


def _full_job(switches: bool) -> Job:
    """The clean example with every field of the spec set (the first entry of each list);
    *switches*: the value of every boolean field."""
    job = copy.deepcopy(CORPUS[CLEAN])
    for pattern, kind in SPEC_FIELDS:
        if is_block(kind):
            continue
        pool = pool_of(pattern[-1], kind)
        if typing.get_origin(kind) is dict:
            value: Any = {"max_depth": "5", "db_password": "hunter2"}
        elif typing.get_origin(kind) is list:
            value = [POOLS[pool][0] if pool is not None else "x"]
        elif kind is bool:
            value = switches
        elif pool is not None:
            value = POOLS[pool][0]
        else:
            value = 1 if kind is int else "x"
        parent: Any = job["spec"]
        for step, following in itertools.pairwise(pattern):
            if step == "[]":
                parent = parent[0]
            else:
                parent = parent.setdefault(step, [{}] if following == "[]" else {})
        parent.setdefault(pattern[-1], value)
    return job


#: Two, as a check may read a field only when a switch is on (``whenSpot``) or off.
FULL_JOBS: Final = (_full_job(switches=True), _full_job(switches=False))


_READS: dict[str, frozenset[tuple[str, ...]]] = {}


def read_by(rule: Rule) -> frozenset[tuple[str, ...]]:
    """The spec fields *rule*'s check reads on a job that has them all (``[]``: items)."""
    key = rule.model_dump_json()
    if key not in _READS:
        document = PolicyDocument.model_validate(policy_document(0, [rule.model_dump()]))
        check = compile_policy(document).rules[0].check
        seen: set[Any] = set()
        for full in FULL_JOBS:
            job = _reading(copy.deepcopy(full), (), seen)
            with contextlib.suppress(Exception):  # tripped on the proxies: no targeting
                list(check(Subject.of(job, Context(namespace="team-a"))))
        _READS[key] = frozenset(path[1:] for path in seen if len(path) > 1 and path[0] == "spec")
    return _READS[key]
