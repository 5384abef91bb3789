import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { compareInputIds } from '../../shared/src/pipeline/types.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { createRedis, waitReady, type Redis } from '../../shared/src/redis.js'
import { startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startSentinelTopology, type TestSentinelRedis } from '../../scripts/lib/redis-sentinel.js'
import { testLease } from './pairs-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

/**
 * Issue 13 on a real primary + replica + 3 Sentinels: nothing is acknowledged that a failover
 * can take back. The replica is frozen (SIGSTOP), so no write can be confirmed, and the socket
 * buffers towards it are filled with ballast, so every later write stays in the primary's memory
 * only. Then the primary is killed with the replica behind, and the replica is promoted: those
 * writes are lost with the old primary — exactly the writes nobody was told succeeded.
 */
const prefix = 'redis-ha'
let ha: TestSentinelRedis
let redis: Redis
const procs = new Map<string, RunningProcess>()
const proc = (id: string): RunningProcess => procs.get(id) as RunningProcess

// shared by the two steps of the story
const acknowledged: { events: string[], jobs: string[] } = { events: [], jobs: [] }
let ghost = ''
let epochBefore = 0
let frozenReplicaPid = 0

interface Answer { status: number, body: any, headers: Record<string, unknown> }
async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })
  return { status: res.statusCode, body: await res.body.json(), headers: res.headers }
}
async function getJson (url: string): Promise<any> {
  const res = await request(url)
  return await res.body.json()
}
const hwRoles = async (): Promise<string[]> => await Promise.all(['ledger-hw-a', 'ledger-hw-b'].map(async (id) => (await getJson(`${proc(id).url}/status`)).role as string))

beforeAll(async () => {
  ha = await startSentinelTopology()
  const env = { REDIS_URL: ha.url, NINES_PREFIX: prefix }
  const start = async (service: string, id: string, extra: Record<string, string> = {}): Promise<void> => {
    procs.set(id, await startInstance(service, { ...env, INSTANCE_ID: id, ...extra }))
  }
  await Promise.all([start('feed', 'feed-1'), start('sink', 'sink-1'), start('compute', 'compute-1', { COMPUTE_THREADS: '1' })])
  await Promise.all([
    start('ledger-hh', 'ledger-hh-a', { ...testLease, LEDGER_PAIR: 'hot-hot' }),
    start('ledger-hw', 'ledger-hw-a', { ...testLease, LEDGER_PAIR: 'hot-warm' }),
    start('ledger-hw', 'ledger-hw-b', { ...testLease, LEDGER_PAIR: 'hot-warm' })
  ])
  redis = createRedis(ha.url)
  await waitReady(redis, 5_000)
  await waitFor(async () => (await hwRoles()).sort().join() === 'hot,warm', 15_000, 'a hot and a warm')
})

afterAll(async () => {
  redis?.disconnect()
  if (frozenReplicaPid > 0) { try { process.kill(frozenReplicaPid, 'SIGCONT') } catch {} }
  killAll()
  await ha?.cleanup()
})

