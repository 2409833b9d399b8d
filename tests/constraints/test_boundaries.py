r"""Every SageMaker constraint at its boundary, derived from the generated file alone.

Nothing here goes through the compiled constraints or their translation: the
shapes are read from the data file as JSON, and what SageMaker (Java's
``String.matches``) says of a value comes from the small oracle below. For
every constraint on a field the CRD has: the value at the boundary and one past
it (a length, a range, an enum, a list or map size, a required member); for
every pattern a value it takes, the same with non-ASCII digits, and with each of
Java's line terminators (and characters that are no line terminator in Java)
inserted; for every map key the same, so a key with a line break is among them.

The Python checks (``check_object(full=True)``) and the native proof must
refuse what SageMaker refuses, at the field's path, and take what it takes.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
import regex
import yaml

from tests.conftest import EXAMPLES, PROJECT
from webhook.constraints.check import default_checker
from webhook.engine import builtin_proof, check_object

DATA: Final = json.loads(
    (PROJECT / "webhook" / "constraints" / "sagemaker_training_job.json").read_text("utf-8")
)
SHAPES: Final[dict[str, Any]] = DATA["shapes"]
EXAMPLE: Final = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text("utf-8"))
CHECKER = default_checker()
PROOF = builtin_proof(CHECKER)

ITEM, KEY, VALUE = "[]", "{key}", "{value}"
Steps = tuple[str, ...]
Path = tuple[str | int, ...]

# --- the oracle: Java's reading of the model's patterns ------------------------------------

#: java.util.regex.Pattern, "Line terminators": what '.' does not match (no DOTALL).
JAVA_LINE_TERMINATORS: Final = "\n\r\u0085\u2028\u2029"
JAVA_LINE_BREAKS: Final = (*JAVA_LINE_TERMINATORS, "\r\n")
#: Line breaks to Python's str.splitlines that Java's '.' matches.
NOT_JAVA_LINE_TERMINATORS: Final = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
UNICODE_CATEGORIES: Final = frozenset({"L", "N", "Z"})


@functools.cache
def _oracle(pattern: str) -> Any:
    r"""*pattern* for the ``regex`` package with Java's meaning, for what the model uses.

    ``\d``, ``\w``, ``\s`` are ASCII in Java (scoped ASCII flag here); ``.`` stops
    at Java's line terminators; ``\p{L}``-style categories are Unicode in both.
    Anything else the model might bring (a POSIX class, an anchor, a shorthand
    in a class) fails here first, so this oracle is taught before it is trusted.
    """
    out: list[str] = []
    in_class = False
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            letter = pattern[position + 1]
            if letter in "dDwWsS":
                assert not in_class, f"{pattern}: teach the oracle shorthands in classes"
                out.append(f"(?a:\\{letter})")
            elif letter in "pP":
                end = pattern.index("}", position)
                assert pattern[position + 3 : end] in UNICODE_CATEGORIES, pattern
                out.append(pattern[position : end + 1])
                position = end + 1
                continue
            else:
                assert not letter.isalnum(), f"{pattern}: teach the oracle \\{letter}"
                out.append(pattern[position : position + 2])
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            negated = pattern[position + 1] == "^"
            assert pattern[position + 1 + negated] != "]", f"{pattern}: teach the oracle []...]"
            in_class = True
        elif char == ".":
            char = f"[^{JAVA_LINE_TERMINATORS}]"
        else:
            assert char not in "$^", f"{pattern}: teach the oracle anchors"
        out.append(char)
        position += 1
    return regex.compile("".join(out))


def java_matches(pattern: str, value: str) -> bool:
    """``value.matches(pattern)`` in Java."""
    return _oracle(pattern).fullmatch(value) is not None


#: The oracle against verdicts worked out by hand from the Java documentation.
@pytest.mark.parametrize(
    ("pattern", "value", "java"),
    [
        (
            r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            "arn:aws:iam::123456789012:role/x",
            True,
        ),
        (
            r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x",
            False,
        ),
        (
            r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            "arn:aws:iam::123456789012:role/x.y",
            True,
        ),
        (".*", "line1\rline2", False),
        (".*", "line1\u0085", False),
        (".*", "\u2028", False),
        (".*", "a\u2029", False),
        (".*", "a\x0bb\x0c\x1c", True),
        (".*", "", True),
        (".+", "", False),
        ("(https|s3)://([^/]+)/?(.*)", "s3://bucket/a\rb", False),
        ("(https|s3)://([^/]+)/?(.*)", "s3://buck\ret/ab", True),  # [^/] takes it
        (r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", "é ١٢ x.y", True),
        (r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", "a\nb", False),
        (r"[A-Za-z0-9\.\-_]+", "a.b", True),
        (r"[A-Za-z0-9\.\-_]+", "a\rb", False),
    ],
)
def test_the_oracle_reads_patterns_as_java_does(pattern: str, value: str, *, java: bool) -> None:
    assert java_matches(pattern, value) is java


# --- values: a valid one per shape, and one of any length ---------------------------------

#: A value each patterned shape takes, and a character that can go in at an offset any
#: number of times (the name part of an algorithm ARN is at most 63 long, so its
#: partition grows instead).
GROWS: Final[dict[str, tuple[str, str, int | None]]] = {
    "TrainingJobName": ("train-1", "a", None),
    "ExperimentEntityName": ("exp-1", "a", None),
    "RoleArn": ("arn:aws:iam::123456789012:role/r", "r", None),
    "S3Uri": ("s3://bucket/key", "k", None),
    "KmsKeyId": ("alias/key", "k", None),
    "SecurityGroupId": ("sg-0", "0", None),
    "SubnetId": ("subnet-0", "0", None),
    "ChannelName": ("train", "n", None),
    "FileSystemId": ("fs-01234567", "8", None),
    "ArnOrName": ("arn:aws:sagemaker:us-east-1:123456789012:algorithm/xgboost", "-", 7),
    "TagKey": ("team", "a", None),
    "TagValue": ("team-a", "a", None),
    "TrainingEnvironmentKey": ("KEY_1", "_", None),
}
DEFAULT_GROWS: Final = ("v1", "v", None)


def sized(name: str, length: int) -> str:
    """A value of *name* that is *length* long: one it takes when it can be that long.

    Shorter than the seed, the value is ``a`` repeated (a name, a key): the oracle
    says whether that is taken.
    """
    seed, fill, at = GROWS.get(name, DEFAULT_GROWS)
    if length < len(seed):
        return "a" * length
    at = len(seed) if at is None else at
    return seed[:at] + fill * (length - len(seed)) + seed[at:]


def typical(name: str, index: int = 0) -> Any:
    """A value of shape *name* SageMaker takes; *index* makes strings differ."""
    shape = SHAPES[name]
    kind = shape["type"]
    if kind == "string":
        if "enum" in shape:
            return shape["enum"][0]
        seed = GROWS.get(name, DEFAULT_GROWS)[0]
        return sized(name, min(len(seed) + index, shape.get("max", 2**31)))
    if kind in ("int32", "int64"):
        return max(shape.get("min", 1), 1)
    if kind == "boolean":
        return True
    if kind == "list":
        return [typical(shape["member"], i) for i in range(max(shape.get("min", 0), 1))]
    if kind == "map":
        return {}
    members = shape["members"]
    out = {field: typical(members[field]["shape"]) for field in shape["required"]}
    if name == "DataSource":  # the data_source rule: S3 or a file system
        out["s3DataSource"] = typical("S3DataSource")
    return out


# --- the sites: every value the CRD has, and the job that holds it -------------------------


def sites() -> list[tuple[Steps, str]]:
    """Every place in ``spec`` with a shape, as steps from ``spec`` and the shape's name."""
    out: list[tuple[Steps, str]] = []

    def walk(steps: Steps, name: str) -> None:
        out.append((steps, name))
        shape = SHAPES[name]
        if shape["type"] == "structure":
            for field, ref in shape["members"].items():
                walk((*steps, field), ref["shape"])
        elif shape["type"] == "list":
            walk((*steps, ITEM), shape["member"])
        elif shape["type"] == "map":
            walk((*steps, KEY), shape["key"])
            walk((*steps, VALUE), shape["value"])

    walk((), DATA["root"])
    return out


