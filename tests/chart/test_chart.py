"""The Helm chart, rendered by Helm's own engine (helm-python-sdk bundles Helm's Go SDK).

Every variant is rendered once per module and parsed with PyYAML; the tests
assert on the Kubernetes objects a cluster would receive: the webhook
registrations, the pod's security context, RBAC, the Deployment's arguments
(parsed by the real CLI parser), the certificates of each mode and the policies
ConfigMap (loaded by the real policy loader, laid out as the kubelet mounts it).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml
from cryptography import x509

from webhook.certs import load_server_context
from webhook.cli import build_parser
from webhook.cli.commands import policy_paths
from webhook.policy.load import baseline_policy, load_policies
from webhook.server import limits

PROJECT = Path(__file__).resolve().parents[2]
CHART = PROJECT / "charts" / "trainingjob-guard"
RELEASE = "guard"
NAMESPACE = "guard-system"
FULLNAME = "guard-trainingjob-guard"
SERVICE_HOST = f"{FULLNAME}.{NAMESPACE}.svc"
TLS_SECRET = f"{FULLNAME}-tls"
TENANCY = (PROJECT / "policies" / "tenancy" / "policy.yaml").read_text()

Obj = dict[str, Any]

VARIANTS: dict[str, Obj] = {
    "default": {},
    "self-managed": {"certificates": {"mode": "self-managed"}},
    "cert-manager": {"certificates": {"mode": "cert-manager"}},
    "cert-manager-issuer": {
        "certificates": {
            "mode": "cert-manager",
            "certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}},
        }
    },
    "helm-generated": {"certificates": {"mode": "helm-generated"}},
    "match-conditions-off": {
        "webhook": {
            "defaultMatchConditions": False,
            "matchConditions": [{"name": "team-jobs", "expression": "has(object.metadata.labels)"}],
        }
    },
    "replicas-1": {"replicas": 1},
    "replicas-3": {"replicas": 3},
    "policies-inline": {
        "policies": {"includeBaseline": False, "inline": {"tenancy.yaml": TENANCY}}
    },
    "policies-existing-configmap": {"policies": {"existingConfigMap": "ml-platform-policies"}},
    "files-only": {"policies": {"fromCluster": False}},
    "continuous-audit": {"audit": {"continuous": {"enabled": True, "intervalSeconds": 300}}},
    "everything-on": {
        "webhook": {
            "failurePolicy": "Ignore",
            "timeoutSeconds": 10,
            "excludeNamespaces": ["kube-system", "sandbox"],
            "namespaceSelector": {
                "matchLabels": {"ml": "enabled"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["prod"]}],
            },
            "objectSelector": {"matchLabels": {"guard": "on"}},
            "matchConditions": [{"name": "not-ack", "expression": "true"}],
        },
        "ruleActions": {"sagemaker.instance-type": "warn"},
        "extraArgs": ["--reload-interval", "5"],
        "monitoring": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}},
        "networkPolicy": {
            "enabled": True,
            "ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
            "egress": {"apiServerCIDRs": ["10.0.0.1/32"]},
        },
        "cleanupHook": {"enabled": False},
    },
}
MODES = {
    "self-managed": "self-managed",
    "cert-manager": "cert-manager",
    "helm-generated": "helm-generated",
}
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
# The serve flags of the shared contract the parser may not know yet (the
# integrator adds them with the self-managed certificate mode).
PENDING_FLAGS = {
    "--namespace-labels",
    "--self-managed-certs",
    "--validating-webhook",
    "--mutating-webhook",
}


class Rendered:
    """The objects of one rendered release."""

    def __init__(self, manifests: dict[str, str]) -> None:
        self.notes = ""
        self.objects: list[Obj] = []
        for path, text in sorted(manifests.items()):
            if path.endswith("NOTES.txt"):
                self.notes = text
                continue
            self.objects.extend(doc for doc in yaml.safe_load_all(text) if doc)

    def all(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Obj:
        found = [o for o in self.all(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"{len(found)} {kind} named {name}"
        return found[0]

    @property
    def deployment(self) -> Obj:
        return self.one("Deployment", FULLNAME)

    @property
    def container(self) -> Obj:
        containers: list[Obj] = self.deployment["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1
        return containers[0]

    @property
    def args(self) -> list[str]:
        return [str(a) for a in self.container["args"]]

    def webhooks(self) -> list[tuple[str, Obj]]:
        """(kind, webhook) of every webhook of both configurations."""
        found = []
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            configuration = self.one(kind, FULLNAME)
            assert len(configuration["webhooks"]) == 1
            found.append((kind, configuration["webhooks"][0]))
        return found


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def rendered(chart: helm_python.Chart) -> dict[str, Rendered]:
    return {
        name: Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))
        for name, values in VARIANTS.items()
    }


def _hook(obj: Obj) -> str | None:
    annotations: dict[str, str] = obj["metadata"].get("annotations") or {}
    return annotations.get("helm.sh/hook")


# --- lint and schema ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lint_is_clean(variant: str) -> None:
    report = helm_python.lint(CHART, VARIANTS[variant], strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    # Severity 1 is information ("icon is recommended"); 2 warnings, 3 errors.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_lint_reports_broken_values() -> None:
    report = helm_python.lint(CHART, {"replicas": "two"}, namespace=NAMESPACE)
    assert any(m["severity"] == 3 and "replicas" in m["error"] for m in report["messages"])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_schema_accepts_every_variant(chart: helm_python.Chart, variant: str) -> None:
    chart.validate_schema(VARIANTS[variant])


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replica": 2}, "additional properties 'replica' not allowed"),
        ({"webhook": {"timeout": 5}}, "additional properties 'timeout' not allowed"),
        ({"certificates": {"mode": "vault"}}, "/certificates/mode"),
        ({"webhook": {"failurePolicy": "fail"}}, "/webhook/failurePolicy"),
        ({"webhook": {"timeoutSeconds": 31}}, "/webhook/timeoutSeconds"),
        ({"webhook": {"timeoutSeconds": 0}}, "/webhook/timeoutSeconds"),
        ({"policies": {"inline": {"tenancy.json": "id: x"}}}, "tenancy.json"),
        ({"ruleActions": {"sagemaker.instance-type": "block"}}, "/ruleActions"),
        (
            {"webhook": {"objectSelector": {"matchExpressions": [{"key": "a", "op": "In"}]}}},
            "/webhook/objectSelector/matchExpressions/0",
        ),
    ],
)
def test_schema_rejects(chart: helm_python.Chart, values: Obj, complaint: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)


# Objects handed to Kubernetes unchanged, whose keys the API server validates.
PASS_THROUGH = {"/definitions/kubernetesObject", "/properties/global"}


def _object_schemas(node: Any, where: str = "") -> Iterator[tuple[str, Obj]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield where, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _object_schemas(value, f"{where}/{index}")


def test_schema_closes_every_object(chart: helm_python.Chart) -> None:
    schema = chart.schema
    assert schema is not None
    checked = 0
    for where, node in _object_schemas(schema):
        if where in PASS_THROUGH:
            continue
        checked += 1
        if "properties" in node:
            assert node.get("additionalProperties") is False, where
        else:  # a map: its values have a schema of their own
            assert isinstance(node.get("additionalProperties"), dict), where
    assert checked > 25
    # Every top-level value is described: values.yaml and the schema agree.
    assert set(chart.values) <= set(schema["properties"])


# --- webhook registrations ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_webhooks_cover_trainingjob_writes_only(
    rendered: dict[str, Rendered], variant: str
) -> None:
    for kind, webhook in rendered[variant].webhooks():
        # /mutate only ever patches a CREATE: registering UPDATE would only add a way to fail.
        operations = ["CREATE"] if kind.startswith("Mutating") else ["CREATE", "UPDATE"]
        assert webhook["rules"] == [
            {
                "apiGroups": ["sagemaker.services.k8s.aws"],
                "apiVersions": ["*"],
                "resources": ["trainingjobs"],
                "operations": operations,
                "scope": "Namespaced",
            }
        ]
        assert webhook["sideEffects"] == "None"
        assert webhook["admissionReviewVersions"] == ["v1"]
        assert webhook["matchPolicy"] == "Equivalent"
        path = "/mutate" if kind.startswith("Mutating") else "/validate"
        assert webhook["clientConfig"]["service"] == {
            "name": FULLNAME,
            "namespace": NAMESPACE,
            "path": path,
            "port": 443,
        }
        assert webhook["name"] == f"{path.strip('/')}.{SERVICE_HOST}"
        if kind.startswith("Mutating"):
            assert webhook["reinvocationPolicy"] == "IfNeeded"
        else:
            assert "reinvocationPolicy" not in webhook


def test_webhook_defaults(rendered: dict[str, Rendered]) -> None:
    for kind, webhook in rendered["default"].webhooks():
        assert webhook["timeoutSeconds"] == 5
        assert webhook["failurePolicy"] == "Fail"
        assert "objectSelector" not in webhook
        if kind.startswith("Mutating"):
            assert "matchConditions" not in webhook
        else:
            assert webhook["matchConditions"] == default_match_conditions([ACK_CONTROLLER])
        assert webhook["namespaceSelector"] == {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": [NAMESPACE, "kube-system"],
                }
            ]
        }


def test_webhook_settings_from_values(rendered: dict[str, Rendered]) -> None:
    for kind, webhook in rendered["everything-on"].webhooks():
        assert webhook["timeoutSeconds"] == 10
        assert webhook["failurePolicy"] == "Ignore"
        assert webhook["objectSelector"] == {"matchLabels": {"guard": "on"}}
        # The user's conditions on both webhooks, after the chart's own on the validating one.
        users = [{"name": "not-ack", "expression": "true"}]
        defaults = [] if kind.startswith("Mutating") else default_match_conditions([ACK_CONTROLLER])
        assert webhook["matchConditions"] == defaults + users
        # The exclusions stay, ANDed with the user's selector.
        assert webhook["namespaceSelector"] == {
            "matchLabels": {"ml": "enabled"},
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": [NAMESPACE, "kube-system", "sandbox"],
                },
                {"key": "tier", "operator": "In", "values": ["prod"]},
            ],
        }


def test_webhook_in_kube_system_excludes_it_once(chart: helm_python.Chart) -> None:
    out = Rendered(chart.render({}, name=RELEASE, namespace="kube-system"))
    for _, webhook in out.webhooks():
        (exclusion,) = webhook["namespaceSelector"]["matchExpressions"]
        assert exclusion["values"] == ["kube-system"]


# --- matchConditions: what an outage of the webhook may not block --------------------------------

ACK_CONTROLLER = "system:serviceaccount:ack-system:ack-sagemaker-controller"
CHART_CONDITIONS = ("exclude-ack-controller-updates", "exclude-metadata-updates-during-deletion")


def default_match_conditions(controller_users: list[str]) -> list[Obj]:
    """The chart's matchConditions of the validating webhook (folded YAML joins with spaces)."""
    users = json.dumps(controller_users, separators=(",", ":"))
    return [
        {
            "name": "exclude-ack-controller-updates",
            "expression": (
                f'!(request.operation == "UPDATE" && request.userInfo.username in {users})'
            ),
        },
        {
            "name": "exclude-metadata-updates-during-deletion",
            "expression": (
                '!(request.operation == "UPDATE"'
                " && has(oldObject.metadata.deletionTimestamp)"
                " && has(object.spec) && has(oldObject.spec)"
                " && object.spec == oldObject.spec)"
            ),
        },
    ]


