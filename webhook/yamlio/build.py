"""A node tree into the data kubectl sends: mappings keyed as JSON, merges applied.

Mappings are read as go-yaml v2 reads them into a Go map, then keyed as
sigs.k8s.io/yaml keys the JSON object; merge keys (``<<``) apply in document
order, as in go-yaml v2. An aliased node is built once and shared.

Refused, with a :class:`RefusedError` at the later key, where kubectl keeps
one of two values silently and other readers refuse or keep the other:

- duplicate keys (kubectl keeps the last, Flux and kustomize refuse), with
  both lines, including two keys that become the same JSON key (``1`` and
  ``"1"``: kubectl keeps either, at random), and two merge keys in one
  mapping; a key set explicitly after a merge key that brought it is an
  override, not a duplicate;
- a key that a merge key *after* it overrides (go-yaml v2 keeps the merged
  value, other readers the explicit one): put ``<<`` first;
- a merge key whose value is not a mapping or a list of mappings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import yaml

from webhook.yamlio.convert import GoKey, go_key, json_key, scalar_value
from webhook.yamlio.goyaml import is_merge
from webhook.yamlio.problems import RefusedError

_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class _Entry:
    """A mapping entry as go-yaml holds it: keyed by Go value, before JSON."""

    key: yaml.Node
    value: Any
    merged: bool
    """Brought in by a merge key (an explicit key may then override it)."""


class Builder:
    """Build one document's data; aliased nodes are built once and shared."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        """0-based line of the file where the document starts, for the lines in messages."""
        self.values: dict[int, Any] = {}
        self.entries: dict[int, dict[GoKey, _Entry]] = {}

    def value(self, node: yaml.Node) -> Any:
        """The JSON value of *node*."""
        if isinstance(node, yaml.ScalarNode):
            return scalar_value(node)
        known = self.values.get(id(node), _MISSING)
        if known is _MISSING:
            if isinstance(node, yaml.SequenceNode):
                known = [self.value(item) for item in node.value]
            else:
                assert isinstance(node, yaml.MappingNode)
                known = self._json_object(node)
            self.values[id(node)] = known
        return known

    def _line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.first_line + 1

    def _json_object(self, node: yaml.MappingNode) -> dict[str, Any]:
        """Convert keys to JSON strings, as sigs.k8s.io/yaml does after go-yaml."""
        result: dict[str, Any] = {}
        holders: dict[str, _Entry] = {}
        for key, entry in self._mapping(node).items():
            name = json_key(key)
            other = holders.setdefault(name, entry)
            if other is not entry:
                first, again = sorted((other.key, entry.key), key=self._line)
                raise self._duplicate(name, first, again)
            result[name] = entry.value
        return result

    def _mapping(self, node: yaml.MappingNode) -> dict[GoKey, _Entry]:
        """The entries of *node* as go-yaml v2 sets them, merges applied in order."""
        known = self.entries.get(id(node))
        if known is not None:
            return known
        entries: dict[GoKey, _Entry] = {}
        merge: yaml.Node | None = None
        for key, value in node.value:
            if is_merge(key):
                if merge is not None:
                    raise self._duplicate("<<", merge, key)
                merge = key
                self._merge(key, value, entries)
                continue
            name = go_key(key)
            other = entries.get(name)
            if other is not None and not other.merged:
                raise self._duplicate(json_key(name), other.key, key)
            entries[name] = _Entry(key, self.value(value), merged=False)
        self.entries[id(node)] = entries
        return entries

    def _merge(self, key: yaml.Node, value: yaml.Node, entries: dict[GoKey, _Entry]) -> None:
        """Apply the merge key *key* to *entries*, the mapping's entries so far."""
        for source in _merge_sources(value):
            for name, entry in self._mapping(source).items():
                other = entries.get(name)
                if other is not None and not other.merged:
                    raise RefusedError(
                        key.start_mark,
                        f'key "{json_key(name)}" at line {self._line(other.key)} is'
                        f' overridden by the merge key "<<" at line {self._line(key)}'
                        " (kubectl keeps the merged value, other YAML readers the"
                        ' explicit one): put "<<" first',
                    )
                entries[name] = _Entry(entry.key, entry.value, merged=True)

    def _duplicate(self, name: str, first: yaml.Node, again: yaml.Node) -> RefusedError:
        message = f'duplicate key "{name}": first at line {self._line(first)}'
        message += f", again at line {self._line(again)}"
        spellings = (_spelling(first), _spelling(again))
        if spellings[0] != spellings[1] or first.value != name:  # "x" twice needs no note
            message += f" ({' and '.join(spellings)} are one JSON key)"
        return RefusedError(again.start_mark, message)


def _spelling(key: yaml.Node) -> str:
    quote = key.style if isinstance(key, yaml.ScalarNode) and key.style in ('"', "'") else ""
    return f"{quote}{key.value}{quote}"


def _merge_sources(value: yaml.Node) -> list[yaml.MappingNode]:
    """The mappings a merge key brings, in the order go-yaml applies them (last wins)."""
    if isinstance(value, yaml.MappingNode):
        return [value]
    if isinstance(value, yaml.SequenceNode) and all(
        isinstance(item, yaml.MappingNode) for item in value.value
    ):
        return list(reversed(value.value))  # earlier mappings take precedence
    raise RefusedError(value.start_mark, 'a merge key "<<" takes a mapping or a list of mappings')
