"""Custom rules in CEL, with the variables ValidatingAdmissionPolicy users know.

Implementation: ``cel-expr-python``, the CEL project's own wrapper of its C++
implementation (the same core family as cel-go, which Kubernetes embeds). It
was chosen over ``common-expression-language`` (Rust; converts the whole
object on every call: ~48 µs for a small job, ~600 µs for one with
managedFields, and pulls a CLI's dependencies) and ``cel-python`` (pure
Python: 110-230 µs per evaluation) because it type-checks at compile time,
converts only the fields an expression reads (an activation costs 2-4 µs) and
has no dependencies. Measured on this project's 2-core machines: one rule
evaluates in about 2-8 µs.

Variables (all JSON-like values):

- ``object``: the TrainingJob (after defaults, on CREATE);
- ``oldObject``: the stored object on UPDATE, else ``null``;
- ``request``: ``{operation, namespace, dryRun, userInfo: {username, groups}}``;
- ``params``: the policy's ``params`` block;
- ``namespaceObject``: ``{metadata: {name, labels}}`` when the namespace's
  labels are known, else ``null``.

The expression must yield a boolean: true means the object is fine. A rule
whose expression fails at run time (a missing field: guard with ``has()``)
yields a finding that says so, with the rule's action: a rule that cannot be
evaluated never lets an object through silently.

The first evaluation converts ``object`` and ``oldObject`` whole, whatever the
expression reads. The engine's size gate (:mod:`webhook.constraints.bounds`)
bounds all of them but the members of ``metadata`` no other check reads
(``managedFields`` ...): those are held to the gate's fixed bounds here, and a
job beyond them is not evaluated (a finding says so, as above).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from cel_expr_python import cel

from webhook.constraints.bounds import CHARS, DEPTH, ENTRIES, VALUES
from webhook.constraints.gate import fits
from webhook.policy.model import CelRule
from webhook.policy.rules import Check, RuleConfigError, Violation, parse_field
from webhook.policy.subject import Subject

VARIABLES: Final = ("object", "oldObject", "request", "params", "namespaceObject")
_ENV: Final = cel.NewEnv(variables=dict.fromkeys(VARIABLES, cel.Type.DYN))
_ACTIVATION_KEY: Final = "cel.activation"
_FITS_KEY: Final = "cel.fits"
_TOO_LARGE: Final = (
    "the expression was not evaluated: metadata holds more than trainingjob-guard reads "
    f"(a list or map of over {ENTRIES} entries, a string of over {CHARS} characters, "
    f"over {DEPTH} levels of nesting or {VALUES} values in all)"
)


def _fits(subject: Subject) -> bool:
    """True when the object's and the old object's ``metadata`` are within the gate's bounds."""
    cache = subject.scratch
    found = cache.get(_FITS_KEY)
    if found is None:
        found = all(fits(obj.get("metadata"), depth=1) for obj in (subject.obj, subject.old) if obj)
        cache[_FITS_KEY] = found
    return bool(found)


def _compile(source: str, field: str, want: Any) -> Any:
    try:
        program = _ENV.compile(source)
    except RuntimeError as error:
        text = str(error).removeprefix("INVALID_ARGUMENT: ").removesuffix(" [INVALID_ARGUMENT]")
        raise RuleConfigError(field, f"invalid CEL: {text}") from None
    returns = program.return_type()
    if returns not in (want, cel.Type.DYN):
        raise RuleConfigError(field, f"the expression yields {returns.name()}, not {want.name()}")
    return program


def activation(subject: Subject, params: Mapping[str, Any]) -> Any:
    """The CEL activation of *subject* (built once per subject and params)."""
    cache = subject.scratch
    key = (_ACTIVATION_KEY, id(params))
    found = cache.get(key)
    if found is None:
        context = subject.context
        labels = context.namespace_labels
        found = _ENV.Activation(
            {
                "object": subject.obj,
                "oldObject": subject.old,
                "request": {
                    "operation": context.operation,
                    "namespace": subject.namespace,
                    "dryRun": context.dry_run,
                    "userInfo": {"username": context.user or "", "groups": list(context.groups)},
                    **(context.extra or {}),
                },
                "params": params,
                "namespaceObject": (
                    None
                    if labels is None
                    else {"metadata": {"name": subject.namespace, "labels": dict(labels)}}
                ),
            }
        )
        cache[key] = found
    return found


def compile_rule(rule: CelRule, params: Mapping[str, Any]) -> Check:
    """Compile the expression (and message expression) once."""
    program = _compile(rule.expression, "expression", cel.Type.BOOL)
    message_program = (
        _compile(rule.messageExpression, "messageExpression", cel.Type.STRING)
        if rule.messageExpression
        else None
    )
    default_message = f"failed expression: {rule.expression}"
    path = parse_field(rule.fieldPath) if rule.fieldPath else ()

    def check(subject: Subject) -> Iterator[Violation]:
        if not _fits(subject):
            yield Violation(path, _TOO_LARGE)
            return
        bindings = activation(subject, params)
        value = program.eval(bindings)
        if value.type() == cel.Type.ERROR:
            yield Violation(path, f"the expression could not be evaluated: {value.value()}")
            return
        result = value.value()
        if result is True:
            return
        if result is not False:
            # Never show the value: it may be a hyperparameter or environment value.
            yield Violation(path, f"the expression yielded a {_type_name(result)}, not a boolean")
            return
        yield Violation(path, _message(message_program, bindings, default_message))

    return check


def _message(program: Any, bindings: Any, default: str) -> str:
    if program is None:
        return default
    value = program.eval(bindings)
    if value.type() == cel.Type.ERROR:
        return default
    text = value.value()
    return text if isinstance(text, str) and text else default


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "list", dict: "map", bytes: "bytes"}
    return names.get(type(value), "value")
