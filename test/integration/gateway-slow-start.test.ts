import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, startGateway, type EchoCluster, type RunningProcess } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { runLoad, type LoadResult } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * Slow start through real gateways: two echo instances under load, then a third joins. The
 * cluster's gateway has a 4 s slow-start window; the `off` gateway none, as the contrast. Both
 * balance echo round-robin: least-outstanding already holds back a newcomer that is slow (its
 * requests in flight pile up), which would blur what slow start itself does.
 */
const windowMs = 4_000
let redis: TestRedis
let cluster: EchoCluster
let off: RunningProcess

beforeAll(async () => {
  redis = await startRedis()
  const balance = { GW_HEDGE: 'off', GW_BALANCERS: 'echo=round-robin' }
  cluster = await startEchoCluster(redis.url, 'gw-slow-start', 2, { ...balance, GW_SLOW_START_MS: String(windowMs) })
  off = await startGateway({ ...cluster.env, ...balance, NINES_SERVICES: 'echo', GW_SLOW_START_MS: '0' })
  for (const gw of [cluster.gateway, off]) await waitFor(async () => (await count(gw.url)) === 2, 10_000, 'two echo instances')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function count (gatewayUrl: string): Promise<number> {
  const res = await request(`${gatewayUrl}/registry`)
  return ((await res.body.json()) as { services: Record<string, unknown[]> }).services.echo?.length ?? 0
}

const share = (r: LoadResult, id: string): number => (r.byInstance[id] ?? 0) / Math.max(1, r.ok)

describe('slow start', () => {
  it('gives a newly started instance a share of traffic that ramps up over the window', async () => {
    // warm: both gateways have seen echo-1 and echo-2 for longer than the window
    await Promise.all([cluster.gateway, off].map(async (gw) => await runLoad({ url: `${gw.url}/api/echo/warm`, durationMs: windowMs + 500, concurrency: 4 })))
    await cluster.addEcho('echo-3')
    await Promise.all([cluster.gateway, off].map(async (gw) => await waitFor(async () => (await count(gw.url)) === 3, 5_000, 'echo-3 seen')))
    const joined = Date.now()
    // the first second after it joined, through both gateways at once
    const [rampedEarly, offEarly] = await Promise.all([cluster.gateway, off].map(async (gw) => await runLoad({ url: `${gw.url}/api/echo/early`, durationMs: 1_000, concurrency: 6 })))
    await sleep(Math.max(0, joined + windowMs + 200 - Date.now()))
    const [rampedLate, offLate] = await Promise.all([cluster.gateway, off].map(async (gw) => await runLoad({ url: `${gw.url}/api/echo/late`, durationMs: 1_000, concurrency: 6 })))
    for (const r of [rampedEarly, offEarly, rampedLate, offLate]) expect(r?.failures).toEqual({})

    // without slow start the newcomer takes its full third at once
    expect(share(offEarly!, 'echo-3')).toBeGreaterThan(0.25)
    // with it, a small share at first (weight ≤ 0.25 in the first second of a 4 s linear ramp) ...
    expect(share(rampedEarly!, 'echo-3')).toBeGreaterThan(0)
    expect(share(rampedEarly!, 'echo-3')).toBeLessThan(0.5 * share(offEarly!, 'echo-3'))
    // ... and its full share once the window is over
    expect(share(rampedLate!, 'echo-3')).toBeGreaterThan(0.25)
    expect(share(rampedLate!, 'echo-3')).toBeGreaterThan(2 * share(rampedEarly!, 'echo-3'))
    expect(share(offLate!, 'echo-3')).toBeGreaterThan(0.25)
  })

  it('ramps an instance again when it comes back after being frozen', async () => {
    const echo3 = cluster.echoes.get('echo-3')!
    echo3.signal('SIGSTOP')
    try {
      // active checks (every 200 ms here, fall 2) take it out of rotation
      await waitFor(async () => !(await healthy(cluster.gateway.url, 'echo-3')), 5_000, 'echo-3 out of rotation')
    } finally {
      echo3.signal('SIGCONT')
    }
    await waitFor(async () => await healthy(cluster.gateway.url, 'echo-3'), 5_000, 'echo-3 back in rotation')
    const early = await runLoad({ url: `${cluster.gateway.url}/api/echo/back`, durationMs: 800, concurrency: 6 })
    expect(early.failures).toEqual({})
    expect(share(early, 'echo-3')).toBeLessThan(0.15)
  })
})

async function healthy (gatewayUrl: string, id: string): Promise<boolean> {
  const res = await request(`${gatewayUrl}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ id: string, healthy: boolean }>> }
  return body.services.echo?.find((i) => i.id === id)?.healthy === true
}
