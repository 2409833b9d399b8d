"""Admission webhooks as kube-apiserver runs them, for the fake API server's writes.

:class:`Dispatcher` takes the ValidatingWebhookConfigurations and
MutatingWebhookConfigurations stored in the fake (:mod:`tests.kube.fake_apiserver`)
and runs them for a CREATE, UPDATE or DELETE the way the API server's admission
plugins do (k8s.io/apiserver/pkg/admission/plugin/webhook):

* which webhooks apply: configurations in name order, webhooks in list order;
  ``rules`` (operations, apiGroups, apiVersions, resources with ``*`` and
  ``*/*``, scope), ``namespaceSelector`` (matched against the namespace's
  labels; cluster-scoped objects are not filtered), ``objectSelector`` (the new
  or the old object's labels), then ``matchConditions``;
* ``matchConditions`` are CEL (``cel-expr-python``, the CEL project's C++ core)
  over ``object``, ``oldObject`` and ``request`` (the AdmissionRequest without the
  objects). Any false condition skips the webhook; otherwise an evaluation error
  (a missing field, a non-boolean result) rejects the request with 403 under
  ``failurePolicy: Fail`` and skips the webhook under ``Ignore``. ``authorizer``
  is not offered: an expression using it is refused when the configuration is
  stored, where the real server would accept it;
* the call: an ``admission.k8s.io/v1`` AdmissionReview POSTed to
  ``clientConfig.url``, or to the Service's endpoint registered with
  :meth:`Dispatcher.route` (https is verified against ``caBundle`` with the
  Service's DNS name ``<name>.<namespace>.svc``, as the API server does; plain
  http is accepted for tests). A Service without an endpoint answers as the real
  server does ("no endpoints available for service"); any call failure (no
  endpoint, refused, timeout after ``timeoutSeconds``, TLS, a malformed answer)
  follows ``failurePolicy``: ``Fail`` rejects the request with 500, ``Ignore``
  lets it through;
* mutating webhooks run one after the other and their JSON Patches apply in
  turn (no reinvocation); validating webhooks then see the result (the real
  server calls them in parallel: here in order, every one called, the first
  rejection answered). A denial is the real server's 4xx Status, "admission
  webhook "<name>" denied the request: <message>". A dry-run request reaches
  only webhooks with ``sideEffects: None`` or ``NoneOnDryRun``.

Every webhook whose rules and selectors match is recorded as a
:class:`WebhookCall` (skipped, allowed, denied, failed open or closed) so that
tests can tell a skipped webhook from one that answered.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import ssl
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx
import jsonpatch
import jsonpointer
from cel_expr_python import cel

Obj = dict[str, Any]
Operation = Literal["CREATE", "UPDATE", "DELETE"]
Outcome = Literal["skipped", "allowed", "denied", "failed-open", "failed-closed"]

VALIDATING: Final = "ValidatingWebhookConfiguration"
MUTATING: Final = "MutatingWebhookConfiguration"
MAX_MATCH_CONDITIONS: Final = 64
"""The API server's limit per webhook (admissionregistration validation)."""

_ENV: Final = cel.NewEnv(
    variables={"object": cel.Type.DYN, "oldObject": cel.Type.DYN, "request": cel.Type.DYN}
)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """Who sends a request: the AdmissionRequest's ``userInfo``."""

    username: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attributes:
    """One write as admission sees it (the AdmissionRequest, before it is versioned)."""

    operation: Operation
    group: str
    version: str
    resource: str
    """The plural, e.g. ``trainingjobs``."""
    kind: str
    namespaced: bool
    namespace: str | None
    name: str
    obj: Obj | None
    """The new object (None on DELETE)."""
    old: Obj | None
    """The stored object (None on CREATE)."""
    user: UserInfo
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """What became of one webhook whose rules and selectors matched a request."""

    webhook: str
    operation: Operation
    username: str
    outcome: Outcome
    detail: str = ""
    """The matchCondition that skipped the webhook, the denial or the call's error."""


