"""TrainingJobs to hold the native proof to: every one we ship or read, and mutants.

The jobs are the project's own manifests (:func:`jobs`) and, with the ACK
reference data, the ACK controller's too (:func:`ack_jobs`). A test over the
corpus is parametrized with :data:`CORPORA` and takes its jobs from
:func:`corpus_of`: the project's alone, and all of them, which is skipped
without the data (the same assertions hold for both).

The mutants are where a proof that is looser than its checks would show:
each takes a real job and changes one to three values to something at or past
an edge (a length limit, ``5.0`` for an integer, a Unicode digit, a
placeholder, a credential, a key the rules look for...). They are drawn
from a seeded generator, so a failure names a reproducible case.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, ack_data

Job = dict[str, Any]
Step = str | int

WITH_ACK = "project+ack"
CORPORA = ["project", pytest.param(WITH_ACK, marks=pytest.mark.requires_ack)]
"""The corpora a test runs on: the project's jobs, and those with the ACK controller's."""


def jobs() -> list[tuple[str, Job]]:
    """Every TrainingJob manifest of the project and of its policies' test cases."""
    files = [
        *sorted(EXAMPLES.glob("*.yaml")),
        *sorted((PROJECT / "policies").glob("*/tests/*.yaml")),
    ]
    return _training_jobs(files, PROJECT, prefix="")


def ack_jobs() -> list[tuple[str, Job]]:
    """Every TrainingJob manifest of the ACK controller's tree (its sample, unit- and
    e2e-test manifests), named ``ack:<upstream path>``; skips the test without the data."""
    root = ack_data().root
    return _training_jobs(sorted(root.rglob("*.yaml")), root, prefix="ack:")


def corpus_of(corpus: str) -> list[tuple[str, Job]]:
    """The jobs of one of the :data:`CORPORA`."""
    return [*jobs(), *ack_jobs()] if corpus == WITH_ACK else jobs()


def _training_jobs(files: Iterable[Path], root: Path, prefix: str) -> list[tuple[str, Job]]:
    found = []
    for file in files:
        try:
            documents = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue
        name = prefix + file.relative_to(root).as_posix()
        for index, document in enumerate(documents):
            if isinstance(document, dict) and document.get("kind") == "TrainingJob":
                found.append((f"{name}#{index}", document))
    return found


_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x1c",
    "x" * 64,
    "x" * 257,
    "x" * 2501,
    "$BUCKET",
    "${BUCKET}",
    "<your bucket>",
    "a$b",
    "line\nbreak",
    "\u0661\u0662\u0663",  # Arabic-Indic digits: \d in Python, not in ECMA
    "\uff21\uff22",  # fullwidth letters
    "\u00e9t\u00e9",
    "ml.p4d.24xlarge",
    "ml.m5.xlarge",
    "FullReplicated",
    "latest",
    "ubuntu:latest",
    "ubuntu",
    "localhost:5000/train:1",
    "sagemaker-xgboost:1.7-1@sha256:" + "a" * 64,
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "ghp_" + "a1" * 18,
    "hf_" + "ab1" * 12,
    "eyJhbGciOi.eyJzdWIiOi.sig",
    "Bearer abcdefghijklmnopqrstuvwxyz",
    "postgres://user:hunter2@db:5432/x",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    "true",
    "s3://bucket/prefix/",
    "s3://ml-team-b/x",
    "arn:aws:iam::123456789012:role/x",
    "arn:aws:kms:us-east-1:123456789012:key/abc",
    "subnet-0123456789abcdef0",
    "sg-0123456789abcdef0",
    "team-a",
)
_NUMBERS: tuple[Any, ...] = (
    0,
    -1,
    1,
    2,
    65,
    86401,
    5.0,
    2.5,
    True,
    2**31 - 1,
    2**31,
    2**63,
    -(2**63) - 1,
    "5",
    None,
)
_KEYS: tuple[str, ...] = (
    "db_password",
    "HF_TOKEN",
    "max_tokens",
    "\u017fecret",  # long s: folds to 's' in both regex engines
    "API\u212aEY",  # Kelvin sign: folds to 'k'
    "ap\u0131_key",  # dotless i: folds to 'i' in Python's re, not in Rust's regex
    "apiKey",
    "SECRET_NAME",
    "bad key",
    "k" * 257,
    "",
)


