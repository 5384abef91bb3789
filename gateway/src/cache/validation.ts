/**
 * Validation (RFC 9111 §4.3, RFC 9110 §13): the conditional request the cache sends to revalidate
 * a stored response, whether a `304` it gets back applies to that response and how it freshens
 * it, and the cache's own answer to a client's conditional request.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { parseHttpDate } from './http-date.js'
import { storedFields, type HeaderMap } from './policy.js'

/** The members of an `If-None-Match` (or `ETag`) list, split outside quoted strings. */
export function entityTags (value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const text = Array.isArray(value) ? value.join(',') : value
  const out: string[] = []
  let current = ''
  let quoted = false
  for (const ch of text) {
    if (ch === '"') quoted = !quoted
    if (ch === ',' && !quoted) {
      if (current.trim() !== '') out.push(current.trim())
      current = ''
    } else {
      current += ch
    }
  }
  if (current.trim() !== '') out.push(current.trim())
  return out
}

/** The opaque part of an entity-tag, without the weakness flag or quotes (lenient: `w/`, unquoted). */
function opaque (tag: string): string {
  const t = tag.startsWith('W/') || tag.startsWith('w/') ? tag.slice(2) : tag
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal, whatever their weakness. */
export function weakMatch (a: string, b: string): boolean {
  return opaque(a) === opaque(b)
}

export interface Validators {
  etag?: string | undefined
  lastModified?: string | undefined
}

/**
 * The validator fields of a conditional request that revalidates `stored` for a client
 * (RFC 9111 §4.3.1): the client's entity-tags plus the stored one in `If-None-Match`, and the
 * client's `If-Modified-Since` or else the stored `Last-Modified`. Undefined when the client
 * sent `If-None-Match: *` (its request is not ours to turn into a revalidation).
 */
export function validatorsToSend (stored: Validators, client: IncomingHttpHeaders): Record<string, string> | undefined {
  const clientTags = entityTags(client['if-none-match'])
  if (clientTags.includes('*')) return undefined
  const out: Record<string, string> = {}
  const tags = [...clientTags]
  if (stored.etag !== undefined && !tags.some((t) => t === stored.etag)) tags.push(stored.etag)
  if (tags.length > 0) out['if-none-match'] = tags.join(', ')
  const ims = client['if-modified-since'] ?? stored.lastModified
  if (ims !== undefined) out['if-modified-since'] = ims
  return out
}

/**
 * Whether a `304` answers for `stored` (RFC 9111 §4.3.4): its strong or weak entity-tag matches
 * the stored one, or it has no entity-tag and its `Last-Modified` equals the stored one, or it
 * carries no validator at all and only the cache's own validators were sent.
 */
export function notModifiedSelects (stored: Validators, notModified: HeaderMap, onlyOurValidators: boolean): boolean {
  const etag = notModified.etag
  if (etag !== undefined) return stored.etag !== undefined && weakMatch(String(Array.isArray(etag) ? etag[0] : etag), stored.etag)
  const lm = notModified['last-modified']
  if (lm !== undefined) return stored.lastModified !== undefined && String(Array.isArray(lm) ? lm[0] : lm) === stored.lastModified
  return onlyOurValidators
}

/**
 * Fields that describe the stored bytes themselves: a `304` never changes them (RFC 9111 §3.2
 * exempts Content-Length and lets a cache keep those that assure the stored content's integrity).
 */
const describeContent = ['content-encoding', 'content-range', 'content-md5']

/**
 * The stored fields updated by a `304` (RFC 9111 §3.2): every field it carries replaces the
 * stored one, except those never stored and those describing the unchanged stored content.
 */
export function freshenFields (stored: Record<string, string | string[]>, notModified: HeaderMap): Record<string, string | string[]> {
  const updates = storedFields(notModified)
  for (const name of describeContent) delete updates[name]
  return { ...stored, ...updates }
}

/**
 * The cache's answer to a client's conditional GET or HEAD against a stored 2xx (RFC 9110
 * §13.2.2): `If-None-Match` takes precedence, by weak comparison (`*` matches any); otherwise
 * `If-Modified-Since` against `Last-Modified` (or `Date`). True: answer 304.
 */
export function clientNotModified (status: number, stored: Validators & { date?: string | undefined }, client: IncomingHttpHeaders, now: number): boolean {
  if (status < 200 || status > 299) return false
  const inm = client['if-none-match']
  if (inm !== undefined) {
    const tags = entityTags(inm)
    if (tags.includes('*')) return true
    const etag = stored.etag
    return etag !== undefined && tags.some((t) => weakMatch(t, etag))
  }
  const imsHeader = client['if-modified-since']
  if (imsHeader === undefined) return false
  const ims = parseHttpDate(imsHeader, now)
  const modified = parseHttpDate(stored.lastModified ?? stored.date, now)
  return ims !== undefined && modified !== undefined && modified <= ims
}

/** Fields a 304 from the cache carries (RFC 9110 §15.4.5), besides Age and the cache's own. */
export const notModifiedFields: ReadonlySet<string> = new Set(['cache-control', 'cdn-cache-control', 'content-location', 'date', 'etag', 'expires', 'last-modified', 'vary', 'x-instance-id'])
