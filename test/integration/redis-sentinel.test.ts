import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { ClusterError } from '../../shared/src/errors.js'
import { createRedis, waitReady, type Redis } from '../../shared/src/redis.js'
import { confirmReplicated, execReplicated, markBeforeWrite, nextEpoch, requiredReplicas } from '../../shared/src/redis-replication.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { startEchoCluster, startInstance, type EchoCluster } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startSentinelTopology, type TestSentinelRedis } from '../../scripts/lib/redis-sentinel.js'
import { startTimedLoad, summarizeOutcomes } from '../../shared/testing/timed-load.js'
import { testLease } from './pairs-cluster.js'

const prefix = 'redis-sentinel'
let ha: TestSentinelRedis
let cluster: EchoCluster
let redis: Redis

beforeAll(async () => {
  ha = await startSentinelTopology()
  cluster = await startEchoCluster(ha.url, prefix, 3)
  // the event pipeline too: a feed, a sink and both ledger pairs, all through Sentinel
  await Promise.all([
    startInstance('feed', { ...cluster.env, INSTANCE_ID: 'feed-1' }),
    startInstance('sink', { ...cluster.env, INSTANCE_ID: 'sink-1' }),
    ...['ledger-hh-a', 'ledger-hh-b', 'ledger-hw-a', 'ledger-hw-b'].map(async (id) => await startInstance(id.startsWith('ledger-hh') ? 'ledger-hh' : 'ledger-hw', {
      ...cluster.env, ...testLease, INSTANCE_ID: id, LEDGER_PAIR: id.startsWith('ledger-hh') ? 'hot-hot' : 'hot-warm'
    }))
  ])
  redis = createRedis(ha.url)
  await waitReady(redis, 5_000)
  await waitFor(async () => (await echoIds()).length === 3, 10_000, 'three echo instances registered through Sentinel')
})

afterAll(async () => {
  redis?.disconnect()
  killAll()
  await ha?.cleanup()
})

