"""Policies generated from the policy format's own JSON Schema.

The schema is the one ``trainingjob-guard policy schema`` prints, so every option
of every rule kind, today's and tomorrow's, takes part without a line changed
here. Its structure (objects, lists, maps, nulls, enums, booleans) comes from the
schema; values are steered toward ones that matter by the option's path
(:mod:`.options`). A rule sets few of its options, so that the others seldom hide
the one at fault. Rules whose configuration does not compile are rejected, as the
loader rejects them. CEL rules are left out: they have no native schema, and an
expression is not something a JSON Schema can generate.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from typing import Any, Final

import jsonschema
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.native.property.options import (
    ANY_NUMBER,
    ANY_STRING,
    NUMBERS,
    STRINGS,
    option_pool,
)
from webhook.cli import commands
from webhook.policy.compiled import compile_policy
from webhook.policy.model import API_VERSION, KIND, PolicyDocument, RuleBase
from webhook.policy.rules import PolicyConfigError, RuleConfigError

Schema = dict[str, Any]


def _policy_schema() -> Schema:
    """What ``trainingjob-guard policy schema`` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        commands.policy_schema()
    schema: Schema = json.loads(out.getvalue())
    return schema


POLICY_SCHEMA: Final = _policy_schema()
_DEFINITIONS: Final[dict[str, Schema]] = POLICY_SCHEMA["$defs"]
#: Each rule kind of the format, and the ``$ref`` of its schema.
RULE_SCHEMAS: Final[dict[str, str]] = POLICY_SCHEMA["properties"]["rules"]["items"][
    "discriminator"
]["mapping"]
#: Every rule kind of the format but ``cel`` (no native schema; expressions are not generated).
GENERATED_KINDS: Final = tuple(sorted(kind for kind in RULE_SCHEMAS if kind != "cel"))


_NULL: Final = {"type": "null"}
_OBJECT_KEYWORDS: Final = frozenset(
    {"type", "properties", "required", "additionalProperties", "propertyNames", "maxProperties"}
)


