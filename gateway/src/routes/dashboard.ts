import type { FastifyInstance } from 'fastify'
import { dashboardPage } from '../dashboard/page.js'
import type { EventLog } from '../events/event-log.js'
import type { Traffic } from '../stats/traffic.js'
import type { Router } from '../upstreams/router.js'
import { statsView } from './admin.js'

/** How often the dashboard stream sends a fresh picture of the cluster. */
export const dashboardIntervalMs = 1_000

/**
 * The live dashboard: `GET /` serves one small page; `GET /dashboard/stream` is a server-sent
 * events stream of the cluster as the gateway sees it (registry, health, traffic, instance meta)
 * and the events timeline, once a second.
 */
export function registerDashboard (app: FastifyInstance, router: Router, traffic: Traffic, events: EventLog): void {
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(dashboardPage))

  app.get('/dashboard/stream', (request, reply) => {
    void reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-instance-id': app.instanceId,
      'x-request-id': request.id
    })
    let seen = events.sequence
    const send = (initial: boolean): void => {
      const fresh = initial ? events.latest() : events.since(seen)
      seen = events.sequence
      res.write(`event: cluster\ndata: ${JSON.stringify({ ...statsView(router, traffic, Date.now()), events: fresh, reset: initial })}\n\n`)
    }
    send(true)
    const timer = setInterval(() => send(false), dashboardIntervalMs)
    res.on('close', () => clearInterval(timer))
  })
}
