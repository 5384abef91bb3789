import type { KvErrorCode } from '../errors.js'
import { ReplicationLog } from './log.js'
import { KeyValueStore } from './store.js'
import type { AckMode, AppendReply, AppendRequest, ApplyResult, Entry, Precondition, Snapshot, SnapshotRequest } from './types.js'

/** What the leader knows of one follower's log. */
export interface PeerProgress {
  nextIndex: number
  matchIndex: number
  inflight: boolean
  lastSentAt: number
  /** After a failed send, nothing is sent before this time. */
  retryAt: number
}

export interface ReplicaOptions {
  id: string
  /** Members of the replica set, the dead ones included: quorums are counted against it. */
  clusterSize: number
  ackMode: AckMode
  /** How often an idle leader sends an empty append (commit index, liveness). */
  heartbeatMs: number
  maxBatchEntries: number
  maxBatchBytes: number
  /** Compact the log into a snapshot once it holds more applied entries than this (0: never). */
  compactEntries: number
}

/**
 * One replica's protocol state. Times are monotonic milliseconds given by the events, never
 * read here. The log and the store are mutated in place (copying them per event is O(n)); the
 * rest is plain data.
 */
export interface ReplicaState extends ReplicaOptions {
  role: 'follower' | 'leader'
  /** The newest epoch this replica has seen: anything older is refused. */
  epoch: number
  leaderId: string | undefined
  /** Leader only: past this instant it must not acknowledge or serve anything. */
  leaseValidUntil: number
  log: ReplicationLog
  store: KeyValueStore
  /** Majority-committed index (what followers may apply). */
  commitIndex: number
  /** The local log is durable up to here. */
  persistedIndex: number
  /** Leader: the no-op that opens its epoch; reads wait until it is committed. */
  readyIndex: number
  announced: boolean
  peerIds: string[]
  peers: Map<string, PeerProgress>
  /** Leader: write index → deadline. */
  pending: Map<number, number>
  /** Leader: what applying a pending write did, kept until it is acknowledged. */
  outcomes: Map<number, ApplyResult>
  /** Follower: the leader's commit index as last heard, to report lag. */
  leaderCommitSeen: number
  /** The snapshot the log's base stands for (sent to followers that need compacted entries). */
  snapshot: Snapshot | undefined
}

export type Event =
  | { type: 'tick', now: number }
  | { type: 'leaseAcquired', epoch: number, validUntil: number, now: number }
  | { type: 'leaseRenewed', validUntil: number, now: number }
  | { type: 'leaseLost', now: number }
  | { type: 'leaderObserved', epoch: number, leaderId: string, now: number }
  | { type: 'peersChanged', ids: string[], now: number }
  | { type: 'propose', op: 'put' | 'del', key: string, value?: Buffer, cond?: Precondition, rid?: string, deadline: number, now: number }
  | { type: 'persisted', upTo: number, epoch: number, now: number }
  | { type: 'appendRequest', request: AppendRequest, now: number }
  | { type: 'snapshotRequest', request: SnapshotRequest, now: number }
  | { type: 'appendReply', peer: string, sentEpoch: number, reply: AppendReply, now: number }
  | { type: 'appendFailed', peer: string, now: number }

export type Effect =
  | { type: 'persist', entries: Entry[] }
  | { type: 'truncate', from: number }
  | { type: 'send', peer: string, request: AppendRequest }
  | { type: 'sendSnapshot', peer: string, request: SnapshotRequest }
  /** Store `snapshot` and rewrite the log file with `entriesAfter` (what the log holds past it). */
  | { type: 'compact', snapshot: Snapshot, entriesAfter: Entry[] }
  /** The write at `index` is committed (or durable, by the ack mode) and applied: answer with what it did. */
  | { type: 'ack', index: number, result: ApplyResult }
  | { type: 'fail', index: number, code: KvErrorCode, message: string }
  /** `why`: what made a leader step down (for the log). */
  | { type: 'role', role: 'leader' | 'follower', epoch: number, why?: string }
  | { type: 'proposed', index: number }
  | { type: 'refused', code: KvErrorCode, message: string }
  | { type: 'reply', reply: AppendReply }

export interface Step { state: ReplicaState, effects: Effect[] }

