import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { get, metric, send } from './compute-helpers.js'
import { waitFor } from '../../shared/testing/wait.js'

let redis: TestRedis
let gateway: RunningProcess
let a: RunningProcess
let b: RunningProcess

beforeAll(async () => {
  redis = await startRedis()
  const env = { REDIS_URL: redis.url, NINES_PREFIX: 'compute-cache', COMPUTE_JOBS: 'false' }
  ;[a, b] = await Promise.all([
    startInstance('compute', { ...env, INSTANCE_ID: 'compute-1' }),
    startInstance('compute', { ...env, INSTANCE_ID: 'compute-2' })
  ]) as [RunningProcess, RunningProcess]
  gateway = await startGateway(env)
  await waitFor(async () => (await get(`${gateway.url}/registry`)).body.services.compute?.length === 2)
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

const runs = async (): Promise<number> =>
  (await metric(a.url, 'compute_task_runs_total', { result: 'ok' })) + (await metric(b.url, 'compute_task_runs_total', { result: 'ok' }))

describe('compute behind the two-tier cache', () => {
  it.each([[10, 4], [1_000, 168], [1_000_000, 78_498], [5_000_000, 348_513]])('counts the primes ≤ %i through the gateway: %i', async (limit, count) => {
    const res = await get(`${gateway.url}/api/compute/primes?limit=${limit}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ task: 'primes', params: { limit }, result: { count } })
    expect(res.headers['x-instance-id']).toMatch(/^compute-[12]$/)
  })

  it('misses, then hits locally, then hits through Redis on the other instance', async () => {
    const first = await get(`${a.url}/primes?limit=2000003`)
    expect(first.headers['x-cache']).toBe('miss')
    const again = await get(`${a.url}/primes?limit=2000003`)
    expect(again.headers).toMatchObject({ 'x-cache': 'hit', 'x-cache-tier': 'local' })
    const other = await get(`${b.url}/primes?limit=2000003`)
    expect(other.headers).toMatchObject({ 'x-cache': 'hit', 'x-cache-tier': 'redis' })
    expect(other.body).toEqual(first.body)
    expect(first.headers['cache-control']).toBe('public, max-age=60')
  })

  it('computes 100 concurrent identical misses across both instances exactly once', async () => {
    const before = await runs()
    const url = (i: number): string => `${i % 2 === 0 ? a.url : b.url}/primes?limit=20000000`
    const answers = await Promise.all(Array.from({ length: 100 }, async (_, i) => await get(url(i))))
    expect(answers.every((r) => r.status === 200 && r.body.result.count === 1_270_607)).toBe(true)
    expect(await runs() - before).toBe(1)
    const outcomes = answers.map((r) => r.headers['x-cache'])
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1)
    expect(outcomes.every((o) => o === 'miss' || o === 'coalesced' || o === 'hit')).toBe(true)
  })

  it('an invalidation reaches every instance\'s LRU', async () => {
    const path = '/primes?limit=3000017'
    await get(a.url + path)
    await get(b.url + path)
    expect((await get(a.url + path)).headers['x-cache-tier']).toBe('local')
    expect((await get(b.url + path)).headers['x-cache-tier']).toBe('local')
    const inv = await send(`${a.url}/internal/cache/primes?limit=3000017`, 'DELETE')
    expect(inv.body).toEqual({ invalidated: 'primes:limit=3000017', broadcast: true })
    // B's LRU dropped it (else: a local hit) and so did Redis: B computes again
    await waitFor(async () => (await get(b.url + path)).headers['x-cache'] === 'miss', 2_000, 'a miss on B')
    // A's LRU dropped it too: it now finds B's fresh result in Redis
    expect((await get(a.url + path)).headers).toMatchObject({ 'x-cache': 'hit', 'x-cache-tier': 'redis' })
  })

  it("an invalidation also purges the gateway's copies, under every URL that reached them (surrogate key)", async () => {
    const urls = [`${gateway.url}/api/compute/primes?limit=3000023`, `${gateway.url}/api/compute/primes?limit=3000023&v=2`]
    for (const url of urls) {
      await get(url)
      expect((await get(url)).headers['x-gateway-cache']).toBe('hit')
    }
    await send(`${b.url}/internal/cache/primes?limit=3000023`, 'DELETE')
    for (const url of urls) await waitFor(async () => (await get(url)).headers['x-gateway-cache'] === 'miss', 2_000, `${url} purged from the gateway`)
  })

  it('refuses bad input with 400 JSON', async () => {
    for (const q of ['limit=abc', 'limit=-5', 'limit=0', 'limit=50000001', 'limit=1e6', 'limit=1&limit=2', '']) {
      const res = await get(`${gateway.url}/api/compute/primes?${q}`)
      expect(res.status, q).toBe(400)
      expect(res.body.error, q).toBe('COMPUTE_ERR_BAD_PARAM')
      expect(res.headers['content-type']).toMatch(/application\/json/)
    }
    const hash = await get(`${gateway.url}/api/compute/hash?rounds=99999999999`)
    expect(hash.status).toBe(400)
    const unknown = await send(`${a.url}/internal/cache/fibonacci?n=1`, 'DELETE')
    expect(unknown).toMatchObject({ status: 400, body: { error: 'COMPUTE_ERR_UNKNOWN_TASK' } })
  })

  it('keeps answering correctly without Redis, and caches again once it is back', async () => {
    await redis.kill()
    const down = await get(`${a.url}/primes?limit=1000002`)
    expect(down.status).toBe(200)
    expect(down.body.result.count).toBe(78_498)
    // through the gateway too (it keeps its last registry snapshot)
    const viaGateway = await get(`${gateway.url}/api/compute/primes?limit=100002`)
    expect(viaGateway.status).toBe(200)
    expect(viaGateway.body.result.count).toBe(9_592)

    await redis.restart()
    await waitFor(async () => {
      const limit = 10_000 + Math.floor(Math.random() * 1_000_000)
      await get(`${a.url}/primes?limit=${limit}`)
      return (await get(`${b.url}/primes?limit=${limit}`)).headers['x-cache-tier'] === 'redis'
    }, 10_000, 'a Redis hit after the restart')
    const resumed = await get(`${b.url}/primes?limit=1000002`)
    expect(resumed.body.result.count).toBe(78_498)
  })
})
