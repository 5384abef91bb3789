import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, startGateway, startInstance, type EchoCluster, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { parsePrometheus } from '../../shared/testing/prometheus.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * Hedged requests through a real gateway: three healthy echo instances teach the gateway the
 * service's p95, then a fourth joins that answers every request 3 s late. The cluster's gateway
 * may hedge every request; gateway `budgeted` may hedge 1 % of them.
 */
const slowMs = 3_000
let redis: TestRedis
let cluster: EchoCluster
let budgeted: RunningProcess
let slow: RunningProcess

beforeAll(async () => {
  redis = await startRedis()
  // no slow start here: the slow instance must get its full share at once
  // and tries that outlast the slow answers, so the slow instance is never ejected for a timeout
  cluster = await startEchoCluster(redis.url, 'gw-hedge', 3, { GW_SLOW_START_MS: '0', GW_TRY_TIMEOUT_MS: '8000', GW_HEDGE_BUDGET_RATIO: '1' })
  // a 1 % budget: below the ~5 % of requests that outlast a p95, so it has to refuse some
  budgeted = await startGateway({ ...cluster.env, NINES_SERVICES: 'echo', GW_SLOW_START_MS: '0', GW_TRY_TIMEOUT_MS: '8000', GW_HEDGE_BUDGET_RATIO: '0.01' })
  for (const gw of [cluster.gateway, budgeted]) {
    await waitFor(async () => (await instances(gw.url)).length === 3, 10_000, 'three echo instances registered')
    // the gateway's own latency window: a p95 of healthy answers
    const warm = await runLoad({ url: `${gw.url}/api/echo/warm`, durationMs: 1_500, concurrency: 4 })
    expect(warm.failures).toEqual({})
  }
  // every answer of this one instance is 3 s late
  slow = await startInstance('echo', { ...cluster.env, INSTANCE_ID: 'echo-slow', ECHO_SLOW_MS: String(slowMs), ECHO_SLOW_SHARE: '1' })
  for (const gw of [cluster.gateway, budgeted]) {
    await waitFor(async () => (await instances(gw.url)).includes('echo-slow'), 10_000, 'the slow instance is routed to')
  }
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function instances (gatewayUrl: string): Promise<string[]> {
  const res = await request(`${gatewayUrl}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ id: string, healthy: boolean }>> }
  return (body.services.echo ?? []).filter((i) => i.healthy).map((i) => i.id)
}

async function inflightOf (gatewayUrl: string, id: string): Promise<number> {
  const res = await request(`${gatewayUrl}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ id: string, inflight: number }>> }
  return body.services.echo?.find((i) => i.id === id)?.inflight ?? -1
}

async function metric (url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await request(`${url}/metrics`)
  const samples = parsePrometheus(await res.body.text())
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)
}

describe('hedged requests', () => {
  it('answers from another instance when one is slow, and cancels the slow try', async () => {
    const gw = cluster.gateway.url
    const cancelledBefore = await metric(slow.url, 'echo_delays_cancelled_total')
    const triedBefore = await metric(gw, 'gateway_balancer_picks_total', { service: 'echo', instance: 'echo-slow' })
    const result = await runLoad({ url: `${gw}/api/echo/hedged`, durationMs: 2_000, concurrency: 4 })
    expect(result.failures).toEqual({})
    // nobody waited for the slow instance: a hedge answered each request it was given
    expect(result.slowestMs).toBeLessThan(slowMs)
    expect(result.byInstance['echo-slow'] ?? 0).toBe(0)
    expect(await metric(gw, 'gateway_hedges_total', { service: 'echo', event: 'won' })).toBeGreaterThan(0)
    // every try sent to the slow instance lost and was cancelled: the gateway holds nothing in
    // flight there, and the instance saw its callers leave and waits on none of them, long
    // before the 3 s answers were due (a try it had not started yet is cut before it begins)
    expect(await metric(gw, 'gateway_balancer_picks_total', { service: 'echo', instance: 'echo-slow' }) - triedBefore).toBeGreaterThan(0)
    await waitFor(async () => await inflightOf(gw, 'echo-slow') === 0, 1_000, 'nothing in flight at the slow instance')
    await waitFor(async () => await metric(slow.url, 'echo_delays_waiting') === 0, 1_000, 'the slow instance waits on nothing')
    expect(await metric(slow.url, 'echo_delays_cancelled_total') - cancelledBefore).toBeGreaterThan(0)
  })

  it('never hedges a non-idempotent request: a POST waits for the slow instance', async () => {
    const gw = cluster.gateway.url
    const sentBefore = await metric(gw, 'gateway_hedges_total', { service: 'echo', event: 'sent' })
    const posts = await runLoad({ url: `${gw}/api/echo/post`, durationMs: 1_000, concurrency: 4, method: 'POST', body: '{"n":1}' })
    expect(posts.failures).toEqual({})
    expect(posts.byInstance['echo-slow'] ?? 0).toBeGreaterThan(0) // one did land there ...
    expect(posts.slowestMs).toBeGreaterThanOrEqual(slowMs) // ... and was waited for
    expect(await metric(gw, 'gateway_hedges_total', { service: 'echo', event: 'sent' })).toBe(sentBefore)
  })

  it('keeps hedges within the budget (a share of the requests over 10 s)', async () => {
    const gw = budgeted.url
    const result = await runLoad({ url: `${gw}/api/echo/budget`, durationMs: 2_000, concurrency: 4 })
    expect(result.failures).toEqual({})
    const requests = await metric(gw, 'gateway_requests_total', { service: 'echo' })
    const sent = await metric(gw, 'gateway_hedges_total', { service: 'echo', event: 'sent' })
    const denied = await metric(gw, 'gateway_hedges_total', { service: 'echo', event: 'denied' })
    expect(sent).toBeGreaterThan(0)
    expect(denied).toBeGreaterThan(0) // the budget did bite: without it every slow try would be hedged
    expect(sent).toBeLessThanOrEqual(0.01 * requests)
    // what the budget refused waited for the slow instance
    expect(result.byInstance['echo-slow'] ?? 0).toBeGreaterThan(0)
  })
})