def _conditions(out: Rendered) -> dict[str, list[Obj]]:
    return {kind: webhook.get("matchConditions", []) for kind, webhook in out.webhooks()}


def test_match_conditions_name_the_controller_users_from_values(chart: helm_python.Chart) -> None:
    users = [
        "system:serviceaccount:ml-platform:ack-sagemaker-controller",
        "system:serviceaccount:ack-system:ack-sagemaker-controller",
    ]
    values = {"controllerUsers": users}
    chart.validate_schema(values)
    out = Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))
    conditions = _conditions(out)
    assert conditions["ValidatingWebhookConfiguration"] == default_match_conditions(users)
    assert conditions["MutatingWebhookConfiguration"] == []
    # The webhook is told the same users (--controller-user): one value, no drift.
    assert _parsed_serve_options(out.args).controller_users == frozenset(users)


def test_match_conditions_toggled_off_keep_the_users_own(rendered: dict[str, Rendered]) -> None:
    own = [{"name": "team-jobs", "expression": "has(object.metadata.labels)"}]
    conditions = _conditions(rendered["match-conditions-off"])
    assert conditions == {
        "ValidatingWebhookConfiguration": own,
        "MutatingWebhookConfiguration": own,
    }


def test_match_conditions_toggled_off_without_users_own_render_none(
    chart: helm_python.Chart,
) -> None:
    values = {"webhook": {"defaultMatchConditions": False}}
    out = Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))
    for _, webhook in out.webhooks():
        assert "matchConditions" not in webhook
        assert webhook["failurePolicy"] == "Fail"


