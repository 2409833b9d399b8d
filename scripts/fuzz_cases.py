"""The malformed requests of the fuzz run, and what an answer to each may be.

Two reviews are the bases: the bundled ``admission-review.json``, a CREATE
the baseline denies on eight counts, and the same review around the bundled
valid TrainingJob, which it allows. :func:`cases` gives, in this order:

- every value at every path of both bases replaced by a value of each other
  type (null, integer, float, string, bool, list, object), by a 1 MiB string,
  and by nested lists and nested objects as deep as orjson reads (1,024 levels
  in all);
- each base cut short at every byte;
- invalid UTF-8 (and escaped lone surrogates) inside every string;
- fixed cases (:mod:`fuzz_protocol`): deep nesting, huge strings, bodies
  over the 7 MiB limit, bad methods, bad and missing headers;
- then, until the count asked for, the same kinds drawn at random (seeded):
  values of random types and sizes, cuts of mutated reviews, corrupted bytes,
  renamed and duplicated keys, fields the CRD does not define.

After every :data:`CONTROL_EVERY` of them comes a control: a base as it
is, whose answer must be the base's.

:func:`may_allow` is the oracle for ``allowed: true``, worked out from the
bytes sent and independently of the webhook's code: the body must be a
well-formed AdmissionReview v1; then a review the webhook lets through by
design (another kind, the status subresource, DELETE or CONNECT, anything on
``/mutate``, which never denies) may be allowed, and a CREATE of a
TrainingJob only when its object is the valid job with at most one value
nulled that SageMaker's model does not require (null is absent in Kubernetes:
the API server prunes it).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from loopback import PROJECT, example_review, http, valid_review

from webhook.constraints.schema import DATA_FILE

ENDPOINTS = ("/validate", "/mutate")
HUGE = 2**20
"""Characters of the huge string: past the size gate's fixed bound (256 Ki characters)."""
DEPTH = 1024
"""Levels of nesting orjson reads, in all: a nested value goes as deep as that lets it."""
CONTROL_EVERY = 100
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
MODEL = orjson.loads((PROJECT / "webhook" / "constraints" / DATA_FILE).read_bytes())

Path = tuple[str | int, ...]
Base = tuple[str, Any, bool]
"""A name, the review, and whether its object is the valid job."""


@dataclass(frozen=True, slots=True)
class Case:
    """One request to send, and what its answers may be."""

    kind: str
    """What the report counts it under."""
    data: bytes
    """The bytes sent, head and body."""
    endpoint: str = "/validate"
    body: bytes | None = None
    """The JSON body, when one whole body is sent: :func:`may_allow` reads it."""
    passes: bool = False
    """Its object is the valid job (or the valid job with one optional value nulled)."""
    answers: int = 1
    """Answers due; 0 for a request that never ends (the server drops it in time)."""
    head: bool = False
    """A HEAD request: its answers have no body."""
    control: bool = False
    """A base as it is: answered as the base is."""
    fresh: bool = False
    """Sent on a connection of its own: its bytes may leave the connection unfit for another."""


def may_allow(case: Case) -> bool:
    """Whether ``allowed: true`` is a right answer to *case*."""
    if case.body is None:
        return False
    try:
        data = orjson.loads(case.body)
    except orjson.JSONDecodeError:
        return False
    if not well_formed(data):
        return False
    request = data["request"]
    kind = request["kind"]
    ignored = (
        kind.get("group") != "sagemaker.services.k8s.aws"
        or kind.get("kind") != "TrainingJob"
        or bool(request.get("subResource"))
        or request["operation"] in ("DELETE", "CONNECT")
    )
    if ignored or case.endpoint == "/mutate":
        return True
    return case.passes and isinstance(request.get("object"), dict)


def well_formed(data: Any) -> bool:
    """An AdmissionReview v1 as the API server sends it (the fields the webhook reads)."""
    if not isinstance(data, dict) or data.get("kind") != "AdmissionReview":
        return False
    request = data.get("request")
    if data.get("apiVersion") != "admission.k8s.io/v1" or not isinstance(request, dict):
        return False
    kind, user = request.get("kind"), request.get("userInfo", {})
    return (
        isinstance(request.get("uid"), str)
        and request["uid"] != ""
        and isinstance(kind, dict)
        and all(isinstance(kind.get(key, ""), str) for key in ("group", "version", "kind"))
        and request.get("operation") in OPERATIONS
        and all(isinstance(request.get(key, ""), str) for key in ("name", "namespace"))
        and isinstance(request.get("subResource", ""), str | None)
        and isinstance(user, dict)
        and isinstance(user.get("username", ""), str)
        and isinstance(user.get("groups", []), list)
        and all(isinstance(group, str) for group in user.get("groups", []))
        and all(isinstance(request.get(key), dict | None) for key in ("object", "oldObject"))
        and isinstance(request.get("dryRun", False), bool)
    )