def _shape_at(steps: Steps) -> dict[str, Any]:
    name = DATA["root"]
    for step in steps:
        shape = SHAPES[name]
        if step == ITEM:
            name = shape["member"]
        elif step == KEY:
            name = shape["key"]
        elif step == VALUE:
            name = shape["value"]
        else:
            name = shape["members"][step]["shape"]
    found: dict[str, Any] = SHAPES[name]
    return found


def place(steps: Steps, value: Any) -> tuple[dict[str, Any], Path, Any]:
    """The example job with *value* at *steps*, the path of it, and what was there before.

    Missing parents are made from :func:`typical`; a key goes in next to the
    map's entries, a map value under the map's first key.
    """
    job = copy.deepcopy(EXAMPLE)
    parent: Any = job
    step: str | int = "spec"
    path: Path = ("spec",)
    for index, next_step in enumerate(steps):
        current = parent[step]
        shape = _shape_at(steps[:index])
        if next_step == ITEM:
            if not current:
                current.append(typical(shape["member"]))
            parent, step = current, 0
        elif next_step == KEY:
            before = next(iter(current), None)
            current[value] = typical(shape["value"])
            return _cross_field(job), (*path, value), before
        elif next_step == VALUE:
            if not current:
                current[typical(shape["key"])] = typical(shape["value"])
            parent, step = current, next(iter(current))
        else:
            if current.get(next_step) is None:
                current[next_step] = typical(shape["members"][next_step]["shape"])
            parent, step = current, next_step
        path = (*path, step)
    before = parent[step]
    parent[step] = value
    return _cross_field(job), path, before


