"""Rule kind ``secrets``: credentials written anywhere in the job's ``spec``.

Everything in a TrainingJob's spec is stored in the resource and, for most of
it, in SageMaker's job description, readable by anyone who can get the
resource or call DescribeTrainingJob, so a credential there leaks. The rule
scans **every string of** ``spec``: every value at any depth (map values,
fields, list items, tags) and every key of every object. It walks the spec
rather than a list of fields, so a field the CRD adds later is scanned with
no change here. The scope is ``spec``: ``metadata`` is Kubernetes' own
(labels and annotations have admission controls of their own), and its
``kubectl.kubernetes.io/last-applied-configuration`` annotation only repeats
the spec, which is scanned.

The rule fails closed: nothing narrows the scan. The ``maps`` option, which
once limited it to ``hyperParameters`` and ``environment``, is still accepted
so that policy files that set it load, and ignored (the shipped policies no
longer set it); an empty ``maps`` is no error any more either.

Messages say which kind of secret and the fix; they never show a value, not
even a part of it, nor a key that holds a credential. They say the values (or
keys) "in" the spec's top-level field holding the string are visible
(``values in environment``, ``values in debugHookConfig``). Each string gives
at most one finding, the first that applies of:

1. a recognisable credential of the table
   (:data:`~webhook.policy.rules.credentials.CREDENTIALS`, their one
   definition: AWS access key ids, private keys, GitHub, Slack and Hugging Face
   tokens, JSON Web Tokens, bearer tokens, passwords inside URLs);
2. the same, base64-encoded;
3. an AWS secret access key, by heuristic;
4. for a key's value, a password-like key.

The first three are what a credential looks like in a string, whatever holds
it (:func:`~webhook.policy.rules.credentials.held`, after Unicode
normalization): :mod:`webhook.policy.rules.credentials` gives each form, how
base64 is read and the heuristic. The fourth is what a key's name says
(:func:`~webhook.policy.rules.secret_names.key_kind`):
:mod:`webhook.policy.rules.secret_names` gives the names, the values never
flagged and the words that make a name a reference.

**Names and keys.** A string's name is the key of the object member holding
it (a map key or a field name), or for a tag's ``value``, the tag's ``key``
(any object with a string ``key`` and a string ``value`` is read as such a
pair; ``tags`` today); a list item's name is its list's. The name of a key's
value (not of a list item) decides rule 4; the AWS secret heuristic (3) reads
any string's name.

A key that itself holds a credential (1. to 3.) is reported at the path of
its object, never its own (paths show keys), saying that a key holds it;
nothing under such a key is reported on its own.

``allowKeys`` globs name the entries that are not checked at all: a member
with a string value whose name (as above: a map key, a field, a tag's key)
matches is skipped, key and value; a list item whose list's name matches is
skipped. An object or list under a matching key is still walked (its own
names decide), and its key still checked, since the paths under it show it.
A bare ``*`` is a policy error: the rule would check nothing.

**Speed.** The check walks the spec once to gather its strings, checks each
key and tag key against a set of names already found to say nothing, and
searches all the strings at once
(:func:`~webhook.policy.rules.credentials.quick_hits`: one regex for the starts
of credentials in clear and of their base64 text, one for passwords in URLs
where an ``@`` is, a length test for the 40-character heuristic). In nearly
every job nothing hits, and that is all. Otherwise the exact walk
(:class:`ExactWalk`) runs over the top-level fields holding a hit or a key
that says something, and looks closely only at those strings and keys.

**Native schema** (:func:`native_schema`, :mod:`webhook.native`): the screen of
:mod:`webhook.policy.rules.secret_screen`, built once from the typed model, refuses
every string and every map or tag key the check could flag, and anything the model
does not have (the screen does not look into it). ``allowKeys`` is not taken into
account (stricter). Clean jobs (S3 URIs, ARNs, image names) pass it; a job it refuses
gets the exact check.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from webhook.native import Schema, on_spec
from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import SecretsRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.rules.credentials import STORE_FIX, held, normal, quick_hits
from webhook.policy.rules.secret_names import key_class, key_kind
from webhook.policy.rules.secret_screen import SPEC_SCREEN
from webhook.policy.subject import Subject
from webhook.text import show

_PLAIN_KEYS: set[str] = set()
"""Keys found to name no secret and hold no credential (key names, not values)."""
_PLAIN_KEYS_MAX: Final = 4096


def _plain_key(key: object) -> bool:
    """True when *key* names no secret and holds no credential (remembered when so)."""
    if not isinstance(key, str):
        return False
    if key in _PLAIN_KEYS:
        return True
    if not key.isascii() or held(key, "") is not None or not key_class(key).says_nothing:
        return False
    if len(_PLAIN_KEYS) < _PLAIN_KEYS_MAX:
        _PLAIN_KEYS.add(key)
    return True


#: Types of JSON values that hold no string.
_SCALARS: Final = frozenset({int, float, bool, type(None)})


def _gather(spec: Mapping[Any, Any]) -> tuple[list[str], list[int], set[Any]] | None:
    """Every string value in *spec*; where each member's strings end; the loud members.

    The strings of the *n* th member of *spec* end at index *ends[n]*. A member is
    loud when its key, or a key or tag key in it, is not plain: it may name a secret
    or hold a credential (:func:`_plain_key`). None when the spec itself looks like a
    tag whose key is not plain, or a value is of another type than JSON's (a subclass
    of ``str``, a date from YAML): the exact walk then reads everything.
    """
    plain = _PLAIN_KEYS
    scalars = _SCALARS
    strings: list[str] = []
    append = strings.append
    ends: list[int] = []
    loud: set[Any] = set()
    tag = spec.get("key")
    if type(tag) is str and tag not in plain and not _plain_key(tag):
        return None
    stack: list[Any] = []
    push, pop = stack.append, stack.pop
    for field, top in spec.items():
        if field not in plain and not _plain_key(field):
            loud.add(field)
        kind = type(top)
        if kind is str:
            append(top)
        elif kind is dict or kind is list:
            push(top)
        elif kind not in scalars:
            return None
        while stack:
            node = pop()
            if type(node) is dict:
                if not plain.issuperset(node) and not all(map(_plain_key, node)):
                    loud.add(field)
                tag = node.get("key")
                if type(tag) is str and tag not in plain and not _plain_key(tag):
                    loud.add(field)
                node = node.values()
            for value in node:
                kind = type(value)
                if kind is str:
                    append(value)
                elif kind is dict or kind is list:
                    push(value)
                elif kind not in scalars:
                    return None
        ends.append(len(strings))
    return strings, ends, loud


def _visible(where: str, what: str = "values") -> str:
    return f"{what} in {where} are visible to anyone who can describe the training job"


def _finding(name: str, value: str, where: str, *, entry: bool, full: bool) -> str | None:
    """The message for string *value* named *name* (a key's value when *entry*), if any.

    Only the key's name is looked at unless *full*.
    """
    text = normal(value) if full else value
    credential = held(text, name) if full else None
    if credential is not None:
        what, fix = credential
        return f"value {what}, and {_visible(where)}: {fix}"
    if entry and name not in _PLAIN_KEYS:
        named = key_kind(name, text)
        if named is not None:
            return (
                f"{show(name)} names {named}, and {_visible(where)}: {STORE_FIX}; "
                "if it holds no secret, add the key to the rule's allowKeys"
            )
    return None


def _tag_key(node: dict[Any, Any]) -> str | None:
    """The key of a tag-like object (a string ``key`` and a string ``value``), else None."""
    key = node.get("key")
    return key if isinstance(key, str) and isinstance(node.get("value"), str) else None


_Item = tuple[Path, str, object, str, bool]
"""A value to scan: its path, the spec field it is under, itself, its name, whether it is
a key's value (an entry)."""


@dataclass(frozen=True, slots=True)
class ExactWalk:
    """The exact findings in a spec, in document order (iterative: any depth).

    Only the members of the spec in *fields* are walked, and strings out of *hot*
    are only looked at for their key's name, and not at all when that name is
    plain (None: every member, every string).
    """

    allow: Globs
    subject: Subject
    hot: set[str] | None = None
    fields: set[object] | None = None

    def __call__(self, spec: object) -> Iterator[Violation]:
        """Walk *spec*."""
        stack: list[_Item | Violation] = [(("spec",), "spec", spec, "spec", False)]
        while stack:
            item = stack.pop()
            if isinstance(item, Violation):
                yield item
                continue
            path, where, node, name, entry = item
            if isinstance(node, str):
                if not entry and self.allow and self.allow.matches(name, self.subject):
                    continue  # a list item (an entry's key was matched with its object)
                full = self.hot is None or node in self.hot
                message = _finding(name, node, where, entry=entry, full=full)
                if message is not None:
                    yield Violation(path, message)
            elif isinstance(node, dict):
                stack.extend(reversed(self._members(path, where, node)))
            elif isinstance(node, list):
                stack.extend(reversed(self._items(path, where, node, name)))

    def _members(self, path: Path, where: str, node: dict[Any, Any]) -> list[_Item | Violation]:
        """What to look at in the members of object *node*, in order."""
        plain, hot, allow = _PLAIN_KEYS, self.hot, self.allow
        tag = _tag_key(node)
        top = len(path) == 1
        found: list[_Item | Violation] = []
        for key, value in node.items():
            if top and self.fields is not None and key not in self.fields:
                continue
            kind = type(value)
            if key in plain and (
                kind in _SCALARS
                or (kind is str and hot is not None and value not in hot and key != "value")
            ):
                continue  # the usual member: nothing to find
            text = kind is str or (kind not in _SCALARS and isinstance(value, str))
            named = tag if tag is not None and key == "value" else key
            if not isinstance(named, str):
                named = ""
            elif text and allow and allow.matches(named, self.subject):
                continue  # an allowed entry, key and value
            inner = str(key) if top else where
            if key not in plain and isinstance(key, str):
                credential = held(normal(key), "")
                if credential is not None:  # reported here: the key's own path would show it
                    what, fix = credential
                    message = f"a key {what}, and {_visible(where, 'keys')}: {fix}"
                    found.append(Violation(path, message))
                    continue
            if text:
                if hot is not None and value not in hot and named in plain:
                    continue  # nothing to find
            elif not (kind is dict or kind is list or isinstance(value, dict | list)):
                continue
            found.append(((*path, key), inner, value, named, text))
        return found

    def _items(self, path: Path, where: str, node: list[Any], name: str) -> list[_Item]:
        """What to look at in the items of list *node* (named *name*), in order."""
        hot = self.hot
        found: list[_Item] = []
        for index, value in enumerate(node):
            if isinstance(value, str):
                if hot is not None and value not in hot:
                    continue
            elif not isinstance(value, dict | list):
                continue
            found.append(((*path, index), where, value, name, False))
        return found


def compile_rule(rule: SecretsRule) -> Check:
    """Compile a ``secrets`` rule into a check."""
    for pattern in rule.allowKeys:
        if not pattern.strip("*"):
            raise RuleConfigError(
                "allowKeys", f"{show(pattern)} allows every key: the rule would check nothing"
            )
    allow = Globs(rule.allowKeys)

    def check(subject: Subject) -> Iterator[Violation]:
        spec = subject.spec
        gathered = _gather(spec)
        if gathered is None:
            yield from ExactWalk(allow, subject)(spec)
            return
        strings, ends, fields = gathered
        hot = quick_hits(strings)
        if not fields and not hot:
            return  # nearly every job: nothing to look at closely
        keys = list(spec)
        fields.update(keys[bisect.bisect_right(ends, index)] for index in hot)
        yield from ExactWalk(allow, subject, {strings[index] for index in hot}, fields)(spec)

    return check


def native_schema(rule: SecretsRule) -> Schema:
    """A job this rule finds nothing in (:mod:`webhook.native`).

    The same for every rule (``allowKeys`` aside: stricter), and much stricter
    than the check, to stay simple and fast: it follows the typed model, so it
    applies the value screen to every string once and the key screen only to the
    keys of maps and tags (not to field names the model fixes), and refuses a
    member the model does not have, or a container where the model has a
    scalar. Such a job is rare and gets the exact check.
    """
    del rule
    return on_spec(SPEC_SCREEN)
