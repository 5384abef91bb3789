import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SinkStore } from '../../services/sink/src/adapters/store.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { fingerprint, type Output } from '../../shared/src/pipeline/types.js'
import { createRedis, waitReady, type Redis } from '../../shared/src/redis.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { modelOf, sinkCases } from '../contracts/sink-fencing.js'

/**
 * The sink's Lua scripts against their pure model (services/sink/src/core/fencing.ts): each
 * case of the shared table is set up in a real Redis, run through the scripts, and must agree
 * with the model — the outcome, the fence left behind and what happened to each output.
 */
let server: TestRedis
let redis: Redis
let n = 0

beforeAll(async () => {
  server = await startRedis()
  redis = createRedis(server.url)
  await waitReady(redis, 5_000)
})
afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
})

describe('sink scripts agree with their pure model', () => {
  it.each(sinkCases)('$name', async (c) => {
    const prefix = `sink-contract-${++n}`
    const k = pipelineKeys(prefix).pair('hot-warm')
    const f = c.fence ?? {}
    const fields = Object.entries({ epoch: f.epoch, holder: f.holder, highWaterMark: f.highWaterMark, acceptedEpoch: f.acceptedEpoch }).filter(([, v]) => v !== undefined)
    if (fields.length > 0) await redis.hset(k.stats, Object.fromEntries(fields))
    for (const o of c.stored ?? []) {
      const stored: Output = { ...o, pair: 'hot-warm', epoch: 0, instance: 'earlier' }
      await redis.hset(k.outputs, o.inputId, `${fingerprint(o)}\t${JSON.stringify(stored)}`)
    }
    const model = modelOf(c)
    const store = new SinkStore(redis, prefix)
    let outcome: string
    let counts = { stored: 0, duplicate: 0, conflict: 0 }
    if ('claim' in c.op) {
      const r = await store.claim('hot-warm', c.op.claim.epoch, c.op.claim.holder)
      outcome = r.outcome
      expect(r.highWaterMark).toBe(model.fence.highWaterMark)
      expect(r.epoch).toBe(model.fence.epoch)
    } else {
      const { epoch, holder, outputs } = c.op.ingest
      const r = await store.ingest({ pair: 'hot-warm', epoch, holder, instance: 'contract', outputs })
      outcome = r.stale === false ? 'ok' : r.stale
      counts = { stored: r.stored, duplicate: r.duplicatesDropped, conflict: r.conflicts }
      expect(r.epoch).toBe(model.fence.epoch)
      if (r.stale === false) expect(r.highWaterMark).toBe(model.fence.highWaterMark)
      // every output stored is in the hash with its own fingerprint
      const firsts = new Map<string, string>()
      for (const o of [...(c.stored ?? []), ...outputs]) if (!firsts.has(o.inputId)) firsts.set(o.inputId, fingerprint(o))
      if (r.stale === false) {
        for (const [id, fp] of firsts) expect((await redis.hget(k.outputs, id))?.split('\t')[0]).toBe(fp)
      }
      expect(Number(await redis.hget(k.stats, 'staleEpochRejected') ?? 0)).toBe(r.stale === false ? 0 : outputs.length)
    }
    const stats = await store.stats('hot-warm')
    const lua = { outcome, fence: { epoch: stats.epoch, holder: stats.holder, highWaterMark: stats.highWaterMark, acceptedEpoch: stats.acceptedEpoch }, counts }
    expect(lua).toEqual(model)
    expect({ outcome: model.outcome, fence: model.fence }).toEqual({ outcome: c.expect.outcome, fence: c.expect.fence })
  })
})
