"""JSON Patch operations as data: one structure, rendered as CEL two ways.

A ``JSONPatch`` mutation of a MutatingAdmissionPolicy
(``admissionregistration.k8s.io/v1beta1``) is a CEL expression whose value is a
list of ``JSONPatch{op, path, value}``. The exporter writes none of that text by
hand: it builds :class:`Op` and :class:`When` nodes and :func:`expression`
renders them, either with ``JSONPatch{...}`` for the API server, or with map
literals (``{"op": ..., "path": ..., "value": ...}``) for offline evaluation,
as the CEL core the webhook uses (cel-expr-python, standard library only) has no
``JSONPatch`` type. Both come from the same nodes by the same code; they differ
only in how one operation is written, so what the tests evaluate is what the
API server runs.

Values (:data:`Value`) are JSON values whose strings may hold CEL string
expressions (:class:`Concat`, for placeholders such as ``request.namespace``),
and lists whose items may be conditional (:class:`Item`). Kubernetes compiles
its CEL with homogeneous aggregate literals (``cel.HomogeneousAggregateLiterals``
in ``k8s.io/apiserver/pkg/cel/environment/base.go``): a list or map literal whose
items have different types does not compile. Where they differ, every item is
written ``dyn(...)``, which any type is assignable to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from webhook.export import text

INT64: Final = (-(2**63), 2**63 - 1)
"""The range of a CEL ``int`` (and of a Kubernetes integer)."""


@dataclass(frozen=True, slots=True)
class Cel:
    """A CEL expression of type string, spliced into a :class:`Concat`."""

    source: str


@dataclass(frozen=True, slots=True)
class Concat:
    """A string made of literal parts and CEL string expressions, in order."""

    parts: tuple[str | Cel, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """A list item, included only where *condition* (a CEL boolean) holds when one is given."""

    value: Value
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list literal."""

    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class MapOf:
    """A map literal with string keys, in order."""

    entries: tuple[tuple[str, Value], ...]


Value: TypeAlias = str | int | bool | Concat | ListOf | MapOf
"""A JSON value (no null, no float: no default holds one) that CEL can build."""


@dataclass(frozen=True, slots=True)
class Op:
    """One JSON Patch operation with a fixed path."""

    op: str
    path: str
    """A JSON Pointer (RFC 6901), escaped."""
    value: Value


@dataclass(frozen=True, slots=True)
class When:
    """Operations that depend on the object: *then* where *condition* holds, else *otherwise*."""

    condition: str
    then: tuple[Node, ...]
    otherwise: tuple[Node, ...] = ()


Node: TypeAlias = Op | When

JSON_PATCH: Final = "JSONPatch"
"""The CEL type of one operation in a MutatingAdmissionPolicy's ``JSONPatch`` mutation."""


def expression(nodes: Sequence[Node], *, typed: bool = True) -> str:
    """The CEL list of operations *nodes* yield: ``JSONPatch{...}`` when *typed*, else maps."""
    segments: list[str] = []
    plain: list[str] = []
    for node in nodes:
        if isinstance(node, Op):
            plain.append(_op(node, typed))
            continue
        if plain:
            segments.append("[" + ", ".join(plain) + "]")
            plain = []
        then = expression(node.then, typed=typed)
        otherwise = expression(node.otherwise, typed=typed)
        condition = text.grouped(node.condition)
        segments.append(f"({condition} ? {text.grouped(then)} : {text.grouped(otherwise)})")
    if plain:
        segments.append("[" + ", ".join(plain) + "]")
    if not segments:
        return "[]"
    return " + ".join(segments)


def _op(node: Op, typed: bool) -> str:
    op, path, value = text.string(node.op), text.string(node.path), literal(node.value)
    if typed:
        return f"{JSON_PATCH}{{op: {op}, path: {path}, value: {value}}}"
    return f'{{"op": {op}, "path": {path}, "value": {value}}}'


def literal(value: Value) -> str:
    """The CEL source that builds *value* (strings as literals, placeholders spliced in)."""
    if isinstance(value, bool):
        return text.TRUE if value else text.FALSE
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"{value} is beyond a 64-bit integer")
        return str(value)
    if isinstance(value, str):
        return text.string(value)
    if isinstance(value, Concat):
        return _concat(value)
    if isinstance(value, MapOf):
        values = _homogeneous([item for _, item in value.entries])
        pairs = ", ".join(
            f"{text.string(key)}: {item}"
            for (key, _), item in zip(value.entries, values, strict=True)
        )
        return "{" + pairs + "}"
    return _list(value)


def _concat(value: Concat) -> str:
    parts = [
        part.source if isinstance(part, Cel) else text.string(part)
        for part in value.parts
        if part != ""
    ]
    if not parts:
        return text.string("")
    return text.grouped(" + ".join(text.grouped(part) for part in parts))


def _list(value: ListOf) -> str:
    sources = _homogeneous([item.value for item in value.items])
    segments: list[str] = []
    plain: list[str] = []
    for item, source in zip(value.items, sources, strict=True):
        if item.condition is None:
            plain.append(source)
            continue
        if plain:
            segments.append("[" + ", ".join(plain) + "]")
            plain = []
        segments.append(f"({text.grouped(item.condition)} ? [{source}] : [])")
    if plain or not segments:
        segments.append("[" + ", ".join(plain) + "]")
    return segments[0] if len(segments) == 1 else "(" + " + ".join(segments) + ")"


def _homogeneous(values: Sequence[Value]) -> list[str]:
    """The literals of *values*, each ``dyn(...)`` unless they all have one CEL type."""
    sources = [literal(item) for item in values]
    if len({cel_type(item) for item in values}) <= 1:
        return sources
    return [f"dyn({source})" for source in sources]


def cel_type(value: Value) -> str:
    """The CEL type the type checker gives :func:`literal` of *value*."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str | Concat):
        return "string"
    if isinstance(value, MapOf):
        return f"map(string, {_joined(item for _, item in value.entries)})"
    return f"list({_joined(item.value for item in value.items)})"


def _joined(values: Iterable[Value]) -> str:
    types = {cel_type(item) for item in values}
    return types.pop() if len(types) == 1 else "dyn"


__all__ = [
    "JSON_PATCH",
    "Cel",
    "Concat",
    "Item",
    "ListOf",
    "MapOf",
    "Node",
    "Op",
    "Value",
    "When",
    "cel_type",
    "expression",
    "literal",
]
