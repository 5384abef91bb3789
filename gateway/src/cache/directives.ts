/**
 * Parsing of the fields that carry caching directives: `Cache-Control` (RFC 9111 §5.2, an
 * RFC 9110 §5.6.1 list whose arguments may be quoted strings) and `CDN-Cache-Control`
 * (RFC 9213, a Structured Fields dictionary). Both give a map of lower-cased directive name →
 * argument ('' when it has none); which one governs this cache is decided in policy.ts.
 */
import { parseDictionary } from 'structured-headers'

export type HeaderValue = string | string[] | number | undefined
export type Directives = ReadonlyMap<string, string>

const none: Directives = new Map()

/**
 * `Cache-Control` directives. Several field lines are one list (RFC 9110 §5.3). The first
 * occurrence of a directive wins (RFC 9111 §4.2.1). A quoted argument is unquoted, so
 * `ext="max-age=1"` never yields a `max-age`; an unquoted argument keeps any space around it
 * (`max-age= 60` is then not a valid number, as it is not valid syntax).
 */
export function parseCacheControl (header: HeaderValue): Directives {
  if (header === undefined) return none
  const text = Array.isArray(header) ? header.join(',') : String(header)
  if (text === '') return none
  const out = new Map<string, string>()
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++
    const nameStart = i
    while (i < n && text[i] !== ',' && text[i] !== '=' && text[i] !== ' ' && text[i] !== '\t') i++
    const name = text.slice(nameStart, i).toLowerCase()
    let value = ''
    if (text[i] === '=') {
      i++
      if (text[i] === '"') {
        i++
        let quoted = ''
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++
          quoted += text[i]
          i++
        }
        i++ // the closing quote
        value = quoted
      } else {
        const valueStart = i
        while (i < n && text[i] !== ',') i++
        value = text.slice(valueStart, i).replace(/[ \t]+$/, '')
      }
    } else {
      // anything between the name and the next comma (`max-age =60`) makes the directive unusable
      const restStart = i
      while (i < n && text[i] !== ',') i++
      const rest = text.slice(restStart, i).trim()
      if (rest !== '') value = rest
    }
    // skip anything after a quoted string up to the next comma
    while (i < n && text[i] !== ',') i++
    if (name !== '' && !out.has(name)) out.set(name, value)
  }
  return out
}

/** The largest delta-seconds a recipient needs to represent (RFC 9111 §1.2.2): 2^31. */
export const maxDeltaSeconds = 2_147_483_648

/** A delta-seconds argument (RFC 9111 §1.2.2), capped at 2^31; undefined when it is not one. */
export function deltaSeconds (value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  const n = Number(value)
  return n > maxDeltaSeconds ? maxDeltaSeconds : n
}

/** Directives whose argument must be an Integer when they come in `CDN-Cache-Control`. */
const integerDirectives = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error'])

/**
 * `CDN-Cache-Control` (RFC 9213) as directives, or undefined when it is absent, empty or not a
 * valid Structured Fields dictionary (then it is ignored and Cache-Control applies, RFC 9213
 * §2.1). A freshness directive whose value is not a non-negative Integer invalidates the field.
 */
export function parseCdnCacheControl (header: HeaderValue): Directives | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join(', ') : String(header)
  if (text.trim() === '') return undefined
  let dict
  try {
    dict = parseDictionary(text)
  } catch {
    return undefined
  }
  const out = new Map<string, string>()
  for (const [name, [value]] of dict) {
    if (integerDirectives.has(name)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return undefined
      out.set(name, String(Math.min(value, maxDeltaSeconds)))
    } else {
      out.set(name, value === true ? '' : String(value))
    }
  }
  return out.size === 0 ? undefined : out
}

/** The field names listed by a qualified `no-cache="a, b"` or `private="a"` (lower-cased). */
export function fieldNames (argument: string | undefined): string[] {
  if (argument === undefined || argument === '') return []
  return argument.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean)
}
