import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { parsePrometheus } from '../../shared/testing/prometheus.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { startFakeInstance, type FakeInstance } from '../support/fake-instance.js'

/**
 * A leader that cannot renew its lease (Redis is being replaced) answers 503 until it steps
 * down or renews, and the gateway ejects it for them. The ejection must not hide it: it is the
 * only instance that can take a write. Seen in the Redis failover chaos run: the kv-leader
 * leader stayed ejected for up to 30 s (ejections double with each repeat), while it led.
 */
const prefix = 'gw-ejected-leader'
let redis: TestRedis
let client: Redis
let gateway: RunningProcess
let a: FakeInstance
let b: FakeInstance
let failing = true

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  const policy = { routing: 'leader' as const, balancer: 'least-outstanding' as const }
  a = await startFakeInstance(client, prefix, { id: 'a', service: 'kvfake', role: 'leader', policy }, (app) => {
    app.put('/k', async (_request, reply) => {
      if (failing) return await reply.code(503).send({ error: 'KVL_ERR_OUTCOME_UNKNOWN', message: 'the lease could not be renewed', retryable: false })
      return { from: 'a' }
    })
  })
  b = await startFakeInstance(client, prefix, { id: 'b', service: 'kvfake', role: 'follower', policy }, (app) => {
    app.put('/k', async () => ({ from: 'b' }))
  })
  // an ejection that outlasts the test, and a short wait for a leader when none is available
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: prefix, GW_EJECT_CONSECUTIVE_5XX: '2', GW_EJECT_BASE_MS: '60000', GW_LEADER_WAIT_MS: '500' })
  await waitFor(async () => await roleOf('a') === 'leader' && await roleOf('b') === 'follower', 10_000, 'both instances in the gateway registry')
})

afterAll(async () => {
  await a?.stop()
  await b?.stop()
  client?.disconnect()
  killAll()
  await redis?.stop()
})

async function roleOf (id: string): Promise<string | undefined> {
  const res = await request(`${gateway.url}/registry`)
  const instances = ((await res.body.json()) as { services: Record<string, Array<{ id: string, role: string }>> }).services.kvfake ?? []
  return instances.find((i) => i.id === id)?.role
}

async function put (): Promise<{ status: number, body: unknown }> {
  const res = await request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
  return { status: res.statusCode, body: await res.body.json() }
}

async function ejections (): Promise<number> {
  const res = await request(`${gateway.url}/metrics`)
  return parsePrometheus(await res.body.text()).filter((s) => s.name === 'gateway_ejections_total' && s.labels.instance === 'a').reduce((n, s) => n + s.value, 0)
}

describe('a leader ejected for its 503s', () => {
  it('still gets the writes once it takes them again, long before its ejection ends', async () => {
    expect((await put()).status).toBe(503)
    expect((await put()).status).toBe(503)
    expect(await ejections()).toBe(1) // ejected for a minute
    failing = false // Redis is back and the lease renewed
    expect(await put()).toEqual({ status: 200, body: { from: 'a' } })
  })

  it('and after it stepped down and was elected again', async () => {
    await a.registrar.update({ role: 'follower' })
    await waitFor(async () => await roleOf('a') === 'follower', 5_000, 'a deposed')
    await a.registrar.update({ role: 'leader' })
    await waitFor(async () => await roleOf('a') === 'leader', 5_000, 'a the leader again')
    expect(await put()).toEqual({ status: 200, body: { from: 'a' } })
  })
})
