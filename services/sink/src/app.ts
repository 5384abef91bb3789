import type { FastifyInstance } from 'fastify'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import type { SinkStore } from './adapters/store.js'
import { internalRoutes } from './routes/internal.js'
import { publicRoutes } from './routes/public.js'

/** The downstream: dedupes outputs, fences stale epochs, keeps stats. Stateless (all state in Redis). */
export function buildApp (identity: CommonAppOptions, store: SinkStore): FastifyInstance {
  const app = createApp({ bodyLimit: 8 * 1_048_576, ...identity }) // 8 MiB: a full batch of outputs
  internalRoutes(app, store)
  publicRoutes(app, store)
  return app
}
