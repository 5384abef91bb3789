import { isVersion, type Version } from './version.js'

/** One key's state on a replica: a value, or a tombstone (`value === null`) left by a delete. */
export interface KvRecord {
  readonly key: string
  readonly value: Buffer | null
  readonly version: Version
}

/** The JSON form replicas exchange on /internal routes (values in base64). */
export interface WireRecord {
  key: string
  value: string | null
  version: Version
}

export function toWire (r: KvRecord): WireRecord {
  return { key: r.key, value: r.value === null ? null : r.value.toString('base64'), version: r.version }
}

export function fromWire (w: unknown): KvRecord | undefined {
  if (typeof w !== 'object' || w === null) return undefined
  const { key, value, version } = w as Record<string, unknown>
  if (typeof key !== 'string' || !isKey(key) || !isVersion(version)) return undefined
  if (value !== null && typeof value !== 'string') return undefined
  return { key, value: value === null ? null : Buffer.from(value, 'base64'), version: { t: version.t, c: version.c, n: version.n } }
}

/** Keys are path segments: 1–256 characters from a URL-safe set (but not `.` or `..`, which paths resolve away). */
const keyPattern = /^[A-Za-z0-9._~:@!$'()*+,;=-]{1,256}$/

export function isKey (key: string): boolean {
  return keyPattern.test(key) && key !== '.' && key !== '..'
}
