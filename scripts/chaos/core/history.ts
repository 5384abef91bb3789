import { codeFromCause, kvLeaderOutcome } from './kv-contract.js'
import type { Precondition, RegisterOp } from './register.js'

/**
 * One operation of the chaos run's own client, as recorded. Times are monotonic milliseconds
 * since the run started (performance.now based), never wall-clock.
 */
export interface OpRecord {
  seq: number
  workload: string
  /** `request` for workloads with no register semantics (echo, compute, feed). */
  kind: 'request' | 'read' | 'write' | 'delete'
  key?: string
  /** The unique value a write sent. */
  value?: string
  /** GET/HEAD: safe to retry, counted apart. */
  idempotent: boolean
  /** When the open-loop schedule meant to send it: latency is measured from here (no coordinated omission). */
  intended: number
  /** When it was actually sent (undefined: never sent, the client was saturated). */
  invoke: number | undefined
  /** When the response (or the timeout) came. */
  complete: number
  outcome: 'ok' | 'fail'
  status?: number
  /** Why it failed: `http 503 GW_ERR_NO_UPSTREAM`, `timeout`, `ECONNREFUSED`, `client saturated`. */
  cause?: string
  /** The error code of the answer's JSON envelope (absent in histories recorded before it was kept). */
  code?: string
  /** The `If-Match` header sent: `*` or a version (`"12"`). */
  ifMatch?: string
  /** The value the workload had learned that the If-Match version holds (values are unique per write). */
  ifValue?: string
  /** The version the answer carried (`etag` of a read, `version` of a write). */
  version?: number
  /** The id the feed acknowledged (202 `{"id"}`). */
  ackId?: string
  /** What a read returned; null for 404. */
  output?: string | null
  /** For a delete: 200/204 (true) or 404 (false). Informative: the checks read `status` and `code`. */
  found?: boolean
  /** `x-instance-id` of the response. */
  instance?: string
  /** `load` during the chaos; `readback` for the final quiet reads of every key. */
  phase: 'load' | 'readback'
}

/**
 * The register view of a key-value workload's records, for the linearizability and stale-read
 * checks, read through the store's outcome table (`kv-contract.ts`): answered operations with
 * their observations; operations of unknown outcome without a completion; definite refusals and
 * never-sent operations left out. Reads histories written before the table existed too (no
 * `code` field: the code comes from the failure cause; no If-Match).
 */
export function registerOps (records: readonly OpRecord[], outcomeOf: typeof kvLeaderOutcome = kvLeaderOutcome): RegisterOp[] {
  const ops: RegisterOp[] = []
  for (const r of records) {
    if (r.key === undefined || r.invoke === undefined || r.kind === 'request') continue
    const outcome = outcomeOf(r.kind, r.status, codeOf(r))
    if (outcome.kind === 'refused') continue
    const known = outcome.kind !== 'unknown'
    const base = { id: r.seq, key: r.key, invoke: r.invoke, complete: known ? r.complete : undefined, ...preconditionOf(r) }
    if (r.kind === 'read') {
      if (outcome.kind === 'read') ops.push({ ...base, kind: 'read', output: outcome.found ? r.output ?? '' : null })
    } else if (r.kind === 'write') {
      ops.push({
        ...base,
        kind: 'write',
        value: r.value ?? '',
        ...(outcome.kind === 'applied' && outcome.created !== undefined ? { created: outcome.created } : {}),
        ...(outcome.kind === 'observed' ? { preconditionFailed: true } : {})
      })
    } else {
      ops.push({
        ...base,
        kind: 'delete',
        ...(outcome.kind === 'applied' ? { found: true } : {}),
        ...(outcome.kind === 'observed' ? (outcome.what === 'absent' ? { found: false } : { preconditionFailed: true }) : {})
      })
    }
  }
  return ops
}

/**
 * The answer's error code. Histories recorded before the code was kept have it in the failure
 * cause; their successful 404s (a read or delete of a missing key) had already been checked to be
 * the service's own "not found", not the gateway's.
 */
function codeOf (r: OpRecord): string | undefined {
  if (r.code !== undefined) return r.code
  if (r.outcome === 'ok' && r.status === 404) return r.workload === 'kv-quorum' ? 'KVQ_ERR_NOT_FOUND' : 'KVL_ERR_NOT_FOUND'
  return codeFromCause(r.cause)
}

function preconditionOf (r: OpRecord): { ifMatch?: Precondition } {
  if (r.ifMatch === undefined) return {}
  if (r.ifMatch.trim() === '*') return { ifMatch: 'any' }
  if (r.ifValue === undefined) throw new Error(`history record ${r.seq}: If-Match ${r.ifMatch} without the value that version holds (ifValue)`)
  return { ifMatch: { value: r.ifValue } }
}
