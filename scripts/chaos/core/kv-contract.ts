/**
 * What an answer of a key-value store means for the history, by status and error code. Pure.
 * The kv-leader table is the outcome contract of issue 12 (docs/proof.md has it as a table):
 * kv-leader decides every precondition in commit order and answers after commit, so a "not done"
 * answer is definite, and only an answer that cannot promise it leaves the outcome unknown.
 */

export type KvMethod = 'read' | 'write' | 'delete'

export type KvOutcome =
  /** Read: the key held a value (the body), or did not exist (a 404 from the service). */
  | { kind: 'read', found: boolean }
  /** Applied. `created`: 201 vs 200 for a write; a delete that succeeded found the key. */
  | { kind: 'applied', created?: boolean }
  /** Not applied, and what the store said about the state: `absent` (DELETE 404), `precondition` (412). */
  | { kind: 'observed', what: 'absent' | 'precondition' }
  /** Definitely not applied and nothing observed: the operation leaves the history. */
  | { kind: 'refused' }
  /** May take effect at any time after it was sent, or never. */
  | { kind: 'unknown' }

/** Codes after which kv-leader (or the gateway in front of it) guarantees nothing was or will be applied. */
const refusalCodes = new Set(['KVL_ERR_NOT_LEADER', 'KVL_ERR_NO_LEADER', 'GW_ERR_NO_UPSTREAM', 'HTTP_ERR_DEADLINE_PASSED'])

/**
 * kv-leader through the gateway. `status` undefined: no answer (client timeout, connection error).
 * Anything not in the contract's table is unknown: the checker can only be wrong by being too
 * permissive then, never by rejecting a correct store.
 */
export function kvLeaderOutcome (method: KvMethod, status: number | undefined, code: string | undefined): KvOutcome {
  if (status === undefined) return { kind: 'unknown' }
  if (method === 'read') {
    if (status === 200) return { kind: 'read', found: true }
    if (status === 404 && code === 'KVL_ERR_NOT_FOUND') return { kind: 'read', found: false }
    return { kind: 'unknown' } // a read that did not answer observed nothing: refused or unknown alike
  }
  if (method === 'write') {
    if (status === 201) return { kind: 'applied', created: true }
    if (status === 200) return { kind: 'applied', created: false }
  } else {
    if (status === 200 || status === 204) return { kind: 'applied' }
    if (status === 404 && code === 'KVL_ERR_NOT_FOUND') return { kind: 'observed', what: 'absent' }
  }
  if (status === 412 && code === 'KVL_ERR_VERSION_MISMATCH') return { kind: 'observed', what: 'precondition' }
  if ((status === 503 || status === 504) && code !== undefined && refusalCodes.has(code)) return { kind: 'refused' }
  if (status >= 400 && status < 500) return { kind: 'refused' }
  return { kind: 'unknown' }
}

/**
 * kv-quorum through the gateway: a write that missed its quorum may still have landed on some
 * replicas, so every failure is unknown; a 404 from the service is "not found".
 */
export function kvQuorumOutcome (method: KvMethod, status: number | undefined, code: string | undefined): KvOutcome {
  if (status === undefined) return { kind: 'unknown' }
  const notFound = status === 404 && code !== undefined && !code.startsWith('GW_ERR') && !code.startsWith('HTTP_ERR')
  if (method === 'read') {
    if (status === 200) return { kind: 'read', found: true }
    if (notFound) return { kind: 'read', found: false }
    return { kind: 'unknown' }
  }
  if (status === 200 || status === 201 || status === 204) return { kind: 'applied' }
  if (method === 'delete' && notFound) return { kind: 'observed', what: 'absent' }
  return { kind: 'unknown' }
}

/** The error code of a JSON error envelope (`{"error": code}`), if the body is one. */
export function errorCode (body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: unknown }).error
    return typeof code === 'string' && code !== '' ? code : undefined
  } catch {
    return undefined
  }
}

/** The code from a recorded failure cause (`http 503 KVL_ERR_NOT_LEADER`), for histories that did not record it apart. */
export function codeFromCause (cause: string | undefined): string | undefined {
  return /^http \d+ (\S+)/.exec(cause ?? '')?.[1]
}
