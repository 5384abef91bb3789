/** One replicated operation. `index` is its position in the log, `epoch` the lease epoch of the leader that created it. */
export interface Entry {
  index: number
  epoch: number
  op: 'put' | 'del' | 'noop'
  key?: string
  /** The raw value, base64 on the wire and in the log file. */
  value?: Buffer
  /** Checked when the entry is applied, in log order: an entry whose condition fails changes nothing. */
  cond?: Precondition
  /**
   * The caller's retry key (the gateway's `x-retry-key`, the same on every try of one client
   * request): a second entry with a key applied recently changes nothing and answers what the
   * first did, so a retry after a lost answer is applied once (Raft dissertation §6.3).
   */
  rid?: string
}

/**
 * A write's HTTP preconditions (RFC 9110 §13.1), as versions: `any` is `*`; a list holds the
 * versions of its strong entity-tags (weak ones never match: If-Match compares strongly, and
 * If-None-Match's weak comparison of `W/"n"` equals `"n"`, so those are listed as versions too).
 */
export interface Precondition {
  ifMatch?: 'any' | readonly number[]
  ifNoneMatch?: 'any' | readonly number[]
}

/** What applying one entry did, decided by the state machine in log order: the answer a client gets. */
export type ApplyResult =
  | { applied: true, version: number, created: boolean }
  | { applied: false, code: 'KVL_ERR_NOT_FOUND' | 'KVL_ERR_VERSION_MISMATCH', message: string }

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

/** A recently applied write's retry key and what it did (part of the replicated state). */
export interface AppliedWrite { rid: string, index: number, result: ApplyResult }

/** The store as it was after applying entry `index` (of epoch `epoch`): what replaces entries 1…index. */
export interface Snapshot {
  index: number
  epoch: number
  entries: SnapshotEntry[]
  /** The retry keys still remembered, oldest first. */
  writes?: AppliedWrite[]
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