export function initialState (opts: ReplicaOptions, log = new ReplicationLog(), snapshot?: Snapshot): ReplicaState {
  const store = new KeyValueStore()
  if (snapshot !== undefined) store.restore(snapshot.entries, snapshot.index, snapshot.writes)
  return {
    ...opts,
    role: 'follower',
    epoch: log.lastEpoch,
    leaderId: undefined,
    leaseValidUntil: 0,
    log,
    store,
    // a snapshot only ever holds committed entries
    commitIndex: snapshot?.index ?? 0,
    persistedIndex: log.lastIndex,
    readyIndex: 0,
    announced: false,
    peerIds: [],
    peers: new Map(),
    pending: new Map(),
    outcomes: new Map(),
    leaderCommitSeen: 0,
    snapshot
  }
}

/** The protocol: one event in, the new state and the effects the driver must carry out. */
export function step (s: ReplicaState, event: Event): Step {
  const effects: Effect[] = []
  switch (event.type) {
    case 'tick':
      if (s.role === 'leader') {
        if (event.now >= s.leaseValidUntil) {
          stepDown(s, effects, 'the lease expired')
        } else {
          for (const [index, deadline] of s.pending) {
            if (event.now >= deadline) {
              s.pending.delete(index)
              s.outcomes.delete(index)
              effects.push({ type: 'fail', index, code: 'KVL_ERR_OUTCOME_UNKNOWN', message: `write ${index} did not reach its ${s.ackMode} quorum before the deadline: it is in the log and may still be applied` })
            }
          }
          replicate(s, event.now, effects)
        }
      }
      break
    case 'leaseAcquired':
      if (event.epoch > s.epoch || (event.epoch === s.epoch && s.leaderId === undefined)) becomeLeader(s, event.epoch, event.validUntil, event.now, effects)
      break
    case 'leaseRenewed':
      if (s.role === 'leader') {
        s.leaseValidUntil = Math.max(s.leaseValidUntil, event.validUntil)
        advance(s, event.now, effects)
      }
      break
    case 'leaseLost':
      if (s.role === 'leader') stepDown(s, effects, 'the lease is held by another replica')
      break
    case 'leaderObserved':
      if (event.epoch > s.epoch) {
        s.epoch = event.epoch
        if (s.role === 'leader') stepDown(s, effects, `a newer epoch ${event.epoch} exists`)
        s.leaderId = event.leaderId
      } else if (event.epoch === s.epoch && s.role === 'follower') {
        s.leaderId = event.leaderId
      }
      break
    case 'peersChanged':
      s.peerIds = event.ids.filter((id) => id !== s.id)
      if (s.role === 'leader') {
        for (const id of s.peerIds) if (!s.peers.has(id)) s.peers.set(id, freshPeer(s))
        replicate(s, event.now, effects)
      }
      break
    case 'propose':
      propose(s, event, effects)
      break
    case 'persisted':
      if (s.log.epochAt(event.upTo) === event.epoch && event.upTo > s.persistedIndex) {
        s.persistedIndex = event.upTo
        if (s.role === 'leader') advance(s, event.now, effects)
      }
      break
    case 'appendRequest':
      effects.push({ type: 'reply', reply: onAppend(s, event.request, effects) })
      break
    case 'snapshotRequest':
      effects.push({ type: 'reply', reply: onSnapshot(s, event.request, effects) })
      break
    case 'appendReply':
      onAppendReply(s, event.peer, event.sentEpoch, event.reply, event.now, effects)
      break
    case 'appendFailed': {
      const p = s.peers.get(event.peer)
      if (p !== undefined) {
        p.inflight = false
        p.retryAt = event.now + s.heartbeatMs
      }
      break
    }
  }
  return { state: s, effects }
}

/** The index the leader may acknowledge up to, by the configured mode. */
export function ackIndex (s: ReplicaState): number {
  if (s.ackMode === 'async') return s.persistedIndex
  if (s.ackMode === 'all') return quorumIndex(s, s.clusterSize)
  return s.commitIndex
}

/** Whether the leader may serve a linearizable read at `now`. */
export function canServeReads (s: ReplicaState, now: number): boolean {
  return s.role === 'leader' && now < s.leaseValidUntil && s.readyIndex > 0 && readyProgress(s) >= s.readyIndex
}

