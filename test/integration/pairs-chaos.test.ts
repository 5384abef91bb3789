import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { killAll } from '../../shared/testing/processes.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { leaseKeys } from '../../shared/src/lease/redis-lease.js'
import { getJson, longestStall, pump, sampleCounter, startPairsCluster, waitForRole, type PairsCluster } from './pairs-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

const prefix = 'pairs-chaos'
let c: PairsCluster
let redis: Redis

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const stats = async (): Promise<Record<string, any>> => (await getJson(`${c.gateway.url}/api/sink/stats`)).pairs
const ledger = (id: string): NonNullable<ReturnType<PairsCluster['ledgers']['get']>> => c.ledgers.get(id) as NonNullable<ReturnType<PairsCluster['ledgers']['get']>>

async function expectVerified (): Promise<void> {
  const report = await verifyPairsEventually(redis, prefix, 8_000)
  expect(report.pairs.map(({ examples, ...p }) => p)).toEqual(report.pairs.map(({ examples, ...p }) => ({ ...p, missing: 0, wrong: 0, extra: 0, conflicts: 0, duplicatesStored: 0, ok: true })))
  expect(report.pairs[0]?.inputs).toBeGreaterThan(0)
}

beforeAll(async () => {
  // ledger-hw-a skips its own lease check (fault injection), so when it wakes from a freeze its
  // batches really reach the sink, and the sink's fencing is what must stop them
  c = await startPairsCluster(prefix, { 'ledger-hw-a': { LEDGER_FAULT_SKIP_LEASE_CHECK: 'true' } })
  await Promise.all([c.startLedger('ledger-hh-a'), c.startLedger('ledger-hh-b'), c.startLedger('ledger-hw-a')])
  await waitForRole(c.gateway.url, 'ledger-hw-a', 'hot', 10_000)
  await c.startLedger('ledger-hw-b')
  await waitForRole(c.gateway.url, 'ledger-hw-b', 'warm', 10_000)
  redis = new Redis(c.redis.url)
})

afterAll(async () => {
  redis?.disconnect()
  killAll()
  await c?.redis.stop()
})

