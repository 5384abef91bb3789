import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { get } from './compute-helpers.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startFakeInstance, type FakeInstance } from '../support/fake-instance.js'

/**
 * The gateway's response cache against a scripted upstream: an in-process server registered
 * as the (cacheable) `compute` service, answering with whatever Cache-Control and Vary the
 * test asks for and counting the requests that reach it.
 */
let redis: TestRedis
let gateway: RunningProcess
let upstream: FakeInstance
let client: Redis
const hits = new Map<string, number>()

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  upstream = await startFakeInstance(client, 'gw-cache', { id: 'compute-fake', service: 'compute', policy: { cacheable: true, staleIfErrorS: 300 } }, (app) => {
    app.get('/script', async (request, reply) => {
      const q = request.query as { cc?: string, vary?: string, delay?: string }
      const n = (hits.get(request.url) ?? 0) + 1
      hits.set(request.url, n)
      if (q.delay !== undefined) await new Promise((resolve) => setTimeout(resolve, Number(q.delay)))
      if (q.cc !== undefined) void reply.header('cache-control', q.cc)
      if (q.vary !== undefined) void reply.header('vary', q.vary)
      return { n, url: request.url, lang: request.headers['accept-language'] ?? null }
    })
  })
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: 'gw-cache' })
  await waitFor(async () => (await get(`${gateway.url}/api/compute/script?probe=1`)).status === 200, 10_000, 'the gateway to route to the fake upstream')
})

afterAll(async () => {
  await upstream?.stop()
  client?.disconnect()
  killAll()
  await redis?.stop()
})

const upstreamHits = (path: string): number => hits.get(path) ?? 0

describe('gateway response cache', () => {
  it('serves a max-age response from the cache until it expires', async () => {
    // 2 s: Date has whole seconds, so up to 1 s of apparent age comes with the response
    const path = '/script?cc=max-age%3D2&t=maxage'
    const first = await get(`${gateway.url}/api/compute${path}`)
    expect(first.headers['x-gateway-cache']).toBe('miss')
    const second = await get(`${gateway.url}/api/compute${path}`)
    expect(second.headers).toMatchObject({ 'x-gateway-cache': 'hit', 'x-cache': 'hit', age: '0' })
    expect(second.body).toEqual(first.body)
    expect(upstreamHits(path)).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 2_100))
    const third = await get(`${gateway.url}/api/compute${path}`)
    expect(third.headers['x-gateway-cache']).toBe('miss')
    expect(third.body.n).toBe(2)
    expect(upstreamHits(path)).toBe(2)
  })

  it.each(['no-store', 'private, max-age=60', 'no-cache'])('never stores a "%s" response', async (cc) => {
    const path = `/script?cc=${encodeURIComponent(cc)}&t=never`
    for (let i = 1; i <= 3; i++) {
      const res = await get(`${gateway.url}/api/compute${path}`)
      expect(res.body.n).toBe(i)
      expect(res.headers['x-gateway-cache']).not.toBe('hit')
    }
    expect(upstreamHits(path)).toBe(3)
  })

  it('does not store a response without a max-age', async () => {
    const path = '/script?t=plain'
    await get(`${gateway.url}/api/compute${path}`)
    await get(`${gateway.url}/api/compute${path}`)
    expect(upstreamHits(path)).toBe(2)
  })

  it('never mixes two queries, but shares one whose pairs are only reordered', async () => {
    const a = await get(`${gateway.url}/api/compute/script?cc=max-age%3D60&q=a`)
    const b = await get(`${gateway.url}/api/compute/script?cc=max-age%3D60&q=b`)
    expect(a.body.url).toContain('q=a')
    expect(b.body.url).toContain('q=b')
    expect(b.headers['x-gateway-cache']).toBe('miss')
    const a2 = await get(`${gateway.url}/api/compute/script?cc=max-age%3D60&q=a`)
    const b2 = await get(`${gateway.url}/api/compute/script?cc=max-age%3D60&q=b`)
    expect([a2.body, b2.body]).toEqual([a.body, b.body])
    expect([a2.headers['x-gateway-cache'], b2.headers['x-gateway-cache']]).toEqual(['hit', 'hit'])
    const reordered = await get(`${gateway.url}/api/compute/script?q=a&cc=max-age%3D60`)
    expect(reordered.headers['x-gateway-cache']).toBe('hit')
    expect(reordered.body).toEqual(a.body)
  })

  it('never serves one Vary variant to another', async () => {
    const path = '/api/compute/script?cc=max-age%3D60&vary=accept-language&t=vary'
    const fr = await get(gateway.url + path, { headers: { 'accept-language': 'fr' } })
    const de = await get(gateway.url + path, { headers: { 'accept-language': 'de' } })
    expect(fr.body.lang).toBe('fr')
    expect(de.body.lang).toBe('de')
    expect(de.headers['x-gateway-cache']).not.toBe('hit')
  })

  it('sends one request upstream for a burst of identical misses', async () => {
    const path = '/script?cc=max-age%3D60&delay=200&t=burst'
    const answers = await Promise.all(Array.from({ length: 30 }, async () => await get(`${gateway.url}/api/compute${path}`)))
    expect(answers.every((r) => r.status === 200 && r.body.n === 1)).toBe(true)
    expect(upstreamHits(path)).toBe(1)
    expect(answers.filter((r) => r.headers['x-gateway-cache'] === 'miss')).toHaveLength(1)
  })

  it('sends one request upstream for a burst spread over two gateways', async () => {
    const second = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: 'gw-cache' })
    await waitFor(async () => (await get(`${second.url}/api/compute/script?probe=2`)).status === 200, 10_000, 'the second gateway')
    const path = '/script?cc=max-age%3D60&delay=300&t=two-gateways'
    const answers = await Promise.all(Array.from({ length: 40 }, async (_, i) => await get(`${i % 2 === 0 ? gateway.url : second.url}/api/compute${path}`)))
    expect(answers.every((r) => r.status === 200 && r.body.n === 1)).toBe(true)
    expect(upstreamHits(path)).toBe(1)
    await second.stop()
  })

  it('lets a request with no-cache or credentials bypass it', async () => {
    const path = '/script?cc=max-age%3D60&t=bypass'
    await get(`${gateway.url}/api/compute${path}`)
    const fresh = await get(`${gateway.url}/api/compute${path}`, { headers: { 'cache-control': 'no-cache' } })
    expect(fresh.body.n).toBe(2)
    const authed = await get(`${gateway.url}/api/compute${path}`, { headers: { authorization: 'Bearer x' } })
    expect(authed.body.n).toBe(3)
  })

  it('keeps caching in its own memory while Redis is down, and answers correctly', async () => {
    await redis.kill()
    const path = '/script?cc=max-age%3D60&t=redis-down'
    const first = await get(`${gateway.url}/api/compute${path}`)
    expect(first.status).toBe(200)
    expect(first.body.url).toContain('t=redis-down')
    const second = await get(`${gateway.url}/api/compute${path}`)
    expect(second.headers['x-gateway-cache']).toBe('hit')
    expect(second.body).toEqual(first.body)
    expect(upstreamHits(path)).toBe(1)
    const other = await get(`${gateway.url}/api/compute/script?cc=max-age%3D60&t=redis-down-2`)
    expect(other.body.url).toContain('t=redis-down-2')
    await redis.restart()
  })
})
