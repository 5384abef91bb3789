import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { ControlClient, fetchRegistry, servicesPresent, type ClusterInfo } from './adapters/cluster.js'
import { verifyPairsIfAvailable } from './adapters/verify-pairs.js'
import { defaultBounds } from './core/bounds.js'
import { registerOps, type OpRecord } from './core/history.js'
import { kvQuorumOutcome } from './core/kv-contract.js'
import { checkHistory, describeInconclusive, describeViolation } from './core/linearizability.js'
import { planFaults } from './core/schedule.js'
import { checkStaleReads, describeStaleRead } from './core/stale-reads.js'
import { runFaults, type FaultRunResult } from './faults.js'
import { OpenLoopClient } from './open-loop.js'
import { buildReport, type ChaosReport, type InvariantReport } from './report.js'
import { chaosWorkloads, type Workload } from './workloads.js'

export interface ChaosOptions {
  cluster: ClusterInfo
  durationS: number
  seed: number
  /** Per-workload rates (requests/s) overriding the defaults. */
  rates?: Record<string, number>
  /** Multiplies every rate. @default 1 */
  rateScale?: number
  /** Mean time between faults. @default 10_000 */
  meanGapMs?: number
  freezeMs?: readonly [number, number]
  maxFaults?: number
  redisRestart?: boolean
  /** Load only, no fault. */
  faults?: boolean
  timeoutMs?: number
  keyCount?: number
  /** The cluster's Redis key prefix, for the pairs verify. @default 'nines' */
  prefix?: string
  /** Availability bounds by name, percent (`core/bounds.ts`). @default defaultBounds */
  bounds?: Readonly<Record<string, number>>
  /** Let a key the checker could not decide pass (it is still reported). @default false */
  allowInconclusive?: boolean
  /** The linearizability search's step budget per key. @default 10_000_000 */
  checkerMaxSteps?: number
  command: string
  log?: (line: string) => void
}

export interface ChaosOutcome { report: ChaosReport, records: OpRecord[] }

/** A chaos run: discover, plan, load + faults, read back, check invariants, report. */
export async function runChaos (opts: ChaosOptions): Promise<ChaosOutcome> {
  const log = opts.log ?? (() => {})
  const startedAt = new Date()
  const registry = await fetchRegistry(opts.cluster.gatewayUrl)
  const present = servicesPresent(registry)
  const runId = `${opts.seed.toString(36)}${Date.now().toString(36).slice(-5)}`
  const scale = opts.rateScale ?? 1
  const all = chaosWorkloads(runId, opts.keyCount ?? 16).map((workload) => ({ workload, rate: (opts.rates?.[workload.name] ?? workload.rate) * scale }))
  const active = all.filter(({ workload, rate }) => present.has(workload.service) && rate > 0)
  for (const { workload } of all) if (!present.has(workload.service)) log(`${workload.name}: skipped: service not in the cluster`)

  const durationMs = opts.durationS * 1_000
  let control: ControlClient | undefined
  let targets: string[] = []
  if (opts.faults !== false && opts.cluster.controlUrl !== undefined) {
    control = new ControlClient(opts.cluster.controlUrl, opts.cluster.controlToken)
    const launched = new Set((await control.instances()).map((i) => i.service))
    targets = [...present].filter((s) => launched.has(s) && s !== 'gateway')
  } else {
    log(opts.faults === false ? 'faults disabled (--no-faults): load only' : 'no control API (not started by the launcher?): load only, no faults')
  }
  const plan = control === undefined
    ? []
    : planFaults({
      seed: opts.seed,
      durationMs,
      services: targets,
      ...(opts.meanGapMs !== undefined ? { meanGapMs: opts.meanGapMs } : {}),
      ...(opts.freezeMs !== undefined ? { freezeMs: opts.freezeMs } : {}),
      ...(opts.maxFaults !== undefined ? { maxFaults: opts.maxFaults } : {}),
      ...(opts.redisRestart !== undefined ? { redisRestart: opts.redisRestart } : {})
    })
  log(`load: ${active.map(({ workload, rate }) => `${workload.name} ${rate}/s`).join(', ') || 'none'}; ${plan.length} faults planned over ${opts.durationS} s`)

  const t0 = performance.now()
  const clock = (): number => performance.now() - t0
  const client = new OpenLoopClient(opts.cluster.gatewayUrl, clock, opts.timeoutMs ?? 11_000)
  let faultResult: FaultRunResult = { events: [], takeovers: [], takeoversMissing: 0, roleChanges: [], roleChangesMissing: 0 }
  try {
    const [, faults] = await Promise.all([
      client.run({ gatewayUrl: opts.cluster.gatewayUrl, plans: active, durationMs, seed: opts.seed, clock }),
      control === undefined ? Promise.resolve(faultResult) : runFaults(plan, { control, gatewayUrl: opts.cluster.gatewayUrl, clock, log })
    ])
    faultResult = faults
    await readBack(client, active.map((a) => a.workload), clock)
  } finally {
    await client.close()
  }

  const invariants = await checkInvariants(client.records, present, opts)
  const report = buildReport({
    startedAt,
    command: opts.command,
    seed: opts.seed,
    durationS: opts.durationS,
    gatewayUrl: opts.cluster.gatewayUrl,
    present,
    workloads: all,
    records: client.records,
    faults: faultResult.events,
    takeovers: { samples: faultResult.takeovers, missing: faultResult.takeoversMissing },
    roleChanges: { samples: faultResult.roleChanges, missing: faultResult.roleChangesMissing },
    invariants,
    deadlineMs: opts.timeoutMs ?? 11_000,
    bounds: opts.bounds ?? defaultBounds,
    allowInconclusive: opts.allowInconclusive ?? false
  })
  return { report, records: client.records }
}

