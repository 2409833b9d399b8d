"""libyaml's events composed into nodes, counting what aliases add before anything expands them.

PyYAML's own composer cannot tell ``! 5`` from ``5`` and refuses a redefined
anchor; go-yaml reads the first as a string and lets an anchor be redefined
(an alias then names the latest node). This composer does as go-yaml does,
and keeps every node's start and end marks for :func:`~webhook.yamlio.locate`.

Refused, with a :class:`RefusedError` at the event:

- aliases that add more than :data:`MAX_ALIAS_NODES` nodes to the document,
  counting each alias as a full copy of its anchor's node (an alias bomb);
- nesting deeper than :data:`MAX_DEPTH` levels;
- an alias to no anchor, or to an anchor that contains it;
- a second document in the text (the caller splits documents at ``---``, as
  kubectl does, so a second one here follows a ``...`` that kubectl ignores).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, cast

import yaml
from yaml._yaml import CParser

from webhook.yamlio.goyaml import PLAIN, STR
from webhook.yamlio.problems import RefusedError

MAX_ALIAS_NODES: Final = 100_000
"""Nodes that aliases may add to a document, counting each alias as a full copy.

A manifest uses a handful of aliases, if any; a small "billion laughs" file
adds billions, which nothing downstream could walk. Counting is linear (each
node's expanded size is computed once), and a document without aliases adds
none, so it is never refused for this.
"""

MAX_DEPTH: Final = 100
"""Deepest nesting of mappings and lists read; a TrainingJob or policy nests under 10."""


def compose(parser: CParser) -> yaml.Node | None:
    """Compose the single document of *parser* into nodes (None if there is none)."""
    parser.get_event()  # StreamStart
    if parser.check_event(yaml.StreamEndEvent):
        return None
    parser.get_event()  # DocumentStart
    node = _Composer(parser).root()
    parser.get_event()  # DocumentEnd
    if not parser.check_event(yaml.StreamEndEvent):
        raise RefusedError(_marks(parser.peek_event())[0], "a second document without '---'")
    return node


@dataclass(slots=True)
class _Open:
    """A mapping or list whose end event has not come yet."""

    node: yaml.MappingNode | yaml.SequenceNode
    children: list[yaml.Node] = field(default_factory=list)
    size: int = 1
    """Nodes in it so far, aliases expanded."""

    def close(self, end: yaml.Mark) -> yaml.Node:
        self.node.end_mark = end
        items = self.children
        pairs = isinstance(self.node, yaml.MappingNode)
        self.node.value = list(zip(items[::2], items[1::2], strict=True)) if pairs else items
        return self.node


class _Composer:
    """Builds the node tree of one document from its events, in one pass."""

    def __init__(self, parser: CParser) -> None:
        self.parser = parser
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[int, int] = {}
        """id(node) -> its size, aliases expanded, once the node is complete."""
        self.added = 0
        """Nodes the aliases read so far add to the document."""
        self.stack: list[_Open] = []

    def root(self) -> yaml.Node:
        """Read events up to the end of the document's root node, and return it."""
        while True:
            event = self.parser.get_event()
            assert event is not None  # libyaml ends every node before the stream
            if isinstance(event, yaml.CollectionStartEvent):
                self.open(event)
                continue
            node = self.complete(event)
            if not self.stack:
                return node
            self.stack[-1].children.append(node)
            self.stack[-1].size += self.sizes[id(node)]

    def open(self, event: yaml.CollectionStartEvent) -> None:
        """Start a mapping or a list."""
        start, _ = _marks(event)
        if len(self.stack) >= MAX_DEPTH:
            raise RefusedError(start, f"nested deeper than {MAX_DEPTH} levels")
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind = yaml.MappingNode if mapping else yaml.SequenceNode
        node = kind("", [], start, None, event.flow_style)
        self.stack.append(_Open(node))
        if event.anchor:
            self.anchors[event.anchor] = node

    def complete(self, event: yaml.Event) -> yaml.Node:
        """The node an end, scalar or alias event completes."""
        start, end = _marks(event)
        if isinstance(event, yaml.CollectionEndEvent):
            opened = self.stack.pop()
            node = opened.close(end)
            self.sizes[id(node)] = opened.size
            return node
        if isinstance(event, yaml.ScalarEvent):
            node = yaml.ScalarNode(_scalar_tag(event), event.value, start, end, event.style)
            self.sizes[id(node)] = 1
            if event.anchor:
                self.anchors[event.anchor] = node
            return node
        assert isinstance(event, yaml.AliasEvent), event
        return self.alias(start, event.anchor)

    def alias(self, mark: yaml.Mark, name: str | None) -> yaml.Node:
        """The node an alias names, counted as a full copy; bombs and loops are refused."""
        node = self.anchors.get(name or "")
        if node is None:
            raise RefusedError(mark, f'alias "*{name}" names no anchor before it')
        if id(node) not in self.sizes:  # its node is still open: the alias is inside it
            raise RefusedError(mark, f'anchor "&{name}" contains an alias to itself')
        self.added += self.sizes[id(node)]
        if self.added > MAX_ALIAS_NODES:
            message = f"aliases expand this document by more than {MAX_ALIAS_NODES:,} nodes"
            raise RefusedError(mark, message + " (an alias bomb?)")
        return node


def _marks(event: yaml.Event | None) -> tuple[yaml.Mark, yaml.Mark]:
    """Where an event starts and ends (libyaml's marks have the fields of PyYAML's)."""
    assert event is not None
    return cast(yaml.Mark, event.start_mark), cast(yaml.Mark, event.end_mark)


def _scalar_tag(event: yaml.ScalarEvent) -> str:
    if event.tag is None:
        return PLAIN if event.implicit[0] else STR
    return event.tag  # "!" (non-specific) included: go-yaml reads it as an unknown tag
