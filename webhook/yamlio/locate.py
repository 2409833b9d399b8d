"""A field path's place in the file: the line and column of its node.

Paths name fields by the JSON keys kubectl sends, so keys are matched after
the same conversion (``1`` is found as ``"1"``). A block (a mapping or a list
not in flow style) is shown at its key's line, where a reader sees it start.
"""

from __future__ import annotations

import yaml

from webhook.paths import Path
from webhook.yamlio.convert import go_key, json_key
from webhook.yamlio.goyaml import is_merge


def locate(node: yaml.Node | None, path: Path, *, on_key: bool = False) -> tuple[int, int]:
    """Return the 0-based ``(line, column)`` of *path* under *node*.

    *on_key* points at the mapping key rather than its value (for unknown
    fields and bad map keys). A path that leaves the tree (a missing required
    field, a key brought by a merge) points at the deepest node that exists:
    the block to add it to. Returns ``(-1, -1)`` when there is no tree.
    """
    if node is None:
        return -1, -1
    current, anchor = node, node
    for index, step in enumerate(path):
        if isinstance(current, yaml.MappingNode) and isinstance(step, str):
            pair = _find_key(current, step)
            if pair is None:
                break
            key, current = pair
            last = index == len(path) - 1
            anchor = key if (last and on_key) or _is_block(current) else current
        elif isinstance(current, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(current.value):
                break
            current = anchor = current.value[step]
        else:
            break
    mark = anchor.start_mark
    return mark.line, mark.column


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def _find_key(node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        # A key that go_key refuses is never here: its document was refused.
        if isinstance(key, yaml.ScalarNode) and not is_merge(key) and json_key(go_key(key)) == name:
            return key, value
    return None
