"""Rule kind ``secrets``: credentials written into ``hyperParameters`` or ``environment``.

Both maps are stored in the TrainingJob and in SageMaker's job description,
readable by anyone who can get the resource or call DescribeTrainingJob, so a
credential there leaks. Messages say which kind of secret and the fix; they
never show the value, not even a part of it. Keys matching ``allowKeys`` are
never flagged (a bare ``*`` there, or an empty ``maps``, is a policy error:
the rule would check nothing). Each entry gives at most one finding, the first
that applies of:

1. a value containing a recognisable credential: an AWS access key id
   (``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16), a PEM private key
   (``-----BEGIN ... PRIVATE KEY-----``), a GitHub token (``ghp_`` ... or
   ``github_pat_``), a Slack token (``xoxb-`` ...), a Hugging Face token
   (``hf_`` + 34 or more), a JSON Web Token (``eyJ...``.``eyJ...``.), an
   ``Authorization: Bearer`` token, or a password inside a URL
   (``scheme://user:password@``; placeholders starting with ``$``, ``<`` or
   ``{`` are not flagged);
2. an AWS secret access key, by heuristic: the whole value is 40 characters of
   ``A-Z a-z 0-9 / +`` (and ``=`` ) and either the key name mentions ``secret``
   or ``aws``, or the value has upper case, lower case and digits and switches
   between those classes at least 18 times out of 39 (random keys do about 25
   times; words, paths and camelCase names far fewer; 40 hex digits, a git
   commit, never qualify);
3. a password-like key with a value: the key name contains ``password``,
   ``passwd``, ``secret``, ``api_key``/``apikey``/``api-key``,
   ``private_key``/``privatekey`` or ``credential`` (any case), or has the word
   ``token`` (``HF_TOKEN``, ``authToken``; not ``tokenizer`` or ``max_tokens``)
   and a token-like value (16 or more of ``A-Z a-z 0-9 . _ ~ + / = -``, with
   both letters and digits: so ``pad_token: "<pad>"`` passes). Not flagged: blank
   values, ``true``/``false``, a Secrets Manager or SSM parameter ARN (a
   reference, the recommended fix), and keys whose last word says they hold a
   reference or a setting rather than the secret (``SECRET_NAME``,
   ``TOKEN_URL``, ``PASSWORD_FILE``, ``SECRET_ARN``; see ``_REFERENCE_WORDS``).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from typing import Any, Final

from webhook.native import Schema, on_spec
from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import SecretsRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show

_ROLE_FIX: Final = "remove it and grant the access to the job's execution role (roleARN) instead"
_STORE_FIX: Final = (
    "store it in AWS Secrets Manager and have the training code read it at run time "
    "with the execution role"
)

#: Recognisable credentials inside a value: group name -> (what the value holds, the fix).
_KINDS: Final = {
    "aws_key": ("contains an AWS access key id", _ROLE_FIX),
    "private_key": ("contains a private key", _STORE_FIX),
    "github": ("contains a GitHub token", _STORE_FIX),
    "slack": ("contains a Slack token", _STORE_FIX),
    "huggingface": ("contains a Hugging Face token", _STORE_FIX),
    "jwt": ("contains a JSON Web Token", _STORE_FIX),
    "bearer": ("contains a bearer token", _STORE_FIX),
    "url": ("contains a password inside a URL", _STORE_FIX),
}
_VALUE = re.compile(
    "|".join(
        (
            r"(?P<aws_key>(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9]))",
            r"(?P<private_key>-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----)",
            r"(?P<github>(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22}))",
            r"(?P<slack>(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10})",
            r"(?P<huggingface>(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34})",
            r"(?P<jwt>(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.)",
            r"(?P<bearer>\b(?i:bearer)[ \t]+[A-Za-z0-9._~+/-]{20})",
            r"(?P<url>://[^\s/:@]+:(?![$<{])[^\s/@]+@)",
        )
    ),
    re.ASCII,
)

_AWS_SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+=]{40}")
_AWS_SECRET_STRICT = re.compile(r"[A-Za-z0-9/+]{40}")
_AWS_SECRET_KEY_NAME = re.compile(r"secret|aws", re.IGNORECASE)
_AWS_SECRET: Final = ("looks like an AWS secret access key", _ROLE_FIX)
_MIN_SWITCHES: Final = 18

_PASSWORD_KEY = re.compile(
    r"(?P<password>passw(?:or)?d)|(?P<secret>secret)|(?P<api_key>api[_-]?key)"
    r"|(?P<private_key>private[_-]?key)|(?P<credentials>credential)",
    re.IGNORECASE,
)
_KEY_KINDS: Final = {
    "password": "a password",
    "secret": "a secret",
    "api_key": "an API key",
    "private_key": "a private key",
    "credentials": "credentials",
    "token": "a token",
}
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_TOKEN_LIKE = re.compile(r"(?=.*[A-Za-z])(?=.*[0-9])[A-Za-z0-9._~+/=-]{16,}", re.ASCII)
#: A key ending in one of these words names or configures a secret rather than holding it.
_REFERENCE_WORDS: Final = frozenset(
    {
        "name",
        "id",
        "arn",
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "endpoint",
        "region",
        "ref",
        "type",
        "mode",
        "length",
        "len",
        "count",
        "ttl",
        "version",
        "header",
        "location",
        "bucket",
        "prefix",
        "param",
        "parameter",
    }
)
_REFERENCE_VALUE = re.compile(r"arn:aws[a-z-]*:(?:secretsmanager|ssm):", re.IGNORECASE)
_NOT_SECRET: Final = frozenset({"true", "false"})


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


def _value_kind(key: str, value: str) -> tuple[str, str] | None:
    """What credential the value holds, and the fix; None when none is recognised."""
    found = _VALUE.search(value)
    if found is not None and found.lastgroup is not None:
        return _KINDS[found.lastgroup]
    if _aws_secret(key, value.strip()):
        return _AWS_SECRET
    return None


@functools.lru_cache(maxsize=4096)
def _key_class(key: str) -> tuple[str | None, bool]:
    """What a key's name says it holds, and whether it is a token key (None, False: nothing).

    Cached: the same keys come back in every job; key names are not secret,
    only values are (values are never cached).
    """
    words = [word.lower() for word in _WORDS.findall(key)]
    if words and words[-1] in _REFERENCE_WORDS:
        return None, False
    found = _PASSWORD_KEY.search(key)
    if found is not None and found.lastgroup is not None:
        return _KEY_KINDS[found.lastgroup], False
    return None, "token" in words


def _key_kind(key: str, value: str) -> str | None:
    """What a password-like key holds, when its value looks set; else None."""
    held, token = _key_class(key)
    if held is None and not token:
        return None
    stripped = value.strip()
    if not stripped or stripped.lower() in _NOT_SECRET or _REFERENCE_VALUE.match(stripped):
        return None
    if held is not None:
        return held
    return _KEY_KINDS["token"] if _TOKEN_LIKE.fullmatch(stripped) else None


def _findings(key: str, value: str, where: str) -> str | None:
    visible = f"values in {where} are visible to anyone who can describe the training job"
    kind = _value_kind(key, value)
    if kind is not None:
        what, fix = kind
        return f"value {what}, and {visible}: {fix}"
    held = _key_kind(key, value)
    if held is not None:
        return (
            f"{show(key)} names {held} and has a value, and {visible}: {_STORE_FIX}; "
            "if it holds no secret, add the key to the rule's allowKeys"
        )
    return None


def compile_rule(rule: SecretsRule) -> Check:
    """Compile a ``secrets`` rule into a check."""
    if not rule.maps:
        raise RuleConfigError(
            "maps", "is empty: the rule would check nothing; list a map or drop it"
        )
    for pattern in rule.allowKeys:
        if not pattern.strip("*"):
            raise RuleConfigError(
                "allowKeys", f"{show(pattern)} allows every key: the rule would check nothing"
            )
    maps: tuple[tuple[str, Path], ...] = tuple(
        (name, ("spec", name)) for name in dict.fromkeys(rule.maps)
    )
    allow = Globs(rule.allowKeys)

    def check(subject: Subject) -> Iterator[Violation]:
        for name, prefix in maps:
            entries: Any = subject.spec.get(name)
            if not isinstance(entries, dict):
                continue
            for key, value in entries.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    continue  # the CRD's type check reports it; numbers hold no credential
                if allow and allow.matches(key, subject):
                    continue
                message = _findings(key, value, name)
                if message is not None:
                    yield Violation((*prefix, key), message)

    return check


#: Characters beyond ASCII that ``re.IGNORECASE`` matches to a letter of the key words
#: (Python's Unicode case folding; the tests check this against every code point). The
#: native pattern spells each letter as a class of its own rather than relying on another
#: regex engine's case folding, which differs (no dotted or dotless I, for one).
_FOLDS: Final = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _caseless(word: str) -> str:
    """*word* matching as ``re.IGNORECASE`` matches it, with no flag."""
    return "".join(f"[{c}{c.upper()}{_FOLDS.get(c, '')}]" if c.isalpha() else c for c in word)


#: Every key :func:`_key_class` may flag, and more (no exceptions for reference words).
_NATIVE_KEYS: Final = "|".join(
    (
        _caseless("passw"),
        _caseless("secret"),
        _caseless("api") + ".?" + _caseless("key"),
        _caseless("private") + ".?" + _caseless("key"),
        _caseless("credential"),
        _caseless("token"),
    )
)
#: Every value :func:`_value_kind` may flag, and more: the patterns of ``_VALUE`` without
#: their look-arounds, and any run of 40 characters an AWS secret key is made of.
_NATIVE_VALUES: Final = "|".join(
    (
        "AKIA|ASIA|ABIA|ACCA",
        "-----BEGIN",
        "gh[pousr]_|github_pat_",
        "xox[baprs]-",
        "hf_",
        "eyJ",
        "(?i:bearer)",
        "://[^/:@]+:[^/@]+@",
        "[A-Za-z0-9/+=]{40}",
    )
)


def native_schema(rule: SecretsRule) -> Schema:
    """A job this rule finds nothing in (:mod:`webhook.native`).

    Much stricter than the check, to stay simple: no key that names a secret
    (whatever its value), and no value that holds the start of a credential,
    ``allowKeys`` aside. Such a job is rare and gets the exact check.
    """
    entries = {
        "patternProperties": {_NATIVE_KEYS: {"not": {"type": "string"}}},
        "additionalProperties": {"not": {"type": "string", "pattern": _NATIVE_VALUES}},
    }
    return on_spec({"properties": dict.fromkeys(rule.maps, entries)})
