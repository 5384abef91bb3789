import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { get, type Answer } from './compute-helpers.js'
import { waitFor } from '../../shared/testing/wait.js'

/**
 * The cache's availability promise: with every compute instance killed, a cached answer keeps
 * coming — 200, `x-cache: stale`, its true Age — for the configured stale window, then the
 * gateway says 503. Compute answers are fresh for 1 s here (COMPUTE_HTTP_MAX_AGE_S) and the
 * stale window compute declares (its policy's staleIfErrorS) is capped at 5 s (GW_CACHE_MAX_STALE_MS).
 */
let redis: TestRedis
let gateway: RunningProcess
const computes: RunningProcess[] = []
const windowMs = 5_000

beforeAll(async () => {
  redis = await startRedis()
  const env = { REDIS_URL: redis.url, NINES_PREFIX: 'gw-avail', COMPUTE_JOBS: 'false', COMPUTE_HTTP_MAX_AGE_S: '1' }
  computes.push(...await Promise.all([
    startInstance('compute', { ...env, INSTANCE_ID: 'compute-1' }),
    startInstance('compute', { ...env, INSTANCE_ID: 'compute-2' })
  ]))
  gateway = await startGateway({ ...env, NINES_SERVICES: 'compute', GW_CACHE_MAX_STALE_MS: String(windowMs) })
  await waitFor(async () => (await get(`${gateway.url}/registry`)).body.services.compute?.length === 2)
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

describe('with every compute instance killed', () => {
  it('keeps answering a cached GET /api/compute/primes 200 stale for the configured window, then 503', async () => {
    const url = `${gateway.url}/api/compute/primes?limit=999983`
    const first = await get(url)
    expect(first.status).toBe(200)
    const storedAt = Date.now()
    for (const c of computes) c.child.kill('SIGKILL')

    const answers: Array<{ at: number, res: Answer }> = []
    // Date has whole seconds: the answer may arrive up to 1 s old, so stop well before the window ends
    while (Date.now() - storedAt < windowMs - 1_500) {
      answers.push({ at: Date.now() - storedAt, res: await get(url) })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(answers.length).toBeGreaterThan(10)
    for (const { at, res } of answers) {
      expect(res.status, `at ${at} ms`).toBe(200)
      expect(res.body, `at ${at} ms`).toEqual(first.body)
      expect(['hit', 'stale'], `at ${at} ms`).toContain(res.headers['x-cache'])
    }
    const stale = answers.filter(({ res }) => res.headers['x-cache'] === 'stale')
    expect(stale.length).toBeGreaterThan(5)
    // the true age: it grows with the time since the answer was computed, past its max-age
    const last = stale.at(-1) as { at: number, res: Answer }
    expect(Number(last.res.headers.age)).toBeGreaterThanOrEqual(Math.floor(last.at / 1_000) - 1)
    expect(Number(last.res.headers.age)).toBeGreaterThanOrEqual(2)
    expect(last.res.headers['x-gateway-cache']).toBe('stale')

    // past max-age + the window: nothing may stand in any more
    await waitFor(async () => (await get(url)).status === 503, windowMs + 3_000, 'a 503 once the stale window has passed')
    expect((await get(url)).body.error).toBe('GW_ERR_NO_UPSTREAM')
  })
})
