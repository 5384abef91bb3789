/**
 * The chaos run's fault schedule: a pure function of the seed and the cluster's shape, so
 * `--seed N` replays the same faults at the same moments against the same targets.
 */

import { seededRandom } from '../../../shared/testing/random.js'

export type FaultKind =
  /** kill -9 of a random instance of `service` (the launcher restarts it). */
  | 'kill'
  /** SIGSTOP for `freezeMs`, then SIGCONT. */
  | 'freeze'
  /** A graceful restart (SIGTERM, then start again). */
  | 'restart'
  /** kill -9 of the instance the registry shows as kv-leader's `leader`. */
  | 'kill-leader'
  /** kill -9 of the instance the registry shows as the hot-warm pair's `hot`. */
  | 'kill-hot'
  /** Restart the launcher's Redis. */
  | 'redis-restart'

export interface PlannedFault {
  /** ms after the load started. */
  atMs: number
  kind: FaultKind
  /** The service whose instance is hit; undefined for redis-restart. */
  service?: string
  /** In [0, 1): which of the service's instances (sorted by id) is hit, resolved when it fires. */
  pick: number
  /** How long a freeze lasts. */
  freezeMs?: number
}

export interface ScheduleOptions {
  seed: number
  durationMs: number
  /** Services present in the cluster (the gateway is never a target: it is what the nines are measured through). */
  services: readonly string[]
  /** Mean time between two faults; each gap is drawn uniformly in [0.5, 1.5] × this. @default 10_000 */
  meanGapMs?: number
  /** No fault before this. @default 3_000 */
  warmupMs?: number
  /** No fault may still be in progress this long before the end, so recovery is measured. @default 8_000 */
  cooldownMs?: number
  /** Freeze durations are drawn in this range; longer than the lease TTLs. @default [2_000, 4_000] */
  freezeMs?: readonly [number, number]
  /** A bound on the number of faults. @default 1_000 */
  maxFaults?: number
  /** Include one Redis restart. @default true */
  redisRestart?: boolean
}

/** Relative weights of each fault kind when it applies. */
const weights: ReadonlyArray<[FaultKind, number]> = [['kill', 5], ['freeze', 3], ['restart', 1], ['kill-leader', 2], ['kill-hot', 2]]

export function planFaults (opts: ScheduleOptions): PlannedFault[] {
  const random = seededRandom(opts.seed)
  const meanGapMs = opts.meanGapMs ?? 10_000
  const warmupMs = opts.warmupMs ?? 3_000
  const cooldownMs = opts.cooldownMs ?? 8_000
  const [freezeMin, freezeMax] = opts.freezeMs ?? [2_000, 4_000]
  const maxFaults = opts.maxFaults ?? 1_000
  const services = [...opts.services].filter((s) => s !== 'gateway').sort()
  const kinds = weights.filter(([kind]) =>
    kind === 'kill-leader' ? services.includes('kv-leader') : kind === 'kill-hot' ? services.includes('ledger-hw') : services.length > 0)
  const total = kinds.reduce((sum, [, w]) => sum + w, 0)
  const lastStart = opts.durationMs - cooldownMs

  const faults: PlannedFault[] = []
  if (total === 0) return []
  let at = warmupMs + random() * meanGapMs * 0.5
  while (at + freezeMax <= lastStart && faults.length < maxFaults) {
    let r = random() * total
    let kind: FaultKind = kinds[0]![0]
    for (const [k, w] of kinds) {
      if (r < w) { kind = k; break }
      r -= w
    }
    const service = kind === 'kill-leader' ? 'kv-leader' : kind === 'kill-hot' ? 'ledger-hw' : services[Math.floor(random() * services.length)]!
    const fault: PlannedFault = { atMs: Math.round(at), kind, service, pick: random() }
    if (kind === 'freeze') fault.freezeMs = Math.round(freezeMin + random() * (freezeMax - freezeMin))
    faults.push(fault)
    at += meanGapMs * (0.5 + random())
  }
  // one Redis restart, in the middle of the run, when there was room for any fault at all
  if ((opts.redisRestart ?? true) && faults.length > 0 && faults.length < maxFaults) {
    const slot = Math.floor(random() * faults.length)
    faults[slot] = { atMs: faults[slot]!.atMs, kind: 'redis-restart', pick: 0 }
  }
  return faults
}

/** Resolves a fault's `pick` against the instances present when it fires (sorted by id, so reproducible). */
export function pickInstance<T extends { id: string }> (candidates: readonly T[], pick: number): T | undefined {
  if (candidates.length === 0) return undefined
  const sorted = [...candidates].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }))
  return sorted[Math.min(sorted.length - 1, Math.floor(pick * sorted.length))]
}