async function echoIds (): Promise<string[]> {
  const res = await request(`${cluster.gateway.url}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ id: string }>> }
  return (body.services.echo ?? []).map((v) => v.id).sort()
}

describe('Redis behind Sentinel', () => {
  it('confirms writes on the replica (WAIT), and refuses to confirm across a reconnection or while the replica is frozen', async () => {
    expect(requiredReplicas(redis)).toBe(1)
    const mark = markBeforeWrite(redis)
    await redis.set(`${prefix}:durable`, 'x')
    expect(await confirmReplicated(redis, mark)).toBeGreaterThanOrEqual(1)

    const [id] = await execReplicated(redis, (p) => p.xadd(`${prefix}:stream`, '*', 'k', 'v'))
    expect(String(id)).toMatch(/^\d+-\d+$/)

    // an epoch never goes below what the caller saw elsewhere, and always moves up
    expect(await nextEpoch(redis, `${prefix}:epoch`)).toBe(1)
    expect(await nextEpoch(redis, `${prefix}:epoch`, { atLeast: 7 })).toBe(8)
    expect(await nextEpoch(redis, `${prefix}:epoch`, { atLeast: 3 })).toBe(9)

    // a reconnection between the write and the WAIT: the WAIT would cover nothing, so no confirmation
    const beforeReconnect = markBeforeWrite(redis)
    await redis.set(`${prefix}:durable`, 'z')
    const reconnected = new Promise((resolve) => redis.once('ready', resolve))
    redis.disconnect(true)
    await reconnected
    await expect(confirmReplicated(redis, beforeReconnect)).rejects.toMatchObject({ code: 'REDIS_ERR_NOT_REPLICATED' })

    const primary = await ha.primaryPort()
    const replica = ha.nodes.find((n) => n.port !== primary)!
    process.kill(replica.pid()!, 'SIGSTOP')
    try {
      const frozen = markBeforeWrite(redis)
      await redis.set(`${prefix}:durable`, 'y')
      const error = await confirmReplicated(redis, frozen, { timeoutMs: 200 }).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(ClusterError)
      expect(error).toMatchObject({ code: 'REDIS_ERR_NOT_REPLICATED', statusCode: 503, retryable: true })
    } finally {
      process.kill(replica.pid()!, 'SIGCONT')
    }
  })

  it('kill -9 of the primary under load: Sentinel promotes the replica, the gateway fails no request, every process reconnects by itself, no confirmed epoch repeats, no acknowledged append is lost, pairs verify passes', async () => {
    const failovers: Array<{ from: number, to: number, ms: number }> = []
    const load = startTimedLoad({ url: `${cluster.gateway.url}/api/echo/failover`, durationMs: 25_000, concurrency: 4 })
    // and events into the pipeline: a 202 is an acknowledged event
    const acknowledged: string[] = []
    let n = 0
    const feed = startTimedLoad({
      url: `${cluster.gateway.url}/api/feed/events`,
      method: 'POST',
      body: () => JSON.stringify({ account: `acct-${(n++) % 5}`, amount: 1 }),
      onResponse: (status, body) => { if (status === 202) acknowledged.push((JSON.parse(body) as { id: string }).id) },
      durationMs: 25_000,
      concurrency: 1
    })
    // meanwhile, the building blocks the stateful shapes use: confirmed epochs and acknowledged appends
    const writing = { on: true }
    const epochs: number[] = []
    const appended: string[] = []
    let unconfirmed = 0
    const writer = (async () => {
      while (writing.on) {
        try {
          // no floor: only the WAIT confirmation keeps a lost increment from being handed out again
          epochs.push(await nextEpoch(redis, `${prefix}:failover-epoch`))
          const [id] = await execReplicated(redis, (p) => p.xadd(`${prefix}:failover-feed`, '*', 'n', String(appended.length)))
          appended.push(String(id))
        } catch {
          unconfirmed += 1 // Redis away, or not confirmed: nothing was acknowledged
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    })()
    try {
      for (let round = 0; round < 2; round++) {
        await new Promise((resolve) => setTimeout(resolve, 800))
        // the second round kills the node promoted by the first, once it is back as a replica
        await ha.waitUntilRedundant()
        const t0 = Date.now()
        const from = await ha.killPrimary()
        const to = await ha.waitForFailover(from)
        failovers.push({ from, to, ms: Date.now() - t0 })
        // the registry works through the new primary: every instance re-registered by heartbeat
        await waitFor(async () => (await redis.smembers(`${prefix}:registry:ids`)).length >= 3, 10_000, 'instances re-registered on the new primary')
      }
      // the feed acknowledges only what a replica confirmed: let it run once the pair is whole again
      await ha.waitUntilRedundant()
      await new Promise((resolve) => setTimeout(resolve, 1_500))
    } finally {
      load.stop()
      feed.stop()
      writing.on = false
      await writer
    }
    const summary = summarizeOutcomes(await load.done)
    console.log(JSON.stringify({ failovers, ...summary, epochs: epochs.length, appended: appended.length, unconfirmed }))
    // a confirmed epoch is never handed out twice, even though the primary that issued it died
    expect(epochs.length).toBeGreaterThan(20)
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1] as number)
    // and no acknowledged append is missing from the stream on the final primary
    const stored = new Set((await redis.xrange(`${prefix}:failover-feed`, '-', '+')).map(([id]) => id))
    expect(appended.filter((id) => !stored.has(id))).toEqual([])
    expect(failovers).toHaveLength(2)
    expect(summary.sent).toBeGreaterThan(100)
    expect(summary.failures).toEqual({})

    // the pipeline: feed writes fail fast (503) while Redis is away; every event the feed
    // acknowledged is in the stream and every input has exactly one output for both pairs
    const feedSummary = summarizeOutcomes(await feed.done)
    const stream = new Set((await redis.xrange(pipelineKeys(prefix).feed, '-', '+')).map(([id]) => id))
    const lost = acknowledged.filter((id) => !stream.has(id))
    console.log(JSON.stringify({ feed: { ...feedSummary, acknowledged: acknowledged.length, lost: lost.length } }))
    expect(acknowledged.length).toBeGreaterThan(50)
    expect(Object.keys(feedSummary.failures).filter((code) => code !== '503')).toEqual([])
    expect(lost).toEqual([])
    const report = await verifyPairsEventually(redis, prefix, 15_000)
    expect(report.pairs.map(({ examples: _examples, ...r }) => r).filter((r) => !r.ok)).toEqual([])

    // the gateway's watcher follows the new primary too: a new instance is seen
    await cluster.addEcho('echo-9')
    await waitFor(async () => (await echoIds()).includes('echo-9'), 5_000, 'a new instance seen after the failovers')
    // and every process logged its way back rather than exiting
    for (const proc of [cluster.gateway, ...cluster.echoes.values()]) expect(proc.child.exitCode).toBeNull()
  })
})
