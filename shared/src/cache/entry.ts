/**
 * The pure rules of the two-tier cache: how keys are named, how a TTL is jittered, and when a
 * stored entry is fresh, stale (servable while it is revalidated) or dead. No I/O, no clock.
 */

/** What both tiers store: the value and the two instants that decide how it may be served. */
export interface CacheEntry<T> {
  value: T
  /** Epoch ms until which the entry is fresh. */
  freshUntil: number
  /** Epoch ms until which it may still be served stale while one caller revalidates it (≥ freshUntil). */
  staleUntil: number
  /** Epoch ms at which it was stored, for `Age`. */
  storedAt: number
}

export type Freshness = 'fresh' | 'stale' | 'dead'

export function freshness (entry: Pick<CacheEntry<unknown>, 'freshUntil' | 'staleUntil'>, now: number): Freshness {
  if (now < entry.freshUntil) return 'fresh'
  if (now < entry.staleUntil) return 'stale'
  return 'dead'
}

/**
 * `<prefix>:cache:<namespace>:v<version>:<key>`. Bumping the version orphans every old entry
 * at once (they expire on their own), so a change of value format never reads old bytes.
 */
export function namespacedKey (prefix: string, namespace: string, version: number, key: string): string {
  return `${prefix}:cache:${namespace}:v${version}:${key}`
}

/**
 * Spreads expiries so entries filled together do not all expire together (a synchronized
 * stampede): the TTL is scaled by a factor in [1 - jitter, 1 + jitter], never below 1 ms.
 */
export function jitteredTtl (ttlMs: number, jitter: number, random: () => number): number {
  if (ttlMs <= 0 || jitter <= 0) return ttlMs
  const factor = 1 + jitter * (2 * random() - 1)
  return Math.max(1, Math.round(ttlMs * factor))
}

/** Builds the entry stored for a value computed at `now` with a (jittered) TTL and a stale window. */
export function makeEntry<T> (value: T, now: number, ttlMs: number, staleMs: number): CacheEntry<T> {
  return { value, storedAt: now, freshUntil: now + ttlMs, staleUntil: now + ttlMs + Math.max(0, staleMs) }
}

/** Reads back an entry from its JSON form; anything malformed is treated as absent. */
export function parseEntry<T> (raw: string | null): CacheEntry<T> | undefined {
  if (raw === null) return undefined
  try {
    const e = JSON.parse(raw) as CacheEntry<T>
    if (typeof e !== 'object' || e === null || typeof e.freshUntil !== 'number' || typeof e.staleUntil !== 'number' || !('value' in e)) return undefined
    return e
  } catch {
    return undefined
  }
}
