"""The size gate as CEL: the ``fits`` variable, and the guard on every other check.

As in the webhook (:mod:`webhook.constraints.bounds`), a job over a bound is
denied for that alone: the gate's own validations say which bound, the variable
:data:`FITS` is true when none is crossed, and every other validation of every
exported policy holds when it is false (:func:`guarded`), so that nothing under
an oversized list or map is looked into. :func:`gate` writes the variable's
test of the spec, :func:`metadata_gate` the fixed bounds of ``metadata``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from webhook.constraints.bounds import CHARS, ENTRIES, READ_METADATA, fixed_length
from webhook.constraints.schema import ListShape, MapShape, Shape, StringShape, StructShape
from webhook.export import text
from webhook.export.walk import variable

FITS: Final = "fits"
"""The variable every exported policy has: true when the size gate finds nothing."""
FITS_REF: Final = f"variables.{FITS}"


def guarded(expression: str) -> str:
    """*expression*, or true when the size gate finds something.

    The webhook then says nothing but the gate's findings.
    """
    return text.any_of([f"!{FITS_REF}", expression])


def gate(shape: Shape, value: str, depth: int = 0) -> str:
    """CEL: the value *value* of *shape* is within every bound of the size gate.

    Written as ``size(l) <= max && l.all(...)``, so that the cost estimate learns
    each bound from it (:func:`webhook.export.facts.facts`).
    """
    if isinstance(shape, StringShape):
        high = shape.max if shape.max is not None else fixed_length(shape)
        return f"size({value}) <= {high}"
    if isinstance(shape, StructShape):
        return text.all_of(
            text.implies(f"has({value}.{name})", gate(member.shape, f"{value}.{name}", depth))
            for name, member in shape.members.items()
        )
    if isinstance(shape, ListShape):
        high = shape.max if shape.max is not None else ENTRIES
        name = variable(depth)
        inner = gate(shape.member, name, depth + 1)
        items = text.TRUE if inner == text.TRUE else f"{value}.all({name}, {inner})"
        return text.all_of([f"size({value}) <= {high}", items])
    if isinstance(shape, MapShape):
        high = shape.max if shape.max is not None else ENTRIES
        name = variable(depth)
        key_high = shape.key.max if shape.key.max is not None else CHARS
        inner = text.all_of(
            [f"size({name}) <= {key_high}", gate(shape.value, f"{value}[{name}]", depth + 1)]
        )
        return text.all_of([f"size({value}) <= {high}", f"{value}.all({name}, {inner})"])
    return text.TRUE


def metadata_gate(base: str = "object") -> Iterator[tuple[str, str, str]]:
    """The fixed bounds of the members of ``metadata`` checks read: (path, check, what)."""
    meta = f"{base}.metadata"
    for name in READ_METADATA:
        field = f"{meta}.{name}"
        if name in ("labels", "annotations"):
            check = (
                f"size({field}) <= {ENTRIES} && "
                f"{field}.all(x0, size(x0) <= {CHARS} && size({field}[x0]) <= {CHARS})"
            )
            what = f"has more than {ENTRIES} entries or one longer than {CHARS} characters"
        elif name == "finalizers":
            check = f"size({field}) <= {ENTRIES} && {field}.all(x0, size(x0) <= {CHARS})"
            what = f"has more than {ENTRIES} items or one longer than {CHARS} characters"
        else:
            check = f"size({field}) <= {CHARS}"
            what = f"is longer than {CHARS} characters"
        yield f"metadata.{name}", text.implies(f"has({field})", check), what
