"""One policy's defaults as JSON Patch nodes: the webhook's fill-absent, stated in CEL.

:func:`fill` walks a compiled :class:`~webhook.policy.defaults.DefaultsPlan` as
:func:`webhook.policy.defaults.patch_for` does and writes, for every field, the
test of its absence and the operations the webhook would emit
(:mod:`webhook.export.mutation`):

* a field absent from the job (``!has(...)``; ``"key" in ...`` for a key of a
  string map such as ``hyperParameters``) is added, a mapping whole; a present
  mapping is descended into; anything else present is left alone;
* ``tags`` absent are added as a list; present, each default tag whose key no
  tag of the job has (``tags.exists(...)``) is appended;
* placeholders in strings: ``{namespace}`` is ``request.namespace``, ``{name}``
  the job's ``metadata.name`` and ``{trainingJobName}`` its ``spec.trainingJobName``
  (``""`` when absent, as the webhook has it).

The API server has pruned nulls before mutating admission (the CRD declares no
field nullable), so presence is ``has()``. A field of the wrong type that the
webhook would step over (``stoppingCondition: 5`` where a default fills in one of
its members) makes the expression fail instead: the mutation fails closed, and
the API server would refuse such a job at its schema check anyway.

What CEL cannot state is reported (:class:`~webhook.export.model.Skipped`) and
left to the webhook: ``coerceStrings``; a string with a brace next to
``{namespace}`` or ``{name}`` (the webhook substitutes one placeholder after the
other, in what it substituted, so a value could complete another placeholder);
and the fields the caller withholds. So is every field an earlier policy's
unexported default covers, and every tag after an earlier policy's unexported
tag, because the first policy by id must win and the webhook, filling them in
after the policy, appends its tags in policy order.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel

from webhook.export import text
from webhook.export.kinds import NotExportableError
from webhook.export.model import Skipped
from webhook.export.mutation import (
    Cel,
    Concat,
    Item,
    ListOf,
    MapOf,
    Node,
    Op,
    Value,
    When,
    literal,
)
from webhook.introspect import model_of, unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.paths import format_path
from webhook.policy.defaults.plan import BRANCH, TAGS, DefaultsPlan, Field

Leaf = tuple[str, ...]
"""A field a default sets, by path from the root; a default tag as ``(..., "tags", key)``."""

NAMESPACE: Final = "{namespace}"
NAME: Final = "{name}"
TRAINING_JOB_NAME: Final = "{trainingJobName}"
_PLACEHOLDER: Final = re.compile(r"\{(?:namespace|name|trainingJobName)\}")

#: What each placeholder reads: the webhook's :meth:`~webhook.policy.subject.Subject.template`.
PLACEHOLDERS: Final = {
    NAMESPACE: "request.namespace",
    NAME: '(has(object.metadata.name) ? object.metadata.name : "")',
    TRAINING_JOB_NAME: '(has(object.spec.trainingJobName) ? object.spec.trainingJobName : "")',
}
TAGS_PATH: Final = "object.spec.tags"
JOB_NAME: Final[Leaf] = ("spec", "trainingJobName")

#: CEL's reserved words: a field so named cannot follow a ``.`` in an expression.
_RESERVED: Final = frozenset(
    {
        "as", "break", "const", "continue", "else", "false", "for", "function", "if",
        "import", "in", "let", "loop", "namespace", "null", "package", "return", "true",
        "var", "void", "while",
    }
)  # fmt: skip
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class Filled:
    """A policy's defaults as nodes, with what was left out and what they read."""

    nodes: list[Node] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    placeholders: set[str] = field(default_factory=set)
    """The placeholders its strings use (their sizes bound the cost)."""
    merges_tags: bool = False
    """It appends to a job's own ``tags`` (their number bounds the cost)."""
    tags: int = 0
    """The most tags it can add."""
    leaves: set[Leaf] = field(default_factory=set)
    """Every field it would set, exported or not (for the policies after it)."""
    unstated: set[Leaf] = field(default_factory=set)
    """The fields it would set and was not exported (the policies after it must not set them
    first)."""


def reads_job_name(plan: DefaultsPlan) -> bool:
    """Whether a string of *plan* has the ``{trainingJobName}`` placeholder."""
    return any(TRAINING_JOB_NAME in string for string in _strings(plan.fields))


def _strings(fields: Iterable[Field]) -> Iterator[str]:
    for item in fields:
        if item.kind == BRANCH:
            yield from _strings(item.children)
        elif item.kind == TAGS:
            for key, value in item.value:
                yield key
                if value is not None:
                    yield value
        else:
            yield from _texts(item.value)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def leaves(plan: DefaultsPlan) -> set[Leaf]:
    """Every field *plan* sets: its leaves, and each default tag."""
    out: set[Leaf] = set()
    _collect(plan.fields, out)
    return out