function readyProgress (s: ReplicaState): number {
  return s.ackMode === 'async' ? s.persistedIndex : s.commitIndex
}

function freshPeer (s: ReplicaState): PeerProgress {
  return { nextIndex: s.log.lastIndex + 1, matchIndex: 0, inflight: false, lastSentAt: -Infinity, retryAt: -Infinity }
}

function becomeLeader (s: ReplicaState, epoch: number, validUntil: number, now: number, effects: Effect[]): void {
  s.role = 'leader'
  s.epoch = epoch
  s.leaderId = s.id
  s.leaseValidUntil = validUntil
  s.announced = false
  s.peers = new Map(s.peerIds.map((id) => [id, freshPeer(s)]))
  // A no-op in the new epoch: committing it commits every earlier entry (Raft §5.4.2).
  const noop: Entry = { index: s.log.lastIndex + 1, epoch, op: 'noop' }
  s.log.append(noop)
  s.readyIndex = noop.index
  effects.push({ type: 'persist', entries: [noop] })
  replicate(s, now, effects)
  advance(s, now, effects)
}

function stepDown (s: ReplicaState, effects: Effect[], why: string): void {
  s.role = 'follower'
  s.leaseValidUntil = 0
  if (s.leaderId === s.id) s.leaderId = undefined
  for (const index of s.pending.keys()) {
    effects.push({ type: 'fail', index, code: 'KVL_ERR_OUTCOME_UNKNOWN', message: `this replica stopped leading (${why}) before write ${index} was acknowledged: it is in the log and may still be applied by the next leader` })
  }
  s.pending.clear()
  s.outcomes.clear()
  s.peers.clear()
  s.readyIndex = 0
  s.announced = false
  effects.push({ type: 'role', role: 'follower', epoch: s.epoch, why })
}

/**
 * Appends a write to the log. Its preconditions (If-Match, If-None-Match, a DELETE's need for a
 * key) are not looked at here: they are decided when the entry is applied, in log order, and the
 * answer waits for that (`ack`). Deciding them now, against writes still in flight, would answer
 * from state that may never be committed.
 */
function propose (s: ReplicaState, e: Extract<Event, { type: 'propose' }>, effects: Effect[]): void {
  if (s.role !== 'leader' || e.now >= s.leaseValidUntil) {
    effects.push({ type: 'refused', code: 'KVL_ERR_NOT_LEADER', message: 'this replica is not the leader' })
    return
  }
  const entry: Entry = {
    index: s.log.lastIndex + 1,
    epoch: s.epoch,
    op: e.op,
    key: e.key,
    ...(e.op === 'put' ? { value: e.value ?? Buffer.alloc(0) } : {}),
    ...(e.cond !== undefined && (e.cond.ifMatch !== undefined || e.cond.ifNoneMatch !== undefined) ? { cond: e.cond } : {}),
    ...(e.rid !== undefined ? { rid: e.rid } : {})
  }
  s.log.append(entry)
  s.pending.set(entry.index, e.deadline)
  effects.push({ type: 'proposed', index: entry.index })
  effects.push({ type: 'persist', entries: [entry] })
  replicate(s, e.now, effects)
}

/** Sends each idle follower what it lacks, or a heartbeat when it is due. */
function replicate (s: ReplicaState, now: number, effects: Effect[]): void {
  if (s.role !== 'leader') return
  for (const [peer, p] of s.peers) {
    if (p.inflight || now < p.retryAt) continue
    const behind = p.nextIndex <= s.log.lastIndex
    if (!behind && now - p.lastSentAt < s.heartbeatMs) continue
    if (p.nextIndex <= s.log.base && s.snapshot !== undefined) {
      // the entries it needs were compacted away: send the snapshot they became
      p.inflight = true
      p.lastSentAt = now
      effects.push({ type: 'sendSnapshot', peer, request: { epoch: s.epoch, leaderId: s.id, leaderCommit: s.commitIndex, snapshot: s.snapshot } })
      continue
    }
    const prevIndex = Math.min(p.nextIndex - 1, s.log.lastIndex)
    const entries = s.log.slice(prevIndex + 1, s.maxBatchEntries, s.maxBatchBytes)
    p.inflight = true
    p.lastSentAt = now
    effects.push({ type: 'send', peer, request: { epoch: s.epoch, leaderId: s.id, prevIndex, prevEpoch: s.log.epochAt(prevIndex) ?? 0, entries, leaderCommit: s.commitIndex } })
  }
}

