/**
 * The pure rules of the gateway response cache (RFC 9111, the parts a shared cache in front
 * of our own services needs): which requests may use it, how long a response may be kept,
 * and the key, so two different queries (or two variants of a `Vary`) are never mixed.
 */
import type { IncomingHttpHeaders } from 'node:http'

export type HeaderMap = Record<string, string | string[] | number | undefined>

/** A response as the cache keeps it. */
export interface StoredResponse {
  status: number
  headers: Record<string, string | string[]>
  /** base64 */
  body: string
  /** The request header values this response varied on (lower-case names), as the first caller sent them. */
  vary: Record<string, string>
}

/** A request that asks for a fresh answer (no-cache, no-store, max-age=0), or carries credentials, goes straight upstream. */
export function requestBypasses (method: string, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET') return true
  if (headers.authorization !== undefined) return true
  const cc = directives(headers['cache-control'])
  return cc.has('no-cache') || cc.has('no-store') || cc.get('max-age') === '0' || /(^|,)\s*no-cache\s*(,|$)/i.test(String(headers.pragma ?? ''))
}

/**
 * How long a response may be served from the shared cache, in ms; 0 = not at all. Only 200s
 * with an explicit `s-maxage`/`max-age` are kept (no heuristic freshness); `no-store`,
 * `private`, `no-cache`, `Vary: *` and `Set-Cookie` forbid it. The upstream's `Age` is deducted.
 */
export function storableTtlMs (status: number, headers: HeaderMap, maxTtlMs: number): number {
  if (status !== 200) return 0
  if (headers['set-cookie'] !== undefined) return 0
  if (varyNames(headers) === undefined) return 0
  const cc = directives(headers['cache-control'])
  if (cc.has('no-store') || cc.has('private') || cc.has('no-cache')) return 0
  const seconds = cc.get('s-maxage') ?? cc.get('max-age')
  if (seconds === undefined || !/^\d{1,9}$/.test(seconds)) return 0
  const age = Number(String(headers.age ?? '0'))
  const ttlS = Number(seconds) - (Number.isFinite(age) && age > 0 ? age : 0)
  return ttlS > 0 ? Math.min(ttlS * 1_000, maxTtlMs) : 0
}

/** The `Vary` header's names, lower-cased and sorted; undefined for `Vary: *` (never storable). */
export function varyNames (headers: HeaderMap): string[] | undefined {
  const raw = headers.vary
  if (raw === undefined) return []
  const names = (Array.isArray(raw) ? raw.join(',') : String(raw)).split(',').map((n) => n.trim().toLowerCase()).filter(Boolean)
  if (names.includes('*')) return undefined
  return [...new Set(names)].sort()
}

/** The request's values for the varied-on headers. */
export function varyValues (names: readonly string[], headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) out[name] = headerText(headers[name])
  return out
}

/** True when this request would have got the same variant as the one stored. */
export function varyMatches (stored: Record<string, string>, headers: IncomingHttpHeaders): boolean {
  for (const name in stored) if (headerText(headers[name]) !== stored[name]) return false
  return true
}

/**
 * `GET <service> <path>?<query sorted>`: the query's pairs are sorted (as sent, not decoded,
 * so `a=1&b=2` and `b=2&a=1` share an entry but `a=1` and `a=01` never do).
 */
export function cacheKey (service: string, pathWithQuery: string): string {
  const q = pathWithQuery.indexOf('?')
  if (q === -1) return `GET ${service} ${pathWithQuery}`
  const path = pathWithQuery.slice(0, q)
  const pairs = pathWithQuery.slice(q + 1).split('&').filter((p) => p !== '').sort()
  return pairs.length === 0 ? `GET ${service} ${path}` : `GET ${service} ${path}?${pairs.join('&')}`
}

/** Cache-Control directives: name → argument ('' when none), names lower-cased. */
export function directives (header: string | string[] | number | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (header === undefined) return out
  for (const part of (Array.isArray(header) ? header.join(',') : String(header)).split(',')) {
    const [name = '', value = ''] = part.split('=', 2).map((s) => s.trim())
    if (name !== '') out.set(name.toLowerCase(), value.replace(/^"|"$/g, ''))
  }
  return out
}

function headerText (value: string | string[] | undefined): string {
  return value === undefined ? '' : Array.isArray(value) ? value.join(', ') : value
}
