import * as hdr from 'hdr-histogram-js'
import { ejectionTimes, failuresByCause, leaderElectionTimes, longestFailureWindow, type FailoverSamples, type FailureWindow, type FaultEvent } from './core/analysis.js'
import { evaluateBounds, servedInTime, type BoundReport } from './core/bounds.js'
import type { OpRecord } from './core/history.js'
import { downtimeFor, formatNines, formatPercent, ninesOf } from './core/nines.js'
import type { Shape, Workload } from './workloads.js'
import { percentile } from '../../shared/src/percentile.js'

export interface LatencyMs { p50: number, p90: number, p99: number, p999: number, max: number }

export interface WorkloadReport {
  name: string
  service: string
  shape: Shape
  idempotent: boolean
  status: 'ran' | 'skipped'
  reason?: string
  rate: number
  requests: number
  ok: number
  failed: number
  /** e.g. `99.991%` */
  successRate: string
  /** e.g. `99.991% (4 nines)` */
  nines: string
  /** null when nothing failed (unbounded) or nothing ran. */
  ninesCount: number | null
  downtime?: { perDay: string, perMonth: string, perYear: string }
  /** From the open-loop due time to the response (no coordinated omission). */
  latencyMs?: LatencyMs
  failuresByCause: Array<{ cause: string, count: number }>
  longestFailureWindow?: FailureWindow
}

export interface FailoverStat { samples: number, missing: number, p50Ms?: number, p99Ms?: number, maxMs?: number, note?: string }

export type InvariantStatus = 'ok' | 'violated' | 'inconclusive' | 'skipped' | 'not available' | 'error'
export interface InvariantReport { name: string, status: InvariantStatus, detail: string, examples?: string[] }

export interface Rollup { requests: number, ok: number, failed: number, successRate: string, nines: string }

export interface ChaosReport {
  tool: 'nines chaos'
  startedAt: string
  command: string
  seed: number
  durationS: number
  gatewayUrl: string
  node: string
  servicesPresent: string[]
  workloads: WorkloadReport[]
  overall: Rollup
  /** The GET requests of every workload together. */
  idempotent: Rollup
  faults: FaultEvent[]
  failover: { hotWarmTakeover: FailoverStat, hotWarmRoleChange: FailoverStat, kvLeaderElection: FailoverStat, gatewayEjection: FailoverStat }
  invariants: InvariantReport[]
  /** An answer later than this after its due time counts as a failure (the client's deadline). */
  deadlineMs: number
  /** Each availability bound beside the figure it is about. */
  bounds: BoundReport[]
  /** Whether an undecided invariant (the checker ran out of steps) was allowed to pass. */
  allowInconclusive: boolean
  /** Why the run failed, one line each; empty when `ok`. */
  problems: string[]
  /**
   * True only when every invariant held (none violated, none undecided unless allowed, none
   * unable to run), every availability bound was met and every failover recovered.
   */
  ok: boolean
}

export interface ReportInput {
  startedAt: Date
  command: string
  seed: number
  durationS: number
  gatewayUrl: string
  present: ReadonlySet<string>
  workloads: ReadonlyArray<{ workload: Workload, rate: number }>
  records: readonly OpRecord[]
  faults: readonly FaultEvent[]
  /** Kill of the hot → first output of the new epoch accepted at the sink. */
  takeovers: { samples: number[], missing: number }
  /** Kill of the hot → another instance `hot` in the registry. */
  roleChanges: { samples: number[], missing: number }
  invariants: InvariantReport[]
  /** @default 11_000 (the chaos client's timeout) */
  deadlineMs?: number
  /** Availability bounds by name (`core/bounds.ts`), percent. @default none */
  bounds?: Readonly<Record<string, number>>
  /** @default false */
  allowInconclusive?: boolean
}

