import type { TakeoverPhase } from './takeover.js'

export type LedgerRole = 'hot' | 'warm'

export interface EmitFacts {
  /** State rebuilt from the feed up to its end at least once since start. */
  rebuilt: boolean
  /** Where the takeover machine is: only `hot` emits (hot-hot members always are). */
  phase: TakeoverPhase
  /** Hot-warm: we hold the lease right now, by our monotonic clock (always true for hot-hot). */
  holdsLease: boolean
}

/**
 * Whether this instance may send its next batch: once rebuilt, when hot — for a hot-warm
 * member, that is after the sink confirmed its epoch (so the mark it re-emits from was read
 * after older epochs were fenced off) and while its lease is still valid by its own clock.
 */
export function mayEmit (f: EmitFacts): boolean {
  return f.rebuilt && f.phase === 'hot' && f.holdsLease
}

export interface RetryTimings {
  /** The wait after the first failure; it grows by this much per failure in a row. */
  retryMs: number
  /** The longest wait. */
  retryMaxMs: number
}

/** How long to wait after `failures` failed sends in a row before trying the next sink. */
export function retryDelayMs (failures: number, t: RetryTimings): number {
  return Math.min(t.retryMs * Math.max(1, failures), t.retryMaxMs)
}