def _cross_field(job: dict[str, Any]) -> dict[str, Any]:
    """*job* made to pass the cross-field rules again (the constraints are one field's)."""
    spec = job["spec"]
    if spec.get("resourceConfig", {}).get("instanceGroups"):
        spec["resourceConfig"].pop("instanceType", None)
        spec["resourceConfig"].pop("instanceCount", None)
    if spec["algorithmSpecification"].get("algorithmName") is not None:
        spec["algorithmSpecification"].pop("trainingImage", None)
    wait = spec.get("stoppingCondition", {}).get("maxWaitTimeInSeconds")
    if isinstance(wait, int):
        spec["enableManagedSpotTraining"] = True
        runtime = spec["stoppingCondition"]["maxRuntimeInSeconds"]
        spec["stoppingCondition"]["maxRuntimeInSeconds"] = max(1, min(runtime, wait))
    return job


# --- the cases: boundary values and their verdicts -----------------------------------------


@dataclass(frozen=True)
class Case:
    """A value for a site, and whether SageMaker takes it."""

    what: str
    value: Any
    java: bool
    under: tuple[str, ...] = ()  # where the finding is, below the site (a required member)


def _takes(shape: dict[str, Any], value: str) -> bool:
    """Whether SageMaker takes *value* for a string *shape*: length, enum, pattern."""
    if not shape.get("min", 0) <= len(value) <= shape.get("max", 2**31):
        return False
    if "enum" in shape:
        return value in shape["enum"]
    return "pattern" not in shape or java_matches(shape["pattern"], value)


