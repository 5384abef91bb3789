import type { PairName } from '../../../../shared/src/pipeline/types.js'

export type LedgerRole = 'hot' | 'warm'

export interface EmitFacts {
  pair: PairName
  /** State rebuilt from the feed up to its end at least once since start. */
  rebuilt: boolean
  /** Hot-warm: we hold the lease right now (monotonic clock). */
  holdsLease: boolean
  /** Hot-warm: the lease epoch, and the epoch the sink has acknowledged our claim for. */
  epoch: number
  claimedEpoch: number | undefined
}

/**
 * Whether this instance may send its next batch. Hot-hot members always emit once rebuilt;
 * in the hot-warm pair only the lease holder does, and only after the sink knows its epoch
 * (so the high-water mark it re-emits from was read after older epochs were fenced off).
 */
export function mayEmit (f: EmitFacts): boolean {
  if (!f.rebuilt) return false
  if (f.pair === 'hot-hot') return true
  return f.holdsLease && f.claimedEpoch === f.epoch
}

/** The registry role to publish. */
export function roleOf (pair: PairName, holdsLease: boolean): LedgerRole {
  return pair === 'hot-hot' || holdsLease ? 'hot' : 'warm'
}
