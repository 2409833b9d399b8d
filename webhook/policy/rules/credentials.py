r"""What a credential looks like in a string, from one definition.

:data:`CREDENTIALS` is the one definition of the credentials recognised inside
a string: each kind with what a message says it is, its fix, and the forms it
is written in (a literal start, then the rest). Everything else here is built
from it, so a kind added there is looked for everywhere: the exact patterns
(:func:`held`), the base64 screens, the quick look (:func:`quick_hits`) and the
native schema's value screen (:data:`NATIVE_VALUES`). The ``secrets`` rule
(:mod:`webhook.policy.rules.secrets`) reports what :func:`held` finds, in this
order:

1. a recognisable credential of the table: an AWS access key id
   (``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16), a PEM private key
   (``-----BEGIN ... PRIVATE KEY-----``), a GitHub token (``ghp_`` ... or
   ``github_pat_``), a Slack token (``xoxb-`` ...), a Hugging Face token
   (``hf_`` + 34 or more), a JSON Web Token (``eyJ...``.``eyJ...``.), an
   ``Authorization: Bearer`` token, or a password inside a URL
   (``scheme://user:password@``; placeholders starting with ``$``, ``<`` or
   ``{`` are not flagged);
2. the same, base64-encoded: every run of at least :data:`_MIN_RUN` characters
   of the base64 and base64url alphabets (contiguous: any other character,
   ``=`` too, ends a run) is decoded at each of its four character offsets (so
   characters before the encoded text cannot shift it out of step), and the
   bytes, read as Latin-1, are scanned with the same patterns. One level only:
   base64 of base64 is not decoded, nor are the decoded bytes normalized;
3. an AWS secret access key, by heuristic: the whole value, stripped, is 40
   characters of ``A-Z a-z 0-9 / +`` (and ``=`` ) and either its name
   (:mod:`webhook.policy.rules.secrets` says what a string's name is) mentions
   ``secret`` or ``aws``, or the value has upper case, lower case and digits
   and switches between those classes at least 18 times out of 39
   (random keys do about 25 times; words, paths and camelCase names far fewer;
   40 hex digits, a git commit, never qualify).

Before matching, a string that is not ASCII loses its Unicode format
characters (category Cf: zero-width spaces and joiners, soft hyphens, bidi
marks, byte order marks) and is brought to NFKC form (:func:`normal`), so
``AK\u200bIA...`` or fullwidth letters hide nothing; ASCII strings, nearly
all, skip that.

**The quick look** (:func:`quick_hits`) searches many strings at once for what
may hold a credential: one regex for the starts of credentials in clear and of
their base64 text (:data:`_QUICK`, looser than the patterns and opening with
characters clean jobs have few of), one for passwords in URLs where an ``@``
is, a length test for the 40-character heuristic. A string it leaves out has
nothing :func:`held` finds.

**The native value screen** (:data:`NATIVE_VALUES`) matches a string that is
not ASCII, that holds the start of a credential of the table in clear (with
the form's screen when the start alone is common: ``://`` needs a
``user:password@`` after it) or in any base64 alignment in either alphabet
(:func:`~webhook.policy.rules.credential_starts.encodings`, from the same
starts), or that is 40 characters of an AWS secret's alphabet with only blanks
and control characters around it: everything :func:`held` may flag, and more.
"""

from __future__ import annotations

import binascii
import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from webhook.policy.rules.credential_starts import (
    alternation,
    encodings,
    last_literal,
    openings,
    positions,
    sextets,
    start_regex,
)

_ROLE_FIX: Final = "remove it and grant the access to the job's execution role (roleARN) instead"
#: The fix for a secret the job needs at run time.
STORE_FIX: Final = (
    "store it in AWS Secrets Manager and have the training code read it at run time "
    "with the execution role"
)


class Form(NamedTuple):
    """One way a credential is written: a literal start, then the rest."""

    start: str
    """ASCII characters matched as they are, ``[...]`` a set of them (nothing else)."""
    rest: str
    """The Python regex (``re.ASCII``) that follows the start."""
    before: str = ""
    """A regex class body: characters that must not come right before the start."""
    screen: str = ""
    """The native screen's regex after the start, looser than :attr:`rest`; empty when
    the start alone is the screen (it is, except where the start alone is common in
    clean jobs: ``://`` is in every S3 URI)."""


class Kind(NamedTuple):
    """A credential kind: what a message says it is, its fix, and how it is written."""

    what: str
    fix: str
    forms: tuple[Form, ...]


_AWS_PREFIXES: Final = ("AKIA", "ASIA", "ABIA", "ACCA")
_ALNUM: Final = "A-Za-z0-9"

