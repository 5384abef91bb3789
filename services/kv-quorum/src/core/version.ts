import { compareTimestamps, type HlcTimestamp } from './hlc.js'

/**
 * A write's version: its HLC timestamp plus the id of the instance that coordinated it. Two
 * different writes never share a version (one coordinator's clock never repeats), so the order
 * is total and every replica picks the same winner: last writer wins, ties broken by id.
 */
export interface Version extends HlcTimestamp {
  /** The coordinating instance id. */
  readonly n: string
}

/** Negative when `a` is older than `b`, positive when newer, 0 for the same write. */
export function compareVersions (a: Version, b: Version): number {
  const byClock = compareTimestamps(a, b)
  if (byClock !== 0) return byClock
  if (a.n === b.n) return 0
  return a.n < b.n ? -1 : 1
}

/** `undefined` (no version at all) is older than any version. */
export function isNewer (a: Version | undefined, b: Version | undefined): boolean {
  if (a === undefined) return false
  if (b === undefined) return true
  return compareVersions(a, b) > 0
}

/** `t.c.n`, e.g. `1764059400123.0.kv-quorum-1`: sortable by eye, safe in a header. */
export function formatVersion (v: Version): string {
  return `${v.t}.${v.c}.${v.n}`
}

const versionPattern = /^(\d{1,16})\.(\d{1,9})\.([A-Za-z0-9._:-]{1,128})$/

export function parseVersion (raw: string): Version | undefined {
  const m = versionPattern.exec(raw)
  if (m === null) return undefined
  return { t: Number(m[1]), c: Number(m[2]), n: m[3] as string }
}

/** Structural check for a version that crossed the wire. */
export function isVersion (v: unknown): v is Version {
  if (typeof v !== 'object' || v === null) return false
  const { t, c, n } = v as Record<string, unknown>
  return Number.isSafeInteger(t) && (t as number) >= 0 && Number.isSafeInteger(c) && (c as number) >= 0 &&
    typeof n === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(n)
}
