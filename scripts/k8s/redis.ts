import { sentinelUrl } from '../../shared/src/redis-target.js'
import type { K8sObject } from './types.js'

/**
 * Redis with Sentinel on Kubernetes: a StatefulSet `redis` of two data pods (redis-0 starts as
 * the primary, redis-1 as its replica, each with a PVC) and a StatefulSet `redis-sentinel` of
 * three Sentinels (quorum 2). Every address is a stable pod DNS name (headless Services), so
 * what the Sentinels announce after a failover stays valid when a pod is rescheduled.
 *
 * A pod never decides alone that it is the primary: at start it asks the Sentinels for the
 * current primary and becomes its replica; only when no Sentinel knows one (the very first
 * start) does redis-0 start as the primary. Sentinels likewise ask their peers before falling
 * back to redis-0, so a restarted Sentinel never monitors a stale primary.
 */
const masterName = 'nines'
const sentinelCount = 3
const redisImage = 'redis:7-alpine'
// the image's own `redis` user: our command replaces the entrypoint that would drop root
const redisUser = { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 }

/** The REDIS_URL every process of the cluster gets. */
export function k8sRedisUrl (): string {
  return sentinelUrl(Array.from({ length: sentinelCount }, (_, i) => ({ host: `redis-sentinel-${i}.redis-sentinel`, port: 26379 })), masterName)
}

const labels = (name: string): Record<string, string> => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'nines' })

// POD_NAME and NAMESPACE come from the downward API. `$(...)` is shell, run inside the pod.
const redisStart = `set -eu
ME="$POD_NAME.redis.$NAMESPACE.svc.cluster.local"
MASTER=""
for i in 0 1 2; do
  MASTER=$(redis-cli -h redis-sentinel-$i.redis-sentinel -p 26379 --raw sentinel get-master-addr-by-name ${masterName} 2>/dev/null | head -n 1 || true)
  [ -n "$MASTER" ] && break
done
ARGS="--appendonly yes --appendfsync always --dir /data --replica-announce-ip $ME --repl-diskless-sync-delay 0"
if [ -z "$MASTER" ] && [ "$POD_NAME" = "redis-0" ]; then
  exec redis-server $ARGS
fi
[ -z "$MASTER" ] && MASTER="redis-0.redis.$NAMESPACE.svc.cluster.local"
if [ "$MASTER" = "$ME" ]; then
  exec redis-server $ARGS
fi
exec redis-server $ARGS --replicaof "$MASTER" 6379
`

const sentinelStart = `set -eu
MASTER=""
for i in 0 1 2; do
  [ "redis-sentinel-$i" = "$POD_NAME" ] && continue
  MASTER=$(redis-cli -h redis-sentinel-$i.redis-sentinel -p 26379 --raw sentinel get-master-addr-by-name ${masterName} 2>/dev/null | head -n 1 || true)
  [ -n "$MASTER" ] && break
done
[ -z "$MASTER" ] && MASTER="redis-0.redis.$NAMESPACE.svc.cluster.local"
cat > /tmp/sentinel.conf <<EOF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $POD_NAME.redis-sentinel.$NAMESPACE.svc.cluster.local
sentinel monitor ${masterName} $MASTER 6379 2
sentinel down-after-milliseconds ${masterName} 2000
sentinel failover-timeout ${masterName} 10000
sentinel parallel-syncs ${masterName} 1
EOF
exec redis-sentinel /tmp/sentinel.conf
`

const podEnv = [
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }
]

function headless (name: string, port: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(name) },
    spec: {
      clusterIP: 'None',
      // peers must resolve each other before they are ready (a replica needs its primary's name)
      publishNotReadyAddresses: true,
      selector: labels(name),
      ports: [{ name: name === 'redis' ? 'redis' : 'sentinel', port, targetPort: port }]
    }
  }
}

function pdb (name: string, maxUnavailable: number): K8sObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels: labels(name) },
    spec: { maxUnavailable, selector: { matchLabels: labels(name) } }
  }
}

export function redisObjects (): K8sObject[] {
  const probe = (port: number): Record<string, unknown> => ({ exec: { command: ['redis-cli', '-p', String(port), 'ping'] }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 })
  const resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } }
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'redis-scripts', labels: labels('redis') },
      data: { 'redis-start.sh': redisStart, 'sentinel-start.sh': sentinelStart }
    },
    headless('redis', 6379),
    headless('redis-sentinel', 26379),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'redis', labels: labels('redis') },
      spec: {
        serviceName: 'redis',
        replicas: 2,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: labels('redis') },
        template: {
          metadata: { labels: labels('redis') },
          spec: {
            terminationGracePeriodSeconds: 30,
            securityContext: redisUser,
            affinity: spreadAcrossNodes('redis'),
            containers: [{
              name: 'redis',
              image: redisImage,
              command: ['sh', '/scripts/redis-start.sh'],
              env: podEnv,
              ports: [{ name: 'redis', containerPort: 6379 }],
              readinessProbe: probe(6379),
              livenessProbe: { ...probe(6379), initialDelaySeconds: 10 },
              resources,
              volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scripts', mountPath: '/scripts' }]
            }],
            volumes: [{ name: 'scripts', configMap: { name: 'redis-scripts' } }]
          }
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }
        }]
      }
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'redis-sentinel', labels: labels('redis-sentinel') },
      spec: {
        serviceName: 'redis-sentinel',
        replicas: sentinelCount,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: labels('redis-sentinel') },
        template: {
          metadata: { labels: labels('redis-sentinel') },
          spec: {
            securityContext: redisUser,
            affinity: spreadAcrossNodes('redis-sentinel'),
            containers: [{
              name: 'sentinel',
              image: redisImage,
              command: ['sh', '/scripts/sentinel-start.sh'],
              env: podEnv,
              ports: [{ name: 'sentinel', containerPort: 26379 }],
              readinessProbe: probe(26379),
              livenessProbe: { ...probe(26379), initialDelaySeconds: 10 },
              resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
              volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }]
            }],
            volumes: [{ name: 'scripts', configMap: { name: 'redis-scripts' } }]
          }
        }
      }
    },
    // one data pod may be down at a time (the other keeps serving); two Sentinels keep the quorum
    pdb('redis', 1),
    pdb('redis-sentinel', 1)
  ]
}

/** Prefer different nodes for the members of one set, so one node's loss takes one member. */
export function spreadAcrossNodes (name: string): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': name } } }
      }]
    }
  }
}
