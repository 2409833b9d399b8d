"""Rule kind ``hyperparameters`` as CEL (:mod:`webhook.policy.rules.hyperparameters`).

Keys, counts, requirements, enums, patterns and the ``integer`` and ``boolean``
types are exported. Numeric limits (``min``, ``max`` ...) and the ``float`` type
are not: Python's ``int()`` and ``float()`` read forms CEL's conversions do not
(surrounding white space, ``_`` between digits, non-ASCII digits, ``1e400``
overflowing to infinity), so the number a value stands for cannot be had in CEL.
"""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import (
    BLANK_RE2,
    NotExportableError,
    RuleContext,
    globs,
    shown,
)
from webhook.export.model import Validation
from webhook.export.regex import Templated, python_re2
from webhook.policy.model import HyperParameterLimits, HyperparametersRule

_MAP = "object.spec.hyperParameters"
_ENTRIES = 100
_KEY_CHARS = 256
_VALUE_CHARS = 2500
_SPACE = BLANK_RE2[1:-2]  # the class of Python's white space
INTEGER_RE2 = f"^{_SPACE}*[+-]?\\p{{Nd}}(?:_?\\p{{Nd}})*{_SPACE}*$"
"""What ``int(text.strip())`` takes: Unicode digits, ``_`` between two, a sign, white space."""
BOOLEAN_RE2 = f"^{_SPACE}*(?:[tT][rR][uU][eE]|[fF][aA][lL][sS][eE]){_SPACE}*$"
"""What ``text.strip().lower() in ("true", "false")`` takes."""


def _entries(body: str) -> str:
    return text.implies(
        f"has(object.spec) && has({_MAP})",
        text.any_of(
            [f"size({_MAP}) > {_ENTRIES}", f"{_MAP}.all(x0, size(x0) > {_KEY_CHARS} || {body})"]
        ),
    )


def _value_checks(key: str, limits: HyperParameterLimits) -> list[tuple[str, str]]:
    """(CEL check of the value ``v``, what is wrong) for each limit of one key."""
    if any(
        bound is not None
        for bound in (limits.min, limits.max, limits.exclusiveMin, limits.exclusiveMax)
    ):
        raise NotExportableError(
            f"keys.{key}: numeric limits need the number Python's int()/float() read, which CEL "
            "cannot have for every form they take"
        )
    checks: list[tuple[str, str]] = []
    if limits.type == "float":
        raise NotExportableError(
            f"keys.{key}: type float: Python's float() reads forms CEL's double() does not"
        )
    if limits.type == "integer":
        checks.append((f"v.matches({text.string(INTEGER_RE2)})", "value is not an integer"))
    elif limits.type == "boolean":
        checks.append(
            (f"v.matches({text.string(BOOLEAN_RE2)})", "value is not a boolean (true or false)")
        )
    if limits.enum is not None:
        listed = (
            ", ".join(limits.enum) if len(limits.enum) <= 12 else f"the {len(limits.enum)} values"
        )
        checks.append((f"v in {text.strings(limits.enum)}", f"value is not one of {listed}"))
    if limits.pattern is not None:
        regex = python_re2(limits.pattern, placeholders=False)
        checks.append((regex.matches("v"), f"value does not match the pattern {limits.pattern}"))
    return checks


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``hyperparameters`` rule."""
    rule: HyperparametersRule = context.rule
    out: list[Validation] = []
    deny = globs(rule.denyKeys) if rule.denyKeys else None
    allow = globs(rule.allowKeys) if rule.allowKeys is not None else None
    if rule.maxCount is not None:
        out.append(
            context.validation(
                "spec.hyperParameters",
                text.implies(
                    f"has(object.spec) && has({_MAP})", f"size({_MAP}) <= {rule.maxCount}"
                ),
                f"more hyperparameters than the {rule.maxCount} the policy allows",
            )
        )
    if deny is not None:
        out.append(
            context.validation(
                "spec.hyperParameters[*]",
                _entries(f"!{deny.matches('x0')}"),
                ["a denied hyperparameter; denied: ", *shown(rule.denyKeys)],
            )
        )
    if allow is not None:
        denied = deny.matches("x0") if deny is not None else text.FALSE
        out.append(
            context.validation(
                "spec.hyperParameters[*]",
                _entries(text.any_of([denied, allow.matches("x0")])),
                ["not an allowed hyperparameter; allowed: ", *shown(rule.allowKeys or [])],
            )
        )
    for key, limits in rule.keys.items():
        literal = text.string(key)
        value = f"{_MAP}[{literal}]"
        checks = _value_checks(key, limits)
        skipped = [part for part in (_denied(deny, literal), _not_allowed(allow, literal)) if part]
        present = f"has(object.spec) && has({_MAP}) && {literal} in {_MAP}"
        for check, what in checks:
            body = text.any_of([*skipped, f"size({value}) > {_VALUE_CHARS}", _bind(check, value)])
            out.append(
                context.validation(
                    f"spec.hyperParameters[{key}]", text.implies(present, body), what
                )
            )
        if limits.required:
            out.append(
                context.validation(
                    f"spec.hyperParameters[{key}]",
                    present,
                    f"hyperparameter {literal[1:-1]} is required; missing",
                )
            )
    return out


def _bind(check: str, value: str) -> str:
    """*check* of ``v`` (its first token) on *value*."""
    assert check.startswith(("v.", "v "))
    return value + check[1:]


def _denied(deny: Templated | None, literal: str) -> str:
    return deny.matches(literal) if deny is not None else ""


def _not_allowed(allow: Templated | None, literal: str) -> str:
    return f"!{allow.matches(literal)}" if allow is not None else ""
