/**
 * Content negotiation in the cache key (RFC 9111 §4.1): the `Vary` field's names and the
 * request values they select, normalised so requests that differ only in insignificant ways
 * (field lines split or joined, whitespace, the case and order of `Accept-Language` members)
 * share a variant. Several variants of one URI are kept side by side, each under its own key.
 */
import type { IncomingHttpHeaders } from 'node:http'

/** The `Vary` names, lower-cased, deduplicated and sorted; undefined for `*` (never matches). */
export function varyNames (vary: string | string[] | number | undefined): string[] | undefined {
  if (vary === undefined) return []
  const names = (Array.isArray(vary) ? vary.join(',') : String(vary)).split(',').map((n) => n.trim().toLowerCase()).filter(Boolean)
  if (names.includes('*')) return undefined
  return [...new Set(names)].sort()
}

/** Fields whose list members are case-insensitive and unordered for selection. */
const unorderedCaseless = new Set(['accept-language', 'accept-encoding'])

/**
 * One request field's value as a selecting value: field lines joined, list members trimmed
 * (RFC 9111 §4.1 allows normalising whitespace and combining lines), and for Accept-Language
 * and Accept-Encoding lower-cased and sorted. An absent field is distinct from an empty one.
 */
export function selectingValue (name: string, value: string | string[] | undefined): string {
  if (value === undefined) return '\u0000'
  const members = (Array.isArray(value) ? value.join(',') : value).split(',').map((m) => m.trim()).filter((m) => m !== '')
  if (unorderedCaseless.has(name)) return members.map((m) => m.replace(/\s*;\s*/g, ';').toLowerCase()).sort().join(',')
  return members.join(',')
}

/** The key suffix of the variant a request selects: `name=value` per varied-on field. */
export function variantKey (names: readonly string[], headers: IncomingHttpHeaders): string {
  let key = ''
  for (const name of names) key += `\n${name}=${selectingValue(name, headers[name])}`
  return key
}

/** The same names, whatever their order or case (a new response may keep or change them). */
export function sameNames (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i])
}
