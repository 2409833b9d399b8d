"""A few hundred of the fuzz run's malformed requests, and the big reviews, against the real server.

The quick variant of ``scripts/fuzz_server.py`` and ``scripts/big_review.py``
(which measure the figures): the same cases and the same checks of each
answer, on a sample. What a user would notice: no status of 500 or more,
no connection reset or left without its answer, ``allowed: true`` only for a
valid review (or one the webhook lets through by design), answers of at most
64 KiB, and a review as large as the API server sends denied in one small
answer. The server runs with a read timeout of one second, so that the
requests that never end are dropped quickly.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import itertools
import random
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import orjson
import pytest

from tests.conftest import PROJECT
from tests.server.test_server_e2e import REQUEST_TIMEOUT, Server, copy_baseline, start_server

SCRIPTS = PROJECT / "scripts"
SAMPLE_EVERY = 40
"""One systematic case in this many (about 300 of them)."""
RANDOM_CASES = 200


def _scripts() -> dict[str, ModuleType]:
    """The fuzz run's modules, imported as the scripts import one another: from their folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(SCRIPTS))
        names = ("loopback", "fuzz_cases", "fuzz_protocol", "fuzz_server", "big_review")
        return {name: importlib.import_module(name) for name in names}


scripts = _scripts()
fuzz_cases, fuzz_server = scripts["fuzz_cases"], scripts["fuzz_server"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("stress")
    started = start_server(
        workdir,
        policy_dir=copy_baseline(workdir / "policies"),
        cert_dir=workdir / "certs",
        flags=["--read-timeout", "1"],
    )
    try:
        yield started
    finally:
        started.stop()


def known_bug(case: Any) -> bool:
    """A long or deeply nested ``apiVersion`` (the 400 once repeated it whole)."""
    try:
        version = orjson.loads(case.body or b"null")["apiVersion"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return False
    try:
        return len(orjson.dumps(version)) > 5000
    except orjson.JSONEncodeError:  # nested deeper than orjson writes
        return True


def sample() -> list[Any]:
    """Every SAMPLE_EVERY-th systematic case, the quick fixed ones, and some random ones."""
    systematic = itertools.chain(
        fuzz_cases.systematic(), fuzz_cases.truncations(), fuzz_cases.invalid_utf8()
    )
    fixed = [
        case
        for case in scripts["fuzz_protocol"].fixed_cases()
        if len(case.data) < 2**20 and case.kind != "huge strings"
    ]
    rng = random.Random(1)
    chosen = [
        *itertools.islice(systematic, 0, None, SAMPLE_EVERY),
        *fixed,
        *(fuzz_cases.random_case(rng) for _ in range(RANDOM_CASES)),
    ]
    return [case for case in chosen if not known_bug(case)]


def fuzz(server: Server, cases: list[Any]) -> Any:
    return asyncio.run(fuzz_server.fuzz(server.port, server.ca_file, cases, 16))


def test_malformed_requests_get_deliberate_answers(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fuzz_server, "LINGER", 0.02)  # what more comes, comes at once here
    cases = sample()
    tally = fuzz(server, cases)

    assert tally.malformed == len(cases) > 500
    assert dict(tally.failures) == {}, tally.examples
    kinds = {kind for kind, _ in tally.outcomes}
    assert {"wrong type", "truncated JSON", "invalid UTF-8", "over the 7 MiB limit"} <= kinds
    assert {"bad method", "bad HTTP", "never ends", "corrupted bytes"} <= kinds
    outcomes = {outcome for _, outcome in tally.outcomes}
    assert {"denied", "400", "405", "413", "closed", "dropped"} <= outcomes
    assert tally.largest <= scripts["loopback"].MAX_ANSWER
    assert "internal-error" not in server.log_text()


@pytest.mark.parametrize("value", ["huge string", "deep nesting"])
def test_any_api_version_gets_a_small_400(server: Server, value: str) -> None:
    case = next(c for c in fuzz_cases.systematic() if c.kind == value and known_bug(c))
    tally = fuzz(server, [case])
    assert dict(tally.outcomes) == {(value, "cases"): 1, (value, "400"): 1}
    assert tally.largest <= scripts["loopback"].MAX_ANSWER
    assert dict(tally.failures) == {}


@functools.cache
def big_reviews() -> dict[str, bytes]:
    reviews: dict[str, bytes] = scripts["big_review"].big_reviews()
    return reviews


@pytest.mark.parametrize("name", list(big_reviews()))
def test_a_review_as_large_as_the_api_server_sends_is_denied_in_a_small_answer(
    server: Server, name: str
) -> None:
    request = big_reviews()[name]

    async def send() -> Any:
        connection = await scripts["loopback"].Connection.open(server.port, server.ssl_context())
        connection.send(request)
        answer = await connection.response(timeout=REQUEST_TIMEOUT)
        connection.close()
        return answer

    answer = asyncio.run(send())

    assert answer.status == 200
    assert len(answer.body) <= 64 * 1024
    response = orjson.loads(answer.body)["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    message = response["status"]["message"]
    if "channels" in name:  # refused before parsing: orjson would hold the GIL too long
        assert message.startswith("the review holds more than 100,000 JSON objects and arrays")
    else:
        assert message.splitlines()[1].startswith("- spec.hyperParameters[eta]: ")
