import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { pipelineKeys } from '../../../shared/src/pipeline/keys.js'
import { verifyPairsEventually, type PairReport } from '../../../shared/src/pipeline/verify.js'
import { leaseKeys } from '../../../shared/src/lease/redis-lease.js'
import { createRedis } from '../../../shared/src/redis.js'
import { confirmSeenReplicated, markBeforeWrite } from '../../../shared/src/redis-replication.js'
import { killAll } from '../../../shared/testing/processes.js'
import { startSentinelTopology } from '../../lib/redis-sentinel.js'
import { fetchRegistry } from '../adapters/cluster.js'
import { OpenLoopClient } from '../open-loop.js'
import { chaosWorkloads, feedAccount, type Workload } from '../workloads.js'
import { startWholeCluster } from './cluster.js'
import { injectRedisFault, planRedisFaults, type RedisFaultEvent, type RedisFaultKind } from './faults.js'
import { availabilityMisses, duplicateAppends, firstAcknowledgedAfter, missingAcknowledged, regressions, spread, workloadFigures, type Spread, type WorkloadFigures } from './measures.js'
import { jobsWorkload } from './workloads.js'

export interface RedisChaosOptions {
  seed: number
  /** How many faults, the kinds in equal shares. */
  faults: number
  kinds: readonly RedisFaultKind[]
  /** A freeze lasts a seeded time in this range (longer than Sentinel's down-after, 1 s). */
  freezeMs: readonly [number, number]
  /** Load without faults before the first and after each one. */
  settleMs: number
  rates?: Record<string, number>
  rateScale?: number
  command: string
  log?: (line: string) => void
}

export interface FaultFigures extends RedisFaultEvent {
  /** Fault → the first acknowledged feed event sent after it. */
  firstAckMs?: number
}

export interface RedisChaosReport {
  tool: 'nines chaos --redis sentinel'
  startedAt: string
  command: string
  seed: number
  node: string
  faults: FaultFigures[]
  failover: { promotion: Spread, firstAcknowledgedWrite: Spread, byKind: Record<string, { promotion: Spread, firstAcknowledgedWrite: Spread }> }
  workloads: Array<WorkloadFigures & { withinBound: boolean }>
  /** The bound each workload's longest error window is held to: the slowest failover + 1 s. */
  errorWindowBoundMs: number
  acknowledgedThenLost: { feedEvents: number, feedAcknowledged: number, jobs: number, jobsAcknowledged: number, jobsNotDone: number, sinkOutputs: number, examples: string[] }
  duplicates: { feedAppends: number, outputsStored: number, conflicts: number }
  /** Confirmed values that went back: the sink's epoch and accepted epoch, the two fencing counters. */
  epochRegressions: { hotWarmSink: number, hotWarmAccepted: number, hotWarmLease: number, kvLeaderLease: number, samples: number }
  verify: PairReport[]
  /** Why availability fell short of issue 13's bounds (empty: met). */
  availabilityMisses: string[]
  /** Nothing lost, duplicated or regressed, and every availability bound met. */
  ok: boolean
}

const prefix = 'nines-redis-chaos'

/**
 * `npm run chaos -- --redis sentinel`: a primary + replica + 3 Sentinels (AOF on, as the
 * launcher runs them), every instance of the topology and a gateway; the mixed open-loop load
 * through the gateway (echo, compute, compute jobs, feed, kv-leader, kv-quorum) while the
 * primary is killed, frozen or killed-and-restarted `faults` times; then what was acknowledged
 * is looked for on the final primary.
 */
