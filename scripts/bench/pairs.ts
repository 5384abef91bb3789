/**
 * `npm run bench:pairs`: the redundant pairs, measured end to end on this machine.
 *   (a) events/s from feed to sink for both pairs, autocannon posting events through the gateway;
 *   (b) hot-warm takeover after kill -9 of the hot: kill → first output accepted under the new epoch;
 *   (c) the same after SIGSTOP of the hot (the lease must expire: no connection loss to see);
 *   (d) hot-hot: the longest output stall around a kill -9 of one member, against the baseline.
 * Then verify: 0 missing, 0 conflicts for both pairs over everything that ran.
 * Knobs (env): DURATION (s, 10), CONNECTIONS (50), PIPELINING (1), KILLS (10), FREEZES (10), HH_KILLS (3),
 * BACKLOG (50000 events appended straight to the stream for the pipeline-only figure).
 * Lease timings are the service defaults unless LEDGER_LEASE_* are set in the environment.
 */
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { integer, number } from '../../shared/src/config.js'
import { leaseKeys } from '../../shared/src/lease/redis-lease.js'
import { percentile } from '../../shared/src/percentile.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { envKnobs } from '../cli.js'
import { BenchCluster, type BenchProcess } from './harness.js'

const { duration, connections, pipelining, kills, freezes, hhKills, backlog } = envKnobs({
  duration: number('DURATION', 10, { min: 0.1 }),
  connections: integer('CONNECTIONS', 50, { min: 1 }),
  pipelining: integer('PIPELINING', 1, { min: 1 }),
  kills: integer('KILLS', 10, { min: 1 }),
  freezes: integer('FREEZES', 10, { min: 1 }),
  hhKills: integer('HH_KILLS', 3, { min: 0 }),
  backlog: integer('BACKLOG', 50_000, { min: 1_000 })
})
const prefix = 'bench-pairs'
const cluster = new BenchCluster({ prefix })

