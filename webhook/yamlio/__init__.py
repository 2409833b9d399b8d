"""YAML as kubectl reads it, keeping node marks for file:line:column.

kubectl reads a manifest with go-yaml v2 (the fork in sigs.k8s.io/yaml),
converts it to JSON, and sends that JSON (decoded and encoded once more) to
the API server, which hands it to the webhook. A check in CI must see the
values the webhook will see, so this package reads YAML by the same rules,
one step per module:

- :mod:`~webhook.yamlio.documents` splits a file where kubectl splits it and
  parses each document on its own;
- :mod:`~webhook.yamlio.compose` composes libyaml's events into nodes, with
  limits on aliases (:data:`MAX_ALIAS_NODES`) and nesting (:data:`MAX_DEPTH`);
- :mod:`~webhook.yamlio.goyaml` resolves scalars by go-yaml v2's rules
  (``yes`` is true, ``3e-4`` a float, ``1:30`` a string);
- :mod:`~webhook.yamlio.convert` and :mod:`~webhook.yamlio.gojson` turn values
  and keys into the JSON kubectl sends (``1.0`` is ``1``, key ``1`` is ``"1"``);
- :mod:`~webhook.yamlio.build` builds the data, applying merge keys and
  refusing duplicate keys;
- :mod:`~webhook.yamlio.jsonfile` reads ``.json`` files that YAML cannot;
- :mod:`~webhook.yamlio.locate` turns a field path into a line and column.

Where kubectl refuses a document, or where YAML readers disagree about it so
that a check would have to guess, the document is refused with a
:class:`YAMLProblem`; readers never raise. Each module's docstring lists its
refusals.
"""

from __future__ import annotations

from webhook.yamlio.compose import MAX_ALIAS_NODES, MAX_DEPTH
from webhook.yamlio.documents import Document, parse_document, parse_documents, split_documents
from webhook.yamlio.jsonfile import parse_json_document
from webhook.yamlio.locate import locate
from webhook.yamlio.problems import YAMLProblem

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "Document",
    "YAMLProblem",
    "locate",
    "parse_document",
    "parse_documents",
    "parse_json_document",
    "split_documents",
]
