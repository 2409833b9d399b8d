"""The exported MutatingAdmissionPolicy and the webhook's ``/mutate``, asked about one CREATE."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch

from tests.export.apiserver import admitted, decoded
from tests.export.harness import Request
from webhook.engine import Config, oversized
from webhook.export.fill import Leaf, leaves
from webhook.export.mutating import MapExport
from webhook.export.offline import admission_request, namespace_object
from webhook.export.replay import Outcome, mutate
from webhook.policy.defaults import COERCED_MAPS, DefaultsPlan
from webhook.server.admission import mutate as webhook_mutate

COERCIONS = tuple(f"/spec/{name}/" for name in COERCED_MAPS)


@dataclass(frozen=True)
class Results:
    """What each side makes of the job."""

    job: dict[str, Any]
    """The job as mutating admission sees it."""
    webhook: dict[str, Any]
    """After the webhook's ``/mutate`` patch."""
    expected: dict[str, Any]
    """After that patch less its coercions (``coerceStrings``, which the export leaves out)."""
    policy: Outcome
    """After the MutatingAdmissionPolicy, run offline."""
    both: dict[str, Any] | None
    """After the policy, then the webhook (the chart's ``both``); None when the policy failed."""
    reversed: Outcome
    """After the webhook, then the policy."""
    stored: bool
    """Whether the API server would accept the webhook's result at its schema check."""
    oversized: bool
    """Whether the job is past the size gate (``/mutate`` fills in nothing; denied)."""
    still_oversized: bool
    """Whether the policy's result is past the size gate too (so the validating side denies it)."""


def _coercion(op: Mapping[str, Any]) -> bool:
    return op["op"] == "replace" and str(op["path"]).startswith(COERCIONS)


def _webhook(job: dict[str, Any], request: Request, config: Config) -> list[dict[str, Any]]:
    labels = dict(namespace_object(request.namespace, request.labels)["metadata"]["labels"])
    review = {
        **admission_request(
            job,
            operation=request.operation,
            namespace=request.namespace,
            username=request.username,
            groups=request.groups,
        ),
        "object": job,
    }
    answer = webhook_mutate(review, config, lambda _: labels)  # type: ignore[arg-type]
    return [dict(op) for op in answer.patch]


