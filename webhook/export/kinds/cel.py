"""Rule kind ``cel`` as it is: the expression becomes the validation.

Its variables are ValidatingAdmissionPolicy's own, but for ``params``, the
policy's ``params`` block, which a VAP without a ``paramKind`` does not have:
the block becomes the variable ``params`` (a CEL literal) and each reference to
``params`` becomes ``variables.params``. A ``fieldPath`` that names a string
field is held where that string has a placeholder, as the webhook drops a
finding there.
"""

from __future__ import annotations

from webhook.constraints.check import FREE_TEXT_FIELDS
from webhook.constraints.schema import ListShape, StringShape, StructShape
from webhook.export import text
from webhook.export.expr import free_references
from webhook.export.kinds.common import Cel, NotExportableError, RuleContext
from webhook.export.model import Validation
from webhook.export.snippets import placeholder_in
from webhook.export.syntax import CelSyntaxError, parse
from webhook.policy.model import CelRule
from webhook.policy.rules import parse_field

PARAMS = "params"


def rewrite(source: str) -> str:
    """*source* with each free reference to ``params`` read from ``variables.params``."""
    try:
        tree = parse(source)
    except CelSyntaxError as error:
        raise NotExportableError(f"the expression cannot be read: {error}") from None
    out = source
    for offset in reversed(free_references(tree, PARAMS)):
        out = out[:offset] + "variables." + out[offset:]
    return out


def _placeholder_at(context: RuleContext, field_path: str) -> str | None:
    """CEL: the string at *field_path* holds a placeholder (None: no such string field)."""
    steps = parse_field(field_path)
    if steps == ("metadata", "name"):
        return f"has(object.metadata.name) && {placeholder_in('object.metadata.name')}"
    if not steps or steps[0] != "spec":
        return None
    shape = context.walker.root
    value = "object.spec"
    guards = ["has(object.spec)"]
    for step in steps[1:]:
        if isinstance(step, int):
            if not isinstance(shape, ListShape):
                return None
            guards.append(f"size({value}) > {step}")
            value = f"{value}[{step}]"
            shape = shape.member
        else:
            if not isinstance(shape, StructShape) or step not in shape.members:
                return None
            value = f"{value}.{step}"
            guards.append(f"has({value})")
            shape = shape.members[step].shape  # type: ignore[assignment]
    if not isinstance(shape, StringShape) or steps[-1] in FREE_TEXT_FIELDS:
        return None
    high = shape.max if shape.max is not None else 256
    return text.all_of([*guards, f"size({value}) <= {high}", placeholder_in(value)])


def export(context: RuleContext) -> list[Validation]:
    """The validation of a ``cel`` rule."""
    rule: CelRule = context.rule
    expression = rewrite(rule.expression)
    path = rule.fieldPath or ""
    if rule.fieldPath:
        held = _placeholder_at(context, rule.fieldPath)
        if held is not None:
            expression = text.any_of([held, f"({expression})"])
    default = f"failed expression: {rule.expression}"
    if rule.messageExpression:
        given = rewrite(rule.messageExpression)
        detail = Cel(f"({given})")
    else:
        detail = Cel(text.string(default))
    validation = context.validation(path, f"({expression})", detail)
    return [validation]
