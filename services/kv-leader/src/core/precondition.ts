import type { ApplyResult, Entry } from './types.js'

/**
 * Decides what a write entry does to the version it finds (`current`, null when the key is
 * absent), evaluated when the entry is applied, in log order, on every replica alike (as etcd
 * evaluates a transaction's compare inside the state machine). An answer never comes from state
 * that is not committed yet. Order of RFC 9110 §13.2.2: If-Match, then If-None-Match, then the
 * method's own rule (a DELETE needs something to delete).
 */
export function decide (entry: Entry, current: number | null): ApplyResult {
  const key = entry.key ?? ''
  const cond = entry.cond
  if (cond?.ifMatch !== undefined && !matches(cond.ifMatch, current)) {
    return { applied: false, code: 'KVL_ERR_VERSION_MISMATCH', message: `If-Match ${describe(cond.ifMatch)} does not hold for "${key}" at version ${current ?? '(none)'}` }
  }
  if (cond?.ifNoneMatch !== undefined && matches(cond.ifNoneMatch, current)) {
    return { applied: false, code: 'KVL_ERR_VERSION_MISMATCH', message: `If-None-Match ${describe(cond.ifNoneMatch)} does not hold for "${key}" at version ${current ?? '(none)'}` }
  }
  if (entry.op === 'del' && current === null) return { applied: false, code: 'KVL_ERR_NOT_FOUND', message: `no key "${key}"` }
  return { applied: true, version: entry.index, created: current === null }
}

function matches (tags: 'any' | readonly number[], current: number | null): boolean {
  if (current === null) return false
  return tags === 'any' || tags.includes(current)
}

function describe (tags: 'any' | readonly number[]): string {
  return tags === 'any' ? '*' : tags.map((t) => `"${t}"`).join(', ')
}