def _apply(job: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    return jsonpatch.apply_patch(job, patch) if patch else job


def _policy(exported: MapExport, job: dict[str, Any], request: Request) -> Outcome:
    return mutate(
        exported.objects[0],
        [m.offline for m in exported.mutations],
        obj=job,
        request=admission_request(
            job,
            operation=request.operation,
            namespace=request.namespace,
            username=request.username,
            groups=request.groups,
        ),
        namespace=namespace_object(request.namespace, request.labels),
    )


def run(request: Request, config: Config, exported: MapExport) -> Results | None:
    """Both sides' results for *request*; None when the API server could not decode the job."""
    job = decoded(request.job)
    if job is None:
        return None
    patch = _webhook(job, request, config)
    webhook = _apply(job, patch)
    expected = _apply(job, [op for op in patch if not _coercion(op)])
    outcome = _policy(exported, job, request)
    both = None
    if outcome.object is not None:
        both = _apply(outcome.object, _webhook(outcome.object, request, config))
    return Results(
        job,
        webhook,
        expected,
        outcome,
        both,
        _policy(exported, webhook, request),
        admitted(webhook) is not None,
        bool(oversized(job, config)),
        outcome.object is not None and bool(oversized(outcome.object, config)),
    )


def check(results: Results, name: str, *, exact: bool = True) -> None:
    """The policy gives the webhook's result less its coercions, and after it the webhook gives
    its own; else the job is refused or denied whatever either does: the API server refuses
    the webhook's result and the policy's (or the policy fails), or the job is past the size
    gate (which no default takes it back within). The policy after the webhook changes
    nothing. Not *exact*: the export left more than coercions to the webhook, which fills
    them in after the policy, to its own result."""
    if results.oversized:
        assert results.policy.error or results.still_oversized, name
        return
    if not results.stored:
        outcome = results.policy.object
        assert outcome is None or admitted(outcome) is None, (name, results.policy.patches)
        return
    assert not results.policy.error, (name, results.policy.error)
    assert results.reversed.object == results.webhook, (name, results.reversed)
    if not exact:  # defaults left to the webhook besides coercions: it fills them in after
        assert results.both == results.webhook, (name, results.policy.patches)
        return
    assert results.policy.object == results.expected, (
        name,
        results.policy.patches,
        jsonpatch.make_patch(results.job, results.expected).patch,
    )
    assert results.both == results.webhook, name


def _paths(plans: Iterable[DefaultsPlan]) -> tuple[list[Leaf], list[Leaf]]:
    """The fields the defaults set (leaves) and the mappings they sit in."""
    fields = sorted({leaf for plan in plans for leaf in leaves(plan)})
    tags = [leaf for leaf in fields if leaf[:2] == ("spec", "tags")]
    plain = [leaf for leaf in fields if leaf[:2] != ("spec", "tags")]
    parents = sorted({leaf[:end] for leaf in plain for end in range(2, len(leaf))})
    return plain, [*parents, *(leaf for leaf in tags)]


def _other(value: Any) -> Any:
    """A value of *value*'s type that no default has."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "-own"
    if isinstance(value, list):
        return []
    return {}


def _at(job: dict[str, Any], path: Leaf) -> tuple[dict[str, Any] | None, str]:
    node: Any = job
    for key in path[:-1]:
        if not isinstance(node, dict):
            return None, path[-1]
        node = node.setdefault(key, {})
    return (node if isinstance(node, dict) else None), path[-1]


def defaults_mutants(
    job: Mapping[str, Any], plans: Iterable[DefaultsPlan], count: int, seed: int
) -> Iterator[dict[str, Any]]:
    """*count* variants of *job* around what *plans* default: each with one to three fields
    removed, present with a value of their own, or their mapping present and empty, and its
    tags absent, empty, holding a default key with another value, or a tag without a key."""
    plans = list(plans)
    plain, around = _paths(plans)
    values = {leaf: value for plan in plans for leaf, value in _values(plan.fields)}
    rng = random.Random(seed)
    for _ in range(count):
        mutant = copy.deepcopy(dict(job))
        for _ in range(rng.randint(1, 3)):
            choice = rng.randrange(4)
            if choice == 0 and plain:
                node, key = _at(mutant, rng.choice(plain))
                if node is not None:
                    node.pop(key, None)
            elif choice == 1 and plain:
                leaf = rng.choice(plain)
                node, key = _at(mutant, leaf)
                if node is not None:
                    node[key] = _other(values.get(leaf, ""))
            elif choice == 2 and around:
                path = rng.choice(around)
                if path[:2] == ("spec", "tags"):
                    _tags(mutant, path[-1], rng)
                else:
                    node, key = _at(mutant, path)
                    if node is not None:
                        node[key] = {}
            else:
                spec = mutant.get("spec")
                if isinstance(spec, dict):
                    spec.pop(
                        "tags" if rng.random() < 0.5 else rng.choice(list(spec) or ["x"]), None
                    )
        yield mutant


def _tags(job: dict[str, Any], key: str, rng: random.Random) -> None:
    spec = job.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    variants = [
        [],
        [{"key": key, "value": "own"}],
        [{"key": key.replace("{namespace}", "team-a")}],
        [{"value": "keyless"}, {"key": "other", "value": "x"}],
    ]
    tags = spec.get("tags")
    chosen = rng.choice(variants)
    spec["tags"] = ([*tags] if isinstance(tags, list) and rng.random() < 0.5 else []) + chosen


def _values(fields: Iterable[Any]) -> Iterator[tuple[Leaf, Any]]:
    for item in fields:
        if item.children:
            yield from _values(item.children)
        else:
            yield item.parts, item.value
