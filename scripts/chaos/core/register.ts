/**
 * The sequential specification of one key of a key-value store: a register with compare-and-set.
 * Pure. The linearizability checker searches for an order of a history's operations that this
 * specification accepts; the brute-force reference in the tests uses it directly.
 */

/** A register's state: the value, or null when the key does not exist. */
export type RegisterState = string | null

/**
 * What an `If-Match` asked for. Values are unique per write in the chaos workload and a version is
 * the log index of the write that stored it, so `If-Match: <version of write w>` holds exactly
 * when the current value is w's value (`{ value }`); `If-Match: *` holds when the key exists (`any`).
 */
export type Precondition = 'any' | { value: string }

interface OpBase {
  /** Unique within the history. */
  id: number
  key: string
  /** Monotonic time the request was sent. */
  invoke: number
  /**
   * Monotonic time the answer arrived. Undefined when the outcome is unknown (timeout, connection
   * lost, an answer that does not say): the operation may take effect at any time after `invoke`,
   * or never, and what it would have observed is not known.
   */
  complete?: number | undefined
  /** The `If-Match` the request carried. */
  ifMatch?: Precondition | undefined
}

export type RegisterOp =
  /**
   * `created`: the store answered 201 (the key did not exist) or 200 (it did); undefined when the
   * answer does not say. `preconditionFailed`: 412, the If-Match did not hold, nothing written.
   */
  | OpBase & { kind: 'write', value: string, created?: boolean | undefined, preconditionFailed?: boolean | undefined }
  /**
   * `found`: 200/204 (the key existed, it is gone now) or 404 (it did not exist, nothing done);
   * undefined when the answer does not say. `preconditionFailed`: 412, nothing deleted.
   */
  | OpBase & { kind: 'delete', found?: boolean | undefined, preconditionFailed?: boolean | undefined }
  /** `output`: the value read, or null for "not found". */
  | OpBase & { kind: 'read', output: RegisterState }

/** `write "v" If-Match "a" → 201`, for reports. */
export function describeOp (op: RegisterOp): string {
  const pre = op.ifMatch === undefined ? '' : op.ifMatch === 'any' ? ' If-Match *' : ` If-Match ${JSON.stringify(op.ifMatch.value)}`
  const answer = op.complete === undefined
    ? ' → outcome unknown'
    : op.kind === 'read'
      ? ` → ${op.output === null ? 'not found' : JSON.stringify(op.output)}`
      : op.preconditionFailed === true
        ? ' → 412 precondition failed'
        : op.kind === 'write'
          ? op.created === undefined ? ' → ok' : op.created ? ' → 201 created' : ' → 200 replaced'
          : op.found === undefined ? ' → ok' : op.found ? ' → deleted' : ' → 404 not found'
  const what = op.kind === 'write' ? `write ${JSON.stringify(op.value)}` : op.kind
  const span = `[${op.invoke.toFixed(1)} ms … ${op.complete === undefined ? '?' : op.complete.toFixed(1) + ' ms'}]`
  return `${what}${pre}${answer} ${span}`
}
