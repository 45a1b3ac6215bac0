// Pharos' notification templates under the names Alertmanager's default.tmpl defines, so
// configurations that refer to them (`{{ template "slack.default.title" . }}`) work unchanged.
// The texts follow upstream's output (subject line, alert lists); the HTML email is our own.
export const DEFAULT_TEMPLATES = `
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}

{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__description" }}{{ end }}

{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}

{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}

{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}

{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "email.default.text" }}{{ template "__subject" . }}
{{ if gt (len .Alerts.Firing) 0 }}
{{ .Alerts.Firing | len }} firing:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}
{{ .Alerts.Resolved | len }} resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}
View in Alertmanager: {{ template "__alertmanagerURL" . }}
{{ end }}
{{ define "__email_alert_list" }}{{ range . }}<tr><td style="padding:8px 16px;border-top:1px solid #e5e5e5">
<strong>Labels</strong><br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}
{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br>{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}
<a href="{{ .GeneratorURL }}">Source</a></td></tr>
{{ end }}{{ end }}
{{ define "email.default.html" }}<!DOCTYPE html>
<html><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width">
<title>{{ template "__subject" . }}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;font-size:14px;background:#f6f6f6;margin:0;padding:16px">
<table style="max-width:600px;margin:0 auto;background:#fff;border:1px solid #e9e9e9;border-radius:3px;border-collapse:collapse;width:100%">
<tr><td style="padding:16px;color:#fff;background:{{ if eq .Status "firing" }}#e45959{{ else }}#68b90f{{ end }};font-size:16px">
{{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for {{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</td></tr>
<tr><td style="padding:16px"><a href="{{ template "__alertmanagerURL" . }}">View in {{ template "__alertmanager" . }}</a></td></tr>
{{ if gt (len .Alerts.Firing) 0 }}<tr><td style="padding:8px 16px"><strong>[{{ .Alerts.Firing | len }}] Firing</strong></td></tr>
{{ template "__email_alert_list" .Alerts.Firing }}{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}<tr><td style="padding:8px 16px"><strong>[{{ .Alerts.Resolved | len }}] Resolved</strong></td></tr>
{{ template "__email_alert_list" .Alerts.Resolved }}{{ end }}
<tr><td style="padding:16px;color:#999;font-size:12px">Sent by {{ template "__alertmanager" . }}</td></tr>
</table></body></html>
{{ end }}
`;
