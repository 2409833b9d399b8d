"""Requests that arrive together are decided in one batch, each with its own answer."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES
from webhook.server.app import build_app
from webhook.server.batch import Batch
from webhook.server.state import JsonLog, ServerState

REVIEW: dict[str, Any] = json.loads((EXAMPLES / "admission-review.json").read_text())
VALID_JOB = EXAMPLES / "training-job.yaml"


def _record(ran: list[Any], value: Any) -> Any:
    ran.append(value)
    return value


def test_work_queued_in_one_turn_runs_back_to_back_in_order() -> None:
    """Five requests queue in one turn; the first to resume runs all five, in order."""
    batch = Batch()
    ran: list[int] = []

    async def request(n: int) -> int:
        value: int = await batch.run(partial(_record, ran, n * 10))
        ran.append(-n)  # the request resumed after its work ran
        return value

    async def main() -> list[int]:
        return list(await asyncio.gather(*(request(n) for n in range(5))))

    assert asyncio.run(main()) == [0, 10, 20, 30, 40]
    assert ran == [0, 10, 20, 30, 40, 0, -1, -2, -3, -4]


def test_a_lone_request_waits_one_turn_only() -> None:
    batch = Batch()
    turns: list[str] = []

    async def other() -> None:
        turns.append("other")

    async def main() -> int:
        task = asyncio.get_running_loop().create_task(other())
        value = await batch.run(lambda: 7)
        turns.append("answered")
        await task
        return value

    assert asyncio.run(main()) == 7
    assert turns == ["other", "answered"]


def test_a_failing_piece_of_work_fails_only_its_own_request() -> None:
    batch = Batch()

    def boom() -> int:
        raise ValueError("boom")

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                batch.run(lambda: 1), batch.run(boom), batch.run(lambda: 3), return_exceptions=True
            )
        )

    first, second, third = asyncio.run(main())
    assert (first, third) == (1, 3)
    assert isinstance(second, ValueError)


def test_an_interrupted_batch_leaves_no_request_waiting() -> None:
    """A KeyboardInterrupt in one request's work: it stops the request that was running
    the queue, the interrupted request is cancelled, the one queued after it still gets
    its answer, and nothing hangs."""
    batch = Batch()
    ran: list[int] = []

    def interrupt() -> int:
        raise KeyboardInterrupt

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        first = loop.create_task(batch.run(lambda: _record(ran, 1)))
        second = loop.create_task(batch.run(interrupt))
        third = loop.create_task(batch.run(lambda: _record(ran, 3)))
        return [first, second, third]

    loop = asyncio.new_event_loop()
    try:
        tasks = loop.run_until_complete(main())
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        outcomes = loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    finally:
        loop.close()
    assert isinstance(outcomes[0], KeyboardInterrupt)
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert outcomes[2] == 3
    assert ran == [1, 3]


def test_a_cancelled_request_is_skipped() -> None:
    batch = Batch()
    ran: list[str] = []

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        cancelled = loop.create_task(batch.run(partial(_record, ran, "cancelled")))
        kept = loop.create_task(batch.run(partial(_record, ran, "kept")))
        await asyncio.sleep(0)  # both are queued and waiting for their turn
        cancelled.cancel()
        return await kept

    assert asyncio.run(main()) == "kept"
    assert ran == ["kept"]


def test_submitted_work_runs_with_the_turns_and_is_answered_after_all_of_it() -> None:
    """Work submitted by connections and awaited by requests in one turn runs in one
    drain, in order; the callbacks come after every piece of work, each with its own
    result or error."""
    batch = Batch()
    ran: list[Any] = []

    def boom() -> int:
        raise ValueError("boom")

    def answered(name: str, result: Any, error: Exception | None) -> None:
        ran.append((name, result, type(error).__name__ if error else None))

    async def main() -> int:
        waiting = asyncio.get_running_loop().create_task(batch.run(partial(_record, ran, 2)))
        await asyncio.sleep(0)  # the request has queued its work
        batch.submit(partial(_record, ran, 1), partial(answered, "first"))
        batch.submit(boom, partial(answered, "second"))
        batch.submit(partial(_record, ran, 3), partial(answered, "third"))
        result: int = await waiting
        return result

    assert asyncio.run(main()) == 2
    assert ran == [
        2, 1, 3,
        ("first", 1, None), ("second", None, "ValueError"), ("third", 3, None),
    ]  # fmt: skip


def test_a_failing_callback_is_reported_and_the_others_still_answered() -> None:
    batch = Batch()
    answered: list[int | None] = []
    reported: list[str] = []

    def fails(_: Any, __: Exception | None) -> None:
        raise RuntimeError("a bug in an answer")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: reported.append(str(context["exception"])))
        batch.submit(lambda: 1, fails)
        batch.submit(lambda: 2, lambda result, _: answered.append(result))
        await asyncio.sleep(0)

    asyncio.run(main())
    assert answered == [2]
    assert reported == ["a bug in an answer"]


def test_an_interrupted_drain_leaves_no_submitted_work_unanswered() -> None:
    """A KeyboardInterrupt in one piece of work: the work before it is answered, the
    work after it runs in a drain of its own."""
    batch = Batch()
    answered: list[Any] = []

    def interrupt() -> int:
        raise KeyboardInterrupt

    def answer(result: Any, error: Exception | None) -> None:
        answered.append(result)

    def submit() -> None:  # as a connection does, from a callback of the loop
        batch.submit(lambda: 1, answer)
        batch.submit(interrupt, answer)
        batch.submit(lambda: 3, answer)

    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(submit)
        with pytest.raises(KeyboardInterrupt):
            loop.run_forever()
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert answered == [1, 3]


class _Labels:
    """A namespace-label lookup with nothing cached: every call is a miss, off the loop."""

    def __init__(self, labels: dict[str, dict[str, str]]) -> None:
        self.labels = labels
        self.threads: list[str] = []

    def __contains__(self, namespace: object) -> bool:
        return False

    def __call__(self, namespace: str) -> dict[str, str] | None:
        self.threads.append(threading.current_thread().name)
        return self.labels.get(namespace)


async def _post(app: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/validate", "method": "POST", "headers": []}
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def _review(uid: str, namespace: str, job: dict[str, Any]) -> bytes:
    review = copy.deepcopy(REVIEW)
    review["request"].update(uid=uid, namespace=namespace, object=job)
    return json.dumps(review).encode()


@pytest.fixture
def prod_vpc_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "prod-vpc.yaml"
    policy.write_text(
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n"
        "metadata: {name: prod-vpc}\nid: prod-vpc\n"
        "match: {namespaceSelector: {matchLabels: {tier: prod}}}\n"
        "rules: [{id: vpc, kind: network, requireVpc: true}]\n"
    )
    return policy


def test_concurrent_requests_each_get_their_own_answer(prod_vpc_policy: Path) -> None:
    """Sixteen requests in one turn, half for a prod namespace (labels looked up off the
    loop, not cached): every answer carries its own uid and its own decision."""
    job = yaml.safe_load(VALID_JOB.read_text())
    del job["spec"]["vpcConfig"]
    state = ServerState.load([prod_vpc_policy], log=JsonLog(io.BytesIO()))
    labels = _Labels({"team-prod": {"tier": "prod"}, "team-dev": {"tier": "dev"}})
    state.namespace_labels = labels
    app = build_app(state)

    async def main() -> list[tuple[int, dict[str, Any]]]:
        return list(
            await asyncio.gather(
                *(
                    _post(app, _review(f"uid-{n}", "team-prod" if n % 2 else "team-dev", job))
                    for n in range(16)
                )
            )
        )

    answers = asyncio.run(main())
    for n, (status, review) in enumerate(answers):
        assert status == 200
        assert review["response"]["uid"] == f"uid-{n}"
        assert review["response"]["allowed"] is (n % 2 == 0), review
    assert len(labels.threads) == 16
    assert all(name != threading.main_thread().name for name in labels.threads)