/** The highest index held by `need` members (this one by its durable log), in this epoch. */
function quorumIndex (s: ReplicaState, need: number): number {
  const matches = [s.persistedIndex, ...[...s.peers.values()].map((p) => p.matchIndex)]
  while (matches.length < s.clusterSize) matches.push(0)
  matches.sort((a, b) => b - a)
  const candidate = matches[need - 1] ?? 0
  // Only an entry of the leader's own epoch is committed by counting replicas (Raft §5.4.2).
  return s.log.epochAt(candidate) === s.epoch ? candidate : 0
}

/** Leader: moves the commit index, applies, acknowledges, announces readiness. */
function advance (s: ReplicaState, now: number, effects: Effect[]): void {
  if (s.role !== 'leader') return
  if (now >= s.leaseValidUntil) {
    stepDown(s, effects, 'the lease expired')
    return
  }
  const majority = quorumIndex(s, Math.floor(s.clusterSize / 2) + 1)
  if (majority > s.commitIndex) s.commitIndex = majority
  const acked = ackIndex(s)
  applyUpTo(s, Math.max(s.commitIndex, acked))
  maybeCompact(s, effects)
  for (const index of s.pending.keys()) {
    const result = s.outcomes.get(index)
    if (index <= acked && result !== undefined) {
      s.pending.delete(index)
      s.outcomes.delete(index)
      effects.push({ type: 'ack', index, result })
    }
  }
  if (!s.announced && s.readyIndex > 0 && readyProgress(s) >= s.readyIndex) {
    s.announced = true
    effects.push({ type: 'role', role: 'leader', epoch: s.epoch })
  }
}

function applyUpTo (s: ReplicaState, upTo: number): void {
  const target = Math.min(upTo, s.log.lastIndex)
  while (s.store.appliedIndex < target) {
    const entry = s.log.entry(s.store.appliedIndex + 1) as Entry
    const result = s.store.apply(entry)
    if (result !== undefined && s.pending.has(entry.index)) s.outcomes.set(entry.index, result)
  }
}

/**
 * A message from a leader (entries or a snapshot): refused if its epoch is stale; otherwise its
 * sender is this replica's leader from now on, and a leader of an older epoch steps down.
 */
function followLeader (s: ReplicaState, req: { epoch: number, leaderId: string }, effects: Effect[]): AppendReply | undefined {
  if (req.epoch < s.epoch) return { ok: false, epoch: s.epoch, lastIndex: s.log.lastIndex }
  if (req.epoch > s.epoch || s.role === 'leader') {
    s.epoch = req.epoch
    if (s.role === 'leader') stepDown(s, effects, `replica ${req.leaderId} leads epoch ${req.epoch}`)
  }
  s.leaderId = req.leaderId
  return undefined
}

function onAppend (s: ReplicaState, req: AppendRequest, effects: Effect[]): AppendReply {
  const refused = followLeader(s, req, effects)
  if (refused !== undefined) return refused
  if (req.prevIndex > s.log.lastIndex) return { ok: false, epoch: s.epoch, lastIndex: s.log.lastIndex }
  // Entries up to the base are in this replica's snapshot: committed, so the leader's match them.
  const covered = Math.max(0, Math.min(req.entries.length, s.log.base - req.prevIndex))
  const prevIndex = req.prevIndex + covered
  if (prevIndex < s.log.base) return { ok: true, epoch: s.epoch, lastIndex: prevIndex }
  const prevEpoch = covered > 0 ? (req.entries[covered - 1] as Entry).epoch : req.prevEpoch
  if (prevIndex > s.log.base && s.log.epochAt(prevIndex) !== prevEpoch) {
    return { ok: false, epoch: s.epoch, lastIndex: Math.max(s.log.base, s.log.firstIndexOfEpochAt(prevIndex) - 1) }
  }
  const fresh: Entry[] = []
  for (const entry of req.entries.slice(covered)) {
    const have = s.log.epochAt(entry.index)
    if (have === entry.epoch && fresh.length === 0) continue
    if (have !== undefined) truncate(s, entry.index, effects)
    s.log.append(entry)
    fresh.push(entry)
  }
  if (fresh.length > 0) effects.push({ type: 'persist', entries: fresh })
  const matched = req.prevIndex + req.entries.length
  s.leaderCommitSeen = req.leaderCommit
  const commit = Math.min(req.leaderCommit, matched)
  if (commit > s.commitIndex) s.commitIndex = commit
  applyUpTo(s, s.commitIndex)
  maybeCompact(s, effects)
  return { ok: true, epoch: s.epoch, lastIndex: matched }
}

