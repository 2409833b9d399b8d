"""The reference pages of the docs, rendered from the code they describe.

Two pages are never written by hand, so they cannot drift from the code:

* ``docs/rules.md``, the built-in rule ids, from :data:`webhook.catalog.RULES`
  (and :data:`~webhook.catalog.WARN_BY_DEFAULT` for the default action);
* ``docs/rule-kinds.md``, the policy rule kinds and their options, from the
  policy model (:mod:`webhook.policy.model`): each rule class's docstring, and
  each field's type, default and attribute docstring.

Rendering is pure (text in, text out): ``scripts/generate_docs.py`` writes the
pages and ``tests/test_docs.py`` fails while a page differs from what it would
write. The module lives in the package, next to the catalogue and the model it
reads, so the tests import it like any other module and it is held to the
package's own lint and typing rules.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any, Final

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from webhook.catalog import RULES, WARN_BY_DEFAULT
from webhook.findings import Action
from webhook.introspect import is_model
from webhook.policy.model import Glob, Rule, RuleBase

#: The command that rewrites the pages, as a reader runs it from the project root.
REGENERATE: Final = ".venv/bin/python scripts/generate_docs.py"


def _header(source: str) -> str:
    """The first line of a generated page: where it comes from and how to remake it."""
    return f"<!-- GENERATED from {source} by {REGENERATE}: do not edit. -->\n"


def _markdown(docstring: str) -> str:
    """A docstring's reST literals (````x````) as Markdown code (```x```)."""
    return docstring.replace("``", "`")


def _cell(text: str) -> str:
    """*text* as one cell of a Markdown table: one line, pipes escaped."""
    return " ".join(_markdown(text).split()).replace("|", "\\|")


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}"]
    lines.extend(f"| {' | '.join(_cell(cell) for cell in row)} |" for row in rows)
    return "\n".join(lines) + "\n"


# --- docs/rules.md ------------------------------------------------------------------------------


def default_action(rule: str) -> Action:
    """What a built-in rule does unless a policy or ``--rule-action`` changes it."""
    return Action.WARN if rule in WARN_BY_DEFAULT else Action.DENY


def rules_page() -> str:
    """``docs/rules.md``: every built-in rule id, its default action and what it catches."""
    rows = [(f"`{rule}`", default_action(rule).value, text) for rule, text in RULES.items()]
    return (
        _header("webhook/catalog.py") + "\n# Built-in rules\n\n"
        "Every finding of a built-in check carries one of these stable rule ids. The default\n"
        "action is what the rule does unless a policy's `apiConstraints` or `--rule-action`\n"
        "changes it; [Findings](findings.md) explains actions, field paths and messages.\n"
        "Policy rules are named `<policy id>/<rule id>` instead (`baseline/no-secrets`).\n\n"
        + _table(("rule", "default", "what it catches"), rows)
    )


# --- docs/rule-kinds.md -------------------------------------------------------------------------

#: Names of the project's own string types, where the type alone says too little.
_ALIASES: Final[dict[object, tuple[str, str]]] = {Glob: ("glob", "globs")}
_SCALARS: Final[dict[object, tuple[str, str]]] = {
    str: ("string", "strings"),
    bool: ("boolean", "booleans"),
    int: ("integer", "integers"),
    float: ("number", "numbers"),
    Any: ("any value", "any values"),
}


def rule_kinds() -> dict[str, type[RuleBase]]:
    """Each rule kind of the policy format and its model, in the format's order."""
    union = typing.get_args(Rule)[0]
    kinds: dict[str, type[RuleBase]] = {}
    for model in typing.get_args(union):
        [kind] = typing.get_args(model.model_fields["kind"].annotation)
        kinds[kind] = model
    return kinds


def _docstring(model: type[BaseModel]) -> str:
    return _markdown(inspect.cleandoc(model.__doc__ or ""))


def _summary(model: type[BaseModel]) -> str:
    return _docstring(model).split("\n\n", 1)[0]


def _choices(values: list[Any], *, plural: bool) -> str:
    shown = [f"`{value.value if isinstance(value, enum.Enum) else value}`" for value in values]
    return ("values among " if plural else "one of ") + ", ".join(shown)


