import type { FastifyInstance } from 'fastify'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import type { Coordinator } from './coordinator.js'
import type { HintBook } from './core/hints.js'
import type { Quorum } from './core/quorum.js'
import type { ReplicaDirectory } from './directory.js'
import type { KvQuorumMetrics } from './metrics.js'
import type { LocalReplica } from './replica.js'
import { internalRoutes } from './routes/internal.js'
import { keysRoutes } from './routes/keys.js'

export interface KvQuorumAppOptions {
  identity: CommonAppOptions
  coordinator: Coordinator
  replica: LocalReplica
  directory: ReplicaDirectory
  hints: HintBook
  metrics: KvQuorumMetrics
  defaults: Quorum
  maxValueBytes: number
  digestBuckets: number
}

/** The kv-quorum app: the client API on /keys, replica traffic on /internal. It never listens. */
export function buildApp (opts: KvQuorumAppOptions): FastifyInstance {
  const app = createApp({ ...opts.identity, bodyLimit: 64 * 1_048_576 }) // 64 MiB: anti-entropy batches
  void app.register(keysRoutes, { coordinator: opts.coordinator, defaults: opts.defaults, maxValueBytes: opts.maxValueBytes, metrics: opts.metrics })
  void app.register(internalRoutes, { replica: opts.replica, directory: opts.directory, hints: opts.hints, digestBuckets: opts.digestBuckets, bodyLimit: 64 * 1_048_576 })
  return app
}
