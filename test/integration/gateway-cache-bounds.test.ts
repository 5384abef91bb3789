import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { get } from './compute-helpers.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startFakeInstance, type FakeInstance } from '../support/fake-instance.js'

/**
 * What the response cache may put in Redis (issue 14, item 9): one client with unique 15 KB query
 * strings filled 37 MB of Redis in 10 s. A scripted upstream registered as the cacheable
 * `compute` service answers every GET with `max-age=60` and a 1 KiB body.
 */
const prefix = 'gw-cache-bounds'
const maxKeyBytes = 512
const redisBytes = 32 * 1_024
let redis: TestRedis
let gateway: RunningProcess
let upstream: FakeInstance
let client: Redis
let upstreamHits = 0

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  upstream = await startFakeInstance(client, prefix, { id: 'compute-fake', service: 'compute', policy: { cacheable: true, staleIfErrorS: 300 } }, (app) => {
    app.get('/page', async (request, reply) => {
      upstreamHits += 1
      return await reply.header('cache-control', 'max-age=60').send({ url: request.url.slice(0, 64), pad: 'p'.repeat(1_024) })
    })
    app.get('/tagged', async (request, reply) => {
      upstreamHits += 1
      return await reply.header('cache-control', 'max-age=60').header('surrogate-key', 'pages').send({ url: request.url.slice(0, 64) })
    })
  }, { maxParamLength: 100_000 })
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: prefix, GW_CACHE_MAX_KEY_BYTES: String(maxKeyBytes), GW_CACHE_REDIS_BYTES: String(redisBytes) })
  await waitFor(async () => (await get(`${gateway.url}/api/compute/page?probe=1`)).status === 200, 10_000, 'the gateway to route to the fake upstream')
})

afterAll(async () => {
  await upstream?.stop()
  client?.disconnect()
  killAll()
  await redis?.stop()
})

/** The gateway cache's entries in Redis: how many, and their bytes (keys and values). */
async function cached (): Promise<{ count: number, bytes: number, longest: number }> {
  const keys = (await client.keys(`${prefix}:cache:gateway:*`)).filter((k) => !k.endsWith(':lock') && !k.includes(':surrogate:'))
  const sizes = await Promise.all(keys.map(async (k) => await client.strlen(k)))
  return { count: keys.length, bytes: sizes.reduce((a, b) => a + b, 0) + keys.reduce((a, k) => a + Buffer.byteLength(k), 0), longest: Math.max(0, ...keys.map((k) => k.length)) }
}

describe('response cache bounds', () => {
  it('keeps a response with an over-long key out of Redis, and still serves it from memory', async () => {
    const path = `/api/compute/page?q=${'x'.repeat(2_000)}`
    const first = await get(gateway.url + path)
    expect(first.status).toBe(200)
    expect(first.headers['x-gateway-cache']).toBe('miss')
    const second = await get(gateway.url + path)
    expect(second.headers['x-gateway-cache']).toBe('hit')
    expect(second.body).toEqual(first.body)
    const inRedis = await cached()
    expect(inRedis.longest).toBeLessThanOrEqual(maxKeyBytes)
  })

  it('keeps an over-long key out of the surrogate-key index in Redis too', async () => {
    const long = await get(`${gateway.url}/api/compute/tagged?q=${'y'.repeat(2_000)}`)
    const short = await get(`${gateway.url}/api/compute/tagged?q=short`)
    expect([long.status, short.status]).toEqual([200, 200])
    // the index is written after the answer, off its path
    let members: string[] = []
    await waitFor(async () => {
      members = await client.smembers(`${prefix}:cache:gateway:surrogate:pages`)
      return members.some((m) => m.includes('q=short'))
    }, 5_000, 'the short key in the surrogate index')
    expect(members.filter((m) => Buffer.byteLength(m) > maxKeyBytes)).toEqual([])
  })

  it('writes no more to Redis than its byte budget, whatever the number of unique queries', async () => {
    const before = upstreamHits
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await get(`${gateway.url}/api/compute/page?unique=${batch}-${i}`)))
      expect(answers.every((a) => a.status === 200)).toBe(true)
    }
    expect(upstreamHits - before).toBe(100)
    const inRedis = await cached()
    // about 1.2 KiB an entry: some 25 fit, 100 were asked for
    expect(inRedis.count).toBeGreaterThan(5)
    expect(inRedis.count).toBeLessThan(100)
    expect(inRedis.bytes).toBeLessThanOrEqual(redisBytes)
    // what did not fit in Redis is still served from the gateway's memory
    const again = await get(`${gateway.url}/api/compute/page?unique=9-9`)
    expect(again.headers['x-gateway-cache']).toBe('hit')
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(metrics).toMatch(/cache_redis_skipped_total\{[^}]*reason="budget"[^}]*\} [1-9]/)
    expect(metrics).toMatch(/cache_redis_skipped_total\{[^}]*reason="key-too-long"[^}]*\} [1-9]/)
  })
})