def _type(annotation: Any, nested: dict[type[BaseModel], str], *, plural: bool = False) -> str:
    """How *annotation* reads in a table; *nested* maps models to their section's anchor."""
    names = _ALIASES.get(annotation) or _SCALARS.get(annotation)
    if names is not None:
        return names[plural]
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(arguments[0], nested, plural=plural)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in arguments if a is not type(None)]
        shown = " or ".join(_type(part, nested, plural=plural) for part in parts)
        return shown + (" or null" if len(parts) < len(arguments) else "")
    if origin is typing.Literal:
        return _choices(list(arguments), plural=plural)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choices(list(annotation), plural=plural)
    if origin is list:
        return "list of " + _type(arguments[0], nested, plural=True)
    if origin is dict:
        return f"map of {_type(arguments[0], nested)} to {_type(arguments[1], nested)}"
    if is_model(annotation):
        noun = "objects" if plural else "object"
        return f"[{noun}](#{nested[annotation]})"
    raise TypeError(f"no rendering for the type {annotation!r}")


#: The bounds of ``Field(...)`` a table shows (pydantic keeps them as ``annotated_types``).
_BOUNDS: Final = (("ge", "at least {}"), ("le", "at most {}"), ("max_length", "at most {} long"))


def _bounds(field: FieldInfo) -> str:
    shown = [
        text.format(getattr(constraint, name))
        for constraint in field.metadata
        for name, text in _BOUNDS
        if hasattr(constraint, name)
    ]
    return f", {', '.join(shown)}" if shown else ""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str) and not value:
        return '`""`'
    if isinstance(value, list | dict) and not value:
        return f"`{'[]' if isinstance(value, list) else '{}'}`"
    return f"`{value}`"


def _options(model: type[BaseModel], nested: dict[type[BaseModel], str]) -> str:
    rows = [
        (
            f"`{name}`",
            _type(field.annotation, nested) + _bounds(field),
            _default(field),
            field.description or "",
        )
        for name, field in model.model_fields.items()
        if name != "kind" and (model is RuleBase or name not in RuleBase.model_fields)
    ]
    return _table(("option", "type", "default", "meaning"), rows)


def _nested_models(model: type[BaseModel]) -> Iterator[tuple[str, type[BaseModel]]]:
    """The option models inside *model*'s fields (``keys`` entries ...), by field name."""
    for name, field in model.model_fields.items():
        pending = [field.annotation]
        while pending:
            annotation = pending.pop()
            if is_model(annotation):
                yield name, annotation
            else:
                pending.extend(typing.get_args(annotation))


def options_documented(model: type[BaseModel]) -> list[str]:
    """The options of *model* (and of the models inside it) that have no description."""
    missing = [
        f"{model.__name__}.{name}"
        for name, field in model.model_fields.items()
        if name != "kind" and not field.description
    ]
    for _, inner in _nested_models(model):
        missing.extend(options_documented(inner))
    return missing


def rule_kinds_page() -> str:
    """``docs/rule-kinds.md``: each rule kind, what it checks and its options."""
    kinds = rule_kinds()
    out = [
        _header("webhook/policy/model.py"),
        "\n# Policy rule kinds\n\n"
        "Each entry of a policy's `rules` names its `kind`, which decides the options it\n"
        "takes; an option the kind does not have is a load error with a did-you-mean.\n"
        "[Policies](policies.md) explains the file around the rules. A glob's `*` matches\n"
        "any run of characters, `/` included; globs, like messages, may use the\n"
        "placeholders `{namespace}`, `{name}` and `{trainingJobName}`.\n\n"
        "| kind | what it checks |\n|---|---|\n",
    ]
    out.extend(f"| [`{kind}`](#{kind}) | {_cell(_summary(m))} |\n" for kind, m in kinds.items())
    out.append("\n## Options of every rule\n\n" + _options(RuleBase, {}))
    for kind, model in kinds.items():
        inside = list(_nested_models(model))
        # The anchor of the heading below, as Markdown's table of contents spells it.
        nested = {inner: f"{kind}-{name}-entries".lower() for name, inner in inside}
        out.append(f"\n## {kind}\n\n{_docstring(model)}\n\n{_options(model, nested)}")
        for name, inner in inside:
            out.append(
                f"\n### {kind}: `{name}` entries\n\n{_docstring(inner)}\n\n"
                + _options(inner, nested)
            )
    return "".join(out)


def pages() -> dict[str, str]:
    """Each generated page, by its path from the project root."""
    return {"docs/rules.md": rules_page(), "docs/rule-kinds.md": rule_kinds_page()}
