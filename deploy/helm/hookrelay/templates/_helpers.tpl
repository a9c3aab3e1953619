{{/* Chart name, truncated for label values. */}}
{{- define "hookrelay.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name of every object. */}}
{{- define "hookrelay.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hookrelay.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "hookrelay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels; call with (dict "ctx" $ "component" "serve"). */}}
{{- define "hookrelay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookrelay.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "hookrelay.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "hookrelay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hookrelay.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding credentials: the operator's, or the chart's. */}}
{{- define "hookrelay.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "hookrelay.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
Environment of every hookrelay container. Production mode is not a value:
it makes a missing encryption key fatal and closes the SSRF guard.
Optional secret keys are optional refs, so an existingSecret may omit them.
*/}}
{{- define "hookrelay.env" -}}
- name: HOOKRELAY_ENV
  value: production
- name: HOOKRELAY_LOG_FORMAT
  value: json
- name: HOOKRELAY_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: HOOKRELAY_PUBLIC_URL
  value: {{ .Values.publicURL | quote }}
- name: HOOKRELAY_REDIS_ADDR
  value: {{ .Values.redis.addr | quote }}
- name: HOOKRELAY_REDIS_DB
  value: {{ .Values.redis.db | quote }}
- name: HOOKRELAY_RETRY_SCHEDULE
  value: {{ .Values.config.retrySchedule | quote }}
- name: HOOKRELAY_DELIVERY_TIMEOUT
  value: {{ .Values.config.deliveryTimeout | quote }}
- name: HOOKRELAY_MAX_BODY_BYTES
  value: {{ .Values.config.maxBodyBytes | int | quote }}
- name: HOOKRELAY_RETENTION
  value: {{ .Values.config.retention | quote }}
{{- with .Values.config.notifyURL }}
- name: HOOKRELAY_NOTIFY_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.trustedProxies }}
- name: HOOKRELAY_TRUSTED_PROXIES
  value: {{ . | quote }}
{{- end }}
{{- range $k, $v := .Values.config.extraEnv }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
- name: HOOKRELAY_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "hookrelay.secretName" . }}
      key: HOOKRELAY_DATABASE_URL
- name: HOOKRELAY_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "hookrelay.secretName" . }}
      key: HOOKRELAY_ENCRYPTION_KEYS
{{- range list "HOOKRELAY_REDIS_PASSWORD" "HOOKRELAY_METRICS_TOKEN" "HOOKRELAY_NOTIFY_SECRET" }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "hookrelay.secretName" $ }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end -}}
