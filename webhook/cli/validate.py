"""``trainingjob-guard validate``: check manifests in CI, exactly as the webhook would.

Every TrainingJob document goes through :func:`webhook.engine.review`, the
function the webhook calls; this module only reads files, finds documents and
places each finding at its ``file:line:column``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from webhook.cli.report import ObjectResult, Report, Violation
from webhook.cli.sources import iter_sources, parse_source
from webhook.engine import Config, Context, review
from webhook.findings import Action, Finding
from webhook.model import GROUP, KIND
from webhook.policy.subject import Subject
from webhook.yamlio import Document, locate

LIST_KINDS: Final = frozenset({"List", f"{KIND}List"})


@dataclass(frozen=True, slots=True)
class Requester:
    """What the CLI's flags say about the request (the webhook gets these from the API server)."""

    namespace: str | None = None
    """``--namespace``: overrides the manifests' own namespace."""
    namespace_labels: Mapping[str, str] | None = None
    user: str | None = None
    groups: tuple[str, ...] = ()

    def context(self, data: Mapping[str, Any]) -> Context:
        """The CREATE request kubectl would send for *data*."""
        namespace = self.namespace or _own_namespace(data) or ASSUMED_NAMESPACE
        return Context(
            "CREATE",
            namespace=namespace,
            user=self.user,
            groups=self.groups,
            namespace_labels=self.namespace_labels,
        )

    def namespace_unset(self, data: Mapping[str, Any], config: Config) -> Finding | None:
        """A finding when *data* names no namespace and that hid policies, else None.

        The cluster checks a job in the namespace it is applied to; without
        ``metadata.namespace`` or ``--namespace`` the CLI can only assume
        ``default``, where a policy scoped to other namespaces does not apply.
        Saying nothing would pass in CI what the cluster may deny. A warning by
        default; ``--strict`` (or ``--rule-action cli.namespace-unset=deny``) denies.
        """
        if self.namespace or _own_namespace(data) or not config.policies:
            return None
        policies = config.policies
        applying = policies.select(Subject.of(data, self.context(data))).policies
        missed = [p.id for p in policies.policies if p.scope.by_namespace and p not in applying]
        if not missed:
            return None
        which = "policy" if len(missed) == 1 else "policies"
        message = (
            f"metadata.namespace is not set, so this job was checked in namespace "
            f'"{ASSUMED_NAMESPACE}", where {which} {", ".join(missed)} did not apply; set '
            "metadata.namespace or pass --namespace to check it as the cluster will"
        )
        action = config.actions.get(NAMESPACE_UNSET, Action.WARN)
        return Finding(NAMESPACE_UNSET, ("metadata", "namespace"), message, action)


NAMESPACE_UNSET: Final = "cli.namespace-unset"
ASSUMED_NAMESPACE: Final = "default"
"""Where a manifest without a namespace is checked (kubectl's usual context namespace)."""


def _own_namespace(data: Mapping[str, Any]) -> str | None:
    metadata = data.get("metadata")
    own = metadata.get("namespace") if isinstance(metadata, dict) else None
    return own if isinstance(own, str) and own else None


def validate(paths: list[str], config: Config, requester: Requester | None = None) -> Report:
    """Check every TrainingJob in *paths* (files, directories, ``-`` for stdin)."""
    report = Report(policies=config.policies)
    requester = requester or Requester()
    for source in iter_sources(paths, report.errors):
        for document in parse_source(source, report.errors):
            for data, node in objects(document.data, document.node):
                report.documents += 1
                if is_training_job(data):
                    unset = requester.namespace_unset(data, config)
                    context = requester.context(data)
                    result = _check(document, data, node, config, context, unset=unset)
                    report.results.append(result)
                else:
                    report.skipped += 1
    return report


def is_training_job(data: Any) -> bool:
    """True for a ``TrainingJob`` of the ACK SageMaker API group (any version)."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return False
    api_version = data.get("apiVersion")
    return isinstance(api_version, str) and api_version.split("/")[0] == GROUP


def objects(data: Any, node: yaml.Node | None) -> Iterator[tuple[Any, yaml.Node | None]]:
    """Yield the objects of a document, expanding ``kind: List`` (as kubectl does)."""
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("kind") in LIST_KINDS and isinstance(items, list):
        item_nodes = _items_node(node)
        for index, item in enumerate(items):
            item_node = item_nodes[index] if item_nodes and index < len(item_nodes) else None
            yield item, item_node
    else:
        yield data, node


def _items_node(node: yaml.Node | None) -> list[yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "items":
            return list(value.value) if isinstance(value, yaml.SequenceNode) else None
    return None


def _check(
    document: Document,
    data: Mapping[str, Any],
    node: yaml.Node | None,
    config: Config,
    context: Context,
    *,
    unset: Finding | None,
) -> ObjectResult:
    started = time.perf_counter()
    decision = review(data, context=context, config=config)
    seconds = time.perf_counter() - started
    findings = decision.findings if unset is None else (*decision.findings, unset)
    offset = document.first_line
    violations = []
    for finding in findings:
        line, column = locate(node, finding.path, on_key=finding.on_key)
        violations.append(
            Violation(finding, line + offset + 1, column + 1)
            if line >= 0
            else Violation(finding, 0, 0)
        )
    violations.sort(key=lambda v: (v.line, v.column))
    metadata = data.get("metadata")
    name = namespace = None
    if isinstance(metadata, dict):
        name = _text(metadata.get("name"))
        namespace = _text(metadata.get("namespace"))
    start_line, start_column = (
        (node.start_mark.line + offset + 1, node.start_mark.column + 1) if node else (offset + 1, 1)
    )
    return ObjectResult(
        document.file,
        start_line,
        start_column,
        name,
        namespace,
        decision.allowed and (unset is None or unset.action is not Action.DENY),
        tuple(violations),
        decision.patch,
        seconds,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