export function buildReport (input: ReportInput): ChaosReport {
  const deadlineMs = input.deadlineMs ?? 11_000
  // an answer after the client's deadline is a failure, in every figure
  const load = input.records.filter((r) => r.phase === 'load').map((r) => r.outcome === 'ok' && !servedInTime(r, deadlineMs)
    ? { ...r, outcome: 'fail' as const, cause: `late (answered after the ${deadlineMs} ms deadline)` }
    : r)
  const byWorkload = new Map<string, OpRecord[]>()
  for (const r of load) {
    const list = byWorkload.get(r.workload) ?? []
    list.push(r)
    byWorkload.set(r.workload, list)
  }
  const workloads = input.workloads.map(({ workload, rate }) => workloadReport(workload, rate, input.present.has(workload.service), byWorkload.get(workload.name) ?? []))
  const statelessOf = new Map(input.workloads.filter(({ workload }) => workload.shape === 'stateless').map(({ workload }) => [workload.service, byWorkload.get(workload.name) ?? []]))
  const kvLeader = byWorkload.get('kv-leader') ?? []
  const hasKill = (kind: FaultEvent['kind']): boolean => input.faults.some((f) => f.kind === kind && f.skipped === undefined)
  const failover = {
    hotWarmTakeover: failoverStat(input.takeovers, hasKill('kill-hot') ? (input.takeovers.samples.length + input.takeovers.missing === 0 ? 'the sink\'s stats were not readable' : undefined) : 'no kill of the hot-warm hot in this run'),
    hotWarmRoleChange: failoverStat(input.roleChanges, hasKill('kill-hot') ? undefined : 'no kill of the hot-warm hot in this run'),
    kvLeaderElection: failoverStat(leaderElectionTimes(input.faults, kvLeader), hasKill('kill-leader') ? undefined : 'no kill of the kv-leader leader in this run'),
    gatewayEjection: failoverStat(ejectionTimes(input.faults, (s) => statelessOf.get(s)), input.faults.some((f) => f.kind === 'kill' && f.skipped === undefined && statelessOf.has(f.service ?? '')) ? undefined : 'no kill of a stateless instance under load in this run')
  }
  const ran = new Set(workloads.filter((w) => w.status === 'ran' && w.requests > 0).map((w) => w.name))
  const bounds = evaluateBounds(input.records, input.bounds ?? {}, deadlineMs, ran)
  const allowInconclusive = input.allowInconclusive ?? false
  const problems = [
    ...input.invariants.filter((i) => i.status === 'violated' || i.status === 'error' || (i.status === 'inconclusive' && !allowInconclusive))
      .map((i) => `${i.name}: ${i.status}${i.status === 'inconclusive' ? ' (nothing proven; --allow-inconclusive lets it pass)' : ''}`),
    ...bounds.filter((b) => b.met === false).map((b) => `${b.name}: ${b.successRate} served, below the bound ≥ ${b.minPercent}% (${b.failed} failed of ${b.requests}, ${b.allowedFailures} allowed)`),
    ...Object.entries(failover).filter(([, f]) => f.missing > 0).map(([name, f]) => `${failoverNames[name as keyof typeof failover]}: ${f.missing} never recovered`)
  ]
  return {
    tool: 'nines chaos',
    startedAt: input.startedAt.toISOString(),
    command: input.command,
    seed: input.seed,
    durationS: input.durationS,
    gatewayUrl: input.gatewayUrl,
    node: process.version,
    servicesPresent: [...input.present].sort(),
    workloads,
    overall: rollup(load),
    idempotent: rollup(load.filter((r) => r.idempotent)),
    faults: [...input.faults],
    failover,
    invariants: input.invariants,
    deadlineMs,
    bounds,
    allowInconclusive,
    problems,
    ok: problems.length === 0
  }
}

const failoverNames = {
  hotWarmTakeover: 'hot-warm takeover',
  hotWarmRoleChange: 'hot-warm role change',
  kvLeaderElection: 'kv-leader election',
  gatewayEjection: 'gateway ejection'
} as const

function workloadReport (workload: Workload, rate: number, present: boolean, records: readonly OpRecord[]): WorkloadReport {
  const base = { name: workload.name, service: workload.service, shape: workload.shape, idempotent: workload.idempotent, rate }
  if (!present) {
    return { ...base, status: 'skipped', reason: 'skipped: service not in the cluster', requests: 0, ok: 0, failed: 0, successRate: 'n/a', nines: 'n/a', ninesCount: null, failuresByCause: [] }
  }
  const ok = records.filter((r) => r.outcome === 'ok').length
  const total = records.length
  const nines = ninesOf(total - ok, total)
  const window = longestFailureWindow(records)
  return {
    ...base,
    status: 'ran',
    requests: total,
    ok,
    failed: total - ok,
    successRate: formatPercent(ok, total),
    nines: formatNines(ok, total),
    ninesCount: total === 0 || nines === Infinity ? null : nines,
    downtime: downtimeFor(ok, total),
    ...(total > 0 ? { latencyMs: latency(records) } : {}),
    failuresByCause: failuresByCause(records),
    ...(window !== undefined ? { longestFailureWindow: window } : {})
  }
}

function latency (records: readonly OpRecord[]): LatencyMs {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
  try {
    for (const r of records) h.recordValue(Math.max(1, Math.round((r.complete - r.intended) * 1_000))) // µs
    const ms = (us: number): number => Math.round(us / 10) / 100
    return { p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) }
  } finally {
    h.destroy()
  }
}

function rollup (records: readonly OpRecord[]): Rollup {
  const ok = records.filter((r) => r.outcome === 'ok').length
  return { requests: records.length, ok, failed: records.length - ok, successRate: formatPercent(ok, records.length), nines: formatNines(ok, records.length) }
}

function failoverStat (s: FailoverSamples, note: string | undefined): FailoverStat {
  const stat: FailoverStat = { samples: s.samples.length, missing: s.missing }
  if (s.samples.length > 0) {
    stat.p50Ms = Math.round(percentile(s.samples, 0.5))
    stat.p99Ms = Math.round(percentile(s.samples, 0.99))
    stat.maxMs = Math.round(s.samples.reduce((a, b) => Math.max(a, b), -Infinity)) // no spread: a long run has more samples than a call takes arguments
  }
  if (note !== undefined) stat.note = note
  return stat
}
