import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { RoutingPolicy } from '../../shared/src/registry/policy.js'
import { createApp } from '../../shared/src/service/create-app.js'
import { runService, type RunningService } from '../../shared/src/service/run-service.js'
import type { Registrar } from '../../shared/src/registry/registrar.js'
import { fastTimings, startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * "Adding a service needs no gateway change": services that are in no topology and that the
 * gateway has never heard of start (through runService, as a real service does) while a gateway
 * runs, each declaring its routing policy, and the running gateway routes to them as that policy
 * says: spread by the declared balancer, writes to the leader of a leader-routed service (and to
 * the new leader after a change), retries and per-try timeouts as declared, and a policy change
 * (a newer instance that declares another) followed without a restart.
 */
const prefix = 'gw-new-service'
let redis: TestRedis
let gateway: RunningProcess
const running: RunningService[] = []

interface Started { service: RunningService, registrar: Registrar }

/** One instance of a service made up for the test: every request answers with its id (`answer` may say otherwise). */
async function startService (service: string, id: string, policy: RoutingPolicy | undefined, opts: { role?: string, answer?: (method: string, url: string) => 'reset' | 'slow' | undefined } = {}): Promise<Started> {
  let registrar: (() => Registrar) | undefined
  const started = await runService({
    service,
    spec: {},
    ...(policy !== undefined ? { policy } : {}),
    build: async (ctx) => {
      registrar = ctx.registrar
      const app = createApp({ service, instanceId: id, logger: ctx.log })
      app.all('/*', async (req, reply) => {
        const what = opts.answer?.(req.method, req.url)
        if (what === 'reset') {
          reply.hijack()
          req.raw.socket.destroy()
          return
        }
        if (what === 'slow') await new Promise((resolve) => setTimeout(resolve, 1_500))
        // cacheable if the service's policy lets the gateway cache it
        return await reply.header('cache-control', 'max-age=60').send({ instance: id, method: req.method })
      })
      return { app, ...(opts.role !== undefined ? { role: opts.role } : {}) }
    }
  }, { ...fastTimings, REDIS_URL: redis.url, NINES_PREFIX: prefix, INSTANCE_ID: id, LOG_LEVEL: 'warn' }, { handleSignals: false })
  running.push(started)
  return { service: started, registrar: registrar!() }
}

async function call (path: string, method = 'GET'): Promise<{ status: number, instance: string, body: Record<string, unknown>, headers: Record<string, unknown> }> {
  const res = await request(`${gateway.url}${path}`, { method: method as 'GET', ...(method !== 'GET' ? { body: 'x', headers: { 'content-type': 'text/plain' } } : {}) })
  const body = (await res.body.json()) as Record<string, unknown>
  return { status: res.statusCode, instance: String(body.instance ?? res.headers['x-instance-id']), body, headers: res.headers }
}

async function instancesHit (path: string, n: number, method = 'GET'): Promise<Record<string, number>> {
  const hits: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const { status, instance } = await call(path, method)
    expect(status).toBe(200)
    hits[instance] = (hits[instance] ?? 0) + 1
  }
  return hits
}

async function routed (service: string, count: number): Promise<void> {
  await waitFor(async () => {
    const view = (await (await request(`${gateway.url}/registry`)).body.json()) as { services: Record<string, Array<{ healthy: boolean }>> }
    return view.services[service]?.filter((i) => i.healthy).length === count
  }, 10_000, `${count} healthy instance(s) of ${service} at the gateway`)
}

async function policies (): Promise<Record<string, Record<string, unknown>>> {
  return ((await (await request(`${gateway.url}/policies`)).body.json()) as { services: Record<string, Record<string, unknown>> }).services
}

beforeAll(async () => {
  redis = await startRedis()
  // the gateway starts first, knowing none of the services below; it is never restarted
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: prefix, NINES_SERVICES: 'echo', GW_SLOW_START_MS: '0', GW_HEDGE: 'off' })
})

afterAll(async () => {
  await Promise.all(running.map(async (s) => await s.stop('test over')))
  killAll()
  await redis?.stop()
})

