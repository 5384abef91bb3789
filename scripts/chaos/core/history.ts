import type { RegisterOp } from './linearizability.js'

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
  /** What a read returned; null for 404. */
  output?: string | null
  /** For a delete: 200/204 (true) or 404 (false). */
  found?: boolean
  /** `x-instance-id` of the response. */
  instance?: string
  /** `load` during the chaos; `readback` for the final quiet reads of every key. */
  phase: 'load' | 'readback'
}

/**
 * The register view of a key-value workload's records, for the linearizability and stale-read
 * checks: acknowledged operations with their times; failed writes and deletes as operations of
 * unknown outcome (they may have been applied); failed reads and never-sent operations dropped.
 */
export function registerOps (records: readonly OpRecord[]): RegisterOp[] {
  const ops: RegisterOp[] = []
  for (const r of records) {
    if (r.key === undefined || r.invoke === undefined || r.kind === 'request') continue
    const complete = r.outcome === 'ok' ? r.complete : undefined
    const base = { id: r.seq, key: r.key, invoke: r.invoke, complete }
    if (r.kind === 'write') ops.push({ ...base, kind: 'write', value: r.value ?? '' })
    else if (r.kind === 'delete') ops.push({ ...base, kind: 'delete', found: r.outcome === 'ok' ? r.found : undefined })
    else if (r.outcome === 'ok') ops.push({ ...base, kind: 'read', output: r.output ?? null })
  }
  return ops
}
