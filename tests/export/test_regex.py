"""Regexes in RE2 mean what they mean to the webhook: Java's (SageMaker), Python's and globs.

Each translation is run by CEL's ``matches`` (RE2, offline) on edge strings and
compared with the webhook's own matching of the same strings.
"""

from __future__ import annotations

import fnmatch
import re

import pytest
from cel_expr_python import cel

from webhook.constraints.schema import StringShape, load
from webhook.export.regex import NotExportableError, glob_re2, java_re2, python_re2

ENV = cel.NewEnv(variables={"v": cel.Type.STRING, "request": cel.Type.DYN})
SAMPLES = [
    "",
    "a",
    "A-1",
    "abc-",
    "-abc",
    "x" * 70,
    "line\nbreak",
    "line\rbreak",
    "u\u2028v",
    "\u0661\u0662",
    "caf\u00e9",
    "s3://ml-team-a/x",
    "s3://ml-team-a",
    "s3://ml-team-b/x",
    "arn:aws:iam::123456789012:role/team-a-x",
    "arn:aws:sagemaker:us-east-1:123456789012:algorithm/xgb",
    "ml.m5.xlarge",
    "sg-0123abc",
    "tag key/=+-@.:_",
    "\U0001f600",
    "[x]",
    "a*b?",
]


def _re2(source: str, value: str, namespace: str = "team-a") -> bool:
    program = ENV.compile(source)
    result = program.eval(data={"v": value, "request": {"namespace": namespace}})
    assert result.type() == cel.Type.BOOL, result.value()
    return bool(result.value())


def _shapes() -> list[StringShape]:
    constraints = load()
    found: dict[str, StringShape] = {}

    def walk(shape: object) -> None:
        if isinstance(shape, StringShape) and shape.pattern:
            found[shape.name] = shape
        for attribute in ("members", "member", "key", "value"):
            child = getattr(shape, attribute, None)
            if isinstance(child, dict):
                for member in child.values():
                    walk(member.shape)
            elif child is not None:
                walk(child)

    walk(constraints.root)
    return sorted(found.values(), key=lambda shape: shape.name)


@pytest.mark.parametrize("shape", _shapes(), ids=lambda shape: shape.name)
def test_every_service_model_pattern_reads_as_java_reads_it(shape: StringShape) -> None:
    assert shape.pattern is not None
    assert shape.matcher is not None
    pattern = java_re2(shape.pattern)
    for value in SAMPLES:
        expected = shape.matcher.fullmatch(value) is not None
        assert _re2(pattern.holds("v"), value) == expected, (shape.name, value)


@pytest.mark.parametrize(
    "pattern",
    [
        "[a-z0-9]+(-[a-z0-9]+)*",
        ".+-[0-9]{4}-[0-9]{2}-[0-9]{2}(-[0-9]+)?",
        "[a-z][a-z0-9-]*",
        "CC-[0-9]{4}",
        r"[a-z0-9._-]+@example\.com",
        r"\d+",
        r"(?s)a.b",
        r"a|b|",
        r"x{2,3}?y",
        r"[^a]\Z",
    ],
)
def test_python_regexes_read_as_python_reads_them(pattern: str) -> None:
    regex = python_re2(pattern)
    for value in [*SAMPLES, "a\nb", "axb", "xxy", "b", "CC-1234", "abc-2024-01-02"]:
        assert _re2(regex.matches("v"), value) == (re.fullmatch(pattern, value) is not None), (
            pattern,
            value,
        )


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"\w+", "Unicode in Python"),
        ("(?i)abc", "case folding"),
        ("a$b", "final line break"),
        ("(?=a)a", "look-ahead"),
        ("a{1001}", "at most 1000"),
        ("{name}-x", "{name} may hold"),
    ],
)
def test_what_rE2_reads_otherwise_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(NotExportableError, match=re.escape(why)):
        python_re2(pattern)


@pytest.mark.parametrize(
    "glob",
    ["ml.m5.*", "s3://ml-{namespace}/*", "[!H]*", "H[!F]*", "a[]b", "[", "*?", "x[a-c]y", "[!]"],
)
def test_globs_read_as_fnmatch_reads_them(glob: str) -> None:
    regex = glob_re2(glob)
    for value in [*SAMPLES, "ml.m5.", "Hx", "HF", "a]b", "xby", "x-y"]:
        expected = fnmatch.fnmatchcase(value, glob.replace("{namespace}", "team-a"))
        assert _re2(regex.matches("v"), value) == expected, (glob, value)
