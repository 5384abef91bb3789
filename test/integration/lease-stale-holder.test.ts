import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { LeaseKeeper } from '../../shared/src/lease/lease-keeper.js'
import { leaseKeys, RedisLease } from '../../shared/src/lease/redis-lease.js'
import { createRedis, waitReady } from '../../shared/src/redis.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { killAll } from '../../shared/testing/processes.js'
import { waitFor, sleep } from '../../shared/testing/wait.js'

/**
 * A kv-leader leader frozen past its lease wakes up still believing it holds it. Meanwhile
 * another replica (B) was elected, committed entries with the third (C), and has just been
 * killed. The woken holder's next request finds B's lease with B's connection gone and takes it
 * over (a steal): that takeover must pass the election rule like anyone's, and C's log is ahead.
 * Seen in the kv-leader chaos run (seed 5): without it the stale leader won, and truncated
 * entries a majority had committed. The freeze is played on the keeper's view: A holds, then
 * Redis is set to what B and C did while A was away.
 */
const timings = { ttlMs: 1_000, renewMs: 200, retryMs: 50, marginMs: 100 }
const keys = leaseKeys('stale-holder', 'kv')
let server: TestRedis
let admin: Redis
let keeper: LeaseKeeper

beforeAll(async () => {
  server = await startRedis()
  admin = createRedis(server.url, undefined, { enableOfflineQueue: true })
  await waitReady(admin, 5_000)
})
afterAll(async () => {
  await keeper?.stop().catch(() => {})
  admin?.disconnect()
  killAll()
  await server?.stop()
})

describe('a holder whose lease was taken while it was frozen', () => {
  it('may take over its dead successor\'s lease only if its log is as up to date as every live candidate\'s', async () => {
    await admin.del(keys.lease, keys.epoch, keys.candidates)
    const redis = createRedis(server.url)
    keeper = new LeaseKeeper({
      redis,
      keys,
      owner: 'A#1',
      timings,
      floor: () => 0,
      candidacy: () => ({ election: { candidate: 'A', position: { epoch: 1, index: 10 }, quorum: 2 } })
    })
    // C, behind A (and having seen no epoch): A wins epoch 1
    const lease = new RedisLease(admin, keys)
    await lease.publish('C', { epoch: 0, index: 9 }, 0, 60_000)
    keeper.start()
    await waitFor(() => keeper.holds(), 5_000, 'A holds epoch 1')
    expect(keeper.epoch).toBe(1)

    // while A was "frozen": B took epoch 2 and wrote entries to index 20 with C, then died
    // (client 987654321: no such connection)
    await admin.multi()
      .set(keys.epoch, '2')
      .hset(keys.lease, 'owner', 'B#1', 'epoch', '2', 'client', '987654321', 'candidate', 'B')
      .pexpire(keys.lease, 60_000)
      .exec()
    await lease.publish('C', { epoch: 2, index: 20 }, 2, 60_000)

    await sleep(4 * timings.renewMs)
    // A is behind C: no takeover, no new epoch
    expect(await admin.hget(keys.lease, 'owner')).toBe('B#1')
    expect(await admin.get(keys.epoch)).toBe('2')
    await waitFor(() => !keeper.holds(), 3_000, 'A knows it does not hold')
  })
})
