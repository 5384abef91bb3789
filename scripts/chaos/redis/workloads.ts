import { errorCause, type Interpreted, type PlannedOp, type Workload } from '../workloads.js'

/**
 * The two writing workloads of the Redis failover run, each keeping what was acknowledged so the
 * run can look for it on the final primary. Every request carries an Idempotency-Key (so the
 * gateway may retry it) that is unique to the request.
 */
export interface Acknowledgements {
  /** Feed events: the id of every 202/200. */
  events: string[]
  /** Compute jobs: the id of every 202. */
  jobs: string[]
}

function acknowledged (op: PlannedOp, status: number, body: string, ok: (s: number) => boolean, keep: (id: string) => void): Interpreted {
  if (!ok(status)) return { outcome: 'fail', cause: errorCause(status, body) }
  let id: unknown
  try { id = (JSON.parse(body) as { id?: unknown }).id } catch {}
  if (typeof id !== 'string' || id === '') return { outcome: 'fail', cause: `http ${status} without an id (${op.path})` }
  keep(id)
  return { outcome: 'ok' }
}

/** The feed account names of a run: `ha-<run>-<n>`. */
export const feedAccount = (runId: string, n: number): string => `ha-${runId}-${n}`

/**
 * `POST /api/feed/events` with a unique amount per request (its sequence number + 1), so a
 * request appended twice shows as two entries with one amount (`duplicateAppends`).
 */
export function acknowledgingFeed (runId: string, acks: Acknowledgements, rate = 50): Workload {
  return {
    name: 'feed',
    service: 'feed',
    shape: 'pipeline',
    idempotent: false,
    rate,
    next: (seq) => ({
      method: 'POST',
      path: '/api/feed/events',
      body: JSON.stringify({ account: feedAccount(runId, seq % 8), amount: seq + 1 }),
      headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-e${seq}` },
      kind: 'request'
    }),
    interpret: (op, status, body) => acknowledged(op, status, body, (s) => s === 202 || s === 200, (id) => acks.events.push(id))
  }
}

/** `POST /api/compute/jobs`: small primes jobs. */
export function acknowledgingJobs (runId: string, acks: Acknowledgements, rate = 2): Workload {
  return {
    name: 'compute jobs',
    service: 'compute',
    shape: 'pipeline',
    idempotent: false,
    rate,
    next: (seq) => ({
      method: 'POST',
      path: '/api/compute/jobs',
      body: JSON.stringify({ task: 'primes', params: { limit: 1_000 + (seq % 100) } }),
      headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-j${seq}` },
      kind: 'request'
    }),
    interpret: (op, status, body) => acknowledged(op, status, body, (s) => s === 202, (id) => acks.jobs.push(id))
  }
}