def _paths(value: Any, prefix: tuple[Step, ...] = ()) -> Iterator[tuple[Step, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _get(obj: Any, path: tuple[Step, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def _set(obj: Any, path: tuple[Step, ...], value: Any) -> None:
    _get(obj, path[:-1])[path[-1]] = value


def _spec(job: Job) -> dict[str, Any]:
    spec = job.setdefault("spec", {})
    return spec if isinstance(spec, dict) else {}


def _spot(job: Job) -> None:
    _spec(job)["enableManagedSpotTraining"] = True


def _groups(job: Job) -> None:
    groups = [{"instanceGroupName": "a", "instanceType": "ml.m5.xlarge", "instanceCount": 1}]
    _spec(job).setdefault("resourceConfig", {})["instanceGroups"] = groups


def _many_instances(job: Job) -> None:
    _spec(job).setdefault("resourceConfig", {})["instanceCount"] = 4


def _repeat_tag(job: Job) -> None:
    tags = _spec(job).setdefault("tags", [])
    tags.append({"key": "team", "value": "x"})
    tags.append({"key": "team", "value": "y"})


def _no_name(job: Job) -> None:
    job.get("metadata", {}).pop("name", None)


def _algorithm_name(job: Job) -> None:
    _spec(job).setdefault("algorithmSpecification", {})["algorithmName"] = "xgboost"


def _no_data_source(job: Job) -> None:
    for channel in _spec(job).get("inputDataConfig") or []:
        if isinstance(channel, dict):
            channel["dataSource"] = {}


_EDITS = (_spot, _groups, _many_instances, _repeat_tag, _no_name, _algorithm_name, _no_data_source)


def _mutate_once(job: Job, rng: random.Random) -> None:
    if rng.random() < 0.15:
        rng.choice(_EDITS)(job)
        return
    paths = [path for path in _paths(job) if path]
    path = rng.choice(paths)
    current = _get(job, path)
    parent = _get(job, path[:-1])
    roll = rng.random()
    if isinstance(parent, dict) and roll < 0.1:
        del parent[path[-1]]
    elif isinstance(parent, dict) and roll < 0.2:
        parent[rng.choice(_KEYS)] = rng.choice(_STRINGS)
    elif isinstance(current, str):
        value = rng.choice(_STRINGS)
        _set(job, path, rng.choice((value, current + value, value + current, current.upper())))
    elif isinstance(current, bool) or current is None:
        _set(job, path, rng.choice((True, False, None, "true", 1)))
    elif isinstance(current, int):
        _set(job, path, rng.choice(_NUMBERS))
    elif isinstance(current, list):
        choice = rng.randrange(4)
        if choice == 0:
            current.clear()
        elif choice == 1:
            current.append(None)
        elif current:
            current.append(copy.deepcopy(current[0]) if choice == 2 else "x")
    elif isinstance(current, dict):
        current[rng.choice(("bogus", "status", *_KEYS))] = rng.choice((*_STRINGS, 1, None, {}))


def mutants(job: Job, count: int, seed: int) -> Iterator[Job]:
    """*count* copies of *job*, each with one to three values changed."""
    rng = random.Random(seed)
    for _ in range(count):
        mutant = copy.deepcopy(job)
        for _ in range(rng.randint(1, 3)):
            _mutate_once(mutant, rng)
        yield mutant


def job_file(path: str | Path) -> Job:
    """One manifest, parsed."""
    loaded: Job = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return loaded
