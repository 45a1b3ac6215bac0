{{- define "pharos.name" -}}{{ .Release.Name }}{{- end -}}

{{- define "pharos.labels" -}}
app.kubernetes.io/name: pharos
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pharos.selector" -}}
app.kubernetes.io/name: pharos
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pharos.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{- define "pharos.kafkaEnv" -}}
- name: PHAROS_KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: PHAROS_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
{{- end -}}

{{- define "pharos.probes" -}}
readinessProbe:
  httpGet: { path: /-/ready, port: http }
  periodSeconds: 5
livenessProbe:
  httpGet: { path: /-/healthy, port: http }
  periodSeconds: 10
  failureThreshold: 6
{{- end -}}
