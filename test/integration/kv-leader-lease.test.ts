import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { LeaderLease } from '../../services/kv-leader/src/adapters/lease.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

let redis: TestRedis
let client: Redis
let n = 0
let prefix = ''

beforeAll(async () => {
  redis = await startRedis()
  client = new Redis(redis.url)
})
afterAll(async () => {
  client.disconnect()
  await redis.stop()
})
beforeEach(() => { prefix = `lease-test-${++n}` })

const lease = (id: string, ttlMs = 300): LeaderLease => new LeaderLease({ redis: client, prefix, id, ttlMs })
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

describe('kv-leader lease (Lua in a real Redis)', () => {
  it('needs a majority of visible positions, then hands out epoch 1 and reports the holder to others', async () => {
    const a = lease('a')
    const b = lease('b')
    expect(await a.tick({ epoch: 0, index: 0 }, 0, 2)).toEqual({ kind: 'free' }) // only itself visible
    expect(await b.tick({ epoch: 0, index: 0 }, 0, 2)).toMatchObject({ kind: 'acquired', epoch: 1 })
    expect(await a.tick({ epoch: 0, index: 0 }, 0, 2)).toEqual({ kind: 'held', holder: 'b', epoch: 1 })
  })

  it('refuses a candidate whose log is behind a live replica, by epoch first, then index', async () => {
    const a = lease('a')
    const b = lease('b')
    await b.publish({ epoch: 2, index: 5 }, 2)
    expect(await a.tick({ epoch: 2, index: 4 }, 2, 2)).toEqual({ kind: 'behind', than: 'b' })
    expect(await a.tick({ epoch: 1, index: 99 }, 2, 2)).toEqual({ kind: 'behind', than: 'b' })
    const won = await a.tick({ epoch: 3, index: 1 }, 3, 2)
    expect(won).toMatchObject({ kind: 'acquired' })
    // the epoch passes every epoch a replica has seen, even with an empty counter
    expect((won as { epoch: number }).epoch).toBe(4)
  })

  it('ignores positions whose replica stopped publishing (expired) — and then lacks a majority', async () => {
    const a = lease('a', 150)
    const b = lease('b', 150)
    await b.publish({ epoch: 9, index: 9 }, 9)
    await sleep(200)
    expect(await a.tick({ epoch: 1, index: 1 }, 1, 2)).toEqual({ kind: 'free' })
    expect(await a.tick({ epoch: 1, index: 1 }, 1, 1)).toMatchObject({ kind: 'acquired', epoch: 2 })
  })

  it('renews only for the holder and epoch; release frees it at once; expiry frees it after the TTL', async () => {
    const a = lease('a', 200)
    const b = lease('b', 200)
    await b.publish({ epoch: 0, index: 0 }, 0)
    const got = await a.tick({ epoch: 0, index: 0 }, 0, 2) as { kind: 'acquired', epoch: number, validUntil: number }
    expect(got.kind).toBe('acquired')
    expect(got.validUntil).toBeLessThanOrEqual(performance.now() + 200)
    expect(await a.renew(got.epoch, { epoch: 0, index: 0 })).toBeTypeOf('number')
    expect(await b.renew(got.epoch, { epoch: 0, index: 0 })).toBeUndefined()
    expect(await a.renew(got.epoch + 1, { epoch: 0, index: 0 })).toBeUndefined()
    await a.release(got.epoch)
    const next = await b.tick({ epoch: 0, index: 0 }, got.epoch, 1)
    expect(next).toMatchObject({ kind: 'acquired', epoch: got.epoch + 1 })
    await sleep(250)
    expect(await a.tick({ epoch: 0, index: 0 }, got.epoch + 1, 1)).toMatchObject({ kind: 'acquired', epoch: got.epoch + 2 })
    expect(await b.renew(got.epoch + 1, { epoch: 0, index: 0 })).toBeUndefined()
  })
})
