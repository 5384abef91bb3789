import { percentile } from '../../../shared/src/percentile.js'
import { failureWindows, longestFailureWindow } from '../core/analysis.js'
import type { OpRecord } from '../core/history.js'

/** What the Redis failover run derives from its history and samples. Pure. */

/** How many samples fell below the highest value seen before them (a counter or an epoch went back). */
export function regressions (values: readonly number[]): number {
  let highest = -Infinity
  let count = 0
  for (const v of values) {
    if (v < highest) count++
    else highest = v
  }
  return count
}

/** The acknowledged ids that are not stored. */
export function missingAcknowledged (acknowledged: Iterable<string>, stored: ReadonlySet<string>): string[] {
  return [...acknowledged].filter((id) => !stored.has(id))
}

/**
 * Events appended more than once. The run's feed requests each carry a unique amount (its
 * sequence number + 1) on its own accounts, so two entries with one amount are one request
 * appended twice — a retry the Idempotency-Key should have absorbed.
 */
export function duplicateAppends (entries: ReadonlyArray<{ account: string, amount: number }>, isOurs: (account: string) => boolean): number {
  const seen = new Set<number>()
  let dups = 0
  for (const e of entries) {
    if (!isOurs(e.account)) continue
    if (seen.has(e.amount)) dups++
    else seen.add(e.amount)
  }
  return dups
}

/**
 * Failover as the issue defines it, per fault: from the fault to the first acknowledged write
 * (a request of `writes` sent at or after it that succeeded), ms; undefined when none came
 * before `untilMs`.
 */
export function firstAcknowledgedAfter (atMs: number, writes: readonly OpRecord[], untilMs = Infinity): number | undefined {
  let first: number | undefined
  for (const r of writes) {
    if (r.outcome !== 'ok' || r.invoke === undefined || r.invoke < atMs || r.complete > untilMs) continue
    if (first === undefined || r.complete < first) first = r.complete
  }
  return first === undefined ? undefined : first - atMs
}

export interface WorkloadFigures {
  name: string
  idempotent: boolean
  requests: number
  failed: number
  failuresByCause: Record<string, number>
  /** The longest run of consecutive failures, ms (0 when nothing failed). */
  longestErrorWindowMs: number
  /** Every error window, when it began (ms into the run) and how long it lasted: set beside the faults' times, they show which fault each belongs to. */
  errorWindows: Array<{ atMs: number, durationMs: number, failed: number }>
}

export function workloadFigures (name: string, idempotent: boolean, records: readonly OpRecord[]): WorkloadFigures {
  const failures: Record<string, number> = {}
  for (const r of records) if (r.outcome === 'fail') failures[r.cause ?? 'unknown'] = (failures[r.cause ?? 'unknown'] ?? 0) + 1
  const window = longestFailureWindow(records)
  return {
    name,
    idempotent,
    requests: records.length,
    failed: records.filter((r) => r.outcome === 'fail').length,
    failuresByCause: failures,
    longestErrorWindowMs: Math.round(window?.durationMs ?? 0),
    errorWindows: failureWindows(records).map((w) => ({ atMs: Math.round(w.startMs), durationMs: Math.round(w.durationMs), failed: w.count }))
  }
}

export interface Spread { samples: number, p50Ms?: number, p99Ms?: number, maxMs?: number }

/**
 * What issue 13 asks of availability through a Redis failover, per workload: the longest error
 * window at most `boundMs` (the slowest failover + 1 s), and no failed request at all for an
 * idempotent workload. Returns why each workload that misses it does.
 */
export function availabilityMisses (workloads: readonly WorkloadFigures[], boundMs: number): string[] {
  return workloads.flatMap((w) => [
    ...(w.longestErrorWindowMs > boundMs ? [`${w.name}: longest error window ${w.longestErrorWindowMs} ms > ${boundMs} ms`] : []),
    ...(w.idempotent && w.failed > 0 ? [`${w.name}: ${w.failed} failed requests (an idempotent workload must see none)`] : [])
  ])
}

export function spread (samples: ReadonlyArray<number | undefined>): Spread {
  const xs = samples.filter((x): x is number => x !== undefined)
  if (xs.length === 0) return { samples: 0 }
  return { samples: xs.length, p50Ms: Math.round(percentile(xs, 0.5)), p99Ms: Math.round(percentile(xs, 0.99)), maxMs: Math.round(Math.max(...xs)) }
}