function onSnapshot (s: ReplicaState, req: SnapshotRequest, effects: Effect[]): AppendReply {
  const refused = followLeader(s, req, effects)
  if (refused !== undefined) return refused
  s.leaderCommitSeen = req.leaderCommit
  const snap = req.snapshot
  // Already applied that far: everything up to it is committed here and matches the leader.
  if (snap.index <= s.store.appliedIndex && snap.index <= s.commitIndex) return { ok: true, epoch: s.epoch, lastIndex: snap.index }
  s.store.restore(snap.entries, snap.index, snap.writes)
  if (s.log.epochAt(snap.index) === snap.epoch) s.log.compactTo(snap.index)
  else s.log.resetTo(snap.index, snap.epoch)
  s.snapshot = snap
  s.commitIndex = snap.index
  s.persistedIndex = Math.min(s.persistedIndex, snap.index)
  effects.push({ type: 'compact', snapshot: snap, entriesAfter: s.log.slice(snap.index + 1, Infinity) })
  return { ok: true, epoch: s.epoch, lastIndex: snap.index }
}

/** Folds applied, committed entries into a snapshot once the log holds too many of them. */
function maybeCompact (s: ReplicaState, effects: Effect[]): void {
  const upTo = s.store.appliedIndex
  // never past the commit index: an async leader's applied tail may still be truncated
  if (s.compactEntries <= 0 || upTo > s.commitIndex || upTo - s.log.base <= s.compactEntries) return
  const snapshot: Snapshot = { index: upTo, epoch: s.log.epochAt(upTo) as number, entries: s.store.entries(), writes: s.store.writes() }
  s.log.compactTo(upTo)
  s.snapshot = snapshot
  effects.push({ type: 'compact', snapshot, entriesAfter: s.log.slice(upTo + 1, Infinity) })
}

function truncate (s: ReplicaState, from: number, effects: Effect[]): void {
  s.log.truncateFrom(from)
  s.persistedIndex = Math.min(s.persistedIndex, from - 1)
  effects.push({ type: 'truncate', from })
  if (s.store.appliedIndex >= from) {
    // Only an async-mode leader applies past the majority commit; replay what is left.
    if (s.snapshot !== undefined) s.store.restore(s.snapshot.entries, s.snapshot.index, s.snapshot.writes)
    else s.store.reset()
    s.commitIndex = Math.min(s.commitIndex, from - 1)
    applyUpTo(s, s.commitIndex)
  }
}

function onAppendReply (s: ReplicaState, peer: string, sentEpoch: number, reply: AppendReply, now: number, effects: Effect[]): void {
  const p = s.peers.get(peer)
  if (p !== undefined) p.inflight = false
  if (reply.epoch > s.epoch) {
    s.epoch = reply.epoch
    if (s.role === 'leader') stepDown(s, effects, `replica ${peer} has seen epoch ${reply.epoch}`)
    return
  }
  if (s.role !== 'leader' || sentEpoch !== s.epoch || p === undefined) return
  if (reply.ok) {
    p.matchIndex = Math.max(p.matchIndex, reply.lastIndex)
    p.nextIndex = reply.lastIndex + 1
  } else {
    p.nextIndex = Math.max(1, Math.min(p.nextIndex - 1, reply.lastIndex + 1))
    p.matchIndex = Math.min(p.matchIndex, reply.lastIndex)
  }
  advance(s, now, effects)
  replicate(s, now, effects)
}
