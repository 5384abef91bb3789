/**
 * The pure decision logic of a lease holder: what it believes, on its own monotonic clock, and
 * what it should do next. No I/O and no clock reads: the driver (`LeaseKeeper`) passes `now`
 * (ms from a monotonic clock) and feeds back what Redis answered.
 *
 * Safety rests on two things: a holder trusts its lease only until `sentAt + ttl - margin`,
 * measured from *before* the request that granted it (so network and Redis time count against
 * it), and every holder carries the fencing epoch so the downstream can refuse an older one.
 */
export interface LeaseTimings {
  /** Lease time-to-live in Redis. */
  ttlMs: number
  /** How often the holder renews; well inside the TTL. */
  renewMs: number
  /** How often a non-holder tries to acquire. */
  retryMs: number
  /** Safety margin subtracted from the local validity (clock drift between us and Redis). */
  marginMs: number
}

export interface LeaseState {
  held: boolean
  /** The epoch we hold, or the last epoch we saw someone else hold. */
  epoch: number
  /** Who holds it as far as we know (owner token), '' when unknown or free. */
  holder: string
  /** Local monotonic deadline of our lease (meaningless when !held). */
  validUntil: number
}

export type LeaseEvent =
  /** Redis granted (acquire or renew) a request we sent at `sentAt`. */
  | { type: 'granted', epoch: number, owner: string, sentAt: number }
  /** Someone else holds it. */
  | { type: 'refused', epoch: number, holder: string }
  /** Redis did not answer; nothing learned. */
  | { type: 'failed' }
  /** We stop acting as holder for now (shutdown, or the lease lapsed by our clock): the epoch may be resumed. */
  | { type: 'dropped' }
  /** The downstream refused our epoch (older than its newest, or claimed by another holder): never resume it. */
  | { type: 'fenced' }

export const initialLeaseState: LeaseState = Object.freeze({ held: false, epoch: 0, holder: '', validUntil: 0 })

export function reduceLease (state: LeaseState, event: LeaseEvent, t: LeaseTimings): LeaseState {
  switch (event.type) {
    case 'granted':
      return { held: true, epoch: event.epoch, holder: event.owner, validUntil: event.sentAt + t.ttlMs - t.marginMs }
    case 'refused':
      return { held: false, epoch: Math.max(state.epoch, event.epoch), holder: event.holder, validUntil: 0 }
    case 'failed':
      // keep the local deadline: `holds()` lets it lapse on its own if Redis stays away
      return state
    case 'dropped':
      return { ...state, held: false, validUntil: 0 }
    case 'fenced':
      return { ...state, held: false, holder: '', validUntil: 0 }
  }
}

/**
 * Whether a contender may take the lease from a holder whose Redis connection looks gone. Not
 * within one TTL of our own client reconnecting (a failover to another primary, where every
 * connection id is new and the holder's old one is "gone" though the holder is alive): by then a
 * live holder has renewed and recorded its new connection. `reconnectedAt` is undefined while
 * our first connection lasts.
 */
export function fastTakeoverAllowed (now: number, reconnectedAt: number | undefined, t: Pick<LeaseTimings, 'ttlMs'>): boolean {
  return reconnectedAt === undefined || now - reconnectedAt >= t.ttlMs
}

/** Whether we may act as the holder right now. */
export function holdsLease (state: LeaseState, now: number): boolean {
  return state.held && now < state.validUntil
}

export type LeaseAction = 'renew' | 'acquire'

/** What to do next and after how long. A holder whose lease lapsed locally re-acquires at once. */
export function nextLeaseAction (state: LeaseState, now: number, t: LeaseTimings): { action: LeaseAction, delayMs: number } {
  if (holdsLease(state, now)) return { action: 'renew', delayMs: Math.min(t.renewMs, Math.max(0, state.validUntil - now)) }
  return { action: 'acquire', delayMs: state.held ? 0 : t.retryMs }
}

/** Rejects timings that could not keep a lease safely (renewal not well inside the TTL). */
export function checkLeaseTimings (t: LeaseTimings): string[] {
  const problems: string[] = []
  if (t.ttlMs <= 0) problems.push('ttlMs must be positive')
  if (t.renewMs * 2 > t.ttlMs) problems.push(`renewMs (${t.renewMs}) must be at most half of ttlMs (${t.ttlMs})`)
  if (t.marginMs < 0 || t.marginMs >= t.ttlMs - t.renewMs) problems.push(`marginMs (${t.marginMs}) must be 0 ≤ margin < ttlMs - renewMs`)
  if (t.retryMs <= 0) problems.push('retryMs must be positive')
  return problems
}