def test_readme_shows_the_rendered_match_conditions(rendered: dict[str, Rendered]) -> None:
    readme = (PROJECT / "charts" / "README.md").read_text()
    section = readme.split("\n## Failure policy and matchConditions\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert (
        yaml.safe_load(block)["matchConditions"]
        == (_conditions(rendered["default"])["ValidatingWebhookConfiguration"])
    )


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"webhook": {"defaultMatchConditions": "yes"}}, "/webhook/defaultMatchConditions"),
        (
            {"webhook": {"matchConditions": [{"name": CHART_CONDITIONS[0], "expression": "true"}]}},
            "/webhook/matchConditions/0/name",
        ),
        (
            {"webhook": {"matchConditions": [{"name": CHART_CONDITIONS[1], "expression": "true"}]}},
            "/webhook/matchConditions/0/name",
        ),
        (
            {
                "webhook": {
                    "matchConditions": [{"name": f"c{i}", "expression": "true"} for i in range(63)]
                }
            },
            "/webhook/matchConditions",
        ),
    ],
)
def test_schema_rejects_bad_match_conditions(
    chart: helm_python.Chart, values: Obj, complaint: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)


# --- certificates ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["default", "self-managed"])
def test_self_managed_leaves_ca_bundle_to_the_webhook(
    rendered: dict[str, Rendered], variant: str
) -> None:
    out = rendered[variant]
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert "annotations" not in out.one(kind)["metadata"]
    for _, webhook in out.webhooks():
        # Absent, not empty: an upgrade must not reset the CA the webhook patched in.
        assert "caBundle" not in webhook["clientConfig"]
    assert out.all("Secret") == []
    assert out.all("Certificate") == []
    certs = {v["name"]: v for v in out.deployment["spec"]["template"]["spec"]["volumes"]}["certs"]
    assert certs["emptyDir"]["medium"] == "Memory"
    mount = {m["name"]: m for m in out.container["volumeMounts"]}["certs"]
    assert mount["mountPath"] == "/certs"
    assert mount["readOnly"] is False


@pytest.mark.parametrize("variant", ["cert-manager", "cert-manager-issuer"])
def test_cert_manager_injects_the_ca(rendered: dict[str, Rendered], variant: str) -> None:
    out = rendered[variant]
    certificate = out.one("Certificate", f"{FULLNAME}-serving")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        annotations = out.one(kind)["metadata"]["annotations"]
        assert annotations == {"cert-manager.io/inject-ca-from": f"{NAMESPACE}/{FULLNAME}-serving"}
    for _, webhook in out.webhooks():
        assert "caBundle" not in webhook["clientConfig"]
    spec = certificate["spec"]
    assert spec["secretName"] == TLS_SECRET
    assert SERVICE_HOST in spec["dnsNames"]
    assert f"{SERVICE_HOST}.cluster.local" in spec["dnsNames"]
    assert "server auth" in spec["usages"]
    assert _secret_volume(out) == TLS_SECRET
    assert out.all("Secret") == []


