import type { FastifyInstance } from 'fastify'
import { requestFromWire, snapshotRequestFromWire } from '../core/wire.js'
import type { ReplicaDriver } from '../driver.js'
import { kvError } from '../errors.js'

/** Replication between replicas, and a status view for operators and tests. Never forwarded by the gateway. */
export async function internalRoutes (app: FastifyInstance, { driver, maxBodyBytes, maxSnapshotBytes }: { driver: ReplicaDriver, maxBodyBytes: number, maxSnapshotBytes: number }): Promise<void> {
  app.post('/internal/append', { bodyLimit: maxBodyBytes }, async (request, reply) => {
    const append = requestFromWire(request.body)
    if (append === undefined) throw kvError('KVL_ERR_BAD_REPLICATION', 'malformed append request')
    driver.watchLeaderConnection(request.raw.socket, append.leaderId)
    const result = await driver.onAppend(append)
    // A stale sender learns the newest epoch from the body; the status says it was refused.
    return await reply.code(result.ok || result.epoch <= append.epoch ? 200 : 409).send(result)
  })

  app.post('/internal/snapshot', { bodyLimit: maxSnapshotBytes }, async (request, reply) => {
    const install = snapshotRequestFromWire(request.body)
    if (install === undefined) throw kvError('KVL_ERR_BAD_REPLICATION', 'malformed snapshot request')
    const result = await driver.onSnapshot(install)
    return await reply.code(result.ok || result.epoch <= install.epoch ? 200 : 409).send(result)
  })

  app.get('/internal/status', async () => {
    const s = driver.state
    return {
      id: s.id,
      role: s.role,
      epoch: s.epoch,
      leaderId: s.leaderId ?? null,
      lastIndex: s.log.lastIndex,
      lastEpoch: s.log.lastEpoch,
      commitIndex: s.commitIndex,
      appliedIndex: s.store.appliedIndex,
      persistedIndex: s.persistedIndex,
      snapshotIndex: s.log.base,
      keys: s.store.size
    }
  })
}
