import type { OpRecord } from './history.js'
import type { FaultKind } from './schedule.js'

/** Figures derived from a recorded history and the fault log. Pure. */

export interface FailureWindow {
  /** Consecutive failed operations, in arrival order. */
  count: number
  /** From the first failure's intended send time to the last one's completion, ms. */
  durationMs: number
  startMs: number
}

/** Every run of consecutive failures of one workload, in order (empty when none failed). */
export function failureWindows (records: readonly OpRecord[]): FailureWindow[] {
  const ordered = [...records].sort((a, b) => a.intended - b.intended)
  const windows: FailureWindow[] = []
  let current: FailureWindow | undefined
  for (const r of ordered) {
    if (r.outcome === 'ok') {
      current = undefined
      continue
    }
    if (current === undefined) {
      current = { count: 0, durationMs: 0, startMs: r.intended }
      windows.push(current)
    }
    current.count++
    current.durationMs = Math.max(current.durationMs, r.complete - current.startMs)
  }
  return windows
}

/** The longest run of consecutive failures of one workload (by duration), undefined when none failed. */
export function longestFailureWindow (records: readonly OpRecord[]): FailureWindow | undefined {
  let best: FailureWindow | undefined
  for (const w of failureWindows(records)) {
    if (best === undefined || w.durationMs > best.durationMs || (w.durationMs === best.durationMs && w.count > best.count)) best = w
  }
  return best
}

/** Failures counted by cause, most frequent first. */
export function failuresByCause (records: readonly OpRecord[]): Array<{ cause: string, count: number }> {
  const counts = new Map<string, number>()
  for (const r of records) if (r.outcome === 'fail') counts.set(r.cause ?? 'unknown', (counts.get(r.cause ?? 'unknown') ?? 0) + 1)
  return [...counts].map(([cause, count]) => ({ cause, count })).sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause))
}

export interface FaultEvent {
  kind: FaultKind
  service?: string
  /** The instance hit, when one was. */
  target?: string
  /** Monotonic ms since the run started. */
  atMs: number
  /** When the fault was over (a freeze's SIGCONT); equal to atMs for a kill. */
  endMs: number
  /** Set when the fault could not be carried out (no candidate, the control API refused). */
  skipped?: string
}

export interface FailoverSamples {
  /** ms per sample; `missing` counts faults after which the awaited event never came. */
  samples: number[]
  missing: number
}

/**
 * kv-leader election: for each kill of the leader, the time from the kill to the first write
 * sent after it that was acknowledged.
 */
export function leaderElectionTimes (faults: readonly FaultEvent[], records: readonly OpRecord[], windowMs = 20_000): FailoverSamples {
  const writes = records.filter((r) => r.kind === 'write' && r.outcome === 'ok' && r.invoke !== undefined).sort((a, b) => a.complete - b.complete)
  const out: FailoverSamples = { samples: [], missing: 0 }
  for (const f of faults) {
    if (f.kind !== 'kill-leader' || f.skipped !== undefined) continue
    const first = writes.find((w) => w.invoke! >= f.atMs && w.complete <= f.atMs + windowMs)
    if (first === undefined) out.missing++
    else out.samples.push(first.complete - f.atMs)
  }
  return out
}

/**
 * Gateway ejection of a dead stateless instance: for each kill, the time from the kill to the
 * last failed request of that service before the next fault (0 when clients saw no failure: the
 * gateway retried every request the dead instance dropped).
 */
export function ejectionTimes (faults: readonly FaultEvent[], recordsOf: (service: string) => readonly OpRecord[] | undefined, windowMs = 15_000): FailoverSamples {
  const out: FailoverSamples = { samples: [], missing: 0 }
  const sorted = [...faults].sort((a, b) => a.atMs - b.atMs)
  sorted.forEach((f, i) => {
    if (f.kind !== 'kill' || f.skipped !== undefined || f.service === undefined) return
    const records = recordsOf(f.service)
    if (records === undefined) return
    const end = Math.min(f.atMs + windowMs, sorted[i + 1]?.atMs ?? Infinity)
    let last: number | undefined
    for (const r of records) {
      if (r.outcome === 'fail' && r.complete >= f.atMs && r.intended < end) last = Math.max(last ?? 0, r.complete)
    }
    out.samples.push(last === undefined ? 0 : last - f.atMs)
  })
  return out
}