def test_cert_manager_builds_its_own_ca_chain(rendered: dict[str, Rendered]) -> None:
    out = rendered["cert-manager"]
    selfsigned = out.one("Issuer", f"{FULLNAME}-selfsigned")
    assert selfsigned["spec"] == {"selfSigned": {}}
    ca = out.one("Certificate", f"{FULLNAME}-ca")
    assert ca["spec"]["isCA"] is True
    assert ca["spec"]["issuerRef"]["name"] == f"{FULLNAME}-selfsigned"
    ca_issuer = out.one("Issuer", f"{FULLNAME}-ca")
    assert ca_issuer["spec"] == {"ca": {"secretName": ca["spec"]["secretName"]}}
    serving = out.one("Certificate", f"{FULLNAME}-serving")
    assert serving["spec"]["issuerRef"] == {
        "name": f"{FULLNAME}-ca",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }


def test_cert_manager_with_a_given_issuer(rendered: dict[str, Rendered]) -> None:
    out = rendered["cert-manager-issuer"]
    assert out.all("Issuer") == []
    assert [c["metadata"]["name"] for c in out.all("Certificate")] == [f"{FULLNAME}-serving"]
    assert out.one("Certificate")["spec"]["issuerRef"] == {
        "name": "corp-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


def test_helm_generated_certificate_is_trusted_by_the_ca_bundle(
    rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    out = rendered["helm-generated"]
    secret = out.one("Secret", TLS_SECRET)
    assert secret["type"] == "kubernetes.io/tls"
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    for kind, webhook in out.webhooks():
        assert "annotations" not in out.one(kind)["metadata"]
        # One CA for both configurations and the Secret (generated once per render).
        assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == data["ca.crt"]
    ca = x509.load_pem_x509_certificate(data["ca.crt"])
    serving = x509.load_pem_x509_certificate(data["tls.crt"])
    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert SERVICE_HOST in names.get_values_for_type(x509.DNSName)
    # The pair loads as the server loads it from the mounted Secret.
    (tmp_path / "tls.crt").write_bytes(data["tls.crt"])
    (tmp_path / "tls.key").write_bytes(data["tls.key"])
    load_server_context(tmp_path / "tls.crt", tmp_path / "tls.key")
    assert _secret_volume(out) == TLS_SECRET
    assert "NOT renewed" in out.notes


def _secret_volume(out: Rendered) -> str:
    volumes = {v["name"]: v for v in out.deployment["spec"]["template"]["spec"]["volumes"]}
    mount = {m["name"]: m for m in out.container["volumeMounts"]}["certs"]
    assert mount == {"name": "certs", "mountPath": "/certs", "readOnly": True}
    name: str = volumes["certs"]["secret"]["secretName"]
    return name


# --- the pods ----------------------------------------------------------------------------------


def _pod_specs(out: Rendered) -> list[tuple[str, Obj]]:
    pods = [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in out.all("Deployment")]
    pods += [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in out.all("Job")]
    return pods


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pods_meet_the_restricted_pod_security_standard(
    rendered: dict[str, Rendered], variant: str
) -> None:
    pods = _pod_specs(rendered[variant])
    assert len(pods) == (1 if variant == "everything-on" else 2)  # the Deployment and the hook
    for name, pod in pods:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == 65532, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(host), name
        for volume in pod["volumes"]:
            types = set(volume) - {"name"}
            assert types <= RESTRICTED_VOLUME_TYPES, (name, volume)
        for container in pod["containers"] + pod.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc.get("privileged", False) is False, name
            assert sc.get("runAsUser", context["runAsUser"]) != 0, name
            assert sc.get("seccompProfile", context["seccompProfile"])["type"] == "RuntimeDefault"
            assert not any("hostPort" in port for port in container.get("ports", [])), name
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"], name


def test_deployment(rendered: dict[str, Rendered]) -> None:
    out = rendered["default"]
    deployment = out.deployment
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert labels.items() <= pod["metadata"]["labels"].items()
    spec = pod["spec"]
    assert spec["serviceAccountName"] == FULLNAME
    assert spec["automountServiceAccountToken"] is True
    # Policies hot-reload: no checksum annotation that would restart the pods.
    assert not any("checksum" in key for key in pod["metadata"].get("annotations", {}))

    spread = {c["topologyKey"]: c for c in spec["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for constraint in spread.values():
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
        assert constraint["labelSelector"]["matchLabels"] == labels
    (preferred,) = spec["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert preferred["podAffinityTerm"]["labelSelector"]["matchLabels"] == labels

    container = out.container
    assert container["image"] == "ghcr.io/your-org/trainingjob-guard:0.1.0"
    assert container["ports"] == [{"name": "https", "containerPort": 8443, "protocol": "TCP"}]
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[probe]["httpGet"] == {"path": path, "port": "https", "scheme": "HTTPS"}
    assert container["env"] == [
        {
            "name": "POD_NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        }
    ]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {"/policies", "/certs", "/tmp"}
    # A directory mount: subPath mounts never see the ConfigMap's ..data swap.
    assert not any("subPath" in m for m in container["volumeMounts"])
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts["/policies"]["name"]]["configMap"] == {"name": f"{FULLNAME}-policies"}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]


def test_image_digest_pins_the_image(chart: helm_python.Chart) -> None:
    digest = "sha256:" + "a" * 64
    out = Rendered(
        chart.render(
            {"image": {"repository": "r.example/guard", "digest": digest}},
            name=RELEASE,
            namespace=NAMESPACE,
        )
    )
    assert out.container["image"] == f"r.example/guard@{digest}"


def test_service_routes_443_to_the_webhook_port(rendered: dict[str, Rendered]) -> None:
    out = rendered["default"]
    service = out.one("Service", FULLNAME)
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    ]
    pod_labels = out.deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    named = {p["name"]: p["containerPort"] for p in out.container["ports"]}
    assert named[service["spec"]["ports"][0]["targetPort"]] == 8443


@pytest.mark.parametrize(
    ("variant", "replicas"), [("replicas-1", 1), ("default", 2), ("replicas-3", 3)]
)
def test_pod_disruption_budget_when_more_than_one_replica(
    rendered: dict[str, Rendered], variant: str, replicas: int
) -> None:
    out = rendered[variant]
    assert out.deployment["spec"]["replicas"] == replicas
    budgets = out.all("PodDisruptionBudget")
    if replicas == 1:
        assert budgets == []
        return
    (budget,) = budgets
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == out.deployment["spec"]["selector"]


# --- RBAC --------------------------------------------------------------------------------------

Grant = tuple[str, str, str, frozenset[str], frozenset[str]]


def _grants(out: Rendered, *, hooks: bool) -> set[Grant]:
    """(role kind, api group, resource, verbs, resourceNames) of every rule, hooks or not."""
    grants: set[Grant] = set()
    for role in out.all("ClusterRole") + out.all("Role"):
        if (_hook(role) is not None) != hooks:
            continue
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    grants.add(
                        (
                            role["kind"],
                            group,
                            resource,
                            frozenset(rule["verbs"]),
                            frozenset(rule.get("resourceNames", [])),
                        )
                    )
    return grants


NAMESPACE_READ: Grant = (
    "ClusterRole",
    "",
    "namespaces",
    frozenset({"get", "list", "watch"}),
    frozenset(),
)
SELF_MANAGED_GRANTS: set[Grant] = {
    ("Role", "", "secrets", frozenset({"get", "update", "patch"}), frozenset({TLS_SECRET})),
    ("Role", "", "secrets", frozenset({"create"}), frozenset()),
    *(
        (
            "ClusterRole",
            "admissionregistration.k8s.io",
            resource,
            frozenset({"get", "patch"}),
            frozenset({FULLNAME}),
        )
        for resource in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")
    ),
}


POLICY_OBJECT_GRANTS: set[Grant] = {
    (
        "ClusterRole",
        "trainingjob-guard.io",
        "trainingjobpolicies",
        frozenset({"get", "list", "watch"}),
        frozenset(),
    ),
    (
        "ClusterRole",
        "trainingjob-guard.io",
        "trainingjobpolicies/status",
        frozenset({"patch"}),
        frozenset(),
    ),
    ("Role", "", "events", frozenset({"create", "patch"}), frozenset()),
}
"""policies.fromCluster: read the objects, patch their status, events about them."""


@pytest.mark.parametrize("mode", sorted(MODES))
def test_webhook_rbac_is_least_privilege(rendered: dict[str, Rendered], mode: str) -> None:
    out = rendered[mode]
    expected = {NAMESPACE_READ} | POLICY_OBJECT_GRANTS
    expected |= SELF_MANAGED_GRANTS if mode == "self-managed" else set()
    assert _grants(out, hooks=False) == expected
    for role in out.all("ClusterRole") + out.all("Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
    for binding in out.all("ClusterRoleBinding") + out.all("RoleBinding"):
        if _hook(binding) is not None:
            continue
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}
        ]
        kinds = {"ClusterRoleBinding": "ClusterRole", "RoleBinding": "Role"}
        assert out.one(kinds[binding["kind"]], binding["roleRef"]["name"])


def test_events_may_be_written_in_the_default_namespace_only(
    rendered: dict[str, Rendered],
) -> None:
    """Events on cluster-scoped objects go to ``default``, where kubectl describe finds them."""
    out = rendered["default"]
    role = out.one("Role", f"{FULLNAME}-policy-events")
    binding = out.one("RoleBinding", f"{FULLNAME}-policy-events")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "default"
    assert [r for r in out.all("ClusterRole") if "events" in str(r["rules"])] == []


def test_without_cluster_policies_neither_flag_nor_rbac(rendered: dict[str, Rendered]) -> None:
    out = rendered["files-only"]
    assert "--cluster-policies" not in out.args
    assert _grants(out, hooks=False) == {NAMESPACE_READ} | SELF_MANAGED_GRANTS
    assert _parsed_serve_options(out.args).cluster_policies is False
    assert _parsed_serve_options(rendered["default"].args).cluster_policies is True


AUDIT_GRANTS: set[Grant] = {
    (
        "ClusterRole",
        "sagemaker.services.k8s.aws",
        "trainingjobs",
        frozenset({"list", "watch"}),
        frozenset(),
    ),
    (
        "ClusterRole",
        "wgpolicyk8s.io",
        "policyreports",
        frozenset({"get", "list", "create", "update", "delete"}),
        frozenset(),
    ),
    (
        "Role",
        "coordination.k8s.io",
        "leases",
        frozenset({"get", "update"}),
        frozenset({f"{FULLNAME}-audit"}),
    ),
    ("Role", "coordination.k8s.io", "leases", frozenset({"create"}), frozenset()),
}
"""audit.continuous: list TrainingJobs, write PolicyReports, hold the audit's Lease."""


def test_continuous_audit_flags_and_rbac(rendered: dict[str, Rendered]) -> None:
    out = rendered["continuous-audit"]
    options = _parsed_serve_options(out.args)
    assert options.audit_interval == 300
    assert options.audit_lease == f"{NAMESPACE}/{FULLNAME}-audit"
    expected = {NAMESPACE_READ} | POLICY_OBJECT_GRANTS | SELF_MANAGED_GRANTS | AUDIT_GRANTS
    assert _grants(out, hooks=False) == expected
    lease_role = out.one("Role", f"{FULLNAME}-audit-lease")
    assert lease_role["metadata"]["namespace"] == NAMESPACE
    # Off by default: no flag, no grant.
    assert "--audit-interval" not in rendered["default"].args
    assert not AUDIT_GRANTS & _grants(rendered["default"], hooks=False)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"audit": {"continuous": {"intervalSeconds": 5}}}, "minimum"),
        ({"audit": {"continuous": {"interval": 600}}}, "interval"),
    ],
)
def test_schema_rejects_bad_audit_values(
    chart: helm_python.Chart, values: Obj, complaint: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)


