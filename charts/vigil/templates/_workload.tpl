{{/*
One Vigil service: workload, Services, files ConfigMap, PDB, HPA and ServiceMonitor.
Usage: {{ include "vigil.service" (dict "root" $ "name" "ingest") }}
*/}}
{{- define "vigil.service" -}}
{{- $root := .root }}
{{- $name := .name }}
{{- $svc := index $root.Values $name }}
{{- if $svc.enabled }}
{{- $full := printf "%s-%s" (include "vigil.fullname" $root) $name }}
{{- $prefix := printf "VIGIL_%s_" (upper $name) }}
{{- $ctx := dict "root" $root "component" $name }}
{{- $sts := eq $svc.kind "StatefulSet" }}
{{- if and $svc.sharded (not $sts) }}{{ fail (printf "%s.sharded needs kind StatefulSet" $name) }}{{ end }}
{{- $v := $root.Values }}
{{- if and $v.mosquitto.enabled $v.mosquitto.auth.existingSecret (not $v.secrets.mqttUrl) (not $v.secrets.existingSecret) (not $svc.mqttUrlSecret) }}
{{- fail (printf "%s.mqttUrlSecret is required: the broker wants a password and the chart's URL has none" $name) }}
{{- end }}
{{- if and $svc.singleton (or (gt (int $svc.replicaCount) 1) $svc.autoscaling.enabled) }}{{ fail (printf "%s is a singleton (its state lives in one process): replicaCount must be 1 and autoscaling off" $name) }}{{ end }}
{{- if and $svc.sharded $svc.autoscaling.enabled }}{{ fail (printf "%s is sharded by replica count: autoscaling must stay off" $name) }}{{ end }}
{{- if $svc.files }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $full }}-files
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
data:
  {{- toYaml $svc.files | nindent 2 }}
---
{{- end }}
{{- if $sts }}
# Headless Service: gives the StatefulSet its stable pod identities.
apiVersion: v1
kind: Service
metadata:
  name: {{ $full }}-headless
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "vigil.componentSelectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.httpPort }}
      targetPort: http
---
{{- end }}
apiVersion: v1
kind: Service
metadata:
  name: {{ $full }}
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
    vigil.io/metrics: "true"
spec:
  type: ClusterIP
  selector:
    {{- include "vigil.componentSelectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.httpPort }}
      targetPort: http
---
apiVersion: apps/v1
kind: {{ $svc.kind }}
metadata:
  name: {{ $full }}
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicaCount }}
  {{- end }}
  {{- if $sts }}
  serviceName: {{ $full }}-headless
  # Pods are independent consumers; no need to start them one by one.
  podManagementPolicy: Parallel
  {{- end }}
  selector:
    matchLabels:
      {{- include "vigil.componentSelectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "vigil.componentLabels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        checksum/files: {{ toYaml $svc.files | sha256sum }}
        {{- with $svc.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "vigil.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "vigil.podSecurityContext" (dict "root" $root) | nindent 8 }}
      terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $name }}
          image: {{ include "vigil.image" (dict "root" $root "image" $svc.image) }}
          imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          envFrom:
            - configMapRef:
                name: {{ include "vigil.fullname" $root }}-env
          env:
            - name: {{ $prefix }}HTTP_PORT
              value: {{ $svc.httpPort | quote }}
            # The pod name is the MQTT client id: a StatefulSet keeps it across restarts, so the
            # broker resumes the persistent session (queued QoS 1 messages) of this replica.
            - name: {{ $prefix }}CLIENT_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- if $svc.sharded }}
            - name: {{ $prefix }}REPLICAS
              value: {{ $svc.replicaCount | quote }}
            - name: {{ $prefix }}ORDINAL
              valueFrom:
                fieldRef:
                  fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
            {{- end }}
            {{- with $svc.mqttUrlSecret }}
            # Environment beats the secrets dir: this service logs in as its own MQTT user.
            - name: VIGIL_MQTT_URL
              valueFrom:
                secretKeyRef: {name: {{ .name }}, key: {{ .key }}}
            {{- end }}
            {{- range $k, $v := $svc.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $svc.httpPort }}
              protocol: TCP
          # Liveness asks only whether the event loop answers (/metrics): /healthz also reports the
          # broker and database, and an outage of those must not restart every pod. Readiness does.
          startupProbe:
            httpGet: {path: /metrics, port: http}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: {path: /metrics, port: http}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          volumeMounts:
            - name: secrets
              mountPath: {{ $root.Values.secrets.mountPath }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- if $svc.files }}
            - name: files
              mountPath: /etc/vigil/{{ $name }}
              readOnly: true
            {{- end }}
      volumes:
        - name: secrets
          projected:
            defaultMode: 0440
            sources:
              - secret:
                  name: {{ include "vigil.secretName" $root }}
              {{- range $svc.extraSecrets }}
              - secret:
                  name: {{ . }}
              {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $svc.files }}
        - name: files
          configMap:
            name: {{ $full }}-files
        {{- end }}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      affinity:
        {{- if $svc.affinity }}
        {{- toYaml $svc.affinity | nindent 8 }}
        {{- else }}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "vigil.componentSelectorLabels" $ctx | nindent 20 }}
        {{- end }}
{{- if $svc.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $full }}
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
spec:
  maxUnavailable: {{ $svc.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "vigil.componentSelectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- if $svc.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $full }}
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: {{ $svc.kind }}
    name: {{ $full }}
  minReplicas: {{ $svc.autoscaling.minReplicas | default 1 }}
  maxReplicas: {{ required (printf "%s.autoscaling.maxReplicas is required" $name) $svc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $svc.autoscaling.targetCPUUtilizationPercentage | default 70 }}
  {{- with $svc.autoscaling.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if $root.Values.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $full }}
  labels:
    {{- include "vigil.componentLabels" $ctx | nindent 4 }}
    {{- with $root.Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "vigil.componentSelectorLabels" $ctx | nindent 6 }}
      vigil.io/metrics: "true"
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $root.Values.metrics.serviceMonitor.interval }}
{{- end }}
{{- end }}
{{- end }}
