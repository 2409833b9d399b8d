{{- /*
Which enforcement the release installs (values "mode"): the webhook's objects render
when it is "webhook" or "both", the ValidatingAdmissionPolicies (vap.yaml) when it
is "vap" or "both".
*/}}
{{- define "trainingjob-guard.webhookEnabled" -}}
{{- if ne .Values.mode "vap" }}true{{ end -}}
{{- end }}

{{- define "trainingjob-guard.vapEnabled" -}}
{{- if ne .Values.mode "webhook" }}true{{ end -}}
{{- end }}