/** Once the faults are over, every key of every register workload is read (a few tries each), so a lost write shows. */
async function readBack (client: OpenLoopClient, workloads: readonly Workload[], clock: () => number): Promise<void> {
  const registers = workloads.filter((w) => w.keys !== undefined)
  if (registers.length === 0) return
  await sleep(1_000)
  await Promise.all(registers.map(async (w) => {
    for (const key of w.keys!()) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const record = await client.send(w, { method: 'GET', path: `/api/${w.service}/keys/${key}`, kind: 'read', key }, clock(), 'readback')
        if (record.outcome === 'ok') break
        await sleep(200)
      }
    }
  }))
}

async function checkInvariants (records: readonly OpRecord[], present: ReadonlySet<string>, opts: ChaosOptions): Promise<InvariantReport[]> {
  const out: InvariantReport[] = []
  const skipped = (name: string): InvariantReport => ({ name, status: 'skipped', detail: 'skipped: service not in the cluster' })

  if (present.has('feed') && (present.has('ledger-hh') || present.has('ledger-hw'))) {
    const acked = records.flatMap((r) => r.workload === 'feed' && r.ackId !== undefined ? [r.ackId] : [])
    const v = await verifyPairsIfAvailable(opts.cluster.redisUrl, opts.prefix ?? 'nines', acked)
    out.push({ name: 'pairs: every input and every acknowledged event exactly one output, no conflicts', status: v.status, detail: v.detail })
  } else {
    out.push(skipped('pairs: every input and every acknowledged event exactly one output, no conflicts'))
  }

  if (present.has('kv-leader')) {
    const ops = registerOps(records.filter((r) => r.workload === 'kv-leader'))
    const v = checkHistory(ops, opts.checkerMaxSteps !== undefined ? { maxSteps: opts.checkerMaxSteps } : {})
    const status = v.violations.length > 0 ? 'violated' : v.inconclusive.length > 0 ? 'inconclusive' : 'ok'
    const detail = `${v.ops} operations on ${v.keys} keys: ${v.violations.length} keys not linearizable` +
      (v.inconclusive.length > 0 ? `, ${v.inconclusive.length} keys not decided (inconclusive: nothing proven for them)` : ', every key decided')
    out.push({ name: 'kv-leader: linearizable (no acknowledged write lost)', status, detail, examples: [...v.violations.map(describeViolation), ...v.inconclusive.map(describeInconclusive)] })
  } else {
    out.push(skipped('kv-leader: linearizable (no acknowledged write lost)'))
  }

  if (present.has('kv-quorum')) {
    const v = checkStaleReads(registerOps(records.filter((r) => r.workload === 'kv-quorum'), kvQuorumOutcome))
    out.push({ name: 'kv-quorum: no stale read at W + R > N', status: v.ok ? 'ok' : 'violated', detail: `${v.reads} reads checked, ${v.stale.length} stale or phantom`, examples: v.stale.map(describeStaleRead) })
  } else {
    out.push(skipped('kv-quorum: no stale read at W + R > N'))
  }
  return out
}