describe('a brand-new service', () => {
  it('is routed as soon as it registers, by the balancer it declares', async () => {
    expect((await call('/api/hello/greet')).body.error).toBe('GW_ERR_UNKNOWN_SERVICE')
    await startService('hello', 'hello-1', { balancer: 'round-robin' })
    await startService('hello', 'hello-2', { balancer: 'round-robin' })
    await routed('hello', 2)
    expect((await policies()).hello).toMatchObject({ balancer: 'round-robin', leaderRouting: false })
    // round-robin, and no leader routing: reads and writes alike alternate
    expect(await instancesHit('/api/hello/greet', 6)).toEqual({ 'hello-1': 3, 'hello-2': 3 })
    expect(await instancesHit('/api/hello/greet', 6, 'PUT')).toEqual({ 'hello-1': 3, 'hello-2': 3 })
    const view = (await (await request(`${gateway.url}/registry`)).body.json()) as { services: Record<string, Array<{ id: string, policy?: unknown }>> }
    expect(view.services.hello?.map((i) => i.policy)).toEqual([{ balancer: 'round-robin' }, { balancer: 'round-robin' }])
  })

  it('that is leader-routed sends its writes to the leader, and follows a new leader at once', async () => {
    const policy: RoutingPolicy = { routing: 'leader', balancer: 'round-robin' }
    const a = await startService('ledger-lite', 'lite-a', policy, { role: 'leader' })
    const b = await startService('ledger-lite', 'lite-b', policy, { role: 'follower' })
    await routed('ledger-lite', 2)
    expect(await instancesHit('/api/ledger-lite/keys/k', 6, 'PUT')).toEqual({ 'lite-a': 6 })
    expect(await instancesHit('/api/ledger-lite/keys/k', 4)).toEqual({ 'lite-a': 4 }) // a default read is the leader's
    expect(await instancesHit('/api/ledger-lite/keys/k?consistency=eventual', 6)).toEqual({ 'lite-a': 3, 'lite-b': 3 })
    // leadership moves (the instances publish their roles): the writes follow
    await a.registrar.update({ role: 'follower' })
    await b.registrar.update({ role: 'leader' })
    await waitFor(async () => (await call('/api/ledger-lite/keys/k', 'PUT')).instance === 'lite-b', 5_000, 'writes at the new leader')
    expect(await instancesHit('/api/ledger-lite/keys/k', 6, 'DELETE')).toEqual({ 'lite-b': 6 })
  })

  it('gets the retries and the per-try timeout it declares', async () => {
    // one instance resets every POST; declaring retryNonIdempotent sends each to the other one
    const reset = (method: string): 'reset' | undefined => method === 'POST' ? 'reset' : undefined
    await startService('jobs-lite', 'jobs-reset', { balancer: 'round-robin', retryNonIdempotent: true }, { answer: reset })
    await startService('jobs-lite', 'jobs-ok', { balancer: 'round-robin', retryNonIdempotent: true })
    await routed('jobs-lite', 2)
    expect(await instancesHit('/api/jobs-lite/run', 4, 'POST')).toEqual({ 'jobs-ok': 4 })

    // without the declaration a POST that reset is not repeated (it may have been applied)
    await startService('once-lite', 'once-reset', { balancer: 'round-robin' }, { answer: reset })
    await startService('once-lite', 'once-ok', { balancer: 'round-robin' })
    await routed('once-lite', 2)
    const outcomes = await Promise.all([1, 2, 3, 4].map(async () => (await call('/api/once-lite/run', 'POST')).status))
    expect(outcomes.sort()).toEqual([200, 200, 502, 502])

    // a try longer than the declared 300 ms is cut, though the gateway's own default (2 s) would wait
    await startService('slow-lite', 'slow-1', { tryTimeoutMs: 300 }, { answer: (_m, url) => url.includes('slow') ? 'slow' : undefined })
    await routed('slow-lite', 1)
    const slow = await call('/api/slow-lite/slow')
    expect([slow.status, slow.body.error]).toEqual([504, 'GW_ERR_UPSTREAM_TIMEOUT'])
  })

  it('changes policy without a gateway restart: the newest registration wins', async () => {
    await startService('lookup', 'lookup-1', { cacheable: false })
    await routed('lookup', 1)
    await call('/api/lookup/a')
    expect((await call('/api/lookup/a')).headers['x-gateway-cache']).toBeUndefined()
    // a newer instance declares the service cacheable: the gateway caches from then on
    await startService('lookup', 'lookup-2', { cacheable: true })
    await routed('lookup', 2)
    await waitFor(async () => (await policies()).lookup?.cacheable === true, 5_000, 'the newer policy adopted')
    await call('/api/lookup/b')
    expect((await call('/api/lookup/b')).headers['x-gateway-cache']).toBe('hit')
    const lines = gateway.lines.filter((l) => l.includes('instances disagree on the routing policy'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('"chosen":"lookup-2"')
    expect(lines[0]).toContain('"disagreeing":["lookup-1"]')
  })
})
