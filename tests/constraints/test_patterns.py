"""Java patterns read as Java reads them, by Python and by the native schema alike."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from tests.conftest import PROJECT
from webhook.constraints.patterns import (
    LINE_TERMINATOR,
    LINE_TERMINATORS,
    UnsupportedPatternError,
    line_terminators,
    one_line,
    translate,
)
from webhook.constraints.schema import DATA_FILE, compile_pattern
from webhook.native import anchored

MODEL_PATTERNS = sorted(
    {
        shape["pattern"]
        for shape in json.loads(
            (PROJECT / "webhook" / "constraints" / DATA_FILE).read_text("utf-8")
        )["shapes"].values()
        if "pattern" in shape
    }
)


def _native(pattern: str) -> jsonschema_rs.Draft4Validator:
    return jsonschema_rs.Draft4Validator({"pattern": anchored(translate(pattern).ecma)})


@pytest.mark.parametrize(
    ("java", "python", "ecma"),
    [
        (r"\d{12}", "[0-9]{12}", "[0-9]{12}"),
        (r"\w", "[0-9A-Z_a-z]", "[0-9A-Z_a-z]"),
        (r"\s", r"[\t-\r ]", r"[\t-\r ]"),
        (r"\D", "[^0-9]", "[^0-9]"),
        (".*", r"[^\n\r\x85\u2028\u2029]*", r"[^\n\r\x85\u2028\u2029]*"),
        (r"[\d.]", "[0-9.]", "[0-9.]"),  # in a class '.' is literal
        (r"a\.b", r"a\.b", r"a\.b"),
        (r"[\D]", r"[\x00-/:-\U0010ffff]", r"[\x00-/:-\u{10ffff}]"),
        (r"\p{Alnum}", "[0-9A-Za-z]", "[0-9A-Za-z]"),
        (r"[\p{L}\p{N}_]", r"[_\p{L}\p{N}]", r"[_\p{L}\p{N}]"),
        (
            r"a$",
            r"a(?=(?:\r\n|(?<!\r)\n|[\r\x85\u2028\u2029])?\Z)",
            r"a(?=(?:\r\n|(?<!\r)\n|[\r\x85\u2028\u2029])?$)",
        ),
        (r"\Aa\z", r"^a\Z", "^a$"),
        (r"(?<name>a)\/", "(?:a)/", "(?:a)/"),
        (r"\x{1F600}", r"\U0001f600", r"\u{1f600}"),
    ],
)
def test_a_java_pattern_is_spelled_out_in_both_dialects(java: str, python: str, ecma: str) -> None:
    translation = translate(java)
    assert (translation.python, translation.ecma) == (python, ecma)


# Verdicts of Java's String.matches, worked out from java.util.regex.Pattern's documentation.
@pytest.mark.parametrize(
    ("java", "value", "matches"),
    [
        (r"\d", "3", True),
        (r"\d", "\u0663", False),  # Arabic-Indic three
        (r"\d", "\uff13", False),  # fullwidth three
        (r"\D", "\u0663", True),
        (r"\w", "\u00e9", False),
        (r"\W", "\u00e9", True),
        (r"\s", "\x0b", True),
        (r"\s", "\u00a0", False),
        (r"\s", "\x1c", False),
        (r"\S", "\u00a0", True),
        (".", "\n", False),
        (".", "\r", False),
        (".", "\u0085", False),
        (".", "\u2028", False),
        (".", "\u2029", False),
        (".", "\x0b", True),
        (".", "\x1c", True),
        (".", "\U0001f600", True),  # one code point
        (".*", "a\rb", False),
        ("a$", "a", True),
        ("a$", "a\n", False),  # '$' may stand before it, but the whole must match
        ("a$\n", "a\n", True),
        ("a$\r\n", "a\r\n", True),
        ("a\r$\n", "a\r\n", False),  # never between \r and \n
        ("a$\u2028", "a\u2028", True),
        (r"a\Z\n", "a\n", True),
        (r"\Aa\z", "a", True),
        (r"\Aa\z", "a\n", False),
        (r"[\d.]+", "1.2", True),
        (r"[\d.]+", "\u0661.2", False),
        (r"[\D]", "\u0663", True),
        (r"[^\d]", "3", False),
        (r"\p{Alpha}", "\u00e9", False),  # POSIX classes are ASCII in Java
        (r"\P{Alnum}", "\u00e9", True),
        (r"\p{L}", "\u00e9", True),  # Unicode categories are Unicode
        (r"\pL\p{IsN}", "\u00e9\u0663", True),
        (r"[\p{L}\d]+", "\u00e91", True),
        (r"[\p{L}\d]+", "\u00e9\u0661", False),
        (r"[\P{L}]", "1", True),
        ("[]a]+", "]a", True),  # a leading ']' is literal
        ("[^]a]", "]", False),
        ("[a-]+", "a-", True),
        (r"(?<n>a)b", "ab", True),
        (r"\x41\u0042\x{43}\t", "ABC\t", True),
        ("x{2}?y", "xxy", True),
    ],
)
def test_both_dialects_read_a_pattern_as_java_does(java: str, value: str, *, matches: bool) -> None:
    assert (compile_pattern(java).fullmatch(value) is not None) is matches
    assert _native(java).is_valid(value) is matches


@pytest.mark.parametrize(
    "java",
    [
        r"\b",
        "a*+",
        "(?>a)",
        "(?i)a",
        "[a[b]]",
        "[a&&b]",
        r"(a)\1",
        r"\Qa\E",
        r"\p{IsLatin}",
        r"\y",
        "a{,2}",
        "[z-a]",
        "[a",
        "a\\",
        r"\uD800",
    ],
)
def test_a_construct_without_an_exact_translation_fails_loudly(java: str) -> None:
    with pytest.raises(UnsupportedPatternError, match="has no exact translation"):
        translate(java)


@pytest.mark.parametrize("java", MODEL_PATTERNS)
def test_every_model_pattern_compiles_in_both_engines(java: str) -> None:
    translation = translate(java)
    compile_pattern(java)
    _native(java)
    assert r"\d" not in translation.python
    assert r"\d" not in translation.ecma


_PROBES = [chr(code) for code in range(0x80)] + list("\u0085\u00a0\u0661\u2028\u2029\uff11é")


def test_the_one_line_search_is_the_translation_of_dot_star() -> None:
    """The shortcut for ``.*`` (a search for a line terminator) says what the pattern says."""
    dot_star = compile_pattern(".*")
    native = jsonschema_rs.Draft4Validator({"pattern": f"[{line_terminators('ecma')}]"})
    for char in _PROBES:
        value = f"a{char}b"
        takes = dot_star.fullmatch(value) is not None
        assert takes is (char not in LINE_TERMINATORS)
        assert (LINE_TERMINATOR.search(value) is None) is takes
        assert native.is_valid(value) is not takes
    assert one_line(".*", 0)
    assert one_line(".+", 1)
    assert not one_line(".+", 0)  # '.+' refuses the empty value, which a search cannot say
    assert not one_line("(.*)", 0)


def test_python_and_the_native_schema_agree_on_every_model_pattern() -> None:
    """Each probe character put before, in and after a value the pattern takes."""
    for java in MODEL_PATTERNS:
        python, native = compile_pattern(java), _native(java)
        base = next(
            (value for value in ("a", "s3://b/k", "fs-01234567", "KEY") if python.fullmatch(value)),
            "",
        )
        for char in _PROBES:
            for value in (char + base, base + char, base[:1] + char + base[1:]):
                assert (python.fullmatch(value) is not None) is native.is_valid(value), (
                    java,
                    value,
                )