#: Every credential kind recognised inside a string, by name: the one definition. The
#: Python patterns, the base64 screens and the native schema's screen are all built
#: from it, so a kind added here is looked for everywhere.
CREDENTIALS: Final = {
    "aws_key": Kind(
        "contains an AWS access key id",
        _ROLE_FIX,
        tuple(
            Form(prefix, "[A-Z0-9]{16}(?![A-Za-z0-9])", before=_ALNUM) for prefix in _AWS_PREFIXES
        ),
    ),
    "private_key": Kind(
        "contains a private key",
        STORE_FIX,
        (Form("-----BEGIN", "[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"),),
    ),
    "github": Kind(
        "contains a GitHub token",
        STORE_FIX,
        (
            Form("gh[pousr]_", "[A-Za-z0-9]{36}", before=_ALNUM + "_"),
            Form("github_pat_", r"\w{22}", before=_ALNUM + "_"),
        ),
    ),
    "slack": Kind(
        "contains a Slack token",
        STORE_FIX,
        (Form("xox[baprs]-", "[A-Za-z0-9-]{10}", before=_ALNUM),),
    ),
    "huggingface": Kind(
        "contains a Hugging Face token",
        STORE_FIX,
        (Form("hf_", "[A-Za-z0-9]{34}", before=_ALNUM + "_"),),
    ),
    "jwt": Kind(
        "contains a JSON Web Token",
        STORE_FIX,
        (Form("eyJ", r"[\w-]{5,}\.eyJ[\w-]{5,}\.", before=r"\w-"),),
    ),
    "bearer": Kind(
        "contains a bearer token",
        STORE_FIX,
        (Form("[Bb][Ee][Aa][Rr][Ee][Rr]", "[ \t]+[A-Za-z0-9._~+/-]{20}", before=r"\w"),),
    ),
    "url": Kind(
        "contains a password inside a URL",
        STORE_FIX,
        (Form("://", r"[^\s/:@]+:(?![$<{])[^\s/@]+@", screen="[^/:@]+:[^/@]+@"),),
    ),
}

#: Every form of the table: (kind name, form, its start as a compiled regex).
FORMS: Final = tuple(
    (name, form, re.compile(start_regex(form.start)))
    for name, kind in CREDENTIALS.items()
    for form in kind.forms
)
#: Any credential of the table in a string. No groups, so that ``re`` sees literals
#: first (:func:`~webhook.policy.rules.credential_starts.openings`; a look-behind moves
#: after the first character, one wider): the kind of a hit is the form whose start is
#: where it starts (:func:`_kind_at`).
_VALUE: Final = re.compile(
    alternation(
        [
            (head, (f"(?<![{form.before}].)" if form.before else "") + tail + form.rest)
            for _, form, _ in FORMS
            for head, tail in openings(positions(form.start))
        ]
    ),
    re.ASCII,
)


def _kind_at(text: str, position: int) -> str:
    """The name of the kind whose credential :data:`_VALUE` found at *position*."""
    for name, _, start in FORMS:
        if start.match(text, position):
            return name
    raise AssertionError("a match of _VALUE opens with a start of the table")  # pragma: no cover


# -- the quick look -----------------------------------------------------------------------


#: Characters common in clean jobs' strings besides letters and digits (ARNs, URIs).
_COMMON: Final = frozenset("-:/. ")


def _quick(sequence: Sequence[str]) -> list[tuple[str, str]]:
    """A looser regex of positions *sequence*, for :data:`_QUICK`: (first literal, rest) pairs.

    It drops the positions before the first that holds a single upper-case letter,
    else only upper-case letters, else a single symbol clean jobs have few of (``_``),
    else a single character (else none are dropped): what is left is still in any
    text the whole is in, and opens with a character clean jobs have few of (their
    strings are mostly lower case, digits and ``-:/.``), where ``re`` starts looking.
    """

    def first(test: Callable[[str], bool]) -> int | None:
        return next((index for index, chars in enumerate(sequence) if test(chars)), None)

    found = [
        first(lambda chars: len(chars) == 1 and chars.isupper()),
        first(lambda chars: chars.isalpha() and chars.isupper()),
        first(lambda chars: len(chars) == 1 and not chars.isalnum() and chars not in _COMMON),
        first(lambda chars: len(chars) == 1),
    ]
    return openings(sequence[next((index for index in found if index is not None), 0) :])


#: A string may hold a credential of the table in clear (but a form with a screen of its
#: own, below) or the base64 text of the start of one.
_QUICK: Final = re.compile(
    alternation(
        [
            *(
                pair
                for _, form, _ in FORMS
                if not form.screen
                for pair in _quick(positions(form.start))
            ),
            *(
                pair
                for _, form, _ in FORMS
                for sequence in sextets(form.start)
                for pair in _quick(sequence)
            ),
        ]
    )
)
#: The quick look: (a character every match holds, or none; a pattern). The forms whose
#: start alone is common in clean jobs (``://``) come with their screen, looked for
#: only in a text holding the screen's last character (``@``).
_QUICK_SCREENS: Final = (
    ("", _QUICK),
    *(
        (last_literal(form.screen), re.compile(start_regex(form.start) + form.screen))
        for _, form, _ in FORMS
        if form.screen
    ),
)