def optional(path: Path) -> bool:
    """A member of the valid job that SageMaker's model (or Kubernetes) lets a job leave out."""
    if path[:3] == ("request", "object", "metadata"):
        return len(path) == 4 and path[3] != "name"
    if path[:3] != ("request", "object", "spec") or len(path) < 4:
        return False
    shapes = MODEL["shapes"]
    shape = shapes[MODEL["root"]]
    for key in path[3:-1]:
        if shape["type"] == "structure":
            shape = shapes[shape["members"][key]["shape"]]
        else:
            shape = shapes[shape["member" if shape["type"] == "list" else "value"]]
    return shape["type"] == "structure" and path[-1] not in shape.get("required", ())


# --------------------------------------------------------------------------- building bodies

BASES: tuple[Base, ...] = (("denied", example_review(), False), ("valid", valid_review(), True))
RAW = "@@raw-%d@@"
"""Stands for raw JSON text in a document (nesting deeper than orjson writes, huge numbers)."""


def render(document: Any, raw: tuple[bytes, ...] = ()) -> bytes:
    """*document* as compact JSON, each ``RAW % i`` string replaced by ``raw[i]``."""
    text = orjson.dumps(document)
    for index, value in enumerate(raw):
        text = text.replace(b'"%s"' % (RAW % index).encode(), value, 1)
    return text


def paths(value: Any, at: Path = ()) -> Iterator[Path]:
    """The path of every value inside *value*."""
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield (*at, key)
            yield from paths(item, (*at, key))


