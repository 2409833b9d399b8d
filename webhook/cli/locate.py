"""Find the line and column of a field path in a YAML node tree."""

from __future__ import annotations

import yaml

from webhook.paths import Path


def locate(node: yaml.Node | None, path: Path, *, on_key: bool = False) -> tuple[int, int]:
    """Return the 0-based ``(line, column)`` of *path* under *node*.

    *on_key* points at the mapping key rather than its value (for unknown
    fields and bad map keys). A path that leaves the tree (a missing required
    field) points at the deepest node that exists: the block to add it to.
    Returns ``(-1, -1)`` when there is no tree.
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
            # A block (map or list) is shown at its key's line, where it starts to a reader.
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
    found = None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            found = (key, value)  # the last one wins, as in the parsed data
    return found