def quick_hits(strings: list[str]) -> set[int]:
    """The indexes of the strings that may hold a credential (a quick look).

    Every string is searched at once, joined by line breaks (no pattern of
    :data:`_QUICK` spans one; a screen's match may, and then only adds a string):
    not ASCII (it is normalized when scanned), the start of a credential in clear or
    base64-encoded (:data:`_QUICK_SCREENS`); and 40 characters once stripped
    (:func:`_aws_secret`). A string left out has nothing :func:`held` finds.
    """
    text = "\n".join(strings)
    hot = {
        index
        for index, string in enumerate(strings)
        if len(string) >= 40 and len(string.strip()) == 40
    }
    if not text.isascii():
        hot.update(index for index, string in enumerate(strings) if not string.isascii())
    ends: list[int] = []
    for marker, pattern in _QUICK_SCREENS:
        if marker not in text:
            continue
        found = pattern.search(text)
        while found is not None:
            if not ends:
                ends = list(itertools.accumulate(len(string) + 1 for string in strings))
            index = bisect.bisect_right(ends, found.start())  # the string it opens in
            hot.add(index)
            found = pattern.search(text, ends[index])  # the next string on
    return hot


# -- base64 -------------------------------------------------------------------------------

#: Shortest run decoded: the shortest credential the table matches, a password in a
#: URL (``://a:b@``), is 7 bytes, 10 base64 characters.
_MIN_RUN: Final = 10
_RUN = re.compile(f"[A-Za-z0-9+/_-]{{{_MIN_RUN},}}")
_URL_SAFE = bytes.maketrans(b"-_", b"+/")


def _decoded(characters: bytes) -> bytes:
    """The bytes of base64 *characters* (standard alphabet, no padding), a partial group too."""
    remainder = len(characters) % 4
    if remainder == 1:
        characters = characters[:-1]  # six bits: no byte
    elif remainder:
        characters += b"=" * (4 - remainder)
    return binascii.a2b_base64(characters)


def _decoded_kind(text: str) -> str | None:
    """The kind of a credential in the base64 decoding of a run of *text* (ASCII), if any."""
    for run in _RUN.findall(text):
        if _QUICK.search(run) is None:
            continue  # no base64 text of a start (the quick look's patterns hold them)
        data = run.encode("ascii").translate(_URL_SAFE)
        for offset in range(4):
            decoded = _decoded(data[offset:]).decode("latin-1")
            found = _VALUE.search(decoded)
            if found is not None:
                return _kind_at(decoded, found.start())
    return None


# -- Unicode ------------------------------------------------------------------------------


def normal(text: str) -> str:
    """*text* as matched: without format characters (Cf), in NFKC; ASCII text as it is."""
    if text.isascii():
        return text
    stripped = "".join(c for c in text if unicodedata.category(c) != "Cf")
    normalized = unicodedata.normalize("NFKC", stripped)
    return "".join(c for c in normalized if unicodedata.category(c) != "Cf")


# -- the AWS secret access key heuristic ----------------------------------------------------

_AWS_SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+=]{40}")
_AWS_SECRET_STRICT = re.compile(r"[A-Za-z0-9/+]{40}")
_AWS_SECRET_KEY_NAME = re.compile(r"secret|aws", re.IGNORECASE)
_AWS_SECRET: Final = ("looks like an AWS secret access key", _ROLE_FIX)
_MIN_SWITCHES: Final = 18


def _switches(value: str) -> int:
    """How often consecutive characters change class (upper, lower, digit, other)."""
    classes = [0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3 for c in value]
    return sum(a != b for a, b in itertools.pairwise(classes))


def _aws_secret(key: str, value: str) -> bool:
    """The heuristic for a 40-character AWS secret access key (module docstring)."""
    if len(value) != 40:
        return False
    if _AWS_SECRET_KEY_NAME.search(key):
        return _AWS_SECRET_SHAPE.fullmatch(value) is not None
    return (
        _AWS_SECRET_STRICT.fullmatch(value) is not None
        and not value.islower()
        and not value.isupper()
        and any(c.isdigit() for c in value)
        and _switches(value) >= _MIN_SWITCHES
    )


def held(text: str, name: str) -> tuple[str, str] | None:
    """What credential *text* (normalized) named *name* holds, and the fix; None when none.

    The name only matters to the AWS secret heuristic (module docstring).
    """
    found = _VALUE.search(text)
    if found is not None:
        return CREDENTIALS[_kind_at(text, found.start())][:2]
    decoded = _decoded_kind(text)
    if decoded is not None:
        what, fix, _ = CREDENTIALS[decoded]
        return f"{what} (base64-encoded)", fix
    if _aws_secret(name, text.strip()):
        return _AWS_SECRET
    return None


# -- the native screen --------------------------------------------------------------------

#: A string (or key) :func:`held` may flag, and more: anything not ASCII; a start of a
#: credential of the table, in clear or base64-encoded; 40 characters of an AWS secret's
#: alphabet, blanks aside (:meth:`str.strip` of an ASCII string strips a subset of them).
NATIVE_VALUES: Final = "|".join(
    (
        r"[^\x00-\x7f]",
        *(start_regex(form.start) + form.screen for _, form, _ in FORMS),
        *(encoding for _, form, _ in FORMS for encoding in encodings(form.start)),
        r"^[\x00-\x20]*[A-Za-z0-9/+=]{40}[\x00-\x20]*$",
    )
)
