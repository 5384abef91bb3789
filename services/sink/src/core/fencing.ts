import { compareInputIds, type ClaimOutcome } from '../../../../shared/src/pipeline/types.js'

/**
 * The sink's safety rules as pure functions: fencing (which epoch may write) and dedupe (what
 * to do with each output). The Lua in `adapters/store.ts` applies the same rules atomically in
 * Redis; test/integration/sink-contract.test.ts runs one table of cases through both.
 *
 * Fencing binds each epoch to the lease holder that first used it. An epoch older than the
 * pair's newest is refused; so is the newest epoch itself when another holder brings it: an
 * epoch handed out twice (a Redis failover lost the counter's increment) must not let two
 * holders write. Epoch 0 is the hot-hot pair's: it has no lease, and is never fenced.
 */
export interface PairFence {
  /** The newest epoch claimed or written under. */
  epoch: number
  /** The lease holder (owner token) that claimed `epoch`; '' when unknown or for epoch 0. */
  holder: string
  /** The highest input id stored. */
  highWaterMark: string
  /** The newest epoch whose batch was accepted (-1: none yet). */
  acceptedEpoch: number
}

export const emptyFence: PairFence = Object.freeze({ epoch: 0, holder: '', highWaterMark: '0-0', acceptedEpoch: -1 })

/** `older`: below the pair's newest epoch; `taken`: the newest epoch, claimed by another holder. */
export type FenceVerdict = 'current' | 'newer' | 'older' | 'taken'

export function fenceVerdict (fence: PairFence, epoch: number, holder: string): FenceVerdict {
  if (epoch < fence.epoch) return 'older'
  if (epoch > fence.epoch) return 'newer'
  if (epoch > 0 && fence.holder !== '' && fence.holder !== holder) return 'taken'
  return 'current'
}

function isRefused (v: FenceVerdict): v is 'older' | 'taken' {
  return v === 'older' || v === 'taken'
}

/**
 * A new hot announces its epoch before re-emitting: from then on every older epoch (and this
 * one from anyone else) is refused, and the mark it re-emits from is returned. Epoch 0 only reads.
 */
export function decideClaim (fence: PairFence, epoch: number, holder: string): { outcome: ClaimOutcome, fence: PairFence } {
  if (epoch === 0) return { outcome: 'read', fence }
  const v = fenceVerdict(fence, epoch, holder)
  if (isRefused(v)) return { outcome: v, fence }
  return { outcome: 'claimed', fence: v === 'newer' || fence.holder === '' ? { ...fence, epoch, holder } : fence }
}

export type OutputVerdict = 'stored' | 'duplicate' | 'conflict'

export interface IngestDecision {
  outcome: 'ok' | 'older' | 'taken'
  fence: PairFence
  /** One per output, in batch order (empty when the batch was refused). */
  verdicts: OutputVerdict[]
}

/**
 * One batch, all or nothing: refused whole when fenced; otherwise each output is stored if it is
 * the first for its input id, a duplicate if identical to the stored one (same fingerprint), a
 * conflict if different. `stored(inputId)` is the fingerprint already stored, if any. The mark
 * is the highest input id stored.
 */
export function decideIngest (fence: PairFence, stored: (inputId: string) => string | undefined,
  batch: { epoch: number, holder: string, outputs: ReadonlyArray<{ inputId: string, fingerprint: string }> }): IngestDecision {
  const v = fenceVerdict(fence, batch.epoch, batch.holder)
  if (isRefused(v)) return { outcome: v, fence, verdicts: [] }
  const next: PairFence = { ...fence }
  if (v === 'newer' || (batch.epoch > 0 && fence.holder === '')) {
    next.epoch = batch.epoch
    next.holder = batch.epoch > 0 ? batch.holder : ''
  }
  next.acceptedEpoch = Math.max(fence.acceptedEpoch, batch.epoch)
  const inBatch = new Map<string, string>()
  const verdicts = batch.outputs.map(({ inputId, fingerprint }): OutputVerdict => {
    const existing = inBatch.get(inputId) ?? stored(inputId)
    if (existing === undefined) {
      inBatch.set(inputId, fingerprint)
      if (compareInputIds(inputId, next.highWaterMark) > 0) next.highWaterMark = inputId
      return 'stored'
    }
    return existing === fingerprint ? 'duplicate' : 'conflict'
  })
  return { outcome: 'ok', fence: next, verdicts }
}
