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

/** `If-Match: "12"` (or `12`, or `W/"12"`) → 12; `*` → 'any'; absent → undefined. */
export function parseIfMatch (header: string | string[] | undefined): number | 'any' | undefined {
  if (header === undefined) return undefined
  const raw = (Array.isArray(header) ? header[0] ?? '' : header).trim()
  if (raw === '*') return 'any'
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw)
  if (m === null) throw kvError('KVL_ERR_BAD_IF_MATCH', `If-Match must be a version like "12", got ${JSON.stringify(raw.slice(0, 64))}`)
  return Number(m[1])
}
