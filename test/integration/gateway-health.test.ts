import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, startInstance, type EchoCluster } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { parsePrometheus } from '../../shared/testing/prometheus.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * Active health checks on an idle cluster: an instance that passes is checked at the slow
 * interval (here 3 s), one whose check failed or that is out of rotation at the fast one (100 ms),
 * so a frozen instance leaves and a thawed one returns quickly without probing everyone often.
 */
let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'gw-health', 2, { GW_HEALTH_INTERVAL_MS: '3000', GW_HEALTH_FAST_INTERVAL_MS: '100', GW_HEALTH_TIMEOUT_MS: '100' })
  await waitFor(async () => (await view()).length === 2, 10_000, 'two echo instances')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function view (): Promise<Array<{ id: string, healthy: boolean }>> {
  const res = await request(`${cluster.gateway.url}/registry`)
  return ((await res.body.json()) as { services: Record<string, Array<{ id: string, healthy: boolean }>> }).services.echo ?? []
}

async function healthzServed (url: string): Promise<number> {
  const res = await request(`${url}/metrics`)
  return parsePrometheus(await res.body.text()).filter((s) => s.name === 'http_server_requests_total' && s.labels.route === '/healthz').reduce((a, s) => a + s.value, 0)
}

describe('active health checks', () => {
  it('checks a passing instance at the slow interval only', async () => {
    const echo = cluster.echoes.get('echo-1')!
    const before = await healthzServed(echo.url)
    await sleep(3_500)
    // one or two checks in 3.5 s at a 3 s interval; the fast interval would have made about 35
    expect(await healthzServed(echo.url) - before).toBeLessThanOrEqual(3)
  })

  it('takes a frozen instance out, and a thawed one back, at the fast interval', async () => {
    // a registration that outlives the freeze: what takes it out of rotation is the checks
    const echo = await startInstance('echo', { ...cluster.env, INSTANCE_ID: 'echo-long', REGISTRY_TTL_MS: '30000', REGISTRY_HEARTBEAT_MS: '1000' })
    await waitFor(async () => (await view()).some((v) => v.id === 'echo-long'), 5_000, 'echo-long registered')
    echo.signal('SIGSTOP')
    try {
      // the next slow-interval check fails, then the fast ones confirm it (fall 2)
      await waitFor(async () => (await view()).find((v) => v.id === 'echo-long')?.healthy === false, 5_000, 'echo-long out of rotation')
    } finally {
      echo.signal('SIGCONT')
    }
    const thawed = Date.now()
    await waitFor(async () => (await view()).find((v) => v.id === 'echo-long')?.healthy === true, 5_000, 'echo-long back in rotation')
    // rise 2 at the fast interval: well under one slow interval (two would be 6 s)
    expect(Date.now() - thawed).toBeLessThan(2_500)
  })
})