def _collect(fields: Iterable[Field], out: set[Leaf]) -> None:
    for item in fields:
        if item.kind == BRANCH:
            _collect(item.children, out)
        elif item.kind == TAGS:
            out.update((*item.parts, key) for key, _ in item.value)
        else:
            out.add(item.parts)


def fill(
    policy: str,
    plan: DefaultsPlan,
    *,
    taken: set[Leaf] | None = None,
    withheld: Mapping[Leaf, str] | None = None,
) -> Filled:
    """The nodes of *policy*'s *plan*.

    *taken*: fields earlier policies set but could not export (left out here too, so the
    first policy still wins with the webhook after the policies); *withheld*: fields to
    leave to the webhook, with the reason.
    """
    out = Filled(leaves=leaves(plan))
    walker = _Walker(policy, out, taken or set(), dict(withheld or {}))
    if plan.coerce_strings:
        walker.skip(
            "coerceStrings",
            'CEL\'s string() writes numbers unlike the webhook (1.0 as "1", 1234567.0 as '
            '"1.234567e+06"), and only the API server\'s jsonpatch.escapeKey() escapes a map key '
            "in a path: numbers and booleans in hyperParameters and environment stay as they are, "
            "and the CRD's schema refuses them",
        )
    out.nodes = walker.fields(plan.fields, "object.spec", TrainingJobSpec)
    return out


class _Walker:
    def __init__(
        self, policy: str, out: Filled, taken: set[Leaf], withheld: dict[Leaf, str]
    ) -> None:
        self.policy = policy
        self.out = out
        self.taken = taken
        self.withheld = withheld

    def skip(self, what: str, why: str, *leaves: Leaf) -> None:
        self.out.skipped.append(Skipped(f"{self.policy}/defaults", f"{what}: {why}"))
        self.out.unstated.update(leaves)

    # -- fields ---------------------------------------------------------------------------

    def fields(
        self, fields: Iterable[Field], base: str, model: type[BaseModel] | None
    ) -> list[Node]:
        nodes: list[Node] = []
        for item in fields:
            node = self.field(item, base, model)
            if node is not None:
                nodes.append(node)
        return nodes

    def field(self, item: Field, base: str, model: type[BaseModel] | None) -> Node | None:
        """The node of one field of the defaults (None when nothing of it is exported)."""
        try:
            here, present = _access(base, item.key, model)
        except NotExportableError as error:
            self.skip(format_path(item.parts), str(error), *_leaves_of(item))
            return None
        if item.kind == TAGS:
            return self.tags(item, present)
        if item.kind == BRANCH:
            inner = self.fields(item.children, here, _child_model(model, item.key))
            whole = self.whole(item)
            if whole is None:
                return None
            return When(f"!{present}", (Op("add", item.pointer, whole),), tuple(inner))
        if item.parts in self.taken:
            self.skip(
                format_path(item.parts),
                "an earlier policy (by id) sets it too and is left to the webhook",
            )
            return None
        if item.parts in self.withheld:
            self.skip(format_path(item.parts), self.withheld[item.parts], item.parts)
            return None
        try:
            value = self.value(item.value)
        except NotExportableError as error:
            self.skip(format_path(item.parts), str(error), item.parts)
            return None
        return When(f"!{present}", (Op("add", item.pointer, value),))

    def whole(self, item: Field) -> MapOf | None:
        """A mapping added whole: the members :meth:`field` exported (None if there is none)."""
        entries: list[tuple[str, Value]] = []
        for child in item.children:
            value: Value | None
            if child.kind == BRANCH:
                value = self.whole(child)
            elif child.parts in self.taken or child.parts in self.out.unstated:
                value = None
            else:
                value = self.value(child.value)
            if value is not None:
                entries.append((child.key, value))
        return MapOf(tuple(entries)) if entries else None

    # -- tags -----------------------------------------------------------------------------

    def tags(self, item: Field, present: str) -> Node | None:
        """``tags``: added whole when absent, else each missing key appended."""
        path = format_path(item.parts)
        if any(other[:-1] == item.parts for other in self.taken):
            self.skip(
                path,
                "an earlier policy (by id) sets tags and is left to the webhook, which "
                "appends its tags first",
                *((*item.parts, key) for key, _ in item.value),
            )
            return None
        chosen: list[tuple[Value, MapOf]] = []
        for key, value in item.value:
            try:
                rendered_key = self.value(key)
                members: list[tuple[str, Value]] = [("key", rendered_key)]
                if value is not None:
                    members.append(("value", self.value(value)))
            except NotExportableError as error:
                self.skip(f"{path}[{key}]", str(error), (*item.parts, key))
                continue
            chosen.append((rendered_key, MapOf(tuple(members))))
        if not chosen:
            return None
        self.out.tags += len(chosen)
        self.out.merges_tags = True
        keys = [key for key, _ in chosen]
        whole = ListOf(
            tuple(
                Item(tag, _all_differ(key, keys[:index])) for index, (key, tag) in enumerate(chosen)
            )
        )
        appended: list[Node] = []
        for index, (key, tag) in enumerate(chosen):
            missing = f"!{TAGS_PATH}.exists(t, has(t.key) && t.key == {literal(key)})"
            condition = text.all_of([missing, _all_differ(key, keys[:index]) or text.TRUE])
            appended.append(When(condition, (Op("add", item.pointer + "/-", tag),)))
        return When(f"!{present}", (Op("add", item.pointer, whole),), tuple(appended))

    # -- values ---------------------------------------------------------------------------

    def value(self, raw: Any) -> Value:
        """*raw* as a :data:`Value`, its strings templated as the webhook templates them."""
        if isinstance(raw, str):
            return self.template(raw)
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int):
            return raw
        if isinstance(raw, Mapping):
            return MapOf(tuple((str(key), self.value(item)) for key, item in raw.items()))
        if isinstance(raw, list | tuple):
            return ListOf(tuple(Item(self.value(item)) for item in raw))
        raise NotExportableError(f"a {type(raw).__name__} has no JSON form")  # pragma: no cover

    def template(self, raw: str) -> str | Concat:
        """*raw* with its placeholders as CEL, or the string itself when it has none."""
        found = _PLACEHOLDER.findall(raw)
        if not found:
            return raw
        pieces = _PLACEHOLDER.split(raw)
        # The webhook substitutes {namespace}, then {name}, then {trainingJobName}, each in the
        # string the previous step left. Substituting each once, as here, is the same unless a
        # value joins the text around it into a later placeholder ("{na{namespace}}" in
        # namespace "me"), which takes a brace in the text.
        if (NAMESPACE in found or NAME in found) and any(set(p) & set("{}") for p in pieces):
            raise NotExportableError(
                f"{text.string(raw)}: a brace next to a placeholder could join a substituted "
                "value into another placeholder, which the webhook would substitute too"
            )
        parts: list[str | Cel] = []
        for index, piece in enumerate(pieces):
            if piece:
                parts.append(piece)
            if index < len(found):
                self.out.placeholders.add(found[index])
                parts.append(Cel(PLACEHOLDERS[found[index]]))
        return Concat(tuple(parts))


