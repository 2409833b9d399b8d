"""What a key's name says: that its value is a password, a token, or nothing.

The ``secrets`` rule (:mod:`webhook.policy.rules.secrets`) flags the value of
a key whose name says it holds a secret (:func:`key_kind`, from the name's
class, :func:`key_class`), after the credentials a value may hold in any
place (:mod:`webhook.policy.rules.credentials`):

* the name contains ``password``, ``passwd``, ``secret``, ``api_key``/
  ``apikey``/``api-key``, ``private_key``/``privatekey`` or ``credential``
  (any case), or has one of the words ``passphrase``, ``pass``, ``pwd``, ``pw``
  (``DB_PASS``, ``sshPassphrase``; not ``bypass`` or ``num_passes``: words are
  split by case, digits and punctuation), or the word ``token`` (``HF_TOKEN``,
  ``authToken``; not ``tokenizer`` or ``max_tokens``) with a token-like value
  (16 or more of ``A-Z a-z 0-9 . _ ~ + / = -``, with both letters and digits:
  so ``pad_token: "<pad>"`` passes). Never flagged: blank values,
  ``true``/``false``, a Secrets Manager or SSM parameter ARN (a reference, the
  recommended fix); for the short words ``pass``, ``pwd`` and ``pw`` alone also
  a number, a yes/no word or an absolute path (``second_pass: "2"``,
  ``USE_PASS: "off"``; ``PWD`` is the shell's working directory);
* a name whose last word says it holds a reference or a setting is flagged
  only when its value does not have the shape of that reference
  (:data:`_REFERENCES`; the message says which shape was expected): a path for
  ``file``, ``path``, ``dir``, ``location`` (absolute, ``./``, ``../``, ``~/``
  or a URI; a bare word under ``DB_PASSWORD_FILE`` is the password, and a
  relative path is written ``./name``); a URL with a scheme for ``url``,
  ``uri``, ``endpoint`` (a bare host name is flagged); an ARN for ``arn``; a
  region for ``region``; a bucket name or S3 URI for ``bucket`` (a lower-case
  password of the bucket alphabet passes for one); a number, with an optional
  short unit, for ``length``, ``len``, ``count``, ``ttl``; a version for
  ``version``; an HTTP header name, letters and hyphens, for ``header``. The
  words ``name``, ``id``, ``ref``, ``type``, ``mode``, ``prefix``, ``param``
  and ``parameter`` keep the name a reference whatever the value: a secret's
  name, id or parameter name, or a mode, has no shape that tells it from a
  password (``SECRET_ID: hunter2`` is not flagged).

Names are normalized as values are
(:func:`~webhook.policy.rules.credentials.normal`) before they are read.

**The native key screen** (:data:`NATIVE_KEYS`) matches every key
:func:`key_class` may flag, and more: anywhere in the key, whole word or not,
and with no exceptions for reference words or values.
"""

from __future__ import annotations

import functools
import re
from typing import Final, NamedTuple

from webhook.policy.rules.credentials import normal

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
    "passphrase": "a passphrase",
}
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
#: Words of a key that name a password on their own, but are short enough to mean
#: something else too (a number of passes, the shell's working directory).
_SHORT_WORDS: Final = frozenset({"pass", "pwd", "pw"})
#: What such a word's value is when it is no password: a number, a yes/no word, a path.
_SHORT_NOT_SECRET = re.compile(
    r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|(?i:yes|no|on|off|none|null)|/\S*", re.ASCII
)
_TOKEN_LIKE = re.compile(r"(?=.*[A-Za-z])(?=.*[0-9])[A-Za-z0-9._~+/=-]{16,}", re.ASCII)
_REFERENCE_VALUE = re.compile(r"arn:aws[a-z-]*:(?:secretsmanager|ssm):", re.IGNORECASE)
_NOT_SECRET: Final = frozenset({"true", "false"})