def test_service_account_token_only_where_mounted(rendered: dict[str, Rendered]) -> None:
    account = rendered["default"].one("ServiceAccount", FULLNAME)
    assert account["automountServiceAccountToken"] is False


# --- the pre-delete hook -----------------------------------------------------------------------


def test_pre_delete_hook_deletes_both_webhook_configurations(rendered: dict[str, Rendered]) -> None:
    out = rendered["default"]
    job = out.one("Job", f"{FULLNAME}-cleanup")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-delete"
    assert set(annotations["helm.sh/hook-delete-policy"].split(",")) == {
        "before-hook-creation",
        "hook-succeeded",
    }
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["args"] == [
        "delete",
        f"validatingwebhookconfiguration/{FULLNAME}",
        f"mutatingwebhookconfiguration/{FULLNAME}",
        "--ignore-not-found",
        "--wait=false",
    ]
    # Its own account and RBAC, created before the Job, allowed nothing but this.
    assert spec["serviceAccountName"] == f"{FULLNAME}-cleanup"
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        obj = out.one(kind, f"{FULLNAME}-cleanup")
        assert _hook(obj) == "pre-delete"
        assert int(obj["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            annotations["helm.sh/hook-weight"]
        )
    assert _grants(out, hooks=True) == {
        (
            "ClusterRole",
            "admissionregistration.k8s.io",
            resource,
            frozenset({"get", "delete"}),
            frozenset({FULLNAME}),
        )
        for resource in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")
    }
    binding = out.one("ClusterRoleBinding", f"{FULLNAME}-cleanup")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": f"{FULLNAME}-cleanup", "namespace": NAMESPACE}
    ]
    # The hook's pods are not the webhook's: the Service and the PDB do not select them.
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    selector = out.one("Service", FULLNAME)["spec"]["selector"]
    assert not selector.items() <= pod_labels.items()


