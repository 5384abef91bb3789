import { kvError } from '../errors.js'

/** Longest key, in UTF-8 bytes. */
export const maxKeyBytes = 256
/** Largest value, in bytes (1 MiB). */
export const maxValueBytes = 1_048_576

const keyPattern = /^[A-Za-z0-9._:~-]+$/

/** Keys are 1–256 bytes of `A-Z a-z 0-9 . _ : ~ -`. */
export function validateKey (key: string): string {
  if (key.length === 0 || Buffer.byteLength(key) > maxKeyBytes) throw kvError('KVL_ERR_BAD_KEY', `key must be 1–${maxKeyBytes} bytes, got ${Buffer.byteLength(key)}`)
  if (!keyPattern.test(key)) throw kvError('KVL_ERR_BAD_KEY', `key may only contain A-Z a-z 0-9 . _ : ~ -, got ${JSON.stringify(key.slice(0, 64))}`)
  return key
}

export function validateValue (value: Buffer): Buffer {
  if (value.length > maxValueBytes) throw kvError('KVL_ERR_VALUE_TOO_LARGE', `value must be at most ${maxValueBytes} bytes, got ${value.length}`)
  return value
}

/** One entity-tag of a list (RFC 9110 §8.8.3): optional `W/`, then a quoted opaque tag. */
const entityTag = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/

/**
 * `If-Match` (RFC 9110 §13.1.1): `*`, or a list of entity-tags compared strongly, so a weak tag
 * never matches. Returns the versions the list names (tags that are not versions of ours are
 * valid and match nothing), `any` for `*`, undefined when absent; a malformed header is a 400.
 */
export function parseIfMatch (header: string | string[] | undefined): 'any' | number[] | undefined {
  return parseTagList('If-Match', header, false)
}

/** `If-None-Match` (§13.1.2): the same list, compared weakly (`W/"12"` counts as version 12). */
export function parseIfNoneMatch (header: string | string[] | undefined): 'any' | number[] | undefined {
  return parseTagList('If-None-Match', header, true)
}

function parseTagList (name: string, header: string | string[] | undefined, weakMatches: boolean): 'any' | number[] | undefined {
  if (header === undefined) return undefined
  // repeated header lines are one comma-separated list (RFC 9110 §5.3)
  const raw = (Array.isArray(header) ? header.join(',') : header).trim()
  if (raw === '*') return 'any'
  const versions: number[] = []
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '')
  if (parts.length === 0) throw kvError('KVL_ERR_BAD_IF_MATCH', `${name} must be * or a list of entity-tags like "12", got an empty value`)
  for (const part of parts) {
    const m = entityTag.exec(part)
    if (m === null) throw kvError('KVL_ERR_BAD_IF_MATCH', `${name} must be * or a list of entity-tags like "12", got ${JSON.stringify(raw.slice(0, 64))}`)
    const weak = m[1] !== undefined
    const opaque = m[2] ?? ''
    if ((weak && !weakMatches) || !/^\d{1,15}$/.test(opaque)) continue
    versions.push(Number(opaque))
  }
  return versions
}
