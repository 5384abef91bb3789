import type { ClaimOutcome, PairName } from '../../../../shared/src/pipeline/types.js'
import type { LedgerRole } from './emit-policy.js'

/**
 * Who emits in a pair, as a pure state machine: `(state, event) → {state, effects}`. The driver
 * (`ledger.ts`) feeds it what the lease and the sink said and carries out the effects; nothing
 * here does I/O or reads a clock.
 *
 * Hot-warm: a member that gains the lease is `claiming` until the sink has confirmed its epoch
 * (from then on every older epoch, and this one from anyone else, is refused) and returned the
 * high-water mark; it trims its outbox to that mark and becomes `hot`: it re-emits everything
 * after the mark. Losing the lease, or the sink refusing the epoch (a newer hot exists, or a
 * Redis failover handed this epoch out twice), makes it `warm`; a refused epoch is forfeited.
 * A warm member follows the mark to keep its outbox small.
 *
 * `epochFloor` is the newest epoch this member has seen anywhere (its lease, the sink's
 * answers): the lease gives a new holder an epoch past it, so an epoch a failover lost is never
 * handed out again. Hot-hot members have no lease: always `hot`, epoch 0.
 */
export type TakeoverPhase = 'warm' | 'claiming' | 'hot'

export interface TakeoverState {
  pair: PairName
  phase: TakeoverPhase
  /** The lease epoch held (claiming, hot) or last held (warm); 0 for hot-hot. */
  epoch: number
  epochFloor: number
}

export interface TakeoverTimings {
  /** Wait before asking the sink again when a claim got no answer. */
  claimRetryMs: number
}

export type TakeoverEvent =
  /** The lease keeper's view changed (gained, lost, or a new epoch). */
  | { type: 'leaseChanged', held: boolean, epoch: number }
  | { type: 'claimAnswered', epoch: number, outcome: ClaimOutcome, sinkEpoch: number, highWaterMark: string }
  /** No sink answered the claim (none listed, unreachable, 503). */
  | { type: 'claimFailed', epoch: number }
  /** A mark read (a claim of epoch 0): the sink's newest epoch and high-water mark. */
  | { type: 'markRead', sinkEpoch: number, highWaterMark: string }
  /** The sink accepted a batch emitted under `epoch` and says the pair's newest epoch is `sinkEpoch`. */
  | { type: 'batchAccepted', epoch: number, sinkEpoch: number }
  /** The sink refused a batch emitted under `epoch` (409 SINK_ERR_STALE_EPOCH). */
  | { type: 'batchRefused', epoch: number }

export type TakeoverEffect =
  | { type: 'publishRole', role: LedgerRole, epoch: number }
  /** Send a claim for `epoch` after `delayMs`. */
  | { type: 'claim', epoch: number, delayMs: number }
  /** Drop outbox entries at or below this input id (they are at the sink). */
  | { type: 'trim', through: string }
  /** Give the lease up and never resume this epoch (`LeaseKeeper.drop`). */
  | { type: 'forfeitLease' }
  /** Read the sink's mark now (learns its newest epoch, which raises the floor). */
  | { type: 'readMark' }
  /** The emitter may send now. */
  | { type: 'wakeEmitter' }

export interface TakeoverStep { state: TakeoverState, effects: TakeoverEffect[] }

export function initialTakeover (pair: PairName): TakeoverState {
  return { pair, phase: pair === 'hot-hot' ? 'hot' : 'warm', epoch: 0, epochFloor: 0 }
}

export function roleOfPhase (phase: TakeoverPhase): LedgerRole {
  return phase === 'warm' ? 'warm' : 'hot'
}

/** A warm member reads the sink's mark periodically, to trim its outbox and learn the sink's epoch. */
export function wantsMark (s: TakeoverState): boolean {
  return s.phase === 'warm'
}

export function stepTakeover (s: TakeoverState, e: TakeoverEvent, t: TakeoverTimings): TakeoverStep {
  if (s.pair === 'hot-hot') return { state: s, effects: [] }
  switch (e.type) {
    case 'leaseChanged': {
      const floored = withFloor(s, e.epoch)
      if (e.held && (s.phase === 'warm' || e.epoch !== s.epoch)) {
        return {
          state: { ...floored, phase: 'claiming', epoch: e.epoch },
          effects: [{ type: 'publishRole', role: 'hot', epoch: e.epoch }, { type: 'claim', epoch: e.epoch, delayMs: 0 }]
        }
      }
      if (!e.held && s.phase !== 'warm') return stepDown(floored, false)
      return { state: floored, effects: [] }
    }
    case 'claimAnswered': {
      const floored = withFloor(s, e.sinkEpoch)
      // an answer for an epoch we no longer claim changes nothing but the floor
      if (s.phase !== 'claiming' || e.epoch !== s.epoch) return { state: floored, effects: [] }
      if (e.outcome === 'claimed') {
        return { state: { ...floored, phase: 'hot' }, effects: [{ type: 'trim', through: e.highWaterMark }, { type: 'wakeEmitter' }] }
      }
      return stepDown(floored, true)
    }
    case 'claimFailed':
      if (s.phase !== 'claiming' || e.epoch !== s.epoch) return { state: s, effects: [] }
      return { state: s, effects: [{ type: 'claim', epoch: s.epoch, delayMs: t.claimRetryMs }] }
    case 'markRead': {
      const floored = withFloor(s, e.sinkEpoch)
      return { state: floored, effects: s.phase === 'warm' ? [{ type: 'trim', through: e.highWaterMark }] : [] }
    }
    case 'batchAccepted':
      return { state: withFloor(s, e.sinkEpoch), effects: [] }
    case 'batchRefused': {
      if (s.phase !== 'hot' || e.epoch !== s.epoch) return { state: s, effects: [] }
      // the refusal does not say the sink's epoch: read it, so the next epoch passes it
      const down = stepDown(s, true)
      return { state: down.state, effects: [...down.effects, { type: 'readMark' }] }
    }
  }
}

function withFloor (s: TakeoverState, epoch: number): TakeoverState {
  return epoch > s.epochFloor ? { ...s, epochFloor: epoch } : s
}

/** To warm; `forfeit` when the sink refused our epoch (the lease must not resume it). */
function stepDown (s: TakeoverState, forfeit: boolean): TakeoverStep {
  const effects: TakeoverEffect[] = forfeit ? [{ type: 'forfeitLease' }] : []
  effects.push({ type: 'publishRole', role: 'warm', epoch: s.epoch })
  return { state: { ...s, phase: 'warm' }, effects }
}