def with_value(document: Any, path: Path, value: Any) -> Any:
    """A copy of *document* with *value* at *path*."""
    copy = orjson.loads(orjson.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copy


def at(document: Any, path: Path) -> Any:
    """The value at *path*."""
    for key in path:
        document = document[key]
    return document


def nested(depth: int, opening: bytes = b"[", closing: bytes = b"]", inner: bytes = b"") -> bytes:
    """*depth* levels of nesting around *inner*."""
    return opening * depth + inner + closing * depth


VALUES: tuple[tuple[str, Any, tuple[bytes, ...]], ...] = (
    ("null", None, ()),
    ("integer", 7, ()),
    ("float", 2.5, ()),
    ("string", "fuzz", ()),
    ("bool", True, ()),
    ("list", [1, "a", None], ()),
    ("object", {"a": 1}, ()),
    ("huge string", "x" * HUGE, ()),
    ("deep nesting", RAW % 0, (b"[", b"]", b"")),
    ("deep nesting", RAW % 0, (b'{"a":', b"}", b"null")),
)
"""Label, value and raw text; the raw text of deep nesting is what nests (:func:`nested`)."""


def replaced(
    kind: str, base: Base, endpoint: str, path: Path, value: Any, *, raw: tuple[bytes, ...] = ()
) -> Case:
    """*base* with *value* at *path* (which may stand for *raw* text), sent to *endpoint*."""
    _, document, valid = base
    body = render(with_value(document, path, value), raw)
    inside = path[:2] == ("request", "object")
    passes = valid and (not inside or (value is None and optional(path)))
    return Case(kind, http("POST", endpoint, body), endpoint, body, passes)


def systematic() -> Iterator[Case]:
    """Every value of both bases replaced by one of each other type, on both endpoints."""
    for base in BASES:
        for path in paths(base[1]):
            original = type(at(base[1], path))
            for label, value, raw in VALUES:
                if type(value) is original and label not in ("huge string", "deep nesting"):
                    continue
                kind = label if label in ("huge string", "deep nesting") else "wrong type"
                text = raw
                if label == "deep nesting":  # as deep as orjson reads, below this path
                    text = (nested(DEPTH - len(path), *raw),)
                for endpoint in ENDPOINTS:
                    yield replaced(kind, base, endpoint, path, value, raw=text)


def truncations() -> Iterator[Case]:
    """Both bases cut short at every byte, on both endpoints."""
    for _, document, _ in BASES:
        whole = render(document)
        for endpoint in ENDPOINTS:
            for cut in range(len(whole)):
                body = whole[:cut]
                yield Case("truncated JSON", http("POST", endpoint, body), endpoint, body)


BAD_UTF8 = (
    b"\xff", b"\xfe", b"\xc0\xaf", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xe2\x82",
    b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\\ud800", b"\\udc00\\ud800",
)  # fmt: skip


def invalid_utf8() -> Iterator[Case]:
    """Each bad sequence in the middle of every string of both bases."""
    for base in BASES:
        for path in paths(base[1]):
            text = at(base[1], path)
            if not isinstance(text, str):
                continue
            encoded = orjson.dumps(text)[1:-1]
            for bad in BAD_UTF8:
                middle = len(encoded) // 2
                raw = (b'"' + encoded[:middle] + bad + encoded[middle:] + b'"',)
                for endpoint in ENDPOINTS:
                    yield replaced("invalid UTF-8", base, endpoint, path, RAW % 0, raw=raw)


# --------------------------------------------------------------------------- drawn at random

POOL = [*'azAZ09-_./:"\\ \t\n', "\x00", "\x1f", "\u00e9", "\u202e", "\u0301", "\ufeff", "😀"]
"""Characters of random strings: JSON's escapes, control characters, and beyond ASCII."""


def random_value(rng: random.Random) -> tuple[Any, tuple[bytes, ...]]:
    """A value of a random type and size, and the raw text it stands for if any."""
    roll = rng.randrange(12)
    if roll == 0:
        return None, ()
    if roll == 1:
        return rng.random() < 0.5, ()
    if roll == 2:
        return rng.choice([0, -1, 2**31, -(2**63), 2**64 - 1, rng.randrange(-(10**9), 10**9)]), ()
    if roll == 3:
        return RAW % 0, (rng.choice([b"1" + b"0" * 30, b"-1e308", b"1e-400", b"-0.0", b"0.5"]),)
    if roll == 4:
        return rng.choice([-0.0, 1e308, 5e-324, rng.uniform(-1e6, 1e6)]), ()
    if roll in (5, 6):  # about SageMaker's bounds (63, 256, 2500 ...) and past them
        size = rng.choice([0, 1, 5, 63, 64, 256, 257, 2500, 2501, 65536])
        return ("".join(rng.choices(POOL, k=64)) * (size // 64 + 1))[:size], ()
    if roll == 7:
        return [random_value(rng)[0] for _ in range(rng.randrange(4))], ()
    if roll == 8:
        return {"".join(rng.choices(POOL, k=5)): rng.random() for _ in range(rng.randrange(4))}, ()
    depth = rng.choice([10, 33, 254, 256, 800])
    return RAW % 0, (nested(depth, *rng.choice([(b"[", b"]", b""), (b'{"a":', b"}", b"1")])),)


PATHS = {
    name: [path for path in paths(document) if not valid or path[:2] != ("request", "object")]
    for name, document, valid in BASES
}
"""Where the random cases change a base. Not in the valid job: a random value there may well
be valid (any string is a hyperparameter), and only the systematic cases, of another type
each, have an oracle for it."""


def random_case(rng: random.Random) -> Case:
    """A malformed request drawn at random."""
    base = rng.choice(BASES)
    endpoint = rng.choice(ENDPOINTS)
    every = PATHS[base[0]]
    roll = rng.randrange(6)
    if roll in (0, 1):
        value, raw = random_value(rng)
        return replaced("wrong type (random)", base, endpoint, rng.choice(every), value, raw=raw)
    if roll == 2:
        value, raw = random_value(rng)
        whole = render(with_value(base[1], rng.choice(every), value), raw)
        cut = whole[: rng.randrange(len(whole))]
        return Case("truncated JSON (random)", http("POST", endpoint, cut), endpoint, cut)
    if roll == 3:  # the denied base only: a byte changed in the valid one may well be valid
        corrupted = bytearray(render(BASES[0][1]))
        for _ in range(rng.randint(1, 8)):
            corrupted[rng.randrange(len(corrupted))] = rng.choice(b'\xff\x80\xc3{}[]":,\\ 0aZ\x00')
        body = bytes(corrupted)
        return Case("corrupted bytes", http("POST", endpoint, body), endpoint, body)
    path = rng.choice([p for p in [(), *every] if isinstance(at(base[1], p), dict)])
    target = at(base[1], path)
    if roll == 4 and target:  # a key renamed
        old = rng.choice(list(target))
        new = rng.choice([old.upper(), old[:-1], old + "s", "", "k" * 300, old + "\u0301"])
        changed = {new if key == old else key: value for key, value in target.items()}
        body = render(with_value(base[1], path, changed) if path else changed)
        passes = base[2] and path[:2] != ("request", "object")
        return Case("renamed key", http("POST", endpoint, body), endpoint, body, passes)
    # A key the CRD does not define, or one given twice (the last one counts, as in Go).
    key = rng.choice(list(target) or ["extra"]) if rng.random() < 0.5 else "unknownField"
    value, raw = random_value(rng)
    rest = orjson.dumps(target)[1:-1]
    inner = b"{" + (rest + b"," if rest else b"") + render({key: value}, raw)[1:-1] + b"}"
    body = render(with_value(base[1], path, RAW % 0), (inner,)) if path else inner
    replaces_object = (path, key) == (("request",), "object")
    passes = base[2] and path[:2] != ("request", "object") and not replaces_object
    return Case("unknown or repeated key", http("POST", endpoint, body), endpoint, body, passes)


def cases(count: int, fixed: Iterable[Case], seed: int = 0) -> Iterator[Case]:
    """*count* malformed requests (systematic, *fixed*, then random), with controls among them."""
    rng = random.Random(seed)  # noqa: S311 (reproducible cases, no secret)
    controls = [
        Case("control", http("POST", e, render(b[1])), e, render(b[1]), b[2], control=True)
        for b in BASES
        for e in ENDPOINTS
    ]
    every = itertools.chain(systematic(), truncations(), invalid_utf8(), fixed)
    for made in range(1, count + 1):
        if made % CONTROL_EVERY == 0:
            yield controls[(made // CONTROL_EVERY) % len(controls)]
        yield next(every, None) or random_case(rng)
