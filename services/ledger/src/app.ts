import type { FastifyInstance } from 'fastify'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import type { LedgerStatus } from './ledger.js'

/**
 * Users send the ledger no requests: it has the common /healthz, /readyz (ready once rebuilt
 * from the feed) and /metrics, plus /status to see its role, epoch, cursor and outbox.
 */
export function buildApp (identity: CommonAppOptions, status: () => LedgerStatus): FastifyInstance {
  const app = createApp(identity)
  app.get('/status', async (_request, reply) => {
    void reply.header('cache-control', 'no-store')
    return status()
  })
  return app
}
