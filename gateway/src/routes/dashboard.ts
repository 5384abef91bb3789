import type { FastifyInstance } from 'fastify'
import { clusterError } from '../../../shared/src/errors.js'
import { dashboardPage } from '../dashboard/page.js'
import { DashboardStreams } from '../dashboard/streams.js'
import type { EventLog } from '../events/event-log.js'
import type { Traffic } from '../stats/traffic.js'
import type { Router } from '../upstreams/router.js'
import { statsView } from './admin.js'

/** How often the dashboard stream sends a fresh picture of the cluster. */
const dashboardIntervalMs = 1_000

/**
 * The live dashboard: `GET /` serves one small page; `GET /dashboard/stream` is a server-sent
 * events stream of the cluster as the gateway sees it (registry, health, traffic, instance meta)
 * and the events timeline, once a second: one frame for all streams, at most `maxStreams` of them.
 */
export function registerDashboard (app: FastifyInstance, router: Router, traffic: Traffic, events: EventLog, maxStreams: number): void {
  const streams = new DashboardStreams({ picture: (now) => statsView(router, traffic, now), events, intervalMs: dashboardIntervalMs, maxStreams })
  app.addHook('preClose', async () => { streams.close() })

  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(dashboardPage))

  app.get('/dashboard/stream', (request, reply) => {
    if (streams.full) throw clusterError('GW_ERR_TOO_MANY_STREAMS', `${maxStreams} dashboard streams are open (GW_DASHBOARD_MAX_STREAMS); close one or try later`, { retryable: true })
    void reply.hijack()
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-instance-id': app.instanceId,
      'x-request-id': request.id
    })
    streams.add(reply.raw)
  })
}
