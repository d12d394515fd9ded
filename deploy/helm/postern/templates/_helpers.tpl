{{/* The chart name, overridable. */}}
{{- define "postern.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-postern`, or fullnameOverride; 63 characters at most (a DNS label). */}}
{{- define "postern.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "postern.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: postern
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of the edge pods. */}}
{{- define "postern.edge.selector" -}}
app.kubernetes.io/name: {{ include "postern.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: edge
{{- end -}}

{{- define "postern.edge.fullname" -}}
{{- printf "%s-edge" (include "postern.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image reference: repository and the pinned tag (the chart's appVersion by default). */}}
{{- define "postern.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Pod security context shared by every workload. */}}
{{- define "postern.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context shared by every container. */}}
{{- define "postern.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ['ALL']
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The connector groups to render as JSON ({"groups": [...]}): without multiConnector one group
from the connector-wide key; with it one per entry, each with its own key (a key belongs to
one group, so entries never fall back to the connector-wide key). Per-group autoscaling,
resources and replicas override the connector-wide ones.
*/}}
{{- define "postern.connector.groups" -}}
{{- $c := .Values.connector -}}
{{- $entries := list -}}
{{- if $c.multiConnector.enabled -}}
{{- if not $c.multiConnector.groups -}}
{{- fail "connector.multiConnector.enabled needs at least one entry in connector.multiConnector.groups" -}}
{{- end -}}
{{- range $c.multiConnector.groups -}}
{{- $entries = append $entries (dict "suffix" (printf "-%s" .name) "group" .) -}}
{{- end -}}
{{- else -}}
{{- $single := dict "provisionKey" $c.provisionKey "existingSecret" $c.existingSecret -}}
{{- $entries = append $entries (dict "suffix" "" "group" $single) -}}
{{- end -}}
{{- $out := list -}}
{{- range $entries -}}
{{- $g := .group -}}
{{- $name := printf "%s-connector%s" (include "postern.fullname" $) .suffix | trunc 63 | trimSuffix "-" -}}
{{- if and (empty $g.provisionKey) (empty $g.existingSecret) -}}
{{- fail (printf "connector %s needs provisionKey or existingSecret" $name) -}}
{{- end -}}
{{- /* Key by key: sprig's merge treats false as unset, so a group's enabled: false was lost. */ -}}
{{- $autoscaling := deepCopy $c.autoscaling -}}
{{- range $k, $v := (default (dict) $g.autoscaling) -}}
{{- $_ := set $autoscaling $k $v -}}
{{- end -}}
{{- $out = append $out (dict
  "name" $name
  "group" (default "" $g.name)
  "inlineKey" (ternary "" (default "" $g.provisionKey) (not (empty $g.existingSecret)))
  "secretName" (default $name $g.existingSecret)
  "secretKey" (ternary (default $c.existingSecretKey $g.existingSecretKey) "key" (not (empty $g.existingSecret)))
  "autoscaling" $autoscaling
  "resources" (default $c.resources $g.resources)
  "replicas" (default $c.replicas $g.replicas)
) -}}
{{- end -}}
{{- toJson (dict "groups" $out) -}}
{{- end -}}
