import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import type { Registrar } from '../../shared/src/registry/registrar.js'
import { startEchoCluster, startGateway, type EchoCluster, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { registerFake } from '../support/fake-instance.js'

/**
 * The gateway never answers "nothing was done" for a request that one of its tries may have
 * done. After a try that timed out (or was cut after the request went out), a retry that finds
 * no instance, or an instance's 503 ("not now"), is answered as that timeout: outcome unknown,
 * not 503 GW_ERR_NO_UPSTREAM or the instance's refusal. The chaos checker relies on the
 * difference (docs/errors.md).
 */
let redis: TestRedis

beforeAll(async () => { redis = await startRedis() })
afterAll(async () => {
  killAll()
  await redis?.stop()
})

describe('an earlier try\'s unknown outcome is what the client is told', () => {
  let cluster: EchoCluster
  beforeAll(async () => {
    cluster = await startEchoCluster(redis.url, 'gw-unknown', 1, { GW_TRY_TIMEOUT_MS: '300' })
    await waitFor(async () => {
      const res = await request(`${cluster.gateway.url}/registry`)
      return ((await res.body.json()) as { services: Record<string, unknown[]> }).services.echo?.length === 1
    }, 10_000, 'the echo instance registered')
  })

  it('a PUT that timed out, retried with no other instance, answers 504 GW_ERR_UPSTREAM_TIMEOUT', async () => {
    const res = await request(`${cluster.gateway.url}/api/echo/slow?delay=2000`, { method: 'PUT', body: 'x' })
    const body = await res.body.json() as { error: string }
    expect(res.statusCode).toBe(504)
    expect(body.error).toBe('GW_ERR_UPSTREAM_TIMEOUT')
  })
})

describe('a refusal after an unknown outcome', () => {
  const servers: Server[] = []
  const registrars: Registrar[] = []
  let client: Redis
  let gateway: RunningProcess
  let silent = false

  /** An instance that answers its health checks and `answer`s everything else. */
  async function origin (id: string, answer: (res: ServerResponse) => void): Promise<void> {
    const server = createServer((req, res) => {
      req.resume()
      if (req.url === '/healthz') return res.end('ok')
      answer(res)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    registrars.push(await registerFake(client, 'gw-unknown-2', { id, service: 'echo', url, policy: { balancer: 'least-outstanding', hedge: true } }))
  }

  beforeAll(async () => {
    client = createRedis(redis.url)
    // One instance goes silent (a try to it times out: it may have acted), the other refuses.
    // While warming up the silent one is the fast one, so the balancer (ties go to the faster)
    // tries it first, and the refusal comes second: the order where the refusal would mislead.
    await origin('echo-silent', (res) => { if (!silent) res.end('{}') })
    await origin('echo-refusing', (res) => {
      setTimeout(() => {
        if (!silent) return res.end('{}')
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
        res.end(JSON.stringify({ error: 'HTTP_ERR_UNAVAILABLE', message: 'not now' }))
      }, silent ? 0 : 150)
    })
    gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: 'gw-unknown-2', NINES_SERVICES: 'echo', GW_TRY_TIMEOUT_MS: '300' })
    await waitFor(async () => {
      const res = await request(`${gateway.url}/registry`)
      return ((await res.body.json()) as { services: Record<string, unknown[]> }).services.echo?.length === 2
    }, 10_000, 'both instances registered')
  })

  afterAll(async () => {
    for (const r of registrars) await r.stop().catch(() => {})
    client?.disconnect()
    for (const s of servers) s.closeAllConnections()
    for (const s of servers) s.close()
  })

  it('a timeout then a 503: the client hears "outcome unknown", never the refusal that followed', async () => {
    for (let i = 0; i < 6; i++) await (await request(`${gateway.url}/api/echo/warm-${i}`, { method: 'PUT', body: 'x' })).body.dump()
    silent = true
    const res = await request(`${gateway.url}/api/echo/x`, { method: 'PUT', body: 'x' })
    const body = await res.body.json() as { error: string }
    expect(`${res.statusCode} ${body.error}`).toBe('504 GW_ERR_UPSTREAM_TIMEOUT')
  })
})
