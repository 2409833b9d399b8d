"""The pure admission handlers: a typed AdmissionReview request in, an answer out.

``validate`` and ``mutate`` take a parsed request (:mod:`webhook.server.wire`) and the engine's
configuration and return an :class:`Answer`; :func:`response` turns it into
the AdmissionReview the API server reads. Nothing here does I/O, so the
HTTP layer stays thin and every decision is the one ``validate`` gives in CI.

Operations: CREATE is defaulted (``/mutate``) and validated (``/validate``);
UPDATE follows the controller's rules (no defaults); DELETE is always
allowed. Requests for other kinds, the status subresource or CONNECT are
allowed and noted: a webhook registered too widely must not block unrelated
resources.

An answer stays small whatever comes in: the engine's size gate bounds the
findings (:mod:`webhook.constraints.bounds`), the denial message lists the
first of them and says how many more there are, and the warnings stay within
the API server's limits.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from webhook.engine import Config, oversized, review
from webhook.findings import Action, Finding
from webhook.model import GROUP, KIND
from webhook.policy.subject import Subject
from webhook.request import Context
from webhook.server.wire import API_VERSION, AdmissionRequest

# The API server's warning recorder (k8s.io/apiserver/pkg/endpoints/filters/warning.go)
# truncates each warning to 256 runes once the total passes 4096: stay within both.
WARNING_CHARS: Final = 256
WARNINGS_TOTAL_CHARS: Final = 4096

# The denial message lists the first violations and says how many more there are: kubectl
# prints it whole, and a job can have thousands. With the warnings, the answer stays under
# 64 KiB however many findings there are, even if every character took six bytes of JSON.
MESSAGE_LINES: Final = 20
"""Violations a denial message lists."""
LINE_CHARS: Final = 512
"""Longest line of a denial message (longer messages are cut, their rule id kept)."""
MESSAGE_CHARS: Final = 5000
"""Longest denial message, the line that says how many more there are aside."""
NAME_CHARS: Final = 253
"""Longest namespace or name a message shows: the longest Kubernetes name."""
UID_CHARS: Final = 128
"""Longest uid an answer echoes. The API server sends a UUID (36 characters): a longer one
comes from another caller, who gets it cut rather than a large answer."""


Outcome = Literal["allowed", "denied", "warned", "ignored", "error"]
"""What became of a request, as metrics and the decision log count it (the engine's
:class:`~webhook.findings.Decision` is the verdict on an object)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the webhook says about one request."""

    allowed: bool
    decision: Outcome
    code: int = 200
    message: str = ""
    warnings: tuple[str, ...] = ()
    patch: tuple[dict[str, Any], ...] = ()
    findings: tuple[Finding, ...] = field(default=())
    """Every finding (for metrics and the decision log): a bounded number, as the size gate
    denies a job too large to check with one finding per oversized list, map or string."""


ALLOWED: Final = Answer(True, "allowed")
"""The answer for a job with nothing to report (most of them): one object for all."""
IGNORED: Final = Answer(True, "ignored")


def is_training_job(request: AdmissionRequest) -> bool:
    """True for the TrainingJob resource itself (not its status subresource)."""
    kind = request["kind"]
    return (
        kind.get("group") == GROUP and kind.get("kind") == KIND and not request.get("subResource")
    )


NamespaceLabels = Callable[[str], Mapping[str, str] | None]


def context_of(request: AdmissionRequest, labels: NamespaceLabels | None = None) -> Context:
    """The engine's view of the request; *labels* looks up the namespace's labels."""
    namespace = request.get("namespace")
    user = request.get("userInfo") or {}
    return Context(
        request["operation"],
        namespace=namespace or None,
        user=user.get("username") or None,
        groups=tuple(user.get("groups", ())),
        namespace_labels=labels(namespace) if labels and namespace else None,
        dry_run=request.get("dryRun", False),
    )


def _object_of(request: AdmissionRequest) -> dict[str, Any] | Answer:
    """``request.object`` of a CREATE or UPDATE, or the error answer.

    The answer says what is missing: the object, or on UPDATE ``oldObject``.
    """
    operation = request["operation"]
    obj = request.get("object")
    if obj is None:
        return Answer(False, "error", 400, f"request.object is missing on {operation}")
    if operation == "UPDATE" and request.get("oldObject") is None:
        return Answer(False, "error", 400, "request.oldObject is missing on UPDATE")
    return obj


def validate(
    request: AdmissionRequest, config: Config, labels: NamespaceLabels | None = None
) -> Answer:
    """``/validate``: the decision on the (already defaulted) object."""
    if not is_training_job(request) or request["operation"] in ("DELETE", "CONNECT"):
        return IGNORED
    obj = _object_of(request)
    if isinstance(obj, Answer):
        return obj
    decision = review(
        obj,
        old=request.get("oldObject"),
        context=context_of(request, labels),
        config=_without_mutation(config),
    )
    if not decision.findings:
        return ALLOWED
    warnings = tuple(f for f in decision.findings if f.action is Action.WARN)
    if decision.allowed:
        return Answer(
            True,
            "warned" if warnings else "allowed",
            warnings=fit_warnings(warnings),
            findings=decision.findings,
        )
    return Answer(
        False,
        "denied",
        403,
        denial_message(request, decision.denials),
        fit_warnings(warnings),
        findings=decision.findings,
    )


def _without_mutation(config: Config) -> Config:
    if not config.mutate:
        return config
    return dataclasses.replace(config, mutate=False)


def mutate(
    request: AdmissionRequest, config: Config, labels: NamespaceLabels | None = None
) -> Answer:
    """``/mutate``: the org defaults of the applying policies, on CREATE only.

    The mutating webhook never denies: the validating one, which runs after
    the API server's schema check, decides.
    """
    if not is_training_job(request) or request["operation"] != "CREATE":
        return IGNORED
    obj = _object_of(request)
    if isinstance(obj, Answer):
        return obj
    if not config.policies or oversized(obj, config):  # /validate denies what is too large
        return ALLOWED
    subject = Subject.of(obj, context_of(request, labels))
    patch = config.policies.select(subject).patch(obj, subject)
    return Answer(True, "allowed", patch=tuple(patch))


def denial_message(request: AdmissionRequest, denials: Sequence[Finding]) -> str:
    """The denials with their paths, in one message kubectl prints as it is.

    The first :data:`MESSAGE_LINES` of them, within :data:`MESSAGE_CHARS`, and
    how many more there are: ``trainingjob-guard validate`` lists them all.
    """
    name = _cut(request.get("name") or object_name(request.get("object")), NAME_CHARS)
    namespace = _cut(request.get("namespace") or "", NAME_CHARS)
    where = f"{namespace}/{name}" if namespace else name
    count = len(denials)
    lines = [f"TrainingJob {where} has {count} violation{_plural(count)}:"]
    size = len(lines[0])
    for index, finding in enumerate(denials):
        line = _line(finding)
        size += len(line) + 1
        if index == MESSAGE_LINES or size > MESSAGE_CHARS:
            more = count - index
            lines.append(
                f"... and {more} more violation{_plural(more)} "
                "(trainingjob-guard validate shows all)"
            )
            break
        lines.append(line)
    return "\n".join(lines)


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _line(finding: Finding) -> str:
    """``- path: message [rule]``, the message cut to fit :data:`LINE_CHARS`."""
    end = f" [{finding.rule[:NAME_CHARS]}]"
    text = f"- {finding.where}: {finding.message}" if finding.where else f"- {finding.message}"
    return _cut(text, LINE_CHARS - len(end)) + end


def _cut(text: str, limit: int) -> str:
    """*text*, or its first *limit* characters ending with ``...``."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def object_name(obj: dict[str, Any] | None) -> str:
    """``metadata.name`` of *obj*, or ``(unnamed)``."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else "(unnamed)"


def fit_warnings(findings: Sequence[Finding]) -> tuple[str, ...]:
    """Warnings within the API server's limits: 256 characters each, 4096 in all."""
    out: list[str] = []
    total = 0
    for index, finding in enumerate(findings):
        text = f"{finding.where}: {finding.message}" if finding.where else finding.message
        text = f"{text} [{finding.rule}]"
        if len(text) > WARNING_CHARS:
            text = text[: WARNING_CHARS - 3] + "..."
        left = len(findings) - index
        if total + len(text) > WARNINGS_TOTAL_CHARS - 64 and left > 1:
            out.append(f"... and {left} more warnings (trainingjob-guard validate shows all)")
            break
        out.append(text)
        total += len(text)
    return tuple(out)


_ALLOWED_HEAD: Final = b'{"apiVersion":"%s","kind":"AdmissionReview","response":{"uid":' % (
    API_VERSION.encode()
)
_ALLOWED_TAIL: Final = b',"allowed":true}}'


def response(uid: str, answer: Answer) -> bytes:
    """The AdmissionReview the API server reads, as JSON."""
    uid = uid[:UID_CHARS]
    if answer.allowed and not answer.warnings and not answer.patch:  # most answers
        return _ALLOWED_HEAD + orjson.dumps(uid) + _ALLOWED_TAIL
    body: dict[str, Any] = {"uid": uid, "allowed": answer.allowed}
    if not answer.allowed:
        body["status"] = {
            "code": answer.code,
            "reason": "Forbidden" if answer.code == 403 else "BadRequest",
            "message": answer.message,
        }
    if answer.warnings:
        body["warnings"] = list(answer.warnings)
    if answer.patch:
        body["patchType"] = "JSONPatch"
        body["patch"] = base64.b64encode(orjson.dumps(list(answer.patch))).decode()
    return orjson.dumps({"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": body})
