/**
 * The pure rules of the gateway response cache as a shared cache (RFC 9111, RFC 9213, RFC
 * 5861): which directives govern it, whether a response may be stored, how long it is fresh
 * and may be served stale, which of its fields are kept, and the cache key. No I/O, no clock:
 * every instant is an argument.
 */
import { deltaSeconds, fieldNames, parseCacheControl, parseCdnCacheControl, type Directives } from './directives.js'
import { parseHttpDate } from './http-date.js'

export type HeaderMap = Record<string, string | string[] | number | undefined>

export interface PolicyOptions {
  /** Upper bound on any freshness lifetime (`GW_CACHE_MAX_TTL_MS`). */
  maxTtlMs: number
  /** Upper bound on any stale window (`GW_CACHE_MAX_STALE_MS`). */
  maxStaleMs: number
  /** The service's stale-if-error window when the response names none (its routing policy's `staleIfErrorS`). */
  defaultStaleIfErrorMs: number
}

/** What the cache needs to know about a stored response to decide how to use it. */
export interface ResponsePolicy {
  /**
   * Freshness lifetime (RFC 9111 §4.2.1), capped so that the response is fresh here at most
   * `maxTtlMs` after it arrived: at its initial age plus `maxTtlMs`.
   */
  lifetimeMs: number
  /** It came from heuristics (RFC 9111 §4.2.2), not from the origin. */
  heuristic: boolean
  /** RFC 5861 §3: served stale this long past its lifetime while one request refreshes it. */
  staleWhileRevalidateMs: number
  /** RFC 5861 §4 (or the service's default): served stale this long when the origin fails. */
  staleIfErrorMs: number
  /** `must-revalidate`, `proxy-revalidate` or `s-maxage` (RFC 9111 §5.2.2.2, .8, .10): never served stale. */
  mustRevalidate: boolean
  /** Unqualified `no-cache` (§5.2.2.4): validated before every use. */
  noCache: boolean
  /** `public`, `s-maxage` or `must-revalidate`: may answer requests with `Authorization` (§3.5). */
  authorized: boolean
  /** Validators for conditional requests (RFC 9110 §8.8). */
  etag?: string
  lastModified?: string
}

/**
 * The directives this cache obeys: a valid `CDN-Cache-Control` replaces `Cache-Control` and
 * `Expires` entirely (RFC 9213 §2.1); otherwise `Cache-Control`.
 */
function governingDirectives (headers: HeaderMap): { directives: Directives, targeted: boolean } {
  const targeted = parseCdnCacheControl(headers['cdn-cache-control'])
  if (targeted !== undefined) return { directives: targeted, targeted: true }
  return { directives: parseCacheControl(headers['cache-control']), targeted: false }
}

/** Status codes defined as heuristically cacheable (RFC 9110 §15.1). */
const heuristicallyCacheable: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501])

/** Status codes this cache understands, for `must-understand` (RFC 9111 §5.2.2.3). */
const understood: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
  500, 501, 502, 503, 504, 505
])

/** Heuristic freshness: this share of the time since Last-Modified (RFC 9111 §4.2.2)… */
const heuristicFraction = 0.1
/** …and never more than a day. */
const heuristicMaxMs = 86_400_000

/**
 * The policy of a response received at `responseTime`, `initialAgeMs` old when it arrived
 * (RFC 9111 §4.2.3). Freshness comes from `s-maxage`, else `max-age`, else `Expires` − `Date`
 * (§4.2.1), else heuristics from `Last-Modified` for heuristically cacheable statuses or
 * `public` responses (§4.2.2). An invalid freshness directive or `Expires` makes the response
 * stale rather than heuristically fresh (§4.2.1). `maxTtlMs` bounds how long it stays fresh
 * here, not its lifetime: a response that arrives an hour old with `max-age=10000` is fresh
 * for `maxTtlMs` more, not stale on arrival.
 */
export function responsePolicy (status: number, headers: HeaderMap, responseTime: number, options: PolicyOptions, initialAgeMs = 0): ResponsePolicy {
  const { directives, targeted } = governingDirectives(headers)
  const dateMs = parseHttpDate(headers.date, responseTime)
  let lifetimeS: number | undefined
  let heuristic = false
  if (directives.has('s-maxage')) lifetimeS = deltaSeconds(directives.get('s-maxage')) ?? 0
  else if (directives.has('max-age')) lifetimeS = deltaSeconds(directives.get('max-age')) ?? 0
  else if (!targeted && headers.expires !== undefined) {
    const expires = parseHttpDate(headers.expires, responseTime)
    lifetimeS = expires === undefined ? 0 : Math.max(0, (expires - (dateMs ?? responseTime)) / 1_000)
  }
  let lifetimeMs = lifetimeS === undefined ? 0 : lifetimeS * 1_000
  const lastModified = singleValue(headers['last-modified'])
  if (lifetimeS === undefined && (heuristicallyCacheable.has(status) || directives.has('public'))) {
    const modified = parseHttpDate(lastModified, responseTime)
    const base = dateMs ?? responseTime
    if (modified !== undefined && modified < base) {
      lifetimeMs = Math.min(heuristicMaxMs, (base - modified) * heuristicFraction)
      heuristic = true
    }
  }
  const mustRevalidate = directives.has('must-revalidate') || directives.has('proxy-revalidate') || directives.has('s-maxage')
  const staleWindow = (name: string): number => Math.min(options.maxStaleMs, (deltaSeconds(directives.get(name)) ?? 0) * 1_000)
  const etag = singleValue(headers.etag)
  return {
    lifetimeMs: Math.min(lifetimeMs, initialAgeMs + options.maxTtlMs),
    heuristic,
    staleWhileRevalidateMs: staleWindow('stale-while-revalidate'),
    staleIfErrorMs: Math.max(staleWindow('stale-if-error'), Math.min(options.maxStaleMs, options.defaultStaleIfErrorMs)),
    mustRevalidate,
    noCache: directives.has('no-cache') && fieldNames(directives.get('no-cache')).length === 0,
    authorized: directives.has('public') || directives.has('s-maxage') || directives.has('must-revalidate'),
    ...(etag === undefined ? {} : { etag }),
    ...(lastModified === undefined ? {} : { lastModified })
  }
}