def test_without_the_hook_notes_tell_how_to_uninstall(rendered: dict[str, Rendered]) -> None:
    out = rendered["everything-on"]
    assert [o for o in out.objects if _hook(o)] == []
    assert (
        f"kubectl delete validatingwebhookconfiguration/{FULLNAME} "
        f"mutatingwebhookconfiguration/{FULLNAME}" in out.notes
    )


# --- the serve arguments -----------------------------------------------------------------------


def _contract_args(mode: str, *, baseline: bool = True) -> list[str]:
    args = ["serve", "--host", "0.0.0.0", "--port", "8443", "--cert-dir", "/certs"]
    args += ["--policy", "/policies"]
    if not baseline:
        args += ["--no-baseline"]
    args += ["--dns-name", SERVICE_HOST, "--dns-name", f"{SERVICE_HOST}.cluster.local"]
    args += ["--namespace-labels", "--cluster-policies"]
    args += ["--read-timeout", "5", "--keep-alive-timeout", "120", "--max-connections", "1000"]
    if mode == "self-managed":
        args += ["--self-managed-certs", f"{NAMESPACE}/{TLS_SECRET}"]
        args += ["--validating-webhook", FULLNAME, "--mutating-webhook", FULLNAME]
    return args


@pytest.mark.parametrize("mode", sorted(MODES))
def test_args_follow_the_contract(rendered: dict[str, Rendered], mode: str) -> None:
    out = rendered[mode]
    assert out.args == _contract_args(mode)
    # The names the webhook is told about are the rendered objects'.
    if mode == "self-managed":
        assert out.one("ValidatingWebhookConfiguration", FULLNAME)
        assert out.one("MutatingWebhookConfiguration", FULLNAME)


def test_args_from_values(rendered: dict[str, Rendered]) -> None:
    assert rendered["policies-inline"].args == _contract_args("self-managed", baseline=False)
    assert rendered["everything-on"].args == [
        *_contract_args("self-managed"),
        "--rule-action",
        "sagemaker.instance-type=warn",
        "--reload-interval",
        "5",
    ]


def _serve_options() -> set[str]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices["serve"]._option_string_actions)
    raise AssertionError("no subcommands")


MISSING_FLAGS = sorted(PENDING_FLAGS - _serve_options())


@pytest.mark.parametrize("variant", ["self-managed", "cert-manager", "everything-on"])
def test_existing_flags_parse(rendered: dict[str, Rendered], variant: str) -> None:
    """Every rendered flag the CLI has parses to the intended value; the rest are pending."""
    args, unknown = build_parser().parse_known_args(rendered[variant].args)
    assert {token for token in unknown if token.startswith("-")} <= set(MISSING_FLAGS)
    assert args.command == "serve"
    assert (args.host, args.port, args.cert_dir) == ("0.0.0.0", 8443, Path("/certs"))
    assert args.policy == ["/policies"]
    assert args.dns_name == [SERVICE_HOST, f"{SERVICE_HOST}.cluster.local"]
    if variant == "everything-on":
        assert [(rule, action.value) for rule, action in args.rule_action] == [
            ("sagemaker.instance-type", "warn")
        ]
        assert args.reload_interval == 5.0


