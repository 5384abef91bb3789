import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  // a short per-try timeout so a frozen instance is detected quickly
  cluster = await startEchoCluster(redis.url, 'gw-failover', 3, { GW_TRY_TIMEOUT_MS: '400' })
  await waitFor(async () => (await registry()).echo?.length === 3, 10_000, 'three echo instances registered')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

interface View { id: string, healthy: boolean, ejected: boolean }
async function registry (): Promise<Record<string, View[]>> {
  const res = await request(`${cluster.gateway.url}/registry`)
  return ((await res.body.json()) as { services: Record<string, View[]> }).services
}

async function servedBy (id: string): Promise<boolean> {
  for (let i = 0; i < 12; i++) {
    const res = await request(`${cluster.gateway.url}/api/echo/who`)
    await res.body.dump()
    if (res.headers['x-instance-id'] === id) return true
  }
  return false
}

describe('gateway failover', () => {
  it('sends traffic to a new instance within a second of it starting', async () => {
    const proc = await cluster.addEcho('echo-4')
    const startedAt = Date.now()
    await waitFor(async () => await servedBy('echo-4'), 1_000, 'echo-4 served a request')
    expect(Date.now() - startedAt).toBeLessThan(1_000)
    await proc.stop()
    await waitFor(async () => !(await registry()).echo?.some((v) => v.id === 'echo-4'), 3_000, 'echo-4 deregistered')
  })

  it('loses no request when an instance is killed with kill -9 under load', async () => {
    const load = runLoad({ url: `${cluster.gateway.url}/api/echo/steady`, durationMs: 2_500, concurrency: 16 })
    await sleep(700)
    cluster.echoes.get('echo-2')!.signal('SIGKILL')
    const result = await load
    expect(result.failures).toEqual({})
    expect(result.ok).toBeGreaterThan(100)
    await waitFor(async () => !(await registry()).echo?.some((v) => v.id === 'echo-2'), 4_000, 'the dead instance leaves the registry when its TTL lapses')
    await cluster.addEcho('echo-2')
  })

  it('routes around a frozen (SIGSTOP) instance, ejects it, and re-admits it after SIGCONT', async () => {
    await waitFor(async () => (await registry()).echo?.length === 3, 5_000, 'three instances')
    const frozen = cluster.echoes.get('echo-3')!
    frozen.signal('SIGSTOP')
    try {
      const result = await runLoad({ url: `${cluster.gateway.url}/api/echo/frozen`, durationMs: 2_000, concurrency: 6 })
      expect(result.failures).toEqual({})
      expect(result.byInstance['echo-3'] ?? 0).toBe(0)
      // out of rotation: unhealthy by active checks, or gone once its registration TTL lapsed
      const view = (await registry()).echo?.find((v) => v.id === 'echo-3')
      expect(view === undefined || !view.healthy).toBe(true)
    } finally {
      frozen.signal('SIGCONT')
    }
    await waitFor(async () => (await registry()).echo?.find((v) => v.id === 'echo-3')?.healthy === true, 8_000, 'echo-3 re-admitted')
    await waitFor(async () => await servedBy('echo-3'), 3_000, 'echo-3 serves again')
  })

  it('loses no request, POSTs included, when an instance shuts down gracefully under load', async () => {
    const gets = runLoad({ url: `${cluster.gateway.url}/api/echo/graceful`, durationMs: 2_500, concurrency: 4 })
    const posts = runLoad({ url: `${cluster.gateway.url}/api/echo/graceful`, durationMs: 2_500, concurrency: 4, method: 'POST', body: '{"n":1}' })
    await sleep(700)
    await cluster.echoes.get('echo-1')!.stop()
    const [g, p] = await Promise.all([gets, posts])
    expect(g.failures).toEqual({})
    expect(p.failures).toEqual({})
    expect(g.ok + p.ok).toBeGreaterThan(100)
  })
})
