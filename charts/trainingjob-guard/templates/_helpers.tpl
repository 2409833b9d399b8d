{{/*
Names, labels and the few values more than one template needs. Every name the
webhook is told about (Secret, webhook configurations, Service DNS names) comes
from here, so the Deployment's arguments and the objects cannot drift apart.
*/}}

{{- define "trainingjob-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: <release>-<chart>, or the release alone if it contains the chart name. */}}
{{- define "trainingjob-guard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "trainingjob-guard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "trainingjob-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trainingjob-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "trainingjob-guard.labels" -}}
helm.sh/chart: {{ include "trainingjob-guard.chart" . }}
{{ include "trainingjob-guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The webhook pods' labels: the selector labels plus the component. */}}
{{- define "trainingjob-guard.podSelectorLabels" -}}
{{ include "trainingjob-guard.selectorLabels" . }}
app.kubernetes.io/component: webhook
{{- end }}

{{/* The Service, and the host name in the serving certificate. */}}
{{- define "trainingjob-guard.serviceName" -}}
{{- include "trainingjob-guard.fullname" . }}
{{- end }}

{{/* DNS names the API server may use for the Service (it dials <svc>.<ns>.svc). */}}
{{- define "trainingjob-guard.dnsNames" -}}
{{- $svc := include "trainingjob-guard.serviceName" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{- define "trainingjob-guard.serviceAccountName" -}}
{{- include "trainingjob-guard.fullname" . }}
{{- end }}

{{/* Both webhook configurations are cluster-scoped and share this name (different kinds). */}}
{{- define "trainingjob-guard.webhookConfigName" -}}
{{- include "trainingjob-guard.fullname" . }}
{{- end }}

{{- define "trainingjob-guard.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "trainingjob-guard.fullname" .)) .Values.certificates.secretName }}
{{- end }}

{{/* The ConfigMap mounted at /policies: the user's (policies.existingConfigMap) or the chart's. */}}
{{- define "trainingjob-guard.policiesConfigMapName" -}}
{{- if .Values.policies.existingConfigMap }}
{{- .Values.policies.existingConfigMap }}
{{- else }}
{{- printf "%s-policies" (include "trainingjob-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The cert-manager Certificate of the serving certificate (the CA injector reads its ca.crt). */}}
{{- define "trainingjob-guard.certificateName" -}}
{{- printf "%s-serving" (include "trainingjob-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "trainingjob-guard.cleanupName" -}}
{{- printf "%s-cleanup" (include "trainingjob-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* repository:tag or repository@digest of an image block; the tag defaults to appVersion. */}}
{{- define "trainingjob-guard.imageRef" -}}
{{- $image := index . 0 }}
{{- $default := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $default $image.tag) }}
{{- end }}
{{- end }}

{{/*
The restricted Pod Security Standard, for every pod of the chart: pod level
here, container level in "trainingjob-guard.containerSecurityContext".
*/}}
{{- define "trainingjob-guard.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.runAsGroup }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "trainingjob-guard.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Serving certificate of the helm-generated mode, computed once per render and
cached in the render's values (both the Secret and the webhook configurations
need it, and two genCA calls would give two different CAs). An existing Secret
is reused (lookup), so upgrades keep the CA the API server already trusts;
`helm template` and --dry-run cannot look up and show fresh ones.
Returns JSON: {"ca": <base64 PEM>, "crt": <base64 PEM>, "key": <base64 PEM>}.
*/}}
{{- define "trainingjob-guard.helmGeneratedCert" -}}
{{- if not (hasKey .Values.certificates "_generated") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "trainingjob-guard.tlsSecretName" .) }}
{{- $data := dig "data" dict $secret }}
{{- $cert := dict }}
{{- if and (get $data "ca.crt") (get $data "tls.crt") (get $data "tls.key") }}
{{- $cert = dict "ca" (get $data "ca.crt") "crt" (get $data "tls.crt") "key" (get $data "tls.key") }}
{{- else }}
{{- $days := int .Values.certificates.helmGenerated.validityDays }}
{{- $dnsNames := include "trainingjob-guard.dnsNames" . | fromJsonArray }}
{{- $ca := genCA (printf "%s-ca" (include "trainingjob-guard.fullname" .)) $days }}
{{- $serving := genSignedCert (index $dnsNames 2) nil $dnsNames $days $ca }}
{{- $cert = dict "ca" ($ca.Cert | b64enc) "crt" ($serving.Cert | b64enc) "key" ($serving.Key | b64enc) }}
{{- end }}
{{- $_ := set .Values.certificates "_generated" $cert }}
{{- end }}
{{- get .Values.certificates "_generated" | toJson }}
{{- end }}

{{/*
Arguments of `trainingjob-guard serve` (the shared contract of the chart and the
server): a YAML list, in the contract's order. The webhook loads the bundled
baseline next to the ConfigMap's policies unless --no-baseline, the same rule
as `trainingjob-guard validate` in CI (the order of policies does not matter:
the webhook applies them in id order).
*/}}
{{- define "trainingjob-guard.args" -}}
{{- $ns := .Release.Namespace }}
{{- $args := list "serve" "--host" "0.0.0.0" "--port" "8443" "--cert-dir" "/certs" }}
{{- $args = concat $args (list "--policy" "/policies") }}
{{- if not .Values.policies.includeBaseline }}
{{- $args = append $args "--no-baseline" }}
{{- end }}
{{- range include "trainingjob-guard.dnsNames" . | fromJsonArray | rest | rest }}
{{- $args = concat $args (list "--dns-name" .) }}
{{- end }}
{{- $args = append $args "--namespace-labels" }}
{{- if .Values.policies.fromCluster }}
{{- $args = append $args "--cluster-policies" }}
{{- end }}
{{- if .Values.audit.continuous.enabled }}
{{- $args = concat $args (list "--audit-interval" (toString (int .Values.audit.continuous.intervalSeconds)) "--audit-lease" (printf "%s/%s-audit" $ns (include "trainingjob-guard.fullname" .))) }}
{{- end }}
{{- with .Values.connections }}
{{- $args = concat $args (list "--read-timeout" (toString .readTimeoutSeconds) "--keep-alive-timeout" (toString (int .keepAliveTimeoutSeconds)) "--max-connections" (toString (int .max))) }}
{{- end }}
{{- if eq .Values.certificates.mode "self-managed" }}
{{- $webhooks := include "trainingjob-guard.webhookConfigName" . }}
{{- $args = concat $args (list "--self-managed-certs" (printf "%s/%s" $ns (include "trainingjob-guard.tlsSecretName" .)) "--validating-webhook" $webhooks "--mutating-webhook" $webhooks) }}
{{- end }}
{{- /* The webhook's default is the ACK controller chart's default identity (values.yaml's). */}}
{{- if ne (toJson .Values.controllerUsers) (toJson (list "system:serviceaccount:ack-system:ack-sagemaker-controller")) }}
{{- range .Values.controllerUsers }}
{{- $args = concat $args (list "--controller-user" .) }}
{{- end }}
{{- end }}
{{- range $rule, $action := .Values.ruleActions }}
{{- $args = concat $args (list "--rule-action" (printf "%s=%s" $rule $action)) }}
{{- end }}
{{- $args = concat $args .Values.extraArgs }}
{{- toYaml $args }}
{{- end }}
