/**
 * The election rule of a lease whose holder leads a replica set (kv-leader), as a pure function.
 * The Lua in `redis-lease.ts` enforces the same rule atomically inside Redis; the contract test
 * (test/integration/lease-contract.test.ts) runs one table of cases through both.
 *
 * A candidate publishes its log position (epoch, index), with an expiry, and the newest epoch it
 * has seen. It may take a free lease only when:
 * - its log is at least as up to date as every live candidate's (Raft §5.4.1: by epoch, then
 *   index), so it holds every entry a live majority acknowledged;
 * - a majority (`quorum`) of positions, its own included, is visible: any committed entry is on
 *   a majority, and two majorities meet, so one of the visible logs holds it — and the candidate's
 *   log is at least as up to date as that one.
 * The new epoch passes every epoch a live candidate has seen (the floor), so a Redis that lost
 * its epoch counter never hands out an epoch again.
 */
export interface LogPosition { epoch: number, index: number }

export interface Candidate {
  id: string
  position: LogPosition
  /** Redis time (ms) after which the entry is ignored: that candidate stopped publishing. */
  expiresAt: number
  /** The newest epoch it has seen. */
  knownEpoch: number
}

export type ElectionVerdict =
  | { ok: true, floor: number }
  | { ok: false, reason: 'behind', than: string }
  | { ok: false, reason: 'no-quorum', live: number }

export function atLeastAsUpToDate (a: LogPosition, b: LogPosition): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.index >= b.index)
}

/**
 * May `me` (at `position`) take a free lease? `others` are the published candidates; `exclude`
 * is one to ignore (the holder whose connection is gone: it is dead, and an entry only it holds
 * was never acknowledged by a majority). `floor` is the newest epoch `me` has seen.
 */
function electionVerdict (me: { id: string, position: LogPosition, floor: number }, others: readonly Candidate[], now: number, quorum: number, exclude?: string): ElectionVerdict {
  let live = 1
  let floor = me.floor
  for (const c of others) {
    if (c.id === me.id || c.id === exclude || c.expiresAt <= now) continue
    if (!atLeastAsUpToDate(me.position, c.position)) return { ok: false, reason: 'behind', than: c.id }
    live++
    floor = Math.max(floor, c.knownEpoch)
  }
  if (live < quorum) return { ok: false, reason: 'no-quorum', live }
  return { ok: true, floor }
}

/**
 * The epoch a new holder gets: the one it held before, when nobody took one since (the counter
 * still says so — a holder that missed renewals while alive resumes rather than starts a new
 * term), else one past both the counter and the floor.
 */
function nextEpoch (counter: number | undefined, floor: number, resume: number): number {
  if (resume > 0 && counter === resume && resume >= floor) return resume
  return Math.max(counter ?? 0, floor) + 1
}

/** The lease as Redis holds it. */
export interface Holder { owner: string, epoch: number, client: string, candidate: string }

/** What a contender asks for. `election` is set for a lease that leads a replica set. */
export interface LeaseRequest {
  owner: string
  client: string
  /** The newest epoch the contender has seen (its own, the downstream's). */
  floor: number
  /** The epoch the contender held last (0: none): resumed when nobody took a newer one. */
  resume: number
  election?: { candidate: string, position: LogPosition, quorum: number }
}

export interface LeaseDecision { granted: boolean, epoch: number, holder: Holder | undefined, reason: string }

/**
 * The acquire script as a pure function (the Lua is checked against it): renew our own lease;
 * refuse while another holds it; take a free one — resuming our epoch if nobody took a newer
 * one, else (after the election rule, when there is one) with a new epoch past the floor.
 */
export function decideAcquire (holder: Holder | undefined, counter: number | undefined, candidates: readonly Candidate[], req: LeaseRequest, now: number): LeaseDecision {
  if (holder !== undefined && holder.owner === req.owner) return { granted: true, epoch: holder.epoch, holder: { ...holder, client: req.client }, reason: '' }
  if (holder !== undefined) return { granted: false, epoch: holder.epoch, holder, reason: 'held' }
  return take(counter, candidates, req, now, undefined)
}

/** The steal script: take the lease from `seen` (a holder whose connection is gone) if it is still exactly that holder, or free. */
export function decideSteal (holder: Holder | undefined, seen: Holder, counter: number | undefined, candidates: readonly Candidate[], req: LeaseRequest, now: number): LeaseDecision {
  if (holder !== undefined && (holder.owner !== seen.owner || holder.epoch !== seen.epoch || holder.client !== seen.client)) {
    return { granted: false, epoch: holder.epoch, holder, reason: 'held' }
  }
  return take(counter, candidates, { ...req, resume: 0 }, now, seen.candidate === '' ? undefined : seen.candidate)
}

function take (counter: number | undefined, candidates: readonly Candidate[], req: LeaseRequest, now: number, exclude: string | undefined): LeaseDecision {
  const resumes = req.resume > 0 && counter === req.resume && req.resume >= req.floor
  let floor = req.floor
  if (!resumes && req.election !== undefined) {
    const verdict = electionVerdict({ id: req.election.candidate, position: req.election.position, floor }, candidates, now, req.election.quorum, exclude)
    if (!verdict.ok) return { granted: false, epoch: 0, holder: undefined, reason: verdict.reason === 'behind' ? `behind:${verdict.than}` : 'no-quorum' }
    floor = verdict.floor
  }
  const epoch = nextEpoch(counter, floor, resumes ? req.resume : 0)
  return { granted: true, epoch, holder: { owner: req.owner, epoch, client: req.client, candidate: req.election?.candidate ?? '' }, reason: '' }
}
