import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseRedisTarget } from '../../../shared/src/redis-target.js'
import { fileText, kustomizationText, preStopSleepSeconds, renderManifests } from '../../../scripts/k8s/manifests.js'
import type { K8sObject } from '../../../scripts/k8s/types.js'
import { instanceSpecs, topology, type Topology } from '../../../topology.js'

const dir = resolve(import.meta.dirname, '../../../deploy/k8s')

/**
 * Schema validation with the npm package `kubernetes-models` (the Kubernetes OpenAPI schemas,
 * checked with ajv), when it is installed: K8S_MODELS_DIR may point at an installed copy
 * (its node_modules/kubernetes-models folder) to try it without adding the dependency.
 */
async function loadModels (): Promise<Record<string, Record<string, new (data: unknown) => { validate: () => void }>> | undefined> {
  const base = process.env.K8S_MODELS_DIR
  const spec = (group: string): string => base !== undefined && base !== '' ? `${base}/${group}/index.js` : `kubernetes-models/${group}`
  try {
    const entries = await Promise.all(['v1', 'apps/v1', 'policy/v1', 'autoscaling/v2'].map(async (group) => [group, await import(spec(group))] as const))
    return Object.fromEntries(entries)
  } catch {
    return undefined
  }
}
const models = await loadModels()

/** Every object of deploy/k8s as kubectl would read it (each file is a JSON `v1 List`). */
function readManifests (): K8sObject[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((f) => {
    const list = JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as { kind: string, items: K8sObject[] }
    expect(list.kind).toBe('List')
    return list.items
  })
}

const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind)
const named = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name)
type Container = Record<string, any>
const containerOf = (workload: K8sObject): Container => (workload as any).spec.template.spec.containers[0]

/** What every instance's container must have, whatever its kind. */
function expectInstanceContainer (c: Container, readinessPath = '/readyz'): void {
  expect(c.readinessProbe.httpGet.path).toBe(readinessPath)
  expect(c.livenessProbe.httpGet.path).toBe('/healthz')
  expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', String(preStopSleepSeconds)])
  expect(c.resources.requests.cpu).toBeDefined()
  expect(c.resources.requests.memory).toBeDefined()
  expect(c.resources.limits.cpu).toBeDefined()
  expect(c.resources.limits.memory).toBeDefined()
  // instances register their pod address
  expect(c.env).toContainEqual({ name: 'ADVERTISE_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } })
  expect(c.envFrom).toContainEqual({ configMapRef: { name: 'nines-common' } })
}

/** The checks that tie manifests to a topology. */
function expectMatchesTopology (objects: K8sObject[], t: Topology): void {
  const gateway = named(objects, 'Deployment', 'gateway')
  expect(gateway).toBeDefined()
  expectInstanceContainer(containerOf(gateway!), '/healthz')
  expect((named(objects, 'Service', 'gateway') as any).spec.ports[0].port).toBe(t.gateway.port)
  expect(named(objects, 'PodDisruptionBudget', 'gateway')).toBeDefined()

  for (const [service, spec] of Object.entries(t.services)) {
    expect(named(objects, 'PodDisruptionBudget', service), `${service} has a PodDisruptionBudget`).toBeDefined()
    if (spec.scalable && typeof spec.instances === 'number') {
      const deployment = named(objects, 'Deployment', service)
      expect(deployment, `${service} is a Deployment`).toBeDefined()
      const hpa = named(objects, 'HorizontalPodAutoscaler', service) as any
      if (hpa !== undefined) {
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(spec.instances)
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service })
      } else {
        expect((deployment as any).spec.replicas).toBe(spec.instances)
      }
      expectInstanceContainer(containerOf(deployment!))
      expect(containerOf(deployment!).command).toEqual(['node', `dist/${spec.entry.replace(/\.ts$/, '.js')}`])
    } else {
      for (const instance of instanceSpecs(service, spec)) {
        const set = named(objects, 'StatefulSet', instance.id) as any
        expect(set, `${instance.id} is a StatefulSet of its own`).toBeDefined()
        expect(set.spec.replicas).toBe(1)
        expect(set.spec.volumeClaimTemplates[0].metadata.name).toBe('data')
        const c = containerOf(set)
        expectInstanceContainer(c)
        expect(c.env).toContainEqual({ name: 'INSTANCE_ID', value: instance.id })
        for (const [name, value] of Object.entries({ ...spec.env, ...instance.env })) expect(c.env).toContainEqual({ name, value })
        expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/app/data' })
      }
      expect(named(objects, 'Deployment', service)).toBeUndefined()
    }
  }
  // nothing beyond the topology, Redis and the gateway
  const known = new Set(['gateway', 'redis', 'redis-sentinel', ...Object.keys(t.services), ...Object.entries(t.services).flatMap(([s, spec]) => instanceSpecs(s, spec).map((i) => i.id))])
  for (const o of [...byKind(objects, 'Deployment'), ...byKind(objects, 'StatefulSet')]) expect(known.has(o.metadata.name), o.metadata.name).toBe(true)
}

