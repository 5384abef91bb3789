import type { KvRecord } from './record.js'
import { compareVersions, isNewer } from './version.js'

/** What one replica answered to a read: its record for the key, or none. */
export interface ReplicaAnswer {
  replica: string
  record: KvRecord | undefined
}

export interface ReadResolution {
  /** The newest record seen (maybe a tombstone), or none if no replica has the key. */
  newest: KvRecord | undefined
  /** Replicas that answered with something older than `newest` (or nothing): to repair. */
  stale: string[]
}

/** Picks the newest answer (last writer wins) and lists the replicas behind it. */
export function resolveRead (answers: readonly ReplicaAnswer[]): ReadResolution {
  let newest: KvRecord | undefined
  for (const a of answers) {
    if (isNewer(a.record?.version, newest?.version)) newest = a.record
  }
  if (newest === undefined) return { newest, stale: [] }
  const winner = newest
  const stale = answers
    .filter((a) => a.record === undefined || compareVersions(a.record.version, winner.version) < 0)
    .map((a) => a.replica)
  return { newest, stale }
}