class AdmissionError(Exception):
    """The request is refused: answer this Status (code, reason, message)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


class _CallError(Exception):
    """The webhook could not be called or gave no usable answer."""


# --- matching --------------------------------------------------------------------------------


def _rule_matches(rule: Mapping[str, Any], attributes: Attributes) -> bool:
    def listed(key: str, value: str) -> bool:
        values = rule.get(key) or []
        return "*" in values or value in values

    resources = rule.get("resources") or []
    scope = rule.get("scope", "*")
    in_scope = (
        scope == "*"
        or (scope == "Namespaced" and attributes.namespaced)
        or (scope == "Cluster" and not attributes.namespaced)
    )
    return (
        in_scope
        and listed("operations", attributes.operation)
        and listed("apiGroups", attributes.group)
        and listed("apiVersions", attributes.version)
        and ("*" in resources or "*/*" in resources or attributes.resource in resources)
    )


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions) against *labels*."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _labels(obj: Obj | None) -> dict[str, str]:
    if obj is None:
        return {}
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _compile(expression: str) -> Any:
    """The CEL program, or RuntimeError with the compiler's message."""
    program = _ENV.compile(expression)
    returns = program.return_type()
    if returns not in (cel.Type.BOOL, cel.Type.DYN):
        raise RuntimeError(f"must evaluate to bool, not {returns.name()}")
    return program


def configuration_problems(configuration: Mapping[str, Any]) -> list[str]:
    """What the API server's validation refuses in a webhook configuration's matchConditions."""
    problems: list[str] = []
    for index, webhook in enumerate(configuration.get("webhooks") or []):
        conditions = webhook.get("matchConditions") or []
        where = f"webhooks[{index}].matchConditions"
        if len(conditions) > MAX_MATCH_CONDITIONS:
            problems.append(f"{where}: Too many: {len(conditions)}: must have at most 64 items")
        names = [condition.get("name") for condition in conditions]
        problems.extend(
            f"{where}[{i}].name: Duplicate value: {name!r}"
            for i, name in enumerate(names)
            if name in names[:i]
        )
        for i, condition in enumerate(conditions):
            try:
                _compile(str(condition.get("expression", "")))
            except RuntimeError as error:
                problems.append(f"{where}[{i}].expression: Invalid value: {error}")
    return problems


_programs: dict[str, Any] = {}
_programs_lock = threading.Lock()


def _program(expression: str) -> Any:
    with _programs_lock:
        program = _programs.get(expression)
    if program is None:
        program = _compile(expression)
        with _programs_lock:
            _programs[expression] = program
    return program


def evaluate_match_conditions(
    conditions: Iterable[Mapping[str, Any]] | None, attributes: Attributes
) -> tuple[str | None, str | None]:
    """(name of a false condition, None) or (None, the first error, if any).

    Any false condition skips the webhook, whatever errors others give; else an error
    follows the failure policy; else (all true) the webhook is called.
    """
    conditions = list(conditions or [])
    if not conditions:
        return None, None
    bindings = _ENV.Activation(
        {
            "object": attributes.obj,
            "oldObject": attributes.old,
            "request": _request(attributes, uid=""),
        }
    )
    error = None
    for condition in conditions:
        name, expression = condition["name"], condition["expression"]
        value = _program(expression).eval(bindings)
        if value.type() == cel.Type.ERROR:
            error = error or f"matchCondition {name!r}: {value.value()}"
        elif value.value() is False:
            return name, None
        elif value.value() is not True:
            error = error or f"matchCondition {name!r}: the expression did not yield a bool"
    return None, error


# --- the dispatcher --------------------------------------------------------------------------


