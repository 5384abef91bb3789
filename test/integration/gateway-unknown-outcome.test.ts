import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../shared/testing/cluster.js'
import { waitFor } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * The gateway never answers "nothing was done" for a request that one of its tries may have
 * done: a try that timed out, then a retry that finds no instance, is answered as the timeout
 * (outcome unknown), not as 503 GW_ERR_NO_UPSTREAM (never sent). The chaos checker relies on
 * that difference (docs/errors.md).
 */
let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'gw-unknown', 1, { GW_TRY_TIMEOUT_MS: '300' })
  await waitFor(async () => {
    const res = await request(`${cluster.gateway.url}/registry`)
    return ((await res.body.json()) as { services: Record<string, unknown[]> }).services.echo?.length === 1
  }, 10_000, 'the echo instance registered')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

describe('an earlier try\'s unknown outcome is what the client is told', () => {
  it('a PUT that timed out, retried with no other instance, answers 504 GW_ERR_UPSTREAM_TIMEOUT', async () => {
    const res = await request(`${cluster.gateway.url}/api/echo/slow?delay=2000`, { method: 'PUT', body: 'x' })
    const body = await res.body.json() as { error: string }
    expect(res.statusCode).toBe(504)
    expect(body.error).toBe('GW_ERR_UPSTREAM_TIMEOUT')
  })
})