export async function runRedisChaos (opts: RedisChaosOptions): Promise<RedisChaosReport> {
  const log = opts.log ?? (() => {})
  const startedAt = new Date()
  const dir = mkdtempSync(join(tmpdir(), 'nines-redis-chaos-'))
  const ha = await startSentinelTopology({ persistence: true })
  const redis = createRedis(ha.url, undefined, { enableOfflineQueue: true, maxRetriesPerRequest: null })
  redis.on('error', () => {})
  try {
    log(`Redis: primary + replica + 3 Sentinels (${ha.url}); starting the cluster`)
    const { gatewayUrl } = await startWholeCluster(ha.url, prefix, dir)
    await ha.waitUntilRedundant()
    const runId = `${opts.seed.toString(36)}${Date.now().toString(36).slice(-4)}`
    const scale = opts.rateScale ?? 1
    const present = new Set(Object.keys(await fetchRegistry(gatewayUrl)))
    const workloads: Workload[] = [...chaosWorkloads(runId), jobsWorkload(runId)].filter((w) => present.has(w.service))
    const plans = workloads.map((workload) => ({ workload, rate: (opts.rates?.[workload.name] ?? workload.rate) * scale })).filter((p) => p.rate > 0)
    log(`load: ${plans.map((p) => `${p.workload.name} ${p.rate}/s`).join(', ')}`)

    const t0 = performance.now()
    const clock = (): number => performance.now() - t0
    const client = new OpenLoopClient(gatewayUrl, clock, 11_000)
    const stop = new AbortController()
    const samples = sampleConfirmed(ha.url, stop.signal)
    const load = client.run({ gatewayUrl, plans, durationMs: 24 * 3_600_000, seed: opts.seed, clock, signal: stop.signal })
    const events: RedisFaultEvent[] = []
    try {
      await sleep(opts.settleMs)
      for (const fault of planRedisFaults(opts.seed, opts.faults, opts.kinds, opts.freezeMs)) {
        await ha.waitUntilRedundant(60_000)
        const event = await injectRedisFault(ha, fault, clock)
        events.push(event)
        log(`${(event.atMs / 1_000).toFixed(1).padStart(7)} s  ${event.kind.padEnd(21)} :${event.oldPrimary} → :${event.newPrimary ?? '?'}${event.promotionMs !== undefined ? `  promoted after ${Math.round(event.promotionMs)} ms` : '  no failover'}${event.error !== undefined ? `  (${event.error})` : ''}`)
        await sleep(opts.settleMs)
      }
      await ha.waitUntilRedundant(60_000)
      await sleep(opts.settleMs)
    } finally {
      stop.abort()
      await load
      await client.close()
    }
    const sampled = await samples
    log(`load over: ${client.records.length} requests; checking what was acknowledged`)

    const records = client.records.filter((r) => r.phase === 'load')
    const feedWrites = records.filter((r) => r.workload === 'feed')
    const faults: FaultFigures[] = events.map((e, i) => {
      const firstAckMs = firstAcknowledgedAfter(e.atMs, feedWrites, events[i + 1]?.atMs ?? Infinity)
      return { ...e, ...(firstAckMs !== undefined ? { firstAckMs: Math.round(firstAckMs) } : {}) }
    })
    const byKind: RedisChaosReport['failover']['byKind'] = {}
    for (const kind of opts.kinds) {
      const of = faults.filter((f) => f.kind === kind)
      byKind[kind] = { promotion: spread(of.map((f) => f.promotionMs)), firstAcknowledgedWrite: spread(of.map((f) => f.firstAckMs)) }
    }
    const firstAck = spread(faults.map((f) => f.firstAckMs))
    const bound = (firstAck.maxMs ?? 0) + 1_000
    const figures = plans.map(({ workload }) => {
      const f = workloadFigures(workload.name, workload.idempotent, records.filter((r) => r.workload === workload.name))
      return { ...f, withinBound: f.longestErrorWindowMs <= bound }
    })

    // what the final primary holds, against what was acknowledged
    const ackedBy = (workload: string): string[] => records.flatMap((r) => r.workload === workload && r.ackId !== undefined ? [r.ackId] : [])
    const acks = { events: ackedBy('feed'), jobs: ackedBy('compute jobs') }
    const keys = pipelineKeys(prefix)
    const stream = (await redis.xrange(keys.feed, '-', '+')) as Array<[string, string[]]>
    const lostEvents = missingAcknowledged(acks.events, new Set(stream.map(([id]) => id)))
    const entries = stream.map(([, f]) => ({ account: f[f.indexOf('account') + 1] ?? '', amount: Number(f[f.indexOf('amount') + 1]) }))
    const ours = new Set(Array.from({ length: 8 }, (_, n) => feedAccount(runId, n)))
    const jobs = await jobOutcomes(gatewayUrl, acks.jobs, 90_000)
    // every input one output per pair, and every acknowledged event among them
    const report = await verifyPairsEventually(redis, prefix, 60_000, { acked: acks.events })
    const sinkOutputsLost = regressions(sampled.outputs.hotHot) + regressions(sampled.outputs.hotWarm)
    const result: RedisChaosReport = {
      tool: 'nines chaos --redis sentinel',
      startedAt: startedAt.toISOString(),
      command: opts.command,
      seed: opts.seed,
      node: process.version,
      faults,
      failover: { promotion: spread(faults.map((f) => f.promotionMs)), firstAcknowledgedWrite: firstAck, byKind },
      workloads: figures,
      errorWindowBoundMs: bound,
      acknowledgedThenLost: {
        feedEvents: lostEvents.length,
        feedAcknowledged: acks.events.length,
        jobs: jobs.lost.length,
        jobsAcknowledged: acks.jobs.length,
        jobsNotDone: jobs.notDone,
        sinkOutputs: sinkOutputsLost + report.pairs.reduce((n, p) => n + p.missing, 0),
        examples: [...lostEvents.slice(0, 5).map((id) => `event ${id}`), ...jobs.lost.slice(0, 5).map((id) => `job ${id}`), ...report.pairs.flatMap((p) => p.examples.slice(0, 3).map((e) => `${p.pair} ${e}`))]
      },
      duplicates: {
        feedAppends: duplicateAppends(entries, (a) => ours.has(a)),
        outputsStored: report.pairs.reduce((n, p) => n + p.duplicatesStored, 0),
        conflicts: report.pairs.reduce((n, p) => n + p.conflicts, 0)
      },
      epochRegressions: {
        hotWarmSink: regressions(sampled.hotWarmEpoch),
        hotWarmAccepted: regressions(sampled.hotWarmAccepted),
        hotWarmLease: regressions(sampled.hotWarmLease),
        kvLeaderLease: regressions(sampled.kvLeaderLease),
        samples: sampled.hotWarmEpoch.length
      },
      verify: report.pairs,
      availabilityMisses: availabilityMisses(figures, bound),
      ok: false
    }
    const lost = result.acknowledgedThenLost
    const reg = result.epochRegressions
    result.ok = lost.feedEvents + lost.jobs + lost.sinkOutputs === 0 && result.duplicates.feedAppends + result.duplicates.outputsStored + result.duplicates.conflicts === 0 &&
      reg.hotWarmSink + reg.hotWarmAccepted + reg.hotWarmLease + reg.kvLeaderLease === 0 && report.ok &&
      result.availabilityMisses.length === 0
    return result
  } finally {
    redis.disconnect()
    killAll()
    await ha.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Samples {
  hotWarmEpoch: number[]
  hotWarmAccepted: number[]
  hotWarmLease: number[]
  kvLeaderLease: number[]
  outputs: { hotHot: number[], hotWarm: number[] }
}

/**
 * Every 200 ms, read straight from Redis and kept only once confirmed on the replica (a stale
 * primary that woke up may still answer reads, with old values, until it is demoted): the
 * sink's epoch, accepted epoch and output count per pair, and the two fencing counters (the
 * hot-warm lease, kv-leader's election). A confirmed value below one confirmed before is a
 * regression: an epoch that went back, or an accepted output lost.
 */
async function sampleConfirmed (redisUrl: string, signal: AbortSignal): Promise<Samples> {
  const s: Samples = { hotWarmEpoch: [], hotWarmAccepted: [], hotWarmLease: [], kvLeaderLease: [], outputs: { hotHot: [], hotWarm: [] } }
  const redis = createRedis(redisUrl)
  redis.on('error', () => {})
  const keys = pipelineKeys(prefix)
  const n = (x: string | null | undefined, fallback = 0): number => x === null || x === undefined ? fallback : Number(x)
  try {
    while (!signal.aborted) {
      try {
        const mark = markBeforeWrite(redis)
        const [hw, hhOutputs, hwLease, kvLease] = await Promise.all([
          redis.hmget(keys.pair('hot-warm').stats, 'epoch', 'acceptedEpoch', 'outputs'),
          redis.hget(keys.pair('hot-hot').stats, 'outputs'),
          redis.get(leaseKeys(prefix, 'ledger:hot-warm').epoch),
          redis.get(leaseKeys(prefix, 'kv-leader').epoch)
        ])
        await confirmSeenReplicated(redis, mark, keys.fence, { timeoutMs: 300 })
        s.hotWarmEpoch.push(n(hw[0]))
        s.hotWarmAccepted.push(n(hw[1], -1))
        s.outputs.hotWarm.push(n(hw[2]))
        s.outputs.hotHot.push(n(hhOutputs))
        s.hotWarmLease.push(n(hwLease))
        s.kvLeaderLease.push(n(kvLease))
      } catch {}
      await sleep(200, undefined, { signal }).catch(() => {})
    }
  } finally {
    redis.disconnect()
  }
  return s
}

/** Every acknowledged job must exist; waits up to `waitMs` for them to be done (a lost completion is redone after the visibility timeout). */
async function jobOutcomes (gatewayUrl: string, ids: readonly string[], waitMs: number): Promise<{ lost: string[], notDone: number }> {
  const deadline = Date.now() + waitMs
  let pending = [...ids]
  const lost: string[] = []
  while (pending.length > 0) {
    const next: string[] = []
    for (const id of pending) {
      const res = await request(`${gatewayUrl}/api/compute/jobs/${id}`).catch(() => undefined)
      if (res === undefined) { next.push(id); continue }
      const body = await res.body.json().catch(() => ({})) as { status?: string }
      if (res.statusCode === 404) lost.push(id)
      else if (body.status !== 'done' && body.status !== 'failed') next.push(id)
    }
    pending = next
    if (pending.length === 0 || Date.now() > deadline) break
    await sleep(1_000)
  }
  return { lost, notDone: pending.length }
}