def _variants(value: str) -> Iterator[tuple[str, str]]:
    """*value* with non-ASCII digits, and with line breaks (Java's and not) inserted.

    A line break at the end is where Python's ``$`` would differ (before a final
    newline); inside, where a pattern's ``.`` meets it.
    """
    if any(char.isdigit() for char in value):
        yield "Arabic-Indic digits", value.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        first = next(index for index, char in enumerate(value) if char.isdigit())
        yield "a fullwidth digit", value[:first] + "\uff11" + value[first + 1 :]
    yield "an Arabic-Indic digit at the end", value + "\u0661"
    for brk in (*JAVA_LINE_BREAKS, *NOT_JAVA_LINE_TERMINATORS):
        for where, at in (("inside", len(value) // 2), ("at the end", len(value))):
            yield f"{brk!r} {where}", value[:at] + brk + value[at:]


def string_cases(name: str, shape: dict[str, Any], before: Any) -> Iterator[Case]:
    low, high = shape.get("min", 0), shape.get("max")
    if "enum" not in shape:
        yield Case(f"{low} long (the minimum)", sized(name, low), _takes(shape, sized(name, low)))
    if low:
        yield Case(f"{low - 1} long", sized(name, low - 1), False)
    if high is not None and "enum" not in shape:
        yield Case(
            f"{high} long (the maximum)", sized(name, high), _takes(shape, sized(name, high))
        )
        yield Case(f"{high + 1} long", sized(name, high + 1), False)
    if "enum" in shape:
        for allowed in dict.fromkeys((shape["enum"][0], shape["enum"][-1])):
            yield Case(f"{allowed!r}", allowed, True)
            yield Case(f"{allowed!r} with a letter more", allowed + "x", False)
            yield Case(f"{allowed!r} in other case", allowed.swapcase(), False)
    if "pattern" in shape:
        base = before if isinstance(before, str) and _takes(shape, before) else typical(name)
        assert _takes(shape, base), (name, base)
        yield Case(f"{base!r}", base, True)
        for what, variant in _variants(base):
            yield Case(what, variant, _takes(shape, variant))


def int_cases(shape: dict[str, Any]) -> Iterator[Case]:
    bits = 32 if shape["type"] == "int32" else 64
    low = shape.get("min", -(2 ** (bits - 1)))
    high = shape.get("max", 2 ** (bits - 1) - 1)
    yield from (Case("the least", low, True), Case("one below the least", low - 1, False))
    yield from (Case("the greatest", high, True), Case("one above the greatest", high + 1, False))


def size_cases(shape: dict[str, Any], make: Any) -> Iterator[Case]:
    low, high = shape.get("min", 0), shape.get("max")
    yield Case(f"{low} entries (the fewest)", make(low), True)
    if low:
        yield Case(f"{low - 1} entries", make(low - 1), False)
    if high is not None:
        yield Case(f"{high} entries (the most)", make(high), True)
        yield Case(f"{high + 1} entries", make(high + 1), False)


def cases(steps: Steps, name: str) -> list[Case]:
    shape = SHAPES[name]
    kind = shape["type"]
    before = place(steps, typical(name))[2] if steps else EXAMPLE["spec"]
    if kind == "string":
        return list(string_cases(name, shape, before))
    if kind in ("int32", "int64"):
        return list(int_cases(shape))
    if kind == "list":
        return list(size_cases(shape, lambda n: [typical(shape["member"], i) for i in range(n)]))
    if kind == "map":
        value = shape["value"]
        return list(size_cases(shape, lambda n: {f"k{i}": typical(value) for i in range(n)}))
    if kind == "structure":
        full = before if isinstance(before, dict) else typical(name)
        return [
            Case(f"without {field}", {k: v for k, v in full.items() if k != field}, False, (field,))
            for field in shape["required"]
        ]
    return []


SITES: Final = [(steps, name) for steps, name in sites() if cases(steps, name)]


@pytest.mark.parametrize(
    ("steps", "name"), SITES, ids=[".".join(("spec", *steps)) for steps, _ in SITES]
)
def test_the_checks_take_what_sagemaker_takes_and_refuse_the_rest(steps: Steps, name: str) -> None:
    wrong = []
    for case in cases(steps, name):
        if steps:
            job, path, _ = place(steps, case.value)
        else:
            job, path = _cross_field({**copy.deepcopy(EXAMPLE), "spec": case.value}), ("spec",)
        findings = check_object(job, CHECKER, full=True)
        proven = PROOF.holds(job)
        if case.java:
            if findings or not proven:
                wrong.append((case.what, "refused", [f.where for f in findings], proven))
        else:
            at = (*path, *case.under)
            if not any(finding.path == at for finding in findings) or proven:
                wrong.append((case.what, "taken", [f.where for f in findings], proven))
    assert not wrong, wrong


def test_every_bound_but_those_no_pattern_match_can_meet_is_met_by_a_taken_value() -> None:
    """The derivation is not vacuous: at each length, count and range bound there is a value
    SageMaker takes, but where the pattern alone rules every value that long out."""
    unmet = {
        (name, case.what)
        for steps, name in SITES
        for case in cases(steps, name)
        if case.what.endswith(("(the minimum)", "(the maximum)", "(the fewest)", "(the most)"))
        and not case.java
    }
    assert unmet == {
        ("RoleArn", "20 long (the minimum)"),  # the shortest role ARN is 31 long
        ("S3Uri", "0 long (the minimum)"),
        ("SecurityGroupId", "0 long (the minimum)"),
        ("SubnetId", "0 long (the minimum)"),
        ("TrainingEnvironmentKey", "0 long (the minimum)"),
    }