async function main (): Promise<void> {
  // no persistence, as the pairs' figures have always been taken: they measure the pipeline, not fsync
  const redisUrl = await cluster.startRedis({ durable: false })
  const redis = new Redis(redisUrl, { retryStrategy: (n) => Math.min(n * 50, 500) })
  redis.on('error', () => {})
  await new Promise((resolve) => redis.once('ready', resolve))
  const keys = pipelineKeys(prefix)
  const [, , ...feeds] = await Promise.all([['sink', 'sink-1'], ['sink', 'sink-2'], ['feed', 'feed-1'], ['feed', 'feed-2']].map(async ([service, id]) => await cluster.startService(service!, { INSTANCE_ID: id! })))
  const gateway = (await cluster.startGateway()).url
  const ledgers = new Map<string, BenchProcess>()
  const startLedger = async (id: string): Promise<BenchProcess> => {
    const pair = id.startsWith('ledger-hh') ? 'hot-hot' : 'hot-warm'
    const p = await cluster.startService(pair === 'hot-hot' ? 'ledger-hh' : 'ledger-hw', { INSTANCE_ID: id, LEDGER_PAIR: pair })
    ledgers.set(id, p)
    return p
  }
  await Promise.all(['ledger-hh-a', 'ledger-hh-b', 'ledger-hw-a', 'ledger-hw-b'].map(startLedger))
  const hw = async (field: string): Promise<number> => Number(await redis.hget(keys.pair('hot-warm').stats, field) ?? -1)
  const outputsOf = async (pair: 'hot-hot' | 'hot-warm'): Promise<number> => Number(await redis.hget(keys.pair(pair).stats, 'outputs') ?? 0)
  const hotOf = async (): Promise<string | undefined> => {
    const reg = await (await request(`${gateway}/registry`)).body.json() as { services: Record<string, Array<{ id: string, role: string }>> }
    return reg.services['ledger-hw']?.find((i) => i.role === 'hot')?.id
  }
  while (await hotOf() === undefined) await sleep(50)
  const waitRebuilt = async (p: BenchProcess): Promise<void> => {
    for (;;) {
      try { if ((await (await request(`${p.url}/status`)).body.json() as { rebuilt: boolean }).rebuilt) return } catch {}
      await sleep(50)
    }
  }

  // (a) throughput: autocannon through the gateway, then straight at one feed instance
  const waitDrained = async (t0: number): Promise<{ inputs: number, doneAt: number }> => {
    const inputs = await redis.xlen(keys.feed)
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(10)) {
      if (await outputsOf('hot-hot') >= inputs && await outputsOf('hot-warm') >= inputs) return { inputs, doneAt: Date.now() }
    }
    return { inputs, doneAt: Math.max(Date.now(), t0) }
  }
  const load = async (label: string, url: string): Promise<Record<string, number | string>> => {
    console.log(`(a) ${label}: autocannon ${connections} connections, pipelining ${pipelining}, ${duration} s → POST ${url}`)
    const epochBefore = await hw('epoch')
    const inputsBefore = await redis.xlen(keys.feed)
    const t0 = Date.now()
    let n = 0
    const result = await autocannon({
      url,
      connections,
      pipelining,
      duration,
      requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ account: `acct-${n++ % 100}`, amount: (n % 11) - 5 }) }) }]
    })
    const { inputs, doneAt } = await waitDrained(t0)
    const r = { via: label, accepted202: result['2xx'], non2xx: result.non2xx, errors: result.errors, reqPerS: Math.round(result.requests.average), latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99, endToEndEventsPerS: Math.round((inputs - inputsBefore) / ((doneAt - t0) / 1000)), drainAfterLoadMs: doneAt - t0 - duration * 1000, falseTakeoversUnderLoad: (await hw('epoch')) - epochBefore }
    console.log(r)
    return r
  }
  const throughput = [await load('gateway', `${gateway}/api/feed/events`), await load('feed-direct', `${feeds[0]?.url ?? ''}/events`)]
  // the pipeline alone (feed stream → both pairs → sink), without HTTP ingestion: a backlog appended straight to the stream
  const tb = Date.now()
  for (let i = 0; i < backlog; i += 1_000) {
    const pipe = redis.pipeline()
    for (let j = i; j < Math.min(backlog, i + 1_000); j++) pipe.xadd(keys.feed, '*', 'account', `b-${j % 100}`, 'amount', String((j % 11) - 5))
    await pipe.exec()
  }
  const appendedMs = Date.now() - tb
  const drained = await waitDrained(tb)
  const pipeline = { backlog, appendMs: appendedMs, drainMs: drained.doneAt - tb, pipelineEventsPerS: Math.round(backlog / ((drained.doneAt - tb) / 1000)) }
  console.log('(a) pipeline only (stream → ledgers → sink, both pairs):', pipeline)

  // a steady trickle of events during the failure runs, so there is always something to emit
  const trickle = { running: true, sent: 0 }
  const trickleLoop = (async () => {
    let i = 0
    while (trickle.running) {
      try { await (await request(`${gateway}/api/feed/events`, { method: 'POST', body: JSON.stringify({ account: `t-${i++ % 10}`, amount: 1 }), headers: { 'content-type': 'application/json' } })).body.dump(); trickle.sent++ } catch {}
      await sleep(2)
    }
  })()

  const takeover = async (signal: 'SIGKILL' | 'SIGSTOP'): Promise<number> => {
    // the hot is the lease holder whose epoch the sink has accepted outputs under
    let hot: string | undefined
    for (const deadline = Date.now() + 10_000; hot === undefined; await sleep(20)) {
      if (Date.now() > deadline) throw new Error('no established hot in the hot-warm pair')
      const [owner, epoch] = await redis.hmget(leaseKeys(prefix, 'ledger:hot-warm').lease, 'owner', 'epoch')
      if (owner !== null && owner !== undefined && Number(epoch) === await hw('acceptedEpoch')) hot = owner.slice(0, owner.lastIndexOf(':'))
    }
    const proc = ledgers.get(hot) as BenchProcess
    process.stderr.write(`  ${signal} ${hot} … `)
    const accepted = await hw('acceptedEpoch')
    const start = Date.now()
    proc.child.kill(signal)
    for (const deadline = Date.now() + 15_000; await hw('acceptedEpoch') <= accepted; await sleep(2)) {
      if (Date.now() > deadline) throw new Error(`no takeover within 15 s of ${signal} to ${hot}`)
    }
    const ms = (await hw('acceptedEpochAt')) - start
    process.stderr.write(`${ms} ms\n`)
    if (signal === 'SIGKILL') {
      await new Promise((resolve) => proc.child.exitCode !== null || proc.child.signalCode !== null ? resolve(null) : proc.child.once('exit', resolve))
      await waitRebuilt(await startLedger(hot))
    } else {
      proc.child.kill('SIGCONT')
    }
    await sleep(300) // let the pair settle (the old hot sees it is warm) before the next round
    return ms
  }
  const killMs: number[] = []
  for (let i = 0; i < kills; i++) killMs.push(await takeover('SIGKILL'))
  console.log(`(b) kill -9 takeover over ${kills}: p50 ${percentile(killMs, 0.5)} ms, p99 ${percentile(killMs, 0.99)} ms, max ${Math.max(...killMs)} ms`, killMs)
  const freezeMs: number[] = []
  for (let i = 0; i < freezes; i++) freezeMs.push(await takeover('SIGSTOP'))
  console.log(`(c) SIGSTOP takeover over ${freezes}: p50 ${percentile(freezeMs, 0.5)} ms, p99 ${percentile(freezeMs, 0.99)} ms, max ${Math.max(...freezeMs)} ms`, freezeMs)

  // (d) hot-hot: longest time without a new stored output, before and around a kill -9
  const longestStall = async (ms: number, during?: () => void): Promise<number> => {
    const end = Date.now() + ms
    let last = await outputsOf('hot-hot')
    let since = Date.now()
    let worst = 0
    let fired = false
    while (Date.now() < end) {
      if (!fired && during !== undefined && Date.now() > end - ms / 2) { fired = true; during() }
      const now = await outputsOf('hot-hot')
      if (now > last) { last = now; since = Date.now() }
      worst = Math.max(worst, Date.now() - since)
      await sleep(5)
    }
    return worst
  }
  const hh: Array<{ baselineMs: number, aroundKillMs: number }> = []
  for (let i = 0; i < hhKills; i++) {
    const victim = i % 2 === 0 ? 'ledger-hh-a' : 'ledger-hh-b'
    const baselineMs = await longestStall(1_000)
    const aroundKillMs = await longestStall(1_000, () => { ledgers.get(victim)?.child.kill('SIGKILL') })
    await waitRebuilt(await startLedger(victim))
    hh.push({ baselineMs, aroundKillMs })
  }
  console.log('(d) hot-hot longest output stall (ms):', hh)

  trickle.running = false
  await trickleLoop
  const report = await verifyPairsEventually(redis, prefix, 15_000)
  console.table(report.pairs.map(({ examples, ...r }) => r))
  console.log(JSON.stringify({
    machine: { cpus: cpus().length, node: process.version },
    throughput,
    pipeline,
    killTakeoverMs: { runs: kills, p50: percentile(killMs, 0.5), p99: percentile(killMs, 0.99), max: Math.max(...killMs) },
    freezeTakeoverMs: { runs: freezes, p50: percentile(freezeMs, 0.5), p99: percentile(freezeMs, 0.99), max: Math.max(...freezeMs) },
    hotHotStallMs: hh,
    verify: report.pairs.map((p) => ({ pair: p.pair, inputs: p.inputs, missing: p.missing, conflicts: p.conflicts, duplicatesStored: p.duplicatesStored, staleEpochRejected: p.staleEpochRejected, ok: p.ok }))
  }, null, 2))
  redis.disconnect()
  process.exitCode = report.ok ? 0 : 1
}

try {
  await main()
} finally {
  await cluster.stop()
}
