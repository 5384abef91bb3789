import { builtEntry, instanceSpecs, type ServiceSpec, type Topology } from '../../topology.js'
import { k8sRedisUrl, redisObjects, spreadAcrossNodes } from './redis.js'
import type { K8sObject, ManifestFile } from './types.js'

/**
 * The Kubernetes manifests of a topology (pure: topology in, objects out).
 *
 * - Interchangeable instances (`scalable: true`) are one Deployment with `instances` replicas.
 * - Named instances (replica-set members, pair members) are one single-replica StatefulSet per
 *   instance, named after it. The topology gives each instance its own id and its own settings
 *   (a pair member's role, a replica's data directory), which one StatefulSet cannot vary per
 *   ordinal; a StatefulSet of one keeps the id (INSTANCE_ID is the topology id, not an
 *   ordinal), its own PersistentVolumeClaim across rescheduling, and a rollout that touches
 *   one member at a time.
 * - The gateway is a Deployment behind a Service; `GET /readyz` of the gateway is about the
 *   whole cluster, so its own readiness probe is `/healthz` (a missing service must not take
 *   every gateway out of its Service).
 * - Every instance registers its pod IP (ADVERTISE_HOST from status.podIP) and listens on
 *   0.0.0.0:3000; readiness `/readyz`, liveness `/healthz`, and a preStop sleep so the
 *   endpoint is removed before SIGTERM starts the drain.
 */
const containerPort = 3000
const image = 'nines:latest'
const namespace = 'nines'
/** Seconds a pod keeps serving after it is marked terminating, while Services and gateways drop it. */
export const preStopSleepSeconds = 5

const defaultResources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } }
/** Per-service resources where the default does not fit (CPU-heavy work). */
const resourcesByService: Record<string, typeof defaultResources> = {
  compute: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } }
}
/** The echo pool also gets a HorizontalPodAutoscaler, as an example for any stateless service. */
const autoscaled: Record<string, { min: number, max: number, cpuPercent: number }> = {
  echo: { min: 3, max: 10, cpuPercent: 70 }
}
const gatewayReplicas = 2

const labels = (service: string, extra: Record<string, string> = {}): Record<string, string> =>
  ({ 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': 'nines', ...extra })

function envList (env: Record<string, string>): Array<Record<string, unknown>> {
  return [
    ...Object.entries(env).map(([name, value]) => ({ name, value })),
    { name: 'ADVERTISE_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }
  ]
}

function container (name: string, entry: string, env: Record<string, string>, resources: typeof defaultResources, readinessPath: string, dataVolume: boolean): Record<string, unknown> {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', entry],
    envFrom: [{ configMapRef: { name: 'nines-common' } }],
    env: envList(env),
    ports: [{ name: 'http', containerPort: Number(env.PORT ?? containerPort) }],
    readinessProbe: { httpGet: { path: readinessPath, port: 'http' }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    startupProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 60 },
    lifecycle: { preStop: { exec: { command: ['sleep', String(preStopSleepSeconds)] } } },
    resources,
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
    ...(dataVolume ? { volumeMounts: [{ name: 'data', mountPath: '/app/data' }] } : {})
  }
}

function podSpec (service: string, c: Record<string, unknown>): Record<string, unknown> {
  return {
    // the preStop sleep plus the service's own drain must fit in it
    terminationGracePeriodSeconds: 30,
    securityContext: { fsGroup: 1000 },
    affinity: spreadAcrossNodes(service),
    containers: [c]
  }
}

function pdb (service: string, count: number): K8sObject {
  // a replica set keeps its majority, a pair keeps one member, a pool keeps all but one
  const maxUnavailable = count >= 3 ? Math.floor((count - 1) / 2) : 1
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: service, labels: labels(service) },
    spec: { maxUnavailable, selector: { matchLabels: labels(service) } }
  }
}

function deployment (service: string, replicas: number | undefined, c: Record<string, unknown>): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, labels: labels(service) },
    spec: {
      // an autoscaled Deployment leaves its replica count to the HPA (a re-apply would reset it)
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { matchLabels: labels(service) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels: labels(service) }, spec: podSpec(service, c) }
    }
  }
}

