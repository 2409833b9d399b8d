"""SageMaker's API constraints as CEL, from the same data as the Python checks.

The generated constraints (:mod:`webhook.constraints.schema`) are walked once,
shape by shape, and every check :mod:`webhook.constraints.check`,
:mod:`webhook.constraints.rules` and the size gate (:mod:`webhook.constraints.bounds`)
make becomes a validation with the same rule id, at the same field:

* the size gate: a list, map, string or map key over SageMaker's bound (an enum's
  value over :data:`~webhook.constraints.bounds.ENUM_CHARS`), and ``metadata``'s
  labels, annotations and finalizers over the fixed bounds. As in the webhook,
  a job over a bound is denied for that alone: every other validation of every
  exported policy holds for it (:mod:`webhook.export.gate`), and nothing under
  an oversized list or map is looked into;
* ``sagemaker.required``, ``.length`` (too short), ``.enum``, ``.instance-type``,
  ``.pattern`` (Java's patterns in RE2, :func:`webhook.export.regex.java_re2`),
  ``.range``, ``.int32``, ``.list-size``, ``.map-size``, ``placeholder`` (which
  stands in for the others on the same string, as in the walk), ``k8s.name``,
  and the four cross-field rules (:mod:`webhook.export.cross_field`).

A pattern RE2 cannot state is reported, not exported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from webhook.constraints import messages as constraint_messages
from webhook.constraints.bounds import (
    CHARS,
    ENTRIES,
    LENGTH,
    LIST_SIZE,
    MAP_SIZE,
    RULE,
    UNCHECKED,
    fixed_length,
)
from webhook.constraints.check import FREE_TEXT_FIELDS
from webhook.constraints.patterns import one_line
from webhook.constraints.schema import (
    INT32_MAX,
    BoolShape,
    Constraints,
    IntShape,
    ListShape,
    MapShape,
    Shape,
    StringShape,
    StructShape,
)
from webhook.engine import DNS_SUBDOMAIN
from webhook.export import text
from webhook.export.cross_field import cross_field
from webhook.export.gate import FITS, FITS_REF, gate, guarded, metadata_gate
from webhook.export.model import Skipped, Validation, Variable
from webhook.export.regex import JavaPattern, NotExportableError, java_re2
from webhook.export.snippets import has, message, one_line_check, placeholder_in, unless_reported
from webhook.export.walk import Check, Walker, display, each_entry, variable
from webhook.model.concepts import ITEMS
from webhook.paths import SENSITIVE_MAPS

_DNS_MAX: Final = 253


@dataclass(frozen=True, slots=True)
class _Site:
    """Where a string, number, list or map is: its field pattern and display path."""

    pattern: tuple[str, ...]
    shape: Shape
    free: bool = False
    sensitive: bool = False


class _Exporter:
    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self.walker = Walker(constraints)
        self.validations: list[Validation] = []
        self.skipped: list[Skipped] = []

    def add(self, rule: str, path: str, expression: str, what: str, *, gate: bool = False) -> None:
        if expression == text.TRUE:
            return
        body = expression if gate else guarded(expression)
        suffix = UNCHECKED if gate else ""
        self.validations.append(
            Validation(rule, path, body, message(path, what + suffix, rule), gate=gate)
        )

    # -- the walk ----------------------------------------------------------------------

    def run(self) -> None:
        self.structure((), self.constraints.root)
        for check in cross_field(self.walker):
            self.add(*check)
        self.name()

    def structure(self, pattern: tuple[str, ...], shape: StructShape) -> None:
        for required in shape.required:
            member = shape.members[required]
            self.add(
                "sagemaker.required",
                display((*pattern, required)),
                self.walker.at(pattern, functools.partial(has, name=required)),
                constraint_messages.required(member).removeprefix(f"{required} "),
            )
        for name, member in shape.members.items():
            self.value(_Site((*pattern, name), member.shape, free=name in FREE_TEXT_FIELDS))

    def value(self, site: _Site) -> None:
        shape = site.shape
        if isinstance(shape, StringShape):
            self.string(site, shape)
        elif isinstance(shape, IntShape):
            self.integer(site, shape)
        elif isinstance(shape, ListShape):
            self.listing(site, shape)
        elif isinstance(shape, MapShape):
            self.mapping(site, shape)
        elif isinstance(shape, StructShape):
            self.structure(site.pattern, shape)
        else:
            assert isinstance(shape, BoolShape)

    def string(self, site: _Site, shape: StringShape) -> None:
        path = display(site.pattern)
        self.strings(path, shape, lambda check: self.walker.at(site.pattern, check), site)

    def strings(
        self, path: str, shape: StringShape, where: Callable[[Check], str], site: _Site
    ) -> None:
        """Every check of one string field (*where* wraps a check of the value)."""
        high = shape.max if shape.max is not None else fixed_length(shape)
        low = shape.min or 0
        over_rule = LENGTH if shape.max is not None else RULE
        self.add(
            over_rule,
            path,
            where(lambda v: f"size({v}) <= {high}"),
            f"longer than the {high} characters "
            + ("SageMaker allows" if shape.max is not None else "checked"),
            gate=True,
        )
        placeholder = not site.free

        def test(body: Check) -> str:
            return where(unless_reported(body, high, placeholder=placeholder))

        if placeholder:
            self.add(
                "placeholder",
                path,
                where(lambda v: text.any_of([f"size({v}) > {high}", f"!{placeholder_in(v)}"])),
                "contains an unsubstituted placeholder ($VAR, ${VAR} or <...>): replace it "
                "with a real value before applying",
            )
        if low:
            self.add(
                LENGTH,
                path,
                test(lambda v: f"size({v}) >= {low}"),
                f"shorter than the {low} character{'s' if low > 1 else ''} SageMaker requires",
            )
        if shape.enum:
            self.enum(path, shape, test)
        elif shape.pattern is not None:
            self.pattern(path, shape, shape.pattern, test, low)

    def enum(self, path: str, shape: StringShape, test: Callable[[Check], str]) -> None:
        """``sagemaker.enum`` (``.instance-type``): the value is one SageMaker allows."""
        rule = "sagemaker.instance-type" if shape.instance_types else "sagemaker.enum"
        longest = max(len(value) for value in shape.enum)
        allowed = (
            f"one of {', '.join(shape.enum)}"
            if len(shape.enum) <= constraint_messages.LISTED
            else f"one of the {len(shape.enum)} values SageMaker allows ({self.constraints.source})"
        )
        self.add(
            rule,
            path,
            test(lambda v: f"(size({v}) <= {longest} && {v} in {text.strings(shape.enum)})"),
            f"not {allowed}",
        )

    def pattern(
        self, path: str, shape: StringShape, pattern: str, test: Callable[[Check], str], low: int
    ) -> None:
        """``sagemaker.pattern``: the value matches *pattern*; skipped where RE2 cannot say it."""
        body: Check
        if one_line(pattern, low):
            body = one_line_check
            what = "holds a line break; SageMaker takes none here"
        else:
            try:
                java = java_re2(pattern)
            except NotExportableError as error:
                self.skipped.append(Skipped("sagemaker.pattern", f"{path}: {error}"))
                return
            body = functools.partial(JavaPattern.holds, java)
            hint = constraint_messages.PATTERN_HINTS.get(shape.name)
            what = f"is not {hint}" if hint else f"does not match {pattern}"
        self.add(
            "sagemaker.pattern",
            path,
            test(lambda v: text.any_of([f"size({v}) < {low}", body(v)] if low else [body(v)])),
            what,
        )

    def integer(self, site: _Site, shape: IntShape) -> None:
        path = display(site.pattern)
        low, high = shape.lowest, shape.highest
        if shape.bits == 32:
            self.add(
                "sagemaker.int32",
                path,
                self.walker.at(site.pattern, lambda v: f"{v} <= {INT32_MAX}"),
                f"above {INT32_MAX}: SageMaker takes this field as a 32-bit integer",
            )
        bounds = []
        if low > -(2 ** (shape.bits - 1)):
            bounds.append(f"$v >= {low}")
        if high < 2 ** (shape.bits - 1) - 1:
            bounds.append(f"$v <= {high}")
        if not bounds:
            return
        overflow = f"$v > {INT32_MAX}" if shape.bits == 32 else ""
        check = text.any_of([part for part in (overflow, text.all_of(bounds)) if part])
        # "$v" stands for the value: the check holds only names and numbers.
        what = constraint_messages.out_of_range(low, shape).partition("; ")[2]
        self.add(
            "sagemaker.range",
            path,
            self.walker.at(site.pattern, lambda v: check.replace("$v", v)),
            f"out of range; {what}",
        )

    def listing(self, site: _Site, shape: ListShape) -> None:
        path = display(site.pattern)
        high = shape.max if shape.max is not None else ENTRIES
        rule = LIST_SIZE if shape.max is not None else RULE
        self.add(
            rule,
            path,
            self.walker.at(site.pattern, lambda v: f"size({v}) <= {high}"),
            f"has more than the {high} items SageMaker allows",
            gate=True,
        )
        if shape.min:
            self.add(
                LIST_SIZE,
                path,
                self.walker.at(site.pattern, lambda v: f"size({v}) >= {shape.min}"),
                f"has fewer than the {shape.min} item{'s' if shape.min > 1 else ''} "
                "SageMaker requires",
            )
        self.value(_Site((*site.pattern, ITEMS), shape.member))

    def mapping(self, site: _Site, shape: MapShape) -> None:
        path = display(site.pattern)
        high = shape.max if shape.max is not None else ENTRIES
        sensitive = site.pattern[-1] in SENSITIVE_MAPS
        at = self.walker.at
        self.add(
            MAP_SIZE if shape.max is not None else RULE,
            path,
            at(site.pattern, lambda v: f"size({v}) <= {high}"),
            f"has more than the {high} entries SageMaker allows",
            gate=True,
        )
        key, value = shape.key, shape.value
        key_high = key.max if key.max is not None else CHARS
        depth = len([step for step in site.pattern if step == ITEMS])

        def entries(check: object) -> str:
            assert callable(check)
            return at(site.pattern, lambda m: each_entry(m, high, depth, check))

        self.add(
            LENGTH if key.max is not None else RULE,
            f"{path}[*]",
            entries(lambda k, _: f"size({k}) <= {key_high}"),
            f"has a key longer than the {key_high} characters SageMaker allows",
            gate=True,
        )
        if shape.min:
            self.add(
                MAP_SIZE,
                path,
                at(site.pattern, lambda v: f"size({v}) >= {shape.min}"),
                f"has fewer than the {shape.min} entries SageMaker requires",
            )
        key_low = key.min or 0
        if key_low:
            self.add(
                LENGTH,
                f"{path}[*]",
                entries(
                    lambda k, _: text.any_of([f"size({k}) > {key_high}", f"size({k}) >= {key_low}"])
                ),
                f"has an empty key; SageMaker requires at least {key_low} character"
                + ("s" if key_low > 1 else ""),
            )
        if key.pattern is not None:
            self.key_pattern(path, key, key.pattern, entries)
        # Values: free text (no placeholder check), never shown.
        assert isinstance(value, StringShape)
        value_site = _Site(site.pattern, value, free=True, sensitive=sensitive)
        self.strings(
            f"{path}[*]",
            value,
            lambda check: entries(lambda k, v: text.any_of([f"size({k}) > {key_high}", check(v)])),
            value_site,
        )

    def key_pattern(
        self, path: str, key: StringShape, pattern: str, entries: Callable[[object], str]
    ) -> None:
        """``sagemaker.pattern`` of a map's keys (*entries* wraps a check of each entry)."""
        high = key.max if key.max is not None else CHARS
        low = key.min or 0
        body: Check
        if one_line(pattern, low):
            body = one_line_check
            what = "has a key with a line break; SageMaker takes none"
        else:
            body = functools.partial(JavaPattern.holds, java_re2(pattern))
            hint = constraint_messages.PATTERN_HINTS.get(key.name)
            what = (
                f"has a key that is not {hint}"
                if hint
                else f"has a key that does not match {pattern}"
            )
        self.add(
            "sagemaker.pattern",
            f"{path}[*]",
            entries(
                lambda k, _: text.any_of(
                    [f"size({k}) > {high}"] + ([f"size({k}) < {low}"] if low else []) + [body(k)]
                )
            ),
            what,
        )

    # -- the object's name -------------------------------------------------------------

    def name(self) -> None:
        meta = "object.metadata"
        name = f"{meta}.name"
        self.add(
            "k8s.name",
            "metadata.name",
            text.any_of([f"has({name})", f"has({meta}.generateName) && {meta}.generateName != ''"]),
            "metadata.name is required",
        )
        self.add(
            "placeholder",
            "metadata.name",
            text.implies(
                f"has({name})", text.any_of([f"size({name}) > {CHARS}", f"!{placeholder_in(name)}"])
            ),
            "contains an unsubstituted placeholder: replace it with a real value before applying",
        )
        dns = text.string("^" + DNS_SUBDOMAIN.pattern + "$")
        valid = f"size({name}) <= {_DNS_MAX} && {name}.matches({dns})"
        self.add(
            "k8s.name",
            "metadata.name",
            text.implies(
                f"has({name})",
                text.any_of([f"size({name}) > {CHARS}", placeholder_in(name), valid]),
            ),
            "is not a valid Kubernetes name: at most 253 lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit",
        )


@dataclass(frozen=True, slots=True)
class ConstraintsExport:
    """The validations of SageMaker's constraints and the size gate's variable."""

    validations: tuple[Validation, ...]
    fits: Variable
    skipped: tuple[Skipped, ...]


def export_constraints(constraints: Constraints) -> ConstraintsExport:
    """Every check of *constraints* that CEL can state, as validations, and the gate."""
    exporter = _Exporter(constraints)
    exporter.run()
    bounds = [text.implies("has(object.spec)", gate(constraints.root, "object.spec"))]
    for path, check, what in metadata_gate():
        exporter.add(RULE, path, check, what, gate=True)
        bounds.append(check)
    fits = Variable(FITS, text.all_of(bounds))
    return ConstraintsExport(tuple(exporter.validations), fits, tuple(exporter.skipped))


__all__ = ["FITS", "FITS_REF", "ConstraintsExport", "export_constraints", "guarded", "variable"]