describe('deploy/k8s', () => {
  it('is exactly what topology.ts generates (run `npm run k8s` after changing the topology)', () => {
    const files = renderManifests(topology)
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).sort()).toEqual(files.map((f) => `${f.name}.json`).sort())
    for (const file of files) expect(readFileSync(resolve(dir, `${file.name}.json`), 'utf8')).toBe(fileText(file))
    expect(readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')).toBe(kustomizationText(files))
  })

  it('parses, and every object has an apiVersion, a kind and a name', () => {
    const objects = readManifests()
    expect(objects.length).toBeGreaterThan(10)
    for (const o of objects) {
      expect(o.apiVersion).toMatch(/^(v1|apps\/v1|policy\/v1|autoscaling\/v2)$/)
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    }
  })

  it('matches the topology: every service, the right kinds and replica counts, probes, preStop, resources', () => {
    expectMatchesTopology(readManifests(), topology)
  })

  it('runs Redis with Sentinel, and every process finds the primary through the Sentinels', () => {
    const objects = readManifests()
    expect((named(objects, 'StatefulSet', 'redis') as any).spec.replicas).toBe(2)
    expect((named(objects, 'StatefulSet', 'redis-sentinel') as any).spec.replicas).toBe(3)
    const target = parseRedisTarget((named(objects, 'ConfigMap', 'nines-common') as any).data.REDIS_URL)
    expect(target).toMatchObject({ mode: 'sentinel', masterName: 'nines', minReplicas: 1 })
    expect(target.mode === 'sentinel' && target.sentinels.map((s) => s.host)).toEqual(['redis-sentinel-0.redis-sentinel', 'redis-sentinel-1.redis-sentinel', 'redis-sentinel-2.redis-sentinel'])
    const scripts = (named(objects, 'ConfigMap', 'redis-scripts') as any).data
    expect(scripts['sentinel-start.sh']).toContain('sentinel monitor nines $MASTER 6379 2')
    expect(scripts['redis-start.sh']).toContain('get-master-addr-by-name nines')
  })

  it('lists every manifest in kustomization.yaml', () => {
    const text = readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')
    const listed = [...text.matchAll(/^ {2}- (.+\.json)$/gm)].map((m) => m[1]).sort()
    expect(listed).toEqual(readdirSync(dir).filter((f) => f.endsWith('.json')).sort())
  })

  it('gives every shape its kind: pools as Deployments, named replicas and pair members as StatefulSets of one', () => {
    const t: Topology = {
      gateway: { port: 8080 },
      services: {
        echo: { entry: 'services/echo/src/server.ts', instances: 3, scalable: true },
        compute: { entry: 'services/compute/src/server.ts', instances: 2, scalable: true },
        feed: { entry: 'services/feed/src/server.ts', instances: 2, scalable: true },
        sink: { entry: 'services/sink/src/server.ts', instances: 2, scalable: true },
        'ledger-hw': { entry: 'services/ledger/src/server.ts', instances: [{ id: 'ledger-hw-a', env: { PAIR: 'hot-warm' } }, { id: 'ledger-hw-b', env: { PAIR: 'hot-warm' } }], scalable: false },
        'kv-leader': { entry: 'services/kv-leader/src/server.ts', instances: 3, scalable: false }
      }
    }
    const objects = renderManifests(t).flatMap((f) => f.objects)
    expectMatchesTopology(objects, t)
    expect(byKind(objects, 'Deployment').map((o) => o.metadata.name).sort()).toEqual(['compute', 'echo', 'feed', 'gateway', 'sink'])
    expect(byKind(objects, 'StatefulSet').map((o) => o.metadata.name).sort()).toEqual(['kv-leader-1', 'kv-leader-2', 'kv-leader-3', 'ledger-hw-a', 'ledger-hw-b', 'redis', 'redis-sentinel'])
    // a three-member replica set keeps its majority through a voluntary disruption, a pair keeps one member
    expect((named(objects, 'PodDisruptionBudget', 'kv-leader') as any).spec.maxUnavailable).toBe(1)
    expect((named(objects, 'PodDisruptionBudget', 'ledger-hw') as any).spec.maxUnavailable).toBe(1)
    expect(containerOf(named(objects, 'Deployment', 'compute')!).resources.limits.cpu).toBe('2')
  })

  it.runIf(models !== undefined)('validates against the Kubernetes schemas (kubernetes-models)', () => {
    const objects = readManifests()
    for (const o of objects) {
      const Model = models?.[o.apiVersion]?.[o.kind]
      expect(Model, `${o.apiVersion} ${o.kind} has a schema`).toBeDefined()
      expect(() => new Model!(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow()
    }
    // and the validator does catch a broken object
    expect(() => new (models!['apps/v1']!.Deployment!)({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'three' } }).validate()).toThrow()
  })

  const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0
  it.runIf(kubectl)('builds with `kubectl kustomize` (kubectl apply -k reads the same)', () => {
    const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('kind: HorizontalPodAutoscaler')
    expect(result.stdout).toContain('namespace: nines')
  })
})