_PATH: Final = (re.compile(r"(?:/|\.\.?/|~/|[A-Za-z][A-Za-z0-9+.-]*://)\S*", re.ASCII), "a path")
_URL: Final = (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", re.ASCII), "a URL")
_NUMBER: Final = (re.compile(r"[0-9]+(?:\.[0-9]+)? ?[A-Za-z]{0,3}", re.ASCII), "a number")
#: A key ending in one of these words names or configures a secret rather than holding
#: it, when its value has the shape of that reference (None: no shape tells it from a
#: secret, so the key is never flagged; the module docstring gives the reasons).
_REFERENCES: Final[dict[str, tuple[re.Pattern[str], str] | None]] = {
    "file": _PATH,
    "path": _PATH,
    "dir": _PATH,
    "location": _PATH,
    "url": _URL,
    "uri": _URL,
    "endpoint": _URL,
    "arn": (re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+", re.ASCII), "an ARN"),
    "region": (re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}", re.ASCII), "a region"),
    "bucket": (
        re.compile(r"(?:s3://)?[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/\S*)?", re.ASCII),
        "a bucket",
    ),
    "length": _NUMBER,
    "len": _NUMBER,
    "count": _NUMBER,
    "ttl": _NUMBER,
    "version": (re.compile(r"[vV]?[0-9]+(?:[.-][0-9A-Za-z]+)*", re.ASCII), "a version"),
    "header": (re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*", re.ASCII), "a header name"),
    "name": None,
    "id": None,
    "ref": None,
    "type": None,
    "mode": None,
    "prefix": None,
    "param": None,
    "parameter": None,
}


class KeyClass(NamedTuple):
    """What a key's name says (:func:`key_class`)."""

    held: str | None = None
    """What it names (``a password``...); None: nothing, or only a token."""
    token: bool = False
    """It names a token: flagged only with a token-like value."""
    short: bool = False
    """Only a short word (``pass``, ``pwd``, ``pw``) names it."""
    reference: bool = False
    """Its last word says it holds a reference (:data:`_REFERENCES`)."""
    shape: tuple[re.Pattern[str], str] | None = None
    """The shape a reference's value has (None with ``reference``: any value)."""

    @property
    def says_nothing(self) -> bool:
        """True when the key names no secret."""
        return self.held is None and not self.token


_NOTHING: Final = KeyClass()


@functools.lru_cache(maxsize=4096)
def key_class(key: str) -> KeyClass:
    """What a key's name (normalized) says it holds.

    Cached: the same keys come back in every job; key names are not secret,
    only values are (values are never cached).
    """
    words = [word.lower() for word in _WORDS.findall(key)]
    found = _PASSWORD_KEY.search(key)
    held, short = None, False
    if found is not None and found.lastgroup is not None:
        held = _KEY_KINDS[found.lastgroup]
    elif "passphrase" in words:
        held = _KEY_KINDS["passphrase"]
    elif not _SHORT_WORDS.isdisjoint(words):
        held, short = _KEY_KINDS["password"], True
    token = held is None and "token" in words
    if held is None and not token:
        return _NOTHING
    last = words[-1] if words else ""
    return KeyClass(held, token, short, last in _REFERENCES, _REFERENCES.get(last))


def key_kind(name: str, value: str) -> str | None:
    """What a password-like key holds, when its value looks set; else None.

    Said for a message: ``a password and has a value``, or ``a password and has a
    value that is not a path`` for a reference word whose shape the value lacks.
    """
    held = key_class(normal(name))
    if held.says_nothing:
        return None
    stripped = value.strip()
    if not stripped or stripped.lower() in _NOT_SECRET or _REFERENCE_VALUE.match(stripped):
        return None
    if held.reference and (held.shape is None or held.shape[0].fullmatch(stripped)):
        return None
    if held.short and _SHORT_NOT_SECRET.fullmatch(stripped):
        return None
    if held.held is not None:
        what = held.held
    elif _TOKEN_LIKE.fullmatch(stripped):
        what = _KEY_KINDS["token"]
    else:
        return None
    if held.shape is not None:
        return f"{what} and has a value that is not {held.shape[1]}"
    return f"{what} and has a value"


# -- the native screen --------------------------------------------------------------------

#: Characters beyond ASCII that ``re.IGNORECASE`` matches to a letter of the key words
#: (Python's Unicode case folding; the tests check this against every code point). The
#: native pattern spells each letter as a class of its own rather than relying on another
#: regex engine's case folding, which differs (no dotted or dotless I, for one). Keys
#: that are not ASCII are refused anyway (they are normalized before matching): this
#: keeps the key screen right on its own.
_FOLDS: Final = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def caseless(word: str) -> str:
    """*word* matching as ``re.IGNORECASE`` matches it, with no flag."""
    return "".join(f"[{c}{c.upper()}{_FOLDS.get(c, '')}]" if c.isalpha() else c for c in word)


#: Every key :func:`key_class` may flag, and more (anywhere in the key, whole word or
#: not, and no exceptions for reference words): ``pass`` covers ``password``,
#: ``passwd`` and ``passphrase``, ``pw`` covers ``pwd``.
NATIVE_KEYS: Final = "|".join(
    (
        caseless("pass"),
        caseless("pw"),
        caseless("secret"),
        caseless("api") + ".?" + caseless("key"),
        caseless("private") + ".?" + caseless("key"),
        caseless("credential"),
        caseless("token"),
    )
)
