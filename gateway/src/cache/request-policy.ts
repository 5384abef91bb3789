/**
 * What a GET or HEAD asks of the cache (RFC 9111 §5.2.1 request directives, `Pragma` §5.4,
 * `Authorization` §3.5, conditionals and ranges). A request carrying none of these fields —
 * the common case — gets one shared answer without parsing anything.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { deltaSeconds, parseCacheControl } from './directives.js'

export interface RequestPolicy {
  /** `no-cache` (or `Pragma: no-cache` without Cache-Control): validate before using a stored response. */
  noCache: boolean
  /** `no-store`: neither use nor store. */
  noStore: boolean
  /** `only-if-cached`: a stored response or 504, never the origin. */
  onlyIfCached: boolean
  /** `max-age`: not older than this (ms). */
  maxAgeMs?: number
  /** `min-fresh`: fresh for at least this much longer (ms). */
  minFreshMs?: number
  /** `max-stale`: stale by at most this much is fine (ms; Infinity without an argument). */
  maxStaleMs?: number
  /** `stale-if-error` (RFC 5861 §4) in the request: on an error, stale by this much is fine (ms). */
  staleIfErrorMs?: number
  authorization: boolean
  /** Preconditions a cache does not evaluate (If-Match, If-Unmodified-Since): the origin must. */
  preconditions: boolean
  range: boolean
}

const plain: RequestPolicy = Object.freeze({ noCache: false, noStore: false, onlyIfCached: false, authorization: false, preconditions: false, range: false })

export function requestPolicy (headers: IncomingHttpHeaders): RequestPolicy {
  const cc = headers['cache-control']
  if (cc === undefined && headers.pragma === undefined && headers.authorization === undefined &&
    headers['if-match'] === undefined && headers['if-unmodified-since'] === undefined && headers.range === undefined) return plain
  const d = parseCacheControl(cc)
  const seconds = (name: string): number | undefined => {
    const s = deltaSeconds(d.get(name))
    return s === undefined ? undefined : s * 1_000
  }
  const maxStale = d.has('max-stale') ? (d.get('max-stale') === '' ? Infinity : seconds('max-stale')) : undefined
  const maxAge = seconds('max-age')
  const minFresh = seconds('min-fresh')
  const staleIfError = seconds('stale-if-error')
  return {
    noCache: d.has('no-cache') || (cc === undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(String(headers.pragma ?? ''))),
    noStore: d.has('no-store'),
    onlyIfCached: d.has('only-if-cached'),
    ...(maxAge === undefined ? {} : { maxAgeMs: maxAge }),
    ...(minFresh === undefined ? {} : { minFreshMs: minFresh }),
    ...(maxStale === undefined ? {} : { maxStaleMs: maxStale }),
    ...(staleIfError === undefined ? {} : { staleIfErrorMs: staleIfError }),
    authorization: headers.authorization !== undefined,
    preconditions: headers['if-match'] !== undefined || headers['if-unmodified-since'] !== undefined,
    range: headers.range !== undefined
  }
}
