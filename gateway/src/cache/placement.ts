/**
 * Where a new response goes among a URI's stored records. A URI whose responses do not vary has
 * its response under the URI's key; one whose responses vary has a VaryRecord there (the names
 * and a generation) and each variant under `<key>#<generation><variant key>`. A new response is
 * computed for one key (the one whose miss or refresh fetched it); placing it may also rewrite
 * the URI's record when what it varies on changed. Pure.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { StoredRecord, StoredResponse, VaryRecord } from './stored.js'
import { sameNames, variantKey } from './vary.js'

export interface Write {
  key: string
  value: StoredRecord
  ttlMs: number
}

export interface Placement {
  /** What to store under the key that was fetched for (ttl 0: nothing). */
  here: { value: StoredRecord, ttlMs: number }
  /** Other records to write. */
  writes: Write[]
}

export interface FetchedFor {
  /** The URI's key. */
  primary: string
  /** The key the response was fetched for: the URI's, or a variant's. */
  key: string
  /** The URI's VaryRecord when the key is a variant's. */
  index?: VaryRecord | undefined
}

export function variantStorageKey (primary: string, index: VaryRecord, headers: IncomingHttpHeaders): string {
  return `${primary}#${index.generation}${variantKey(index.names, headers)}`
}

/**
 * `generation` is used only when a new VaryRecord is needed; `indexTtlMs` is how long a
 * VaryRecord lives (as long as any variant may).
 */
export function place (response: StoredResponse, retentionMs: number, fetched: FetchedFor, headers: IncomingHttpHeaders, generation: string, indexTtlMs: number): Placement {
  if (response.vary.length === 0) {
    if (fetched.key === fetched.primary) return { here: { value: response, ttlMs: retentionMs }, writes: [] }
    // the URI's responses no longer vary: its key holds the response again
    return { here: { value: response, ttlMs: 0 }, writes: [{ key: fetched.primary, value: response, ttlMs: retentionMs }] }
  }
  if (fetched.index !== undefined && sameNames(fetched.index.names, response.vary)) {
    return { here: { value: response, ttlMs: retentionMs }, writes: [] }
  }
  const index: VaryRecord = { kind: 'vary', names: response.vary, generation }
  const variant: Write = { key: variantStorageKey(fetched.primary, index, headers), value: response, ttlMs: retentionMs }
  if (fetched.key === fetched.primary) return { here: { value: index, ttlMs: indexTtlMs }, writes: [variant] }
  return { here: { value: response, ttlMs: 0 }, writes: [variant, { key: fetched.primary, value: index, ttlMs: indexTtlMs }] }
}