export interface StoreContext {
  /** The request carried `Authorization`. */
  authorization: boolean
  /** The request asked for a range (a 206 or a range-less answer to it is not the whole resource). */
  range: boolean
  /** The request said `Cache-Control: no-store`. */
  noStore: boolean
}

/**
 * Whether a response to a GET may be stored by this shared cache (RFC 9111 §3): a final,
 * complete response (no 1xx, 206, 304), not forbidden (`no-store` unless `must-understand`
 * with an understood status, unqualified `private`, `Vary: *`, `Authorization` without
 * `public`/`s-maxage`/`must-revalidate`), allowed (explicit freshness, `public`, or a
 * heuristically cacheable status), and worth it (fresh for a while, or revalidatable, or
 * servable stale by the origin's own leave).
 */
export function isStorable (status: number, headers: HeaderMap, policy: ResponsePolicy, ctx: StoreContext): boolean {
  if (status < 200 || status === 206 || status === 304 || ctx.range || ctx.noStore) return false
  const { directives, targeted } = governingDirectives(headers)
  if (directives.has('must-understand')) {
    if (!understood.has(status)) return false
  } else if (directives.has('no-store')) {
    return false
  }
  if (directives.has('private') && fieldNames(directives.get('private')).length === 0) return false
  if (ctx.authorization && !policy.authorized) return false
  if (varyIsStar(headers.vary)) return false
  const allowed = directives.has('public') || directives.has('s-maxage') || directives.has('max-age') ||
    (!targeted && headers.expires !== undefined) || heuristicallyCacheable.has(status)
  if (!allowed) return false
  const originStale = directives.has('stale-while-revalidate') || directives.has('stale-if-error')
  return policy.lifetimeMs > 0 || policy.etag !== undefined || policy.lastModified !== undefined || originStale
}

/**
 * How long to keep an entry from its arrival, `initialAgeMs` old: what is left of its freshness,
 * then its stale windows (counted from when it became stale, RFC 5861), or, when it can be
 * revalidated, a while longer to revalidate it.
 */
export function retentionMs (policy: ResponsePolicy, options: PolicyOptions, initialAgeMs = 0): number {
  const remaining = policy.lifetimeMs - initialAgeMs // negative: it arrived stale
  const staleWindow = policy.mustRevalidate || policy.noCache ? 0 : Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs)
  const revalidation = policy.etag !== undefined || policy.lastModified !== undefined ? options.maxTtlMs : 0
  const keep = Math.max(remaining + staleWindow, Math.max(0, remaining) + revalidation)
  return Math.max(1, Math.min(options.maxTtlMs + options.maxStaleMs, keep))
}

/**
 * Fields never stored (RFC 9111 §3.1): hop-by-hop and proxy fields, the fields a qualified
 * `no-cache`/`private` names, and what belongs to one exchange (request id, timing, framing,
 * `Age`, which is recomputed on every use).
 */
const notStored = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer',
  'proxy-authenticate', 'proxy-authentication-info', 'proxy-authorization',
  'x-request-id', 'server-timing', 'content-length', 'age', 'x-gateway-cache'
])

/** The fields of a response as stored: lower-cased names, minus those never stored. */
export function storedFields (headers: HeaderMap): Record<string, string | string[]> {
  const { directives } = governingDirectives(headers)
  const omitted = new Set([...fieldNames(directives.get('no-cache')), ...fieldNames(directives.get('private'))])
  const out: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    const lower = name.toLowerCase()
    if (value === undefined || notStored.has(lower) || omitted.has(lower)) continue
    out[lower] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}

/** `Vary: *` on any field line (RFC 9111 §4.1): the response never matches a later request. */
function varyIsStar (vary: string | string[] | number | undefined): boolean {
  if (vary === undefined) return false
  const text = Array.isArray(vary) ? vary.join(',') : String(vary)
  return text.split(',').some((name) => name.trim() === '*')
}

/**
 * `<service> <path>?<query sorted>`: the query's pairs are sorted (as sent, not decoded, so
 * `a=1&b=2` and `b=2&a=1` share an entry but `a=1` and `a=01` never do).
 */
export function cacheKey (service: string, pathWithQuery: string): string {
  const q = pathWithQuery.indexOf('?')
  if (q === -1) return `GET ${service} ${pathWithQuery}`
  const path = pathWithQuery.slice(0, q)
  const pairs = pathWithQuery.slice(q + 1).split('&').filter((p) => p !== '').sort()
  return pairs.length === 0 ? `GET ${service} ${path}` : `GET ${service} ${path}?${pairs.join('&')}`
}

function singleValue (value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value[0] : String(value)
}
