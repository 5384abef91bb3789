/**
 * Whether and how a stored response answers a request (RFC 9111 §4, §4.2.4, RFC 5861): pure
 * functions of the stored response's policy and age, the request's directives and the time.
 */
import { currentAgeMs } from './age.js'
import type { ResponsePolicy } from './policy.js'
import type { RequestPolicy } from './request-policy.js'

/** The timing facts of a stored response. */
export interface StoredTiming {
  policy: ResponsePolicy
  /** corrected_initial_age (RFC 9111 §4.2.3). */
  initialAgeMs: number
  responseTime: number
}

/**
 * - `fresh`: answer from the cache;
 * - `stale-ok`: stale, but the client allows it (`max-stale`): answer from the cache;
 * - `stale-while-revalidate`: answer stale now, refresh in the background (RFC 5861 §3);
 * - `revalidate`: ask the origin with the stored validators first (§4.3);
 * - `fetch`: ask the origin for a full response (nothing to validate with);
 * - `bypass`: the stored response may not answer this request at all (Authorization, §3.5).
 */
export type Reuse = 'fresh' | 'stale-ok' | 'stale-while-revalidate' | 'revalidate' | 'fetch' | 'bypass'

export function reuse (stored: StoredTiming, request: RequestPolicy, now: number): Reuse {
  const { policy } = stored
  if (request.authorization && !policy.authorized) return 'bypass'
  const toOrigin: Reuse = policy.etag !== undefined || policy.lastModified !== undefined ? 'revalidate' : 'fetch'
  if (policy.noCache || request.noCache) return toOrigin
  const age = currentAgeMs(stored.initialAgeMs, stored.responseTime, now)
  if (request.maxAgeMs !== undefined && age > request.maxAgeMs) return toOrigin
  if (request.minFreshMs !== undefined && policy.lifetimeMs - age < request.minFreshMs) return toOrigin
  if (age < policy.lifetimeMs) return 'fresh'
  if (policy.mustRevalidate) return toOrigin
  const staleness = age - policy.lifetimeMs
  if (request.maxStaleMs !== undefined && staleness <= request.maxStaleMs) return 'stale-ok'
  if (staleness < policy.staleWhileRevalidateMs) return 'stale-while-revalidate'
  return toOrigin
}

/**
 * Whether the stored response may stand in for an origin that failed (RFC 5861 §4: a 500,
 * 502, 503 or 504, a broken connection, or no instance at all): within its `stale-if-error`
 * window (or the service's default, or the request's), and never when the origin demanded
 * validation (`no-cache`, `must-revalidate`, `proxy-revalidate`, `s-maxage`: RFC 9111 §4.2.4).
 */
export function servableOnError (stored: StoredTiming, request: RequestPolicy, now: number): boolean {
  const { policy } = stored
  if (policy.noCache || policy.mustRevalidate) return false
  if (request.authorization && !policy.authorized) return false
  const staleness = Math.max(0, currentAgeMs(stored.initialAgeMs, stored.responseTime, now) - policy.lifetimeMs)
  return staleness < Math.max(policy.staleIfErrorMs, request.staleIfErrorMs ?? 0)
}

/** The statuses that count as an error for stale-if-error (RFC 5861 §4). */
export function isErrorStatus (status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504
}
