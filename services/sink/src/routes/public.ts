import type { FastifyInstance } from 'fastify'
import { parseOutputsQuery } from '../core/batch.js'
import type { SinkStore } from '../adapters/store.js'
import { unavailable } from './unavailable.js'

/** What users read through the gateway: `/api/sink/stats` and `/api/sink/outputs`. */
export function publicRoutes (app: FastifyInstance, store: SinkStore): void {
  app.get('/stats', async (_request, reply) => {
    void reply.header('cache-control', 'no-store')
    return { pairs: await store.allStats().catch(unavailable) }
  })

  app.get('/outputs', async (request, reply) => {
    const q = parseOutputsQuery(request.query as Record<string, unknown>)
    const { total, outputs } = await store.outputs(q.pair, q.account, q.offset, q.limit).catch(unavailable)
    void reply.header('cache-control', 'no-store')
    return { pair: q.pair, account: q.account, total, offset: q.offset, outputs }
  })
}