function serviceObjects (service: string, spec: ServiceSpec): K8sObject[] {
  const resources = resourcesByService[service] ?? defaultResources
  const base = { ...spec.env, PORT: String(containerPort) }
  if (spec.scalable && typeof spec.instances === 'number') {
    const hpa = autoscaled[service]
    const objects = [deployment(service, hpa === undefined ? spec.instances : undefined, container(service, builtEntry(spec), base, resources, '/readyz', false)), pdb(service, spec.instances)]
    if (hpa !== undefined) {
      objects.push({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: service, labels: labels(service) },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: service },
          // never below the topology's count: the HPA only adds capacity
          minReplicas: Math.max(hpa.min, spec.instances, 1),
          maxReplicas: hpa.max,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: hpa.cpuPercent } } }]
        }
      })
    }
    return objects
  }
  const instances = instanceSpecs(service, spec)
  const objects: K8sObject[] = instances.map((instance) => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: instance.id, labels: labels(service, { 'nines/instance': instance.id }) },
    spec: {
      serviceName: service,
      replicas: 1,
      selector: { matchLabels: labels(service, { 'nines/instance': instance.id }) },
      template: {
        metadata: { labels: labels(service, { 'nines/instance': instance.id }) },
        spec: podSpec(service, container(service, builtEntry(spec), { ...base, INSTANCE_ID: instance.id, DATA_DIR: '/app/data', KV_DATA_ROOT: '/app/data', ...instance.env }, resources, '/readyz', true))
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }]
    }
  }))
  objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, labels: labels(service) },
    // headless: stable DNS names for the members (the registry carries their pod IPs)
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: labels(service), ports: [{ name: 'http', port: containerPort, targetPort: 'http' }] }
  }, pdb(service, instances.length))
  return objects
}

function gatewayObjects (t: Topology): K8sObject[] {
  const c = container('gateway', 'dist/gateway/src/server.js', { PORT: String(t.gateway.port), INSTANCE_ID: '' }, defaultResources, '/healthz', false)
  // each gateway replica names itself after its pod, so metrics and logs tell them apart
  c.env = [...(c.env as Array<Record<string, unknown>>).filter((e) => e.name !== 'INSTANCE_ID'), { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]
  return [
    deployment('gateway', gatewayReplicas, c),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'gateway', labels: labels('gateway') },
      spec: { type: 'ClusterIP', selector: labels('gateway'), ports: [{ name: 'http', port: t.gateway.port, targetPort: 'http' }] }
    },
    pdb('gateway', gatewayReplicas)
  ]
}

/** Every file of deploy/k8s for a topology, in apply order. */
export function renderManifests (t: Topology): ManifestFile[] {
  const files: ManifestFile[] = [
    { name: 'namespace', objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'nines' } } }] },
    {
      name: 'config',
      objects: [{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'nines-common', labels: { 'app.kubernetes.io/part-of': 'nines' } },
        data: { REDIS_URL: k8sRedisUrl(), HOST: '0.0.0.0', NINES_PREFIX: 'nines', LOG_LEVEL: 'info' }
      }]
    },
    { name: 'redis', objects: redisObjects() },
    { name: 'gateway', objects: gatewayObjects(t) }
  ]
  for (const [service, spec] of Object.entries(t.services)) files.push({ name: service, objects: serviceObjects(service, spec) })
  return files
}

const header = 'Generated from topology.ts by `npm run k8s`. Do not edit by hand: test/unit/deploy/k8s.test.ts fails when deploy/k8s drifts from the topology.'

/** A file's text: a `v1 List` as JSON (YAML's superset; kubectl and kustomize read it). */
export function fileText (file: ManifestFile): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { annotations: { 'nines/generated': header } }, items: file.objects }, null, 2)}\n`
}

export function kustomizationText (files: readonly ManifestFile[]): string {
  return [
    `# ${header}`,
    '# kubectl apply -k deploy/k8s   (build the image first: docker build -t nines:latest .; or set your',
    '# registry\'s image with: cd deploy/k8s && kustomize edit set image nines=<registry>/nines:<tag>)',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${namespace}`,
    'resources:',
    ...files.map((f) => `  - ${f.name}.json`),
    ''
  ].join('\n')
}
