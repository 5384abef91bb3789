/** One replicated operation. `index` is its position in the log, `epoch` the lease epoch of the leader that created it. */
export interface Entry {
  index: number
  epoch: number
  op: 'put' | 'del' | 'noop'
  key?: string
  /** The raw value, base64 on the wire and in the log file. */
  value?: Buffer
}

/** When a write is acknowledged to the client: leader-local, a majority of the replicas, or all of them. */
export type AckMode = 'async' | 'majority' | 'all'

/** What the leader sends a follower: entries after `prevIndex` plus how far the log is committed. */
export interface AppendRequest {
  epoch: number
  leaderId: string
  prevIndex: number
  prevEpoch: number
  entries: Entry[]
  leaderCommit: number
}

/**
 * The follower's answer. `ok`: its log now matches the leader's up to `lastIndex`. Not `ok`:
 * either the sender's epoch is stale (`epoch` is the newest one the follower knows) or the logs
 * diverge and the leader should resume from `lastIndex + 1`.
 */
export interface AppendReply {
  ok: boolean
  epoch: number
  lastIndex: number
}

export interface SnapshotEntry { key: string, value: Buffer, version: number }

/** The store as it was after applying entry `index` (of epoch `epoch`): what replaces entries 1…index. */
export interface Snapshot {
  index: number
  epoch: number
  entries: SnapshotEntry[]
}

/** What the leader sends a follower that needs entries it has compacted away. */
export interface SnapshotRequest {
  epoch: number
  leaderId: string
  leaderCommit: number
  snapshot: Snapshot
}

/** Lexicographic (epoch, index): how "up to date" a log is. */
export interface LogPosition {
  epoch: number
  index: number
}

export function atLeastAsUpToDate (a: LogPosition, b: LogPosition): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.index >= b.index)
}
