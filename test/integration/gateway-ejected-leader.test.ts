import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { parsePrometheus } from '../../shared/testing/prometheus.js'
import { startLeaderFakes, type LeaderFakes } from '../support/leader-fakes.js'

/**
 * A leader that cannot renew its lease (Redis is being replaced) answers 503 until it steps
 * down or renews, and the gateway ejects it for them. The ejection must not hide it: it is the
 * only instance that can take a write. Seen in the Redis failover chaos run: the kv-leader
 * leader stayed ejected for up to 30 s (ejections double with each repeat), while it led.
 */
const prefix = 'gw-ejected-leader'
let fakes: LeaderFakes
let gateway: RunningProcess
let failing = true

beforeAll(async () => {
  fakes = await startLeaderFakes(prefix, {
    a: {
      role: 'leader',
      put: async (_request, reply) => {
        if (failing) return await reply.code(503).send({ error: 'KVL_ERR_OUTCOME_UNKNOWN', message: 'the lease could not be renewed', retryable: false })
        return { from: 'a' }
      }
    },
    b: { role: 'follower', put: async () => ({ from: 'b' }) }
  })
  // an ejection that outlasts the test, and a short wait for a leader when none is available
  gateway = await startGateway({ REDIS_URL: fakes.redis.url, NINES_PREFIX: prefix, GW_EJECT_CONSECUTIVE_5XX: '2', GW_EJECT_BASE_MS: '60000', GW_LEADER_WAIT_MS: '500' })
  await waitFor(async () => await roleOf('a') === 'leader' && await roleOf('b') === 'follower', 10_000, 'both instances in the gateway registry')
})

afterAll(async () => {
  await fakes?.stop()
})

async function roleOf (id: string): Promise<string | undefined> {
  return await fakes.roleOf(gateway.url, id)
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
    await fakes.instance('a').registrar.update({ role: 'follower' })
    await waitFor(async () => await roleOf('a') === 'follower', 5_000, 'a deposed')
    await fakes.instance('a').registrar.update({ role: 'leader' })
    await waitFor(async () => await roleOf('a') === 'leader', 5_000, 'a the leader again')
    expect(await put()).toEqual({ status: 200, body: { from: 'a' } })
  })
})
