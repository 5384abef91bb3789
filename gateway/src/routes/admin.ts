import type { FastifyInstance } from 'fastify'
import type { Traffic } from '../stats/traffic.js'
import type { WindowSnapshot } from '../stats/rolling-latency.js'
import type { RoutingPolicy } from '../../../shared/src/registry/policy.js'
import type { CompiledRoutingPolicy } from '../upstreams/routing-policy.js'
import type { Router } from '../upstreams/router.js'

/** What GET /registry shows of one instance. */
export interface InstanceView {
  id: string
  url: string
  role: string
  /** Available for traffic: passing its health checks and not ejected. */
  healthy: boolean
  /** The active health checks' verdict alone. */
  checks: 'passing' | 'failing'
  ejected: boolean
  inflight: number
  ewmaMs: number
  startedAt: number
  meta?: Record<string, string | number | boolean>
  /** The routing policy this instance declares. */
  policy?: RoutingPolicy
}

function registryView (router: Router, now: number): { services: Record<string, InstanceView[]> } {
  const services: Record<string, InstanceView[]> = {}
  for (const [name, pool] of router.pools) {
    services[name] = pool.upstreams.map((u) => ({
      id: u.id,
      url: u.url,
      role: u.role,
      healthy: u.available(now),
      checks: u.health.healthy ? 'passing' : 'failing',
      ejected: u.outlier.isEjected(now),
      inflight: u.inflight,
      ewmaMs: Math.round(u.ewmaMs * 100) / 100,
      startedAt: u.record.startedAt,
      ...(u.record.meta ? { meta: u.record.meta } : {}),
      ...(u.record.policy ? { policy: u.record.policy } : {})
    }))
  }
  return { services }
}

/** The routing policy the gateway applies to each service (its instances' declarations, defaults filled in). */
function policiesView (router: Router): { services: Record<string, CompiledRoutingPolicy> } {
  return { services: Object.fromEntries([...router.pools].map(([name, pool]) => [name, pool.policy])) }
}

/** The topology services with no available instance: what keeps /readyz at 503. */
export function missingServices (router: Router, topologyServices: readonly string[], now: number): string[] {
  return topologyServices.filter((name) => (router.service(name)?.availableCount(now) ?? 0) === 0)
}

export interface ServiceStats {
  /** Requests per second, latency and error rate over the last 5 s, as the gateway saw them. */
  traffic: WindowSnapshot | null
  healthy: number
  total: number
  instances: Array<InstanceView & { traffic: WindowSnapshot | null }>
}

/** Registry view plus live traffic: what GET /stats, the dashboard and the autoscaler read. */
export function statsView (router: Router, traffic: Traffic, now: number): { at: number, services: Record<string, ServiceStats> } {
  const services: Record<string, ServiceStats> = {}
  for (const [name, instances] of Object.entries(registryView(router, now).services)) {
    services[name] = {
      traffic: traffic.service(name, now) ?? null,
      healthy: instances.filter((i) => i.healthy).length,
      total: instances.length,
      instances: instances.map((i) => ({ ...i, traffic: traffic.instance(i.id, now) ?? null }))
    }
  }
  return { at: now, services }
}

export function registerAdminRoutes (app: FastifyInstance, router: Router, traffic: Traffic): void {
  app.get('/registry', async () => registryView(router, Date.now()))
  app.get('/stats', async () => statsView(router, traffic, Date.now()))
  app.get('/policies', async () => policiesView(router))
}