def _access(base: str, key: str, model: type[BaseModel] | None) -> tuple[str, str]:
    """CEL for the member *key* of *base* and for its presence.

    A field of the CRD is selected (``base.key``, ``has(base.key)``); a key of a string
    map is indexed (``base["key"]``, ``"key" in base``).
    """
    if model is None:
        quoted = text.string(key)
        return f"{base}[{quoted}]", f"({quoted} in {base})"
    if not _IDENTIFIER.fullmatch(key) or key in _RESERVED:
        raise NotExportableError(f"the field name {key!r} cannot be selected in CEL")
    return f"{base}.{key}", f"has({base}.{key})"


def _child_model(model: type[BaseModel] | None, key: str) -> type[BaseModel] | None:
    """The model of the mapping at *key* of *model*; None for a string map (or a map's key)."""
    if model is None:
        return None
    annotation = unwrap(model.model_fields[key].annotation)
    if typing.get_origin(annotation) is dict:
        return None
    return model_of(annotation)


def _leaves_of(item: Field) -> list[Leaf]:
    out: set[Leaf] = set()
    _collect([item], out)
    return sorted(out)


def _all_differ(key: Value, earlier: list[Value]) -> str | None:
    """CEL: *key* differs from every key in *earlier* that it could equal; None if none could.

    Two default tag keys without placeholders differ (the policy loader refuses a key set
    twice); with one, they may render alike ("{namespace}" in namespace ``team-a`` and
    ``team-a``): the webhook then keeps the first.
    """
    terms = [
        f"{literal(key)} != {literal(other)}"
        for other in earlier
        if isinstance(key, Concat) or isinstance(other, Concat)
    ]
    return text.all_of(terms) if terms else None


__all__ = ["JOB_NAME", "PLACEHOLDERS", "Filled", "Leaf", "fill", "leaves", "reads_job_name"]
