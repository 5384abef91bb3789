import type { FastifyInstance } from 'fastify'
import type { Router } from '../upstreams/router.js'

/** What GET /registry shows of one instance. */
export interface InstanceView {
  id: string
  url: string
  role: string
  healthy: boolean
  ejected: boolean
  inflight: number
  ewmaMs: number
  startedAt: number
  meta?: Record<string, string | number | boolean>
}

export function registryView (router: Router, now: number): { services: Record<string, InstanceView[]> } {
  const services: Record<string, InstanceView[]> = {}
  for (const [name, pool] of router.pools) {
    services[name] = pool.upstreams.map((u) => ({
      id: u.id,
      url: u.url,
      role: u.role,
      healthy: u.available(now),
      ejected: u.outlier.isEjected(now),
      inflight: u.inflight,
      ewmaMs: Math.round(u.ewmaMs * 100) / 100,
      startedAt: u.record.startedAt,
      ...(u.record.meta ? { meta: u.record.meta } : {})
    }))
  }
  return { services }
}

/** The topology services with no available instance: what keeps /readyz at 503. */
export function missingServices (router: Router, topologyServices: readonly string[], now: number): string[] {
  return topologyServices.filter((name) => (router.service(name)?.availableCount(now) ?? 0) === 0)
}

export function registerAdminRoutes (app: FastifyInstance, router: Router): void {
  app.get('/registry', async () => registryView(router, Date.now()))
}
