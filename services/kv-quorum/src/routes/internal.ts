import type { FastifyInstance } from 'fastify'
import type { HintBook } from '../core/hints.js'
import { fromWire, isKey, toWire, type KvRecord } from '../core/record.js'
import type { ReplicaDirectory } from '../directory.js'
import { kvqError } from '../errors.js'
import type { LocalReplica } from '../replica.js'

export interface InternalRouteOptions {
  replica: LocalReplica
  directory: ReplicaDirectory
  hints: HintBook
  digestBuckets: number
  /** Replication batches can be larger than one client value. */
  bodyLimit: number
}

/**
 * Replica-to-replica routes, under /internal/ so the gateway never forwards them: store
 * records (writes, read repair, hints, anti-entropy all use it), read one key, and the
 * digest/bucket pair anti-entropy compares with.
 */
export async function internalRoutes (app: FastifyInstance, opts: InternalRouteOptions): Promise<void> {
  const { replica, directory, hints, digestBuckets } = opts

  app.put('/internal/replica/records', { bodyLimit: opts.bodyLimit }, async (request) => {
    const raw = (request.body as { records?: unknown } | null)?.records
    if (!Array.isArray(raw)) throw kvqError('KVQ_ERR_BAD_RECORD', 'body must be {"records": [...]}')
    const records: KvRecord[] = []
    for (const w of raw) {
      const record = fromWire(w)
      if (record === undefined) throw kvqError('KVQ_ERR_BAD_RECORD', `malformed record ${JSON.stringify(w).slice(0, 200)}`)
      records.push(record)
    }
    return { applied: await replica.apply(records) }
  })

  app.get('/internal/replica/keys/:key', async (request) => {
    const { key } = request.params as { key: string }
    if (!isKey(key)) throw kvqError('KVQ_ERR_BAD_KEY', `bad key ${JSON.stringify(key.slice(0, 300))}`)
    const record = replica.get(key)
    return { record: record === undefined ? null : toWire(record) }
  })

  app.get('/internal/replica/digests', async () => ({ buckets: digestBuckets, digests: replica.digests() }))

  app.get('/internal/replica/buckets/:bucket', async (request) => {
    const raw = (request.params as { bucket: string }).bucket
    const bucket = /^\d{1,6}$/.test(raw) ? Number(raw) : -1
    if (bucket < 0 || bucket >= digestBuckets) throw kvqError('KVQ_ERR_BAD_BUCKET', `bucket must be 0–${digestBuckets - 1}, got ${JSON.stringify(raw)}`)
    return { records: replica.bucket(bucket).map(toWire) }
  })

  app.get('/internal/status', async () => ({
    instance: directory.self,
    n: directory.n,
    records: replica.size,
    replicas: directory.targets().map((t) => ({ id: t.id, url: t.url ?? null, self: t.self, hints: hints.count(t.id) })),
    hintsPending: hints.count(),
    hintsDropped: hints.dropped
  }))
}