class Dispatcher:
    """Runs the stored webhook configurations for the fake API server's writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str, int], str] = {}
        self._calls: list[WebhookCall] = []

    def route(self, namespace: str, service: str, url: str, *, port: int = 443) -> None:
        """Send calls for ``service.namespace:port`` to *url* (``https://127.0.0.1:1234``)."""
        with self._lock:
            self._endpoints[namespace, service, port] = url.rstrip("/")

    def unroute(self, namespace: str, service: str, *, port: int = 443) -> None:
        """The Service has no endpoint any more (its pods are gone)."""
        with self._lock:
            self._endpoints.pop((namespace, service, port), None)

    @property
    def calls(self) -> list[WebhookCall]:
        """Every webhook considered so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    def admit(
        self,
        attributes: Attributes,
        configurations: Iterable[Obj],
        namespace_labels: Mapping[str, str],
    ) -> Obj | None:
        """Run mutating then validating webhooks; return the object to store.

        Raises AdmissionError when a webhook (or its failure policy) refuses.
        """
        ordered = sorted(configurations, key=lambda c: (c["kind"], c["metadata"]["name"]))
        mutating = [c for c in ordered if c["kind"] == MUTATING]
        validating = [c for c in ordered if c["kind"] == VALIDATING]
        obj = copy.deepcopy(attributes.obj)
        for configuration in mutating:
            for webhook in configuration.get("webhooks") or []:
                current = dataclasses.replace(attributes, obj=obj)
                if self._applies(webhook, current, namespace_labels):
                    obj = self._mutate(webhook, current)
        current = dataclasses.replace(attributes, obj=obj)
        first: AdmissionError | None = None
        for configuration in validating:
            for webhook in configuration.get("webhooks") or []:
                try:
                    if self._applies(webhook, current, namespace_labels):
                        self._validate(webhook, current)
                except AdmissionError as rejection:
                    first = first or rejection
        if first is not None:
            raise first
        return obj

    # --- one webhook ---------------------------------------------------------------------

    def _record(self, webhook: Obj, attributes: Attributes, outcome: Outcome, detail: str) -> None:
        call = WebhookCall(
            webhook["name"], attributes.operation, attributes.user.username, outcome, detail
        )
        with self._lock:
            self._calls.append(call)

    def _applies(
        self, webhook: Obj, attributes: Attributes, namespace_labels: Mapping[str, str]
    ) -> bool:
        """Rules, selectors, then matchConditions (raises AdmissionError on their error)."""
        if not any(_rule_matches(rule, attributes) for rule in webhook.get("rules") or []):
            return False
        if attributes.namespaced and not selector_matches(
            webhook.get("namespaceSelector"), namespace_labels
        ):
            return False
        object_selector = webhook.get("objectSelector")
        if not (
            selector_matches(object_selector, _labels(attributes.obj))
            or selector_matches(object_selector, _labels(attributes.old))
        ):
            return False
        skipped_by, error = evaluate_match_conditions(webhook.get("matchConditions"), attributes)
        if skipped_by is not None:
            self._record(webhook, attributes, "skipped", skipped_by)
            return False
        if error is not None:
            if webhook.get("failurePolicy", "Fail") == "Ignore":
                self._record(webhook, attributes, "failed-open", error)
                return False
            self._record(webhook, attributes, "failed-closed", error)
            message = (
                f'{attributes.resource}.{attributes.group} "{attributes.name}" is forbidden: '
                f"{error}"
            )
            raise AdmissionError(403, "Forbidden", message)
        if attributes.dry_run and webhook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            self._record(webhook, attributes, "denied", "dry run unsupported")
            message = f'admission webhook "{webhook["name"]}" does not support dry run'
            raise AdmissionError(400, "BadRequest", message)
        return True

    def _mutate(self, webhook: Obj, attributes: Attributes) -> Obj | None:
        response = self._call_or_fail(webhook, attributes)
        if response is None:
            return attributes.obj
        patch = response.get("patch")
        if not patch:
            self._record(webhook, attributes, "allowed", "")
            return attributes.obj
        try:
            if response.get("patchType") != "JSONPatch":
                raise _CallError(f"unsupported patchType {response.get('patchType')!r}")
            operations = jsonpatch.JsonPatch.from_string(base64.b64decode(patch).decode())
            patched: Obj = operations.apply(attributes.obj)
        except (
            _CallError,
            ValueError,
            binascii.Error,
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
        ) as error:
            self._failed(webhook, attributes, f"the patch cannot be applied: {error}")
            return attributes.obj
        self._record(webhook, attributes, "allowed", "patched")
        return patched

    def _validate(self, webhook: Obj, attributes: Attributes) -> None:
        if self._call_or_fail(webhook, attributes) is not None:
            self._record(webhook, attributes, "allowed", "")

    def _call_or_fail(self, webhook: Obj, attributes: Attributes) -> Obj | None:
        """The allowed response (not recorded yet); None when the call failed open.

        Raises AdmissionError on a denial or a call that fails closed.
        """
        uid = str(uuid.uuid4())
        try:
            response = self._call(webhook, attributes, uid)
        except _CallError as error:
            self._failed(webhook, attributes, str(error))
            return None
        if response.get("allowed") is True:
            return response
        status = response.get("status") or {}
        code = status.get("code") or 0
        code = code if isinstance(code, int) and code >= 400 else 400
        denied_by = f'admission webhook "{webhook["name"]}" denied the request'
        if status.get("message"):
            message = f"{denied_by}: {status['message']}"
        elif status.get("reason"):
            message = f"{denied_by}: {status['reason']}"
        else:
            message = f"{denied_by} without explanation"
        self._record(webhook, attributes, "denied", message)
        raise AdmissionError(code, str(status.get("reason") or ""), message)

    def _failed(self, webhook: Obj, attributes: Attributes, error: str) -> None:
        """Apply the failure policy to a failed call: record it, raise under Fail."""
        if webhook.get("failurePolicy", "Fail") == "Ignore":
            self._record(webhook, attributes, "failed-open", error)
            return
        self._record(webhook, attributes, "failed-closed", error)
        message = f'Internal error occurred: failed calling webhook "{webhook["name"]}": {error}'
        raise AdmissionError(500, "InternalError", message)

    def _call(self, webhook: Obj, attributes: Attributes, uid: str) -> Obj:
        timeout = int(webhook.get("timeoutSeconds") or 10)
        client_config = webhook.get("clientConfig") or {}
        service = client_config.get("service")
        if service is not None:
            port = int(service.get("port") or 443)
            path = service.get("path") or ""
            host = f"{service['name']}.{service['namespace']}.svc"
            shown = f"https://{host}:{port}{path}?timeout={timeout}s"
            with self._lock:
                base = self._endpoints.get((service["namespace"], service["name"], port))
            if base is None:
                raise _CallError(
                    f'failed to call webhook: Post "{shown}": '
                    f'no endpoints available for service "{service["name"]}"'
                )
            url = base + path
        else:
            url = str(client_config.get("url") or "")
            host = httpx.URL(url).host
            shown = f"{url}?timeout={timeout}s"
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                **_request(attributes, uid=uid),
                "object": attributes.obj,
                "oldObject": attributes.old,
            },
        }
        try:
            with httpx.Client(verify=_tls(client_config), timeout=timeout) as client:
                answer = client.post(
                    url,
                    params={"timeout": f"{timeout}s"},
                    json=review,
                    extensions={"sni_hostname": host},
                )
        except httpx.HTTPError as error:
            raise _CallError(f'failed to call webhook: Post "{shown}": {error}') from None
        if answer.status_code != 200:
            raise _CallError(f"failed to call webhook: the server answered {answer.status_code}")
        try:
            body = answer.json()
        except ValueError as error:
            raise _CallError(f"failed to call webhook: {error}") from None
        response = body.get("response") if isinstance(body, dict) else None
        if (
            not isinstance(response, dict)
            or body.get("apiVersion") != "admission.k8s.io/v1"
            or body.get("kind") != "AdmissionReview"
        ):
            raise _CallError("webhook response was absent or not an admission.k8s.io/v1 review")
        if response.get("uid") != uid:
            raise _CallError(f"expected response.uid={uid!r}, got {response.get('uid')!r}")
        return response


def _request(attributes: Attributes, *, uid: str) -> Obj:
    """The AdmissionRequest's fields other than the objects (CEL's ``request``)."""
    kind = {"group": attributes.group, "version": attributes.version, "kind": attributes.kind}
    resource = {
        "group": attributes.group,
        "version": attributes.version,
        "resource": attributes.resource,
    }
    options = {
        "CREATE": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        "UPDATE": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"},
        "DELETE": {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions"},
    }[attributes.operation]
    request: Obj = {
        "uid": uid,
        "kind": kind,
        "resource": resource,
        "requestKind": kind,
        "requestResource": resource,
        "name": attributes.name,
        "operation": attributes.operation,
        "userInfo": {
            "username": attributes.user.username,
            "groups": list(attributes.user.groups),
        },
        "dryRun": attributes.dry_run,
        "options": options,
    }
    if attributes.namespace is not None:
        request["namespace"] = attributes.namespace
    return request


def _tls(client_config: Mapping[str, Any]) -> ssl.SSLContext:
    """Trust the caBundle (the system's roots without one), as the API server does."""
    bundle = client_config.get("caBundle")
    if not bundle:
        return ssl.create_default_context()
    try:
        pem = base64.b64decode(bundle).decode()
        return ssl.create_default_context(cadata=pem)
    except (ValueError, ssl.SSLError) as error:
        raise _CallError(f"failed to call webhook: invalid caBundle: {error}") from None


__all__ = [
    "MUTATING",
    "VALIDATING",
    "AdmissionError",
    "Attributes",
    "Dispatcher",
    "UserInfo",
    "WebhookCall",
    "configuration_problems",
    "evaluate_match_conditions",
    "selector_matches",
]
