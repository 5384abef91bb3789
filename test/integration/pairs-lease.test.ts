import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { LeaseKeeper } from '../../shared/src/lease/lease-keeper.js'
import { leaseKeys, RedisLease } from '../../shared/src/lease/redis-lease.js'
import { createRedis, waitReady } from '../../shared/src/redis.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { killAll } from '../../shared/testing/processes.js'
import { waitFor } from './pairs-cluster.js'

const timings = { ttlMs: 300, renewMs: 60, retryMs: 30, marginMs: 30 }
let server: TestRedis
const opened: Redis[] = []
const keepers: LeaseKeeper[] = []

beforeAll(async () => { server = await startRedis() })
afterAll(async () => {
  await Promise.all(keepers.map(async (k) => await k.stop().catch(() => {})))
  for (const r of opened) r.disconnect()
  killAll()
  await server?.stop()
})

function keeper (name: string, owner: string, fastTakeover = true): { keeper: LeaseKeeper, redis: Redis } {
  const redis = createRedis(server.url)
  opened.push(redis)
  const k = new LeaseKeeper({ redis, keys: leaseKeys('lease-test', name), owner, timings, fastTakeover })
  keepers.push(k)
  return { keeper: k, redis }
}

describe('Redis lease with a fencing epoch', () => {
  it('one holder at a time; epochs rise on every takeover; a kill of the holder\'s connection hands over without waiting for the TTL', async () => {
    const a = keeper('fast', 'a:1')
    a.keeper.start()
    await waitFor(() => a.keeper.holds(), 3_000, 'a holds')
    const b = keeper('fast', 'b:1')
    b.keeper.start()
    await new Promise((resolve) => setTimeout(resolve, 400)) // longer than the TTL: renewals keep it with a
    expect(a.keeper.holds()).toBe(true)
    expect(b.keeper.holds()).toBe(false)
    expect(a.keeper.epoch).toBe(1)

    a.redis.disconnect() // what kill -9 looks like from Redis: the holder's connection is gone
    const t0 = performance.now()
    await waitFor(() => b.keeper.holds(), 3_000, 'b takes over')
    expect(performance.now() - t0).toBeLessThan(timings.ttlMs) // well under the TTL: it did not wait for expiry
    expect(b.keeper.epoch).toBe(2)
    // a, cut off from Redis, stops holding by its own clock
    await waitFor(() => !a.keeper.holds(), 1_000, 'a lapses')
  })

  it('a silent holder whose connection lives (a freeze) is replaced only after the TTL; a release hands over at once', async () => {
    const fresh = createRedis(server.url)
    opened.push(fresh)
    await waitReady(fresh, 2_000)
    const direct = new RedisLease(fresh, leaseKeys('lease-test', 'slow'))
    const frozen = await direct.acquire({ owner: 'frozen:1', client: await direct.clientId(), floor: 0, resume: 0 }, timings.ttlMs)
    expect(frozen.granted).toBe(true)
    const t0 = performance.now()
    const b = keeper('slow', 'b:1')
    b.keeper.start()
    await waitFor(() => b.keeper.holds(), 3_000, 'b takes over after the TTL')
    expect(performance.now() - t0).toBeGreaterThan(timings.ttlMs - 100)
    expect(b.keeper.epoch).toBe(frozen.epoch + 1)

    const c = keeper('slow', 'c:1', false)
    c.keeper.start()
    await b.keeper.stop() // releases: c need not wait for the TTL
    const t1 = performance.now()
    await waitFor(() => c.keeper.holds(), 1_000, 'c takes over after a release')
    expect(performance.now() - t1).toBeLessThan(timings.ttlMs)
    expect(await direct.peek()).toEqual({ owner: 'c:1', epoch: frozen.epoch + 2 })
  })

  it('scripts: the same owner renews without a new epoch, others are refused, a steal needs exactly the holder it saw', async () => {
    const fresh = createRedis(server.url)
    opened.push(fresh)
    await waitReady(fresh, 2_000)
    const direct = new RedisLease(fresh, leaseKeys('lease-test', 'direct'))
    const req = (owner: string, client: string): { owner: string, client: string, floor: number, resume: number } => ({ owner, client, floor: 0, resume: 0 })
    const r1 = await direct.acquire(req('x', '1'), 1_000)
    const r2 = await direct.acquire(req('x', '1'), 1_000)
    const r3 = await direct.acquire(req('y', '2'), 1_000)
    expect([r1.granted, r1.epoch, r2.granted, r2.epoch, r3.granted, r3.owner]).toEqual([true, 1, true, 1, false, 'x'])
    expect((await direct.steal(req('y', '2'), 1_000, { ...r3, epoch: 9 })).granted).toBe(false)
    expect((await direct.steal(req('y', '2'), 1_000, r3)).epoch).toBe(2)
    expect(await direct.release('x', 1)).toBe(false)
    expect(await direct.release('y', 2)).toBe(true)
    expect(await direct.peek()).toBeUndefined()
  })
})
