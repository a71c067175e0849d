{{/* Chart name, truncated to the 63 characters Kubernetes allows in names and labels. */}}
{{- define "dlp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "dlp-gateway.fullname" -}}
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

{{- define "dlp-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dlp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dlp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dlp-gateway.labels" -}}
helm.sh/chart: {{ include "dlp-gateway.chart" . }}
{{ include "dlp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dlp-gateway
{{- end }}

{{- define "dlp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dlp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dlp-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Name of the Secret with the CA, or "" when pods make their own CA. */}}
{{- define "dlp-gateway.caSecretName" -}}
{{- if .Values.ca.existingSecret }}
{{- .Values.ca.existingSecret }}
{{- else if or .Values.ca.pem .Values.ca.generate }}
{{- printf "%s-ca" (include "dlp-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Name of the ConfigMap with policy files, or "" to use the policy shipped in the image. */}}
{{- define "dlp-gateway.policyConfigMapName" -}}
{{- if .Values.policy.existingConfigMap }}
{{- .Values.policy.existingConfigMap }}
{{- else if .Values.policy.files }}
{{- printf "%s-policy" (include "dlp-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "dlp-gateway.confdir" -}}/var/lib/dlp-gateway/mitmproxy{{- end }}
{{- define "dlp-gateway.policyDir" -}}/etc/dlp-gateway/policies{{- end }}
