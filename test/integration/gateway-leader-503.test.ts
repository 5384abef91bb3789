import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor, sleep } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { startFakeInstance, type FakeInstance } from '../support/fake-instance.js'

/**
 * A leader frozen past its callers' deadlines wakes up deposed, and refuses what it held with
 * 503 HTTP_ERR_DEADLINE_PASSED (nothing done), at a moment when the new leader may itself be
 * gone (a chaos run killed it as the old one woke: seed 5 of the kv-leader hot shape). The
 * gateway waits for the next leader, as for a first try, instead of passing the refusal on.
 * Two scripted instances of a leader-routed service: `a` holds its PUTs until released.
 */
const prefix = 'gw-leader-503'
let redis: TestRedis
let client: Redis
let gateway: RunningProcess
let a: FakeInstance
let b: FakeInstance
let c: FakeInstance
let release: () => void = () => {}
let held = false
let holdPuts = true

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  const policy = { routing: 'leader' as const, balancer: 'least-outstanding' as const }
  a = await startFakeInstance(client, prefix, { id: 'a', service: 'kvfake', role: 'leader', policy }, (app) => {
    app.put('/k', async (_request, reply) => {
      held = true
      if (holdPuts) await new Promise<void>((resolve) => { release = resolve })
      return await reply.code(503).header('retry-after', '1').send({ error: 'HTTP_ERR_DEADLINE_PASSED', message: 'the caller stopped waiting for this request before it could start; nothing was done', retryable: true })
    })
  })
  b = await startFakeInstance(client, prefix, { id: 'b', service: 'kvfake', role: 'follower', policy }, (app) => {
    app.put('/k', async () => ({ from: 'b' }))
  })
  c = await startFakeInstance(client, prefix, { id: 'c', service: 'kvfake', role: 'follower', policy }, (app) => {
    app.put('/k', async () => ({ from: 'c' }))
  })
  // health checks out of the way: the gateway learns of a dead instance from its tries alone
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: prefix, GW_LEADER_WAIT_MS: '3000', GW_HEALTH_INTERVAL_MS: '60000', GW_HEALTH_FAST_INTERVAL_MS: '60000' })
  await waitFor(async () => {
    const res = await request(`${gateway.url}/registry`)
    return ((await res.body.json()) as { services: Record<string, unknown[]> }).services.kvfake?.length === 3
  }, 10_000, 'the three instances in the gateway registry')
})

afterAll(async () => {
  release()
  await a?.stop()
  await b?.stop()
  await c?.stop()
  client?.disconnect()
  killAll()
  await redis?.stop()
})

describe('a deposed leader\'s "nothing done" while no leader is known', () => {
  it('is retried on the next leader once it appears, not passed on', async () => {
    const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
    await waitFor(() => held, 5_000, 'the PUT held by a')
    await a.registrar.update({ role: 'follower' }) // deposed: no leader is known for a while
    await sleep(200)
    release()
    await sleep(300)
    await b.registrar.update({ role: 'leader' })
    const res = await answer
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { from: 'b' } })
  })

  it('from the leader itself, is passed on at once: the gateway does not wait for another leader', async () => {
    await Promise.all([a.registrar.update({ role: 'leader' }), b.registrar.update({ role: 'follower' })])
    await waitFor(async () => {
      const res = await request(`${gateway.url}/registry`)
      const roles = ((await res.body.json()) as { services: Record<string, Array<{ id: string, role: string }>> }).services.kvfake ?? []
      return roles.some((i) => i.id === 'a' && i.role === 'leader') && roles.some((i) => i.id === 'b' && i.role === 'follower')
    }, 5_000, 'a leader again, b a follower')
    holdPuts = false
    const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
    // had the gateway waited for another leader, it would find this one and retry there
    const promote = sleep(1_500).then(async () => { await b.registrar.update({ role: 'leader' }) })
    const res = await answer
    expect({ status: res.statusCode, error: ((await res.body.json()) as { error: string }).error }).toEqual({ status: 503, error: 'HTTP_ERR_DEADLINE_PASSED' })
    await promote
  })

  it('is retried past a successor that was killed meanwhile, on the leader after it: a refused try spends no attempt', async () => {
    holdPuts = true
    held = false
    await Promise.all([a.registrar.update({ role: 'leader' }), b.registrar.update({ role: 'follower' })])
    await waitFor(async () => await roleOf('a') === 'leader' && await roleOf('b') === 'follower', 5_000, 'a the leader')
    const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
    await waitFor(() => held, 5_000, 'the PUT held by a')
    // a is deposed (frozen) and b elected; then b is killed while still registered as the leader
    await Promise.all([a.registrar.update({ role: 'follower' }), b.registrar.update({ role: 'leader' })])
    await waitFor(async () => await roleOf('b') === 'leader', 5_000, 'b the leader')
    await b.app.close() // connections to b are refused from now on; its registration lives on
    release() // a wakes and refuses what it held: the retry goes to b, refused
    await sleep(300)
    await c.registrar.update({ role: 'leader' })
    const res = await answer
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { from: 'c' } })
  })
})

async function roleOf (id: string): Promise<string | undefined> {
  const res = await request(`${gateway.url}/registry`)
  const instances = ((await res.body.json()) as { services: Record<string, Array<{ id: string, role: string }>> }).services.kvfake ?? []
  return instances.find((i) => i.id === id)?.role
}