describe('a Redis failover loses nothing that was acknowledged', () => {
  it('while the replica cannot confirm, nothing is acknowledged: feed, jobs and sink answer 503 outcome-unknown, the hot-warm hot stops, the ledgers apply no unconfirmed entry', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await post(`${proc('feed-1').url}/events`, { account: 'acked', amount: 1 }, { 'idempotency-key': `acked-${i}` })
      expect(r.status).toBe(202)
      acknowledged.events.push(r.body.id)
    }
    const job = await post(`${proc('compute-1').url}/jobs`, { task: 'primes', params: { limit: 1_000 } }, { 'idempotency-key': 'job-acked' })
    expect(job.status).toBe(202)
    acknowledged.jobs.push(job.body.id)
    await waitFor(async () => (await getJson(`${proc('sink-1').url}/stats`)).pairs['hot-warm'].outputs >= 5, 10_000, 'outputs of the acknowledged events')
    epochBefore = (await getJson(`${proc('sink-1').url}/stats`)).pairs['hot-warm'].epoch

    const primary = await ha.primaryPort()
    frozenReplicaPid = ha.nodes.find((n) => n.port !== primary)?.pid() ?? 0
    process.kill(frozenReplicaPid, 'SIGSTOP')
    // on loopback the kernel would hold the replication stream for the frozen replica and hand
    // it over on waking: fill those buffers, so what follows is on the primary alone
    const ballast = 'x'.repeat(8 * 1_048_576)
    for (let i = 0; i < 6; i++) await redis.set(`${prefix}:ballast:${i}`, ballast)

    const event = await post(`${proc('feed-1').url}/events`, { account: 'frozen', amount: 1 }, { 'idempotency-key': 'frozen-1' })
    expect([event.status, event.body.error, event.headers['retry-after']]).toEqual([503, 'FEED_ERR_OUTCOME_UNKNOWN', '1'])
    const job2 = await post(`${proc('compute-1').url}/jobs`, { task: 'primes', params: { limit: 2_000 } }, { 'idempotency-key': 'job-frozen' })
    expect([job2.status, job2.body.error]).toEqual([503, 'COMPUTE_ERR_OUTCOME_UNKNOWN'])
    const batch = await post(`${proc('sink-1').url}/internal/outputs`, { pair: 'hot-hot', epoch: 0, instance: 'probe', outputs: [{ inputId: '1-0', account: 'probe', amount: 1, balance: 1 }] })
    expect([batch.status, batch.body.error]).toEqual([503, 'SINK_ERR_OUTCOME_UNKNOWN'])
    const claim = await post(`${proc('sink-1').url}/internal/pairs/hot-warm/claim`, { epoch: 0 })
    expect([claim.status, claim.body.error]).toEqual([503, 'SINK_ERR_OUTCOME_UNKNOWN'])

    // an entry only the primary has (appended by someone else, never acknowledged)
    ghost = await redis.xadd(pipelineKeys(prefix).feed, '*', 'account', 'ghost', 'amount', '1000') as string
    // the hot cannot have its renewals confirmed: it stops being hot within its TTL, and nobody replaces it
    await waitFor(async () => (await hwRoles()).join() === 'warm,warm', 5_000, 'no hot while renewals cannot be confirmed')
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const id of ['ledger-hh-a', 'ledger-hw-a', 'ledger-hw-b']) {
      const { cursor } = await getJson(`${proc(id).url}/status`)
      expect(compareInputIds(cursor, ghost), `${id} read the unconfirmed entry`).toBeLessThan(0)
    }
  })

  it('the primary dies with the replica behind: every acknowledged event and job is on the new primary, what was not is settled by a retry with its key, the unconfirmed entry reached no balance, verify passes, no epoch went back', async () => {
    const old = await ha.primaryPort()
    await ha.killPrimary()
    process.kill(frozenReplicaPid, 'SIGCONT')
    frozenReplicaPid = 0
    await ha.waitForFailover(old, 30_000)

    // the feed acknowledges again once the old primary is back as a replica
    let settled: Answer | undefined
    await waitFor(async () => {
      settled = await post(`${proc('feed-1').url}/events`, { account: 'frozen', amount: 1 }, { 'idempotency-key': 'frozen-1' })
      return settled.status === 200 || settled.status === 202
    }, 30_000, 'the frozen event settled by a retry')
    const again = await post(`${proc('feed-1').url}/events`, { account: 'frozen', amount: 1 }, { 'idempotency-key': 'frozen-1' })
    expect(again).toMatchObject({ status: 200, body: { id: settled?.body.id } })

    // this client follows the Sentinels on its own schedule: the feed may be back before it is
    expect(await waitReady(redis, 15_000), 'the test client reconnected to the new primary').toBe(true)
    const stream = new Set((await redis.xrange(pipelineKeys(prefix).feed, '-', '+')).map(([id]) => id))
    expect(acknowledged.events.filter((id) => !stream.has(id))).toEqual([])
    expect(stream.has(ghost)).toBe(false) // it was never replicated: gone with the old primary
    for (const id of acknowledged.jobs) {
      await waitFor(async () => (await getJson(`${proc('compute-1').url}/jobs/${id}`)).status === 'done', 30_000, `acknowledged job ${id} done`)
    }
    const job2 = await post(`${proc('compute-1').url}/jobs`, { task: 'primes', params: { limit: 2_000 } }, { 'idempotency-key': 'job-frozen' })
    expect(job2.status).toBe(202)

    // had a ledger applied the lost entry, every later output of its account would be 1000 off
    const r = await post(`${proc('feed-1').url}/events`, { account: 'ghost', amount: 1 })
    expect(r.status).toBe(202)
    for (const pair of ['hot-hot', 'hot-warm']) {
      await waitFor(async () => (await getJson(`${proc('sink-1').url}/outputs?pair=${pair}&account=ghost`)).outputs.length === 1, 20_000, `${pair} output for the ghost account`)
      expect((await getJson(`${proc('sink-1').url}/outputs?pair=${pair}&account=ghost`)).outputs[0]).toMatchObject({ inputId: r.body.id, balance: 1 })
    }
    const report = await verifyPairsEventually(redis, prefix, 15_000)
    expect(report.pairs.map(({ examples: _examples, ...p }) => p).filter((p) => !p.ok)).toEqual([])
    expect((await getJson(`${proc('sink-1').url}/stats`)).pairs['hot-warm'].epoch).toBeGreaterThanOrEqual(epochBefore)
  })
})