class _Steered:
    """A rule kind's JSON Schema with ``$ref`` inlined and its leaves steered.

    Strings get a ``format`` of their own (a strategy from :data:`.options.STRINGS`,
    map keys through ``propertyNames``); numbers also take the values of
    :data:`.options.NUMBERS` that the schema allows; lists and maps hold at most three
    entries. Everything else is the schema as it is, so every option and its type come
    from the model.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.formats: dict[str, st.SearchStrategy[str]] = {}
        self.paths: set[str] = set()
        name = RULE_SCHEMAS[kind].rsplit("/", 1)[-1]
        self.schema = self.walk(_DEFINITIONS[name], "")
        self.schema["properties"]["id"] = {"const": "r"}  # each rule gets its own, r<n>
        self.strategy = self.build(self.schema)

    def walk(self, schema: Schema, path: str) -> Schema:
        if "$ref" in schema:
            target = _DEFINITIONS[schema["$ref"].rsplit("/", 1)[-1]]
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            return self.walk({**target, **rest}, path)
        out = {k: v for k, v in schema.items() if k not in ("title", "description", "default")}
        if "anyOf" in out:
            out["anyOf"] = [self.walk(branch, path) for branch in out["anyOf"]]
            return out
        if "enum" in out or "const" in out:
            return out
        self.paths.add(path)
        kind = out.get("type")
        if kind == "object":
            out["properties"] = {
                name: self.walk(member, f"{path}.{name}" if path else name)
                for name, member in out.get("properties", {}).items()
            }
            values = out.get("additionalProperties")
            if isinstance(values, dict):
                out["additionalProperties"] = self.walk(values, f"{path}{{}}")
                out["propertyNames"] = {"type": "string", "format": self.strings(f"{path}{{key}}")}
                out.setdefault("maxProperties", 3)
        elif kind == "array":
            out["items"] = self.walk(out.get("items", {}), f"{path}[]")
            out.setdefault("maxItems", 3)
        elif kind == "string" and "pattern" not in out:
            out["format"] = self.strings(path)
        elif kind in ("integer", "number"):
            pool = option_pool(NUMBERS, self.kind, path) or ANY_NUMBER
            allowed = jsonschema.Draft202012Validator(out).is_valid
            fitting = [value for value in pool if allowed(value)]
            if fitting:
                # Three times as likely as any other number the schema allows.
                return {"anyOf": [{"enum": fitting}] * 3 + [out]}
        return out

    def build(self, schema: Schema) -> st.SearchStrategy[Any]:
        """A strategy for *schema*, built once.

        Objects, lists and unions are composed here (hypothesis-jsonschema would
        canonicalise and merge their members' schemas again on every draw); values,
        and any object or list with keywords beyond these, are hypothesis-jsonschema's.
        """
        keys = set(schema)
        if keys == {"anyOf"}:
            # An option is null (left out) one time in three.
            branches = [self.build(branch) for branch in schema["anyOf"] if branch != _NULL]
            if len(branches) < len(schema["anyOf"]):
                return st.one_of(st.one_of(branches), st.one_of(branches), st.none())
            return st.one_of(branches)
        kind = schema.get("type")
        if kind == "object" and keys <= _OBJECT_KEYWORDS:
            members = {name: self.build(member) for name, member in schema["properties"].items()}
            values = schema.get("additionalProperties", True)
            required = schema.get("required", [])
            if values is False:
                return _sparse(members, required)
            if isinstance(values, dict) and not members and not required:
                names = from_schema(schema["propertyNames"], custom_formats=self.formats)
                return st.dictionaries(
                    names.map(str), self.build(values), max_size=schema["maxProperties"]
                )
        if kind == "array" and keys <= {"type", "items", "minItems", "maxItems"}:
            return st.lists(
                self.build(schema["items"]),
                min_size=schema.get("minItems", 0),
                max_size=schema["maxItems"],
            )
        return from_schema(schema, custom_formats=self.formats)

    def strings(self, path: str) -> str:
        """The name of a custom format for the strings at *path*."""
        self.paths.add(path)
        name = f"steered:{self.kind}:{path}"
        pool = option_pool(STRINGS, self.kind, path)
        if pool is not None:
            self.formats[name] = st.sampled_from(pool)
        else:
            self.formats[name] = st.one_of(st.sampled_from(ANY_STRING), st.text(max_size=12))
        return name


#: How many of an object's optional members are set: most often one, so that a rule's
#: other options rarely hide the one at fault (a job must pass all of a rule's schema).
_SET_MEMBERS: Final = (0, 1, 1, 1, 1, 2, 2, 3, 99)
#: What every rule has (:class:`~webhook.policy.model.RuleBase`), rather than options:
#: each is set one time in four, besides the options.
_COMMON: Final = frozenset(RuleBase.model_fields)


@st.composite
def _sparse(
    draw: st.DrawFn, members: dict[str, st.SearchStrategy[Any]], required: Sequence[str]
) -> dict[str, Any]:
    """An object with its *required* members and a few of the others."""
    out = {name: draw(members[name]) for name in required}
    optional = [name for name in members if name not in required and name not in _COMMON]
    for name in draw(st.permutations(optional))[: draw(st.sampled_from(_SET_MEMBERS))]:
        out[name] = draw(members[name])
    for name in sorted(_COMMON.intersection(members).difference(required)):
        if draw(st.sampled_from((False, False, False, True))):
            out[name] = draw(members[name])
    return out


#: Each generated rule kind's steered schema (its :attr:`~_Steered.paths`: the option
#: paths it has, which the pools of :mod:`.options` must name).
STEERED: Final = {kind: _Steered(kind) for kind in GENERATED_KINDS}


def policy_document(index: int, rules: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The policy ``p<index>`` with *rules* and the *extra* members, as a file holds it."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": f"p{index}"},
        "id": f"p{index}",
        **extra,
        "rules": rules,
    }


def _compiles(rule: dict[str, Any]) -> bool:
    """True when *rule* compiles (a policy loader would reject it otherwise)."""
    document = PolicyDocument.model_validate(policy_document(0, [{**rule, "id": "r"}]))
    try:
        compile_policy(document)
    except (PolicyConfigError, RuleConfigError):
        return False
    return True


def _rules(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return STEERED[kind].strategy.map(_as_rule).filter(_compiles)


def _as_rule(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


RULES: Final = {kind: _rules(kind) for kind in GENERATED_KINDS}
_SCOPES: Final = (None, ["team-a"], ["team-*"], ["team-a", "default"], ["team-b"])


@st.composite
def policy_documents(
    draw: st.DrawFn, first: str, everywhere: Sequence[str] = GENERATED_KINDS
) -> list[dict[str, Any]]:
    """One or two policies of one to three generated rules, for any job or some namespaces.

    The first rule is of kind *first* (each kind gets its share of examples: drawn
    from all of them, some would get few); *everywhere*: the kinds the other rules of a
    policy that is not limited to named namespaces may have.
    """
    documents = []
    for index in range(draw(st.sampled_from((1, 1, 2)))):
        namespaces = draw(st.sampled_from(_SCOPES))
        named = namespaces is not None and not any("*" in name for name in namespaces)
        choices = st.sampled_from(GENERATED_KINDS if named else everywhere)
        kinds = [draw(choices) for _ in range(draw(st.sampled_from((1, 1, 2, 3))))]
        if index == 0:
            kinds[0] = first
        rules = [{**draw(RULES[kind]), "id": f"r{number}"} for number, kind in enumerate(kinds)]
        extra: dict[str, Any] = {"action": draw(st.sampled_from(("deny", "warn", "audit")))}
        if namespaces is not None:
            extra["match"] = {"namespaces": namespaces}
        documents.append(policy_document(index, rules, **extra))
    return documents
