import { createHash } from 'node:crypto'
import type { KvRecord } from './record.js'
import { compareVersions, formatVersion } from './version.js'

/**
 * Anti-entropy digests: keys are hashed into a fixed number of buckets, and each bucket's
 * digest is a hash of its sorted (key, version) pairs. Two replicas compare the bucket digests
 * and exchange records only for buckets that differ: one level of a Merkle tree, enough for
 * the key counts this store is built for.
 */
export function bucketOf (key: string, buckets: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % buckets
}

/** One digest per bucket (hex); an empty bucket's digest is the empty string. */
export function bucketDigests (records: Iterable<KvRecord>, buckets: number): string[] {
  const lines: string[][] = Array.from({ length: buckets }, () => [])
  for (const r of records) lines[bucketOf(r.key, buckets)]?.push(`${r.key}\u0000${formatVersion(r.version)}`)
  return lines.map((l) => l.length === 0 ? '' : createHash('sha1').update(l.sort().join('\n')).digest('hex'))
}

/** The buckets whose digests differ. */
export function differingBuckets (mine: readonly string[], theirs: readonly string[]): number[] {
  const out: number[] = []
  const n = Math.max(mine.length, theirs.length)
  for (let i = 0; i < n; i++) if (mine[i] !== theirs[i]) out.push(i)
  return out
}

export interface BucketExchange {
  /** Their records newer than ours (or that we lack): apply here. */
  pull: KvRecord[]
  /** Our records newer than theirs (or that they lack): send to them. */
  push: KvRecord[]
}

/** Compares the two sides of one bucket record by record. */
export function exchangeBucket (mine: readonly KvRecord[], theirs: readonly KvRecord[]): BucketExchange {
  const theirByKey = new Map(theirs.map((r) => [r.key, r]))
  const mineByKey = new Map(mine.map((r) => [r.key, r]))
  const pull: KvRecord[] = []
  const push: KvRecord[] = []
  for (const r of theirs) {
    const m = mineByKey.get(r.key)
    if (m === undefined || compareVersions(r.version, m.version) > 0) pull.push(r)
  }
  for (const r of mine) {
    const t = theirByKey.get(r.key)
    if (t === undefined || compareVersions(r.version, t.version) > 0) push.push(r)
  }
  return { pull, push }
}