describe('redundant pairs under failure', () => {
  it('fences a hot frozen past its lease: the warm takes over, the old hot\'s outputs are rejected as stale, it becomes warm', async () => {
    const load = pump(c.gateway.url)
    await sleep(300)
    const epochBefore = (await stats())['hot-warm'].epoch
    ledger('ledger-hw-a').signal('SIGSTOP')
    await waitForRole(c.gateway.url, 'ledger-hw-b', 'hot')
    await sleep(300) // events keep coming: the frozen hot has a backlog to (try to) send when it wakes
    ledger('ledger-hw-a').signal('SIGCONT')
    await waitForRole(c.gateway.url, 'ledger-hw-a', 'warm', 5_000, 'ledger-hw-a warm again')
    await waitFor(async () => (await stats())['hot-warm'].staleEpochRejected > 0, 5_000, 'stale outputs rejected')
    await sleep(200)
    expect(await load.stop()).toBeGreaterThan(0)
    expect((await stats())['hot-warm'].epoch).toBeGreaterThan(epochBefore)
    await expectVerified()
  })

  it('kill -9 of the hot-warm hot: the warm becomes hot (registry shows it), nothing lost; a restart rebuilds as warm', async () => {
    const load = pump(c.gateway.url)
    await sleep(300)
    ledger('ledger-hw-b').signal('SIGKILL')
    await waitForRole(c.gateway.url, 'ledger-hw-a', 'hot')
    await sleep(300)
    await load.stop()
    await expectVerified()

    await c.startLedger('ledger-hw-b')
    await waitFor(async () => (await getJson(`${ledger('ledger-hw-b').url}/status`)).rebuilt === true, 10_000, 'ledger-hw-b rebuilt')
    await waitForRole(c.gateway.url, 'ledger-hw-b', 'warm')
    const load2 = pump(c.gateway.url)
    await sleep(300)
    await load2.stop()
    await expectVerified()
  })

  it('kill -9 of a hot-hot member: the survivor carries on without pausing; a restart rebuilds and matches (no conflicts)', async () => {
    const load = pump(c.gateway.url)
    await sleep(300)
    // the sink's count of hot-hot outputs: after the kill only the survivor adds to it
    const start = Date.now()
    const killAt = start + 3_000
    const end = killAt + 6_000
    const sampling = sampleCounter(async () => (await stats())['hot-hot'].outputs as number, end)
    await sleep(killAt - Date.now())
    ledger('ledger-hh-a').signal('SIGKILL')
    const samples = await sampling
    await load.stop()
    const before = longestStall(samples, start, killAt)
    const after = longestStall(samples, killAt, end)
    // a pause is a stall several times the longest one seen while both members ran; the floor
    // keeps scheduling jitter on a loaded 2-core machine from counting as one
    const bound = Math.max(3 * before, 750)
    expect(samples.filter(([t]) => t >= killAt + 5_000).length, 'sampled for at least 5 s after the kill').toBeGreaterThan(10)
    expect(samples.at(-1)![1], 'the survivor kept emitting').toBeGreaterThan(samples.find(([t]) => t >= killAt)![1])
    expect(after, `longest stall after the kill ${after} ms, before it ${before} ms`).toBeLessThan(bound)
    expect(load.failures(), 'the feed took every event').toEqual([])
    await expectVerified()

    const dupsBefore = (await stats())['hot-hot'].duplicatesDropped
    await c.startLedger('ledger-hh-a')
    await waitFor(async () => (await getJson(`${ledger('ledger-hh-a').url}/status`)).rebuilt === true, 10_000, 'ledger-hh-a rebuilt')
    const load2 = pump(c.gateway.url)
    await sleep(400)
    await load2.stop()
    await expectVerified()
    expect((await stats())['hot-hot'].duplicatesDropped).toBeGreaterThan(dupsBefore)
    expect((await stats())['hot-hot'].conflicts).toBe(0)
  })

  it('a well-behaved hot frozen past its lease stops by its own clock and comes back warm', async () => {
    // make ledger-hw-b (no fault injection) the hot: kill the current hot, restart it without the fault flag
    ledger('ledger-hw-a').signal('SIGKILL')
    await waitForRole(c.gateway.url, 'ledger-hw-b', 'hot')
    await c.startLedger('ledger-hw-a', { LEDGER_FAULT_SKIP_LEASE_CHECK: 'false' })
    await waitForRole(c.gateway.url, 'ledger-hw-a', 'warm', 10_000)
    const load = pump(c.gateway.url)
    await sleep(300)
    ledger('ledger-hw-b').signal('SIGSTOP')
    await waitForRole(c.gateway.url, 'ledger-hw-a', 'hot')
    await sleep(300)
    ledger('ledger-hw-b').signal('SIGCONT')
    await waitForRole(c.gateway.url, 'ledger-hw-b', 'warm', 5_000, 'ledger-hw-b warm again')
    await sleep(200)
    await load.stop()
    await expectVerified()
  })

  it('kill -9 of one sink: outputs go to the other, nothing lost', async () => {
    const load = pump(c.gateway.url)
    await sleep(300)
    const before = await stats()
    ;(c.sinks[0] as { signal: (s: NodeJS.Signals) => void }).signal('SIGKILL')
    await sleep(800)
    await load.stop()
    await expectVerified()
    const after = await stats()
    expect(after['hot-hot'].outputs).toBeGreaterThan(before['hot-hot'].outputs)
    expect(after['hot-warm'].outputs).toBeGreaterThan(before['hot-warm'].outputs)
  })

  it('Redis lost the lease and its epoch counter (what a failover may do): the next hot takes an epoch past every one the sink saw, never one already used', async () => {
    const load = pump(c.gateway.url)
    await sleep(300)
    await load.stop()
    const seen = (await stats())['hot-warm'].epoch as number
    expect(seen).toBeGreaterThanOrEqual(1)
    await Promise.all(['ledger-hw-a', 'ledger-hw-b'].map(async (id) => { ledger(id).signal('SIGKILL'); await ledger(id).exited }))
    const keys = leaseKeys(prefix, 'ledger:hot-warm')
    await redis.del(keys.lease, keys.epoch)
    // a fresh process: its lease state knows no epoch; only the sink's answers can tell it
    const fresh = await c.startLedger('ledger-hw-b')
    // the killed processes' records stay in the registry until their TTL: the fresh process's own log says when it holds the lease
    await waitFor(() => fresh.lines.some((l) => l.includes('"msg":"lease acquired"')), 10_000, 'the fresh ledger-hw-b acquires the lease')
    await waitForRole(c.gateway.url, 'ledger-hw-b', 'hot', 10_000)
    const acquired = fresh.lines.filter((l) => l.includes('"msg":"lease acquired"')).map((l) => (JSON.parse(l) as { epoch: number }).epoch)
    expect(acquired[0]).toBeGreaterThan(seen)
    expect(fresh.lines.filter((l) => l.includes('refused our epoch'))).toEqual([])
    const load2 = pump(c.gateway.url)
    await sleep(300)
    await load2.stop()
    await expectVerified()
    expect((await stats())['hot-warm'].epoch).toBe(acquired[0])
  })
})