@pytest.mark.xfail(
    bool(MISSING_FLAGS),
    reason="flags added with the self-managed certificate mode",
    strict=False,
)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_rendered_flag_parses(rendered: dict[str, Rendered], mode: str) -> None:
    args = build_parser().parse_args(rendered[mode].args)
    assert args.command == "serve"


# --- policies ----------------------------------------------------------------------------------


def test_policies_default_to_the_bundled_baseline(rendered: dict[str, Rendered]) -> None:
    """The webhook loads what ``validate --policy /policies`` loads in CI: baseline included."""
    out = rendered["default"]
    assert out.one("ConfigMap", f"{FULLNAME}-policies")["data"] == {}
    args = build_parser().parse_args(out.args)
    assert policy_paths(args) == [baseline_policy(), "/policies"]
    ci = build_parser().parse_args(["validate", "--policy", "/policies", "job.yaml"])
    assert policy_paths(ci) == policy_paths(args)


def test_without_the_baseline_the_webhook_is_told_so(rendered: dict[str, Rendered]) -> None:
    args = build_parser().parse_args(rendered["policies-inline"].args)
    assert args.no_baseline
    assert policy_paths(args) == ["/policies"]


def _mount_like_the_kubelet(data: dict[str, str], folder: Path) -> None:
    """Lay out a ConfigMap volume: files in a timestamped folder, ..data and per-key symlinks."""
    payload = folder / "..2025_01_01_00_00_00.000000000"
    payload.mkdir(parents=True)
    for name, text in data.items():
        (payload / name).write_text(text)
    (folder / "..data").symlink_to(payload.name)
    for name in data:
        (folder / name).symlink_to(Path("..data") / name)


def test_inline_policies_load_from_the_mounted_configmap(
    rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    data = rendered["policies-inline"].one("ConfigMap", f"{FULLNAME}-policies")["data"]
    assert data == {"tenancy.yaml": TENANCY}
    _mount_like_the_kubelet(data, tmp_path)
    # Each policy once: the loader skips the ..data and timestamped folders.
    assert [policy.id for policy in load_policies([tmp_path]).policies] == ["tenancy"]


def test_an_existing_configmap_is_mounted_instead_of_the_charts(
    rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    out = rendered["policies-existing-configmap"]
    assert out.all("ConfigMap") == []
    spec = out.deployment["spec"]["template"]["spec"]
    [mount] = [m for m in out.container["volumeMounts"] if m["mountPath"] == "/policies"]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"] == {"name": "ml-platform-policies"}
    assert out.args == _contract_args("self-managed")  # the same mount, the same flags
    # What a GitOps pipeline renders (kubectl create configmap --from-file, kustomize's
    # configMapGenerator): file name -> policy; the webhook loads it from the mount.
    _mount_like_the_kubelet({"tenancy.yaml": TENANCY, "notes.txt": "not a policy"}, tmp_path)
    args = build_parser().parse_args(out.args)
    paths = [str(tmp_path) if path == "/policies" else path for path in policy_paths(args)]
    assert [policy.id for policy in load_policies(paths).policies] == ["baseline", "tenancy"]


@pytest.mark.parametrize(
    "policies",
    [
        {"existingConfigMap": "mine", "inline": {"tenancy.yaml": TENANCY}},
        {"existingConfigMap": "mine", "files": "files/*.yaml"},
    ],
)
def test_an_existing_configmap_excludes_the_charts_policies(
    chart: helm_python.Chart, policies: Obj
) -> None:
    with pytest.raises(helm_python.HelmRenderError, match=r"policies\.existingConfigMap replaces"):
        chart.render({"policies": policies}, name=RELEASE, namespace=NAMESPACE)


@pytest.mark.parametrize("name", ["My_Policies", "-policies", "a" * 254])
def test_schema_rejects_a_bad_existing_configmap_name(chart: helm_python.Chart, name: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match="/policies/existingConfigMap"):
        chart.validate_schema({"policies": {"existingConfigMap": name}})


def test_policy_files_from_the_chart_folder(tmp_path: Path) -> None:
    copy = tmp_path / "trainingjob-guard"
    shutil.copytree(CHART, copy)
    (copy / "files" / "policies").mkdir(parents=True)
    (copy / "files" / "policies" / "tenancy.yaml").write_text(TENANCY)
    (copy / "files" / "policies" / "naming.yaml").write_text("id: from-file\n")
    values = {
        "policies": {
            "files": "files/policies/*.yaml",
            "inline": {"naming.yaml": "id: from-values\n"},
        }
    }
    with helm_python.Chart.load(copy) as chart:
        out = Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))
    # Keyed by base name; inline wins over a file of the same name.
    assert out.one("ConfigMap", f"{FULLNAME}-policies")["data"] == {
        "tenancy.yaml": TENANCY,
        "naming.yaml": "id: from-values\n",
    }


# --- optional objects --------------------------------------------------------------------------


def test_monitoring_and_network_policy_are_off_by_default(rendered: dict[str, Rendered]) -> None:
    assert rendered["default"].all("ServiceMonitor") == []
    assert rendered["default"].all("NetworkPolicy") == []


