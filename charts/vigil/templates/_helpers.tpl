{{/* Chart name. */}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name, truncated to the 63 characters DNS names allow. */}}
{{- define "vigil.fullname" -}}
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

{{/* Chart label value. */}}
{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "vigil.labels" -}}
helm.sh/chart: {{ include "vigil.chart" . }}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vigil
{{- end }}

{{/* Selector labels (immutable on workloads: never add to them). */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "ingest"). */}}
{{- define "vigil.componentLabels" -}}
{{ include "vigil.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vigil.componentSelectorLabels" -}}
{{ include "vigil.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* A Vigil image: (dict "root" $ "image" .Values.ingest.image). */}}
{{- define "vigil.image" -}}
{{- $g := .root.Values.global }}
{{- $tag := .image.tag | default $g.imageTag | default .root.Chart.AppVersion }}
{{- if $g.imageRegistry }}
{{- printf "%s/%s:%s" $g.imageRegistry .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the connection URLs. */}}
{{- define "vigil.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "vigil.fullname" .)) }}
{{- end }}

{{- define "vigil.mqttUrl" -}}
{{- if .Values.secrets.mqttUrl }}
{{- .Values.secrets.mqttUrl }}
{{- else if .Values.mosquitto.enabled }}
{{- printf "mqtt://%s-mosquitto:%d" (include "vigil.fullname" .) (int .Values.mosquitto.service.port) }}
{{- else }}
{{- fail "secrets.mqttUrl is required when mosquitto.enabled is false" }}
{{- end }}
{{- end }}

{{- define "vigil.redisUrl" -}}
{{- if .Values.secrets.redisUrl }}
{{- .Values.secrets.redisUrl }}
{{- else if .Values.redis.enabled }}
{{- printf "redis://%s-redis:6379/0" (include "vigil.fullname" .) }}
{{- else if .Values.cache.enabled }}
{{- fail "the cache service needs Redis: set secrets.redisUrl or redis.enabled" }}
{{- end }}
{{- end }}

{{/* Variables shared by every Vigil process (non-secret). */}}
{{- define "vigil.commonEnv" -}}
VIGIL_ENVIRONMENT: {{ .Values.config.environment | quote }}
VIGIL_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
VIGIL_READINGS_SHARDS: {{ .Values.config.readingsShards | quote }}
VIGIL_DB_STATEMENT_CACHE: {{ .Values.config.dbStatementCache | quote }}
VIGIL_SECRETS_DIR: {{ .Values.secrets.mountPath | quote }}
{{- range $k, $v := .Values.config.extraEnv }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{/* Pod-level security context, merged with a component override. */}}
{{- define "vigil.podSecurityContext" -}}
{{- $over := .override | default dict }}
{{- toYaml (merge (deepCopy $over) .root.Values.podSecurityContext) }}
{{- end }}
