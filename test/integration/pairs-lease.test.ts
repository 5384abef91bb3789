import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { LeaseKeeper } from '../../shared/src/lease/lease-keeper.js'
import { leaseKeys, RedisLease } from '../../shared/src/lease/redis-lease.js'
import { createRedis, waitReady } from '../../shared/src/redis.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { killAll } from '../../shared/testing/processes.js'
import { waitFor } from '../../shared/testing/wait.js'

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

function keeper (name: string, owner: string, fastTakeover = true, floor = (): number => 0): { keeper: LeaseKeeper, redis: Redis } {
  const redis = createRedis(server.url)
  opened.push(redis)
  const k = new LeaseKeeper({ redis, keys: leaseKeys('lease-test', name), owner, timings, fastTakeover, floor })
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

  it('an epoch the downstream refused is forfeited: the next grant is a new epoch past it, though Redis still named us holder', async () => {
    const a = keeper('forfeit', 'a:1')
    a.keeper.start()
    await waitFor(() => a.keeper.holds(), 3_000, 'a holds')
    expect(a.keeper.epoch).toBe(1)
    a.keeper.drop()
    expect(a.keeper.holds()).toBe(false)
    await waitFor(() => a.keeper.holds(), 3_000, 'a holds again')
    expect(a.keeper.epoch).toBe(2)
  })

  it('a new epoch passes the floor: an epoch the counter lost (a failover) is never handed out again', async () => {
    const seen = { epoch: 0 }
    const a = keeper('floor', 'a:1', true, () => seen.epoch)
    a.keeper.start()
    await waitFor(() => a.keeper.holds(), 3_000, 'a holds')
    expect(a.keeper.epoch).toBe(1)
    await a.keeper.stop()
    // Redis lost the counter and the lease; the downstream had seen epoch 7
    const keys = leaseKeys('lease-test', 'floor')
    await a.redis.del(keys.epoch, keys.lease)
    seen.epoch = 7
    const b = keeper('floor', 'b:1', true, () => seen.epoch)
    b.keeper.start()
    await waitFor(() => b.keeper.holds(), 3_000, 'b holds')
    expect(b.keeper.epoch).toBe(8)
  })

  it('no fast takeover within one TTL of its own reconnection: a holder\'s connection id means nothing across a reconnect', async () => {
    const fresh = createRedis(server.url)
    opened.push(fresh)
    await waitReady(fresh, 2_000)
    const take = async (name: string): Promise<void> => {
      // a holder whose recorded connection is gone, and whose lease lives 10 s
      const direct = new RedisLease(fresh, leaseKeys('lease-test', name))
      expect((await direct.acquire({ owner: 'gone:1', client: '999999', floor: 0, resume: 0 }, 10_000)).granted).toBe(true)
    }
    // control: without a reconnection, the contender takes over at once
    await take('guard-control')
    const control = keeper('guard-control', 'c:1')
    control.keeper.start()
    const t0 = performance.now()
    await waitFor(() => control.keeper.holds(), 3_000, 'control takes over')
    expect(performance.now() - t0).toBeLessThan(timings.ttlMs)

    const b = keeper('guard', 'b:1')
    await waitReady(b.redis, 2_000)
    const reconnected = new Promise((resolve) => b.redis.once('ready', resolve))
    b.redis.disconnect(true)
    await reconnected
    const t1 = performance.now()
    await take('guard')
    b.keeper.start()
    await waitFor(() => b.keeper.holds(), 5_000, 'b takes over once a TTL passed since its reconnection')
    expect(performance.now() - t1).toBeGreaterThanOrEqual(timings.ttlMs - 50)
  })
})