def test_service_monitor_scrapes_over_verified_tls(rendered: dict[str, Rendered]) -> None:
    out = rendered["everything-on"]
    monitor = out.one("ServiceMonitor", FULLNAME)
    assert monitor["metadata"]["labels"]["release"] == "prom"
    service = out.one("Service", FULLNAME)
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"], endpoint["path"]) == (
        "https",
        "https",
        "/metrics",
    )
    tls = endpoint["tlsConfig"]
    assert tls["insecureSkipVerify"] is False
    assert tls["serverName"] == SERVICE_HOST
    assert tls["ca"] == {"secret": {"name": TLS_SECRET, "key": "ca.crt"}}


def test_network_policy(rendered: dict[str, Rendered]) -> None:
    out = rendered["everything-on"]
    policy = out.one("NetworkPolicy", FULLNAME)["spec"]
    pod_labels = out.deployment["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [
        {
            "ports": [{"port": 8443, "protocol": "TCP"}],
            "from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
        }
    ]
    dns, api = policy["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert [p["port"] for p in api["ports"]] == [443, 6443]
    assert api["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]


def test_network_policy_ingress_from_anywhere_by_default(chart: helm_python.Chart) -> None:
    out = Rendered(
        chart.render({"networkPolicy": {"enabled": True}}, name=RELEASE, namespace=NAMESPACE)
    )
    policy = out.one("NetworkPolicy", FULLNAME)["spec"]
    assert policy["ingress"] == [{"ports": [{"port": 8443, "protocol": "TCP"}]}]
    assert "to" not in policy["egress"][1]


# --- the ACK controller's identity -------------------------------------------------------------


def test_controller_users_default_to_the_ack_controller_and_leave_the_args_alone(
    chart: helm_python.Chart, rendered: dict[str, Rendered]
) -> None:
    assert chart.values["controllerUsers"] == [ACK_CONTROLLER]
    out = rendered["default"]
    assert "--controller-user" not in out.args
    # The webhook's own default is the same identity.
    options = _parsed_serve_options(out.args)
    assert options.controller_users == frozenset({ACK_CONTROLLER})


def test_controller_users_are_rendered_into_the_args(chart: helm_python.Chart) -> None:
    users = [
        "system:serviceaccount:ml-platform:ack-sagemaker-controller",
        "system:serviceaccount:ack-system:ack-sagemaker-controller",
    ]
    values = {"controllerUsers": users}
    chart.validate_schema(values)
    out = Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))

    flags = [out.args[i : i + 2] for i, arg in enumerate(out.args) if arg == "--controller-user"]
    assert flags == [["--controller-user", user] for user in users]
    options = _parsed_serve_options(out.args)
    assert options.controller_users == frozenset(users)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"controllerUsers": ACK_CONTROLLER}, "/controllerUsers': got string, want array"),
        ({"controllerUsers": []}, "/controllerUsers': minItems"),
        ({"controllerUsers": [42]}, "/controllerUsers/0': got number, want string"),
        ({"controllerUsers": [""]}, "/controllerUsers/0"),
        ({"controllerUsers": [ACK_CONTROLLER, ACK_CONTROLLER]}, "/controllerUsers"),
        ({"ackController": {"namespace": "ack"}}, "additional properties 'ackController'"),
    ],
)
def test_schema_rejects_bad_controller_users(
    chart: helm_python.Chart, values: Obj, complaint: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)


# --- connections -------------------------------------------------------------------------------


def test_connection_values_are_the_webhooks_own_defaults(
    chart: helm_python.Chart, rendered: dict[str, Rendered]
) -> None:
    assert chart.values["connections"] == {
        "readTimeoutSeconds": limits.READ_TIMEOUT,
        "keepAliveTimeoutSeconds": limits.KEEP_ALIVE_TIMEOUT,
        "max": limits.MAX_CONNECTIONS,
    }
    assert _parsed_serve_options(rendered["default"].args).limits == limits.Limits()


def test_connection_values_are_rendered_into_the_args(chart: helm_python.Chart) -> None:
    values = {
        "connections": {"readTimeoutSeconds": 2.5, "keepAliveTimeoutSeconds": 95, "max": 2000000}
    }
    chart.validate_schema(values)
    out = Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))

    options = _parsed_serve_options(out.args)
    assert options.limits == limits.Limits(2.5, 95, 2000000)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"readTimeoutSeconds": 0}, "/connections/readTimeoutSeconds"),
        ({"readTimeoutSeconds": 31}, "/connections/readTimeoutSeconds"),
        ({"readTimeoutSeconds": "5s"}, "/connections/readTimeoutSeconds"),
        ({"keepAliveTimeoutSeconds": 0}, "/connections/keepAliveTimeoutSeconds"),
        ({"keepAliveTimeoutSeconds": 1.5}, "/connections/keepAliveTimeoutSeconds"),
        ({"max": 0}, "/connections/max"),
        ({"maxConnections": 10}, "additional properties 'maxConnections'"),
    ],
)
def test_schema_rejects_bad_connection_values(
    chart: helm_python.Chart, values: Obj, complaint: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema({"connections": values})


def _parsed_serve_options(args: list[str]) -> Any:
    """The ServeOptions `trainingjob-guard serve` builds from *args* (nothing is served)."""
    from unittest import mock

    from webhook.cli import main

    with mock.patch("webhook.server.serve.serve_forever", return_value=0) as serve_forever:
        assert main(args) == 0
    [(options,), _] = serve_forever.call_args
    return options
