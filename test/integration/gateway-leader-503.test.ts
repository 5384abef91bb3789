import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor, sleep } from '../../shared/testing/wait.js'
import { startLeaderFakes, type LeaderFakes } from '../support/leader-fakes.js'

/**
 * A leader frozen past its callers' deadlines wakes up deposed, and refuses what it held with
 * 503 HTTP_ERR_DEADLINE_PASSED (nothing done), at a moment when the new leader may itself be
 * gone (a chaos run killed it as the old one woke: seed 5 of the kv-leader hot shape). The
 * gateway waits for the next leader, as for a first try, instead of passing the refusal on.
 * Two scripted instances of a leader-routed service: `a` holds its PUTs until released.
 */
const prefix = 'gw-leader-503'
let fakes: LeaderFakes
let gateway: RunningProcess
let release: () => void = () => {}
let held = false
let holdPuts = true
/** Whether `a` refuses (503, nothing done) the PUTs that arrive now; otherwise it applies them. */
let aRefuses = true

beforeAll(async () => {
  fakes = await startLeaderFakes(prefix, {
    a: {
      role: 'leader',
      put: async (_request, reply) => {
        held = true
        const refuse = aRefuses
        if (holdPuts) await new Promise<void>((resolve) => { release = resolve })
        if (!refuse) return { from: 'a' }
        return await reply.code(503).header('retry-after', '1').send({ error: 'HTTP_ERR_DEADLINE_PASSED', message: 'the caller stopped waiting for this request before it could start; nothing was done', retryable: true })
      }
    },
    b: { role: 'follower', put: async () => ({ from: 'b' }) },
    c: { role: 'follower', put: async () => ({ from: 'c' }) }
  })
  // health checks out of the way: the gateway learns of a dead instance from its tries alone
  gateway = await startGateway({ REDIS_URL: fakes.redis.url, NINES_PREFIX: prefix, GW_LEADER_WAIT_MS: '3000', GW_HEALTH_INTERVAL_MS: '60000', GW_HEALTH_FAST_INTERVAL_MS: '60000' })
  await waitFor(async () => await roleOf('a') === 'leader' && await roleOf('b') === 'follower' && await roleOf('c') === 'follower', 10_000, 'the three instances in the gateway registry')
})

afterAll(async () => {
  release()
  await fakes?.stop()
})

describe('a deposed leader\'s "nothing done" while no leader is known', () => {
  it('is retried on the next leader once it appears, not passed on', async () => {
    const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
    await waitFor(() => held, 5_000, 'the PUT held by a')
    await fakes.instance('a').registrar.update({ role: 'follower' }) // deposed: no leader is known for a while
    await sleep(200)
    release()
    await sleep(300)
    await fakes.instance('b').registrar.update({ role: 'leader' })
    const res = await answer
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { from: 'b' } })
  })

  it('from the leader itself, is passed on at once: the gateway does not wait for another leader', async () => {
    await Promise.all([fakes.instance('a').registrar.update({ role: 'leader' }), fakes.instance('b').registrar.update({ role: 'follower' })])
    await waitFor(async () => {
      const res = await request(`${gateway.url}/registry`)
      const roles = ((await res.body.json()) as { services: Record<string, Array<{ id: string, role: string }>> }).services.kvfake ?? []
      return roles.some((i) => i.id === 'a' && i.role === 'leader') && roles.some((i) => i.id === 'b' && i.role === 'follower')
    }, 5_000, 'a leader again, b a follower')
    holdPuts = false
    const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
    // had the gateway waited for another leader, it would find this one and retry there
    const promote = sleep(1_500).then(async () => { await fakes.instance('b').registrar.update({ role: 'leader' }) })
    const res = await answer
    expect({ status: res.statusCode, error: ((await res.body.json()) as { error: string }).error }).toEqual({ status: 503, error: 'HTTP_ERR_DEADLINE_PASSED' })
    await promote
  })

  it('is retried past a successor that was killed meanwhile, on the leader after it: a refused try spends no attempt', async () => {
    const { answer } = await putHeldByLeaderA('b')
    // a is deposed (frozen) and b elected; then b is killed while still registered as the leader
    await Promise.all([fakes.instance('a').registrar.update({ role: 'follower' }), fakes.instance('b').registrar.update({ role: 'leader' })])
    await waitFor(async () => await roleOf('b') === 'leader', 5_000, 'b the leader')
    await fakes.instance('b').app.close() // connections to b are refused from now on; its registration lives on
    release() // a wakes and refuses what it held: the retry goes to b, refused
    await sleep(300)
    await fakes.instance('c').registrar.update({ role: 'leader' })
    const res = await answer
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { from: 'c' } })
  })

  it('is retried on the same instance when it leads again (it resumed its own term)', async () => {
    const { answer } = await putHeldByLeaderA('c')
    await fakes.instance('a').registrar.update({ role: 'follower' }) // deposed: its lease lapsed while the lease store was away
    await sleep(200)
    release() // a refuses what it held (nothing done)
    holdPuts = false
    aRefuses = false
    await sleep(300)
    await fakes.instance('a').registrar.update({ role: 'leader' }) // the store is back: a takes its lease again
    const res = await answer
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { from: 'a' } })
  })
})

/** `a` leads and `follower` follows; a PUT sent through the gateway is then held by `a` (which will refuse it). */
async function putHeldByLeaderA (follower: 'b' | 'c'): Promise<{ answer: ReturnType<typeof request> }> {
  holdPuts = true
  held = false
  aRefuses = true
  await Promise.all([fakes.instance('a').registrar.update({ role: 'leader' }), fakes.instance(follower).registrar.update({ role: 'follower' })])
  await waitFor(async () => await roleOf('a') === 'leader' && await roleOf(follower) === 'follower', 5_000, 'a the leader')
  const answer = request(`${gateway.url}/api/kvfake/k`, { method: 'PUT', body: 'v', headers: { 'content-type': 'text/plain' } })
  await waitFor(() => held, 5_000, 'the PUT held by a')
  return { answer } // wrapped: an async function would wait for a promise it returns
}

async function roleOf (id: string): Promise<string | undefined> {
  return await fakes.roleOf(gateway.url, id)
}
