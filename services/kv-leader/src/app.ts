import type { FastifyInstance } from 'fastify'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import type { PeerClient } from './adapters/peer-client.js'
import type { ReplicaDriver } from './driver.js'
import { internalRoutes } from './routes/internal.js'
import { keysRoutes } from './routes/keys.js'

export interface KvLeaderAppDeps {
  driver: ReplicaDriver
  peers: PeerClient
  /** Largest replication request accepted. */
  maxReplicationBytes: number
  maxSnapshotBytes: number
  forwardTimeoutMs: number
  leaderWaitMs: number
}

/** The kv-leader HTTP surface: public keys routes and internal replication. Never listens. */
export function buildApp (identity: CommonAppOptions, deps: KvLeaderAppDeps): FastifyInstance {
  const app = createApp(identity)
  void app.register(keysRoutes, { driver: deps.driver, peers: deps.peers, instanceId: identity.instanceId, forwardTimeoutMs: deps.forwardTimeoutMs, leaderWaitMs: deps.leaderWaitMs })
  void app.register(internalRoutes, { driver: deps.driver, maxBodyBytes: deps.maxReplicationBytes, maxSnapshotBytes: deps.maxSnapshotBytes })
  return app
}
