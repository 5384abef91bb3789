import type { Socket } from 'node:net'
import type { ClusterError } from '../../../shared/src/errors.js'
import type { LeaseKeeper } from '../../../shared/src/lease/lease-keeper.js'
import type { LeaseState } from '../../../shared/src/lease/state.js'
import type { Logger } from '../../../shared/src/logger.js'
import type { LogFile } from './adapters/log-file.js'
import type { PeerClient } from './adapters/peer-client.js'
import { canServeReads, step, type Effect, type Event, type ReplicaState } from './core/state.js'
import type { StoredValue } from './core/store.js'
import type { AppendReply, AppendRequest, Precondition, SnapshotRequest } from './core/types.js'
import { kvError } from './errors.js'
import type { KvOutcome } from './metrics.js'

export interface DriverTimings {
  /** How often the leader's state machine sees the clock (deadlines, heartbeats, lease expiry). */
  tickMs: number
  writeTimeoutMs: number
  /** How long a follower waits for a leader to forward to. */
  leaderWaitMs: number
  /**
   * A follower contends for the lease only after hearing nothing from the leader for this long
   * (Raft's check-quorum idea): a leader that is alive but slow to renew on a busy host resumes
   * its own lease instead of being replaced. A leader's closed connections end the wait at once.
   */
  leaderSilenceMs: number
  /** How long a published log position stays visible to an election (the lease TTL). */
  positionTtlMs: number
}

export interface DriverDeps {
  /** The fencing lease (shared/src/lease) this replica set elects its leader with. */
  lease: LeaseKeeper
  logFile: LogFile
  peers: PeerClient
  log: Logger
  /** Publishes a role change (the registry). */
  onRole: (role: 'leader' | 'follower', epoch: number) => void
  /** Counts outcomes (metrics). */
  observe?: (outcome: KvOutcome) => void
  now?: () => number
}

export interface WriteResult { version: number, created: boolean }

/** The longest a write waits for its quorum, whatever deadline its caller gave. */
const maxWriteWaitMs = 30_000
/** How much earlier than the caller's deadline a write that has not committed is answered. */
const deadlineSlackMs = 50

export interface WriteRequest {
  op: 'put' | 'del'
  key: string
  value?: Buffer
  cond?: Precondition
  /** The gateway's retry key: a retry of a write already applied answers as the first did. */
  rid?: string
  /** Epoch ms after which the caller no longer waits (`x-request-deadline`). */
  deadline?: number
}

interface Waiter { resolve: (r: WriteResult) => void, reject: (err: ClusterError) => void }

interface ReadWaiter { resolve: () => void, reject: (err: ClusterError) => void, timer: NodeJS.Timeout }

/**
 * Carries out the state machine's effects: the log file, replication over HTTP, the Redis lease,
 * timers; and feeds what happens back in as events. The protocol decisions are all in `core/state.ts`.
 */
export class ReplicaDriver {
  readonly state: ReplicaState
  readonly #t: DriverTimings
  readonly #d: DriverDeps
  readonly #now: () => number
  readonly #waiters = new Map<number, Waiter>()
  readonly #readers = new Set<ReadWaiter>()
  #peerUrls = new Map<string, string>()
  #tickTimer: NodeJS.Timeout | undefined
  #stopped = false
  #published = ''
  #announcedEpoch = -1
  /** When an append from the current leader last arrived (monotonic ms). */
  #heardFromLeader = -Infinity
  readonly #leaderSockets = new WeakSet<Socket>()

  constructor (state: ReplicaState, timings: DriverTimings, deps: DriverDeps) {
    this.state = state
    this.#t = timings
    this.#d = deps
    this.#now = deps.now ?? (() => performance.now())
  }

  start (): void {
    this.#d.lease.on('change', (lease) => this.#onLease(lease, false))
    this.#d.lease.on('renewed', (lease) => this.#onLease(lease, true))
    this.#d.lease.start()
  }

  /**
   * A graceful stop (the process is deregistered already): a leader first lets the writes it
   * holds commit (for up to `drainMs`), since stepping down would answer each of them "outcome
   * unknown"; then it releases the lease, so a successor need not wait for the TTL.
   */
  async stop (drainMs = 1_000): Promise<void> {
    this.#stopped = true
    const giveUp = this.#now() + drainMs
    while (this.state.role === 'leader' && this.#waiters.size > 0 && this.#now() < giveUp) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    this.#stopTicking()
    await this.#d.lease.stop()
    if (this.state.role === 'leader') this.#dispatch({ type: 'leaseLost', now: this.#now() })
  }

  /**
   * What the lease keeper asks before each request: this replica's log position for the election
   * rule (shared/src/lease/rules.ts). A replica that does not hold the lease does not contend
   * while the leader is heard from (it may only be slow to renew) or once stopped; one that
   * holds it always sends its position, since its request takes the lease afresh if another
   * took it meanwhile.
   */
  candidacy (holding: boolean): false | { election: { candidate: string, position: { epoch: number, index: number }, quorum: number } } {
    if (!holding && (this.#stopped || this.#now() - this.#heardFromLeader < this.#t.leaderSilenceMs)) return false
    const s = this.state
    return { election: { candidate: s.id, position: s.log.position, quorum: Math.floor(s.clusterSize / 2) + 1 } }
  }

  /**
   * The leader's replication requests came over `socket`: when it closes, the leader may have
   * died (a killed process's connections close at once), so stop waiting for its silence.
   */
  watchLeaderConnection (socket: Socket, leaderId: string): void {
    if (this.#leaderSockets.has(socket)) return
    this.#leaderSockets.add(socket)
    socket.once('close', () => {
      if (this.state.role !== 'follower' || this.state.leaderId !== leaderId) return
      this.#heardFromLeader = -Infinity
      this.#d.lease.poke()
    })
  }

  #onLease (lease: LeaseState, renewal: boolean): void {
    const s = this.state
    const now = this.#now()
    if (lease.held) {
      // a renewal of a lease the state machine already gave up (its clock ran out) is a new term of the same epoch
      if (renewal && s.role === 'leader' && s.epoch === lease.epoch) this.#dispatch({ type: 'leaseRenewed', validUntil: lease.validUntil, now })
      else {
        if (!renewal) this.#d.log.info({ epoch: lease.epoch, lastIndex: s.log.lastIndex }, 'took the leader lease')
        this.#d.observe?.('elected')
        this.#dispatch({ type: 'leaseAcquired', epoch: lease.epoch, validUntil: lease.validUntil, now })
      }
      if (s.role === 'leader') this.#startTicking()
      return
    }
    if (s.role === 'leader') this.#dispatch({ type: 'leaseLost', now })
    this.#stopTicking()
    const holder = lease.holder.split('#')[0] ?? ''
    if (holder !== '' && holder !== s.id) this.#dispatch({ type: 'leaderObserved', epoch: lease.epoch, leaderId: holder, now })
    if (s.role === 'follower' && s.epoch !== this.#announcedEpoch) {
      // keep the registry's view of a follower's epoch current (GET /registry shows it)
      this.#announcedEpoch = s.epoch
      this.#d.onRole('follower', s.epoch)
    }
  }

  /** Only a leader has deadlines, heartbeats and a lease end to watch: a follower needs no clock. */
  #startTicking (): void {
    if (this.#tickTimer !== undefined || this.#stopped) return
    this.#tickTimer = setInterval(() => {
      this.#dispatch({ type: 'tick', now: this.#now() })
      if (this.state.role !== 'leader') this.#stopTicking()
    }, this.#t.tickMs)
  }

  #stopTicking (): void {
    clearInterval(this.#tickTimer)
    this.#tickTimer = undefined
  }

  /** The replicas' base URLs, from the registry (this one's excluded). */
  setPeers (urls: Map<string, string>): void {
    this.#peerUrls = urls
    this.#dispatch({ type: 'peersChanged', ids: [...urls.keys()], now: this.#now() })
  }

  get isLeader (): boolean { return this.state.role === 'leader' }

  /** The known leader's URL, when it is another replica. */
  leaderUrl (): string | undefined {
    const id = this.state.leaderId
    if (id === undefined || id === this.state.id) return undefined
    return this.#peerUrls.get(id)
  }

  /**
   * Proposes a write; resolves once it is acknowledged by the configured quorum and applied, with
   * what applying it did (its preconditions are decided then, in log order). Rejects with
   * KVL_ERR_NOT_LEADER (not proposed: never applied), KVL_ERR_NOT_FOUND / KVL_ERR_VERSION_MISMATCH
   * (applied as a no-op: never changes anything), or KVL_ERR_OUTCOME_UNKNOWN (in the log, not
   * acknowledged in time: may still be applied).
   */
  async write (w: WriteRequest): Promise<WriteResult> {
    const now = this.#now()
    // A caller that said how long it waits (the gateway's try deadline) is answered by then, not
    // earlier: a write stalled for a second (a Redis restart holds followers' acknowledgements)
    // then still commits, where a shorter timeout would turn it into "outcome unknown". A little
    // before the deadline, so the answer arrives while the caller still listens.
    const budget = w.deadline === undefined ? this.#t.writeTimeoutMs : Math.min(maxWriteWaitMs, w.deadline - Date.now() - deadlineSlackMs)
    return await new Promise<WriteResult>((resolve, reject) => {
      this.#dispatch({
        type: 'propose',
        op: w.op,
        key: w.key,
        ...(w.value !== undefined ? { value: w.value } : {}),
        ...(w.cond !== undefined ? { cond: w.cond } : {}),
        ...(w.rid !== undefined ? { rid: w.rid } : {}),
        now,
        deadline: now + Math.max(0, budget)
      }, (effects) => {
        for (const e of effects) {
          if (e.type === 'proposed') this.#waiters.set(e.index, { resolve, reject })
          if (e.type === 'refused') {
            this.#d.observe?.('refused')
            reject(kvError(e.code, e.message))
          }
        }
      })
    })
  }

  /**
   * A linearizable read on the leader. A new leader serves reads once its first entry is
   * committed: the read waits for that (woken by the state change, not by polling), at most
   * `leaderWaitMs`.
   */
  async readLinearizable (key: string): Promise<StoredValue | undefined> {
    if (!canServeReads(this.state, this.#now())) {
      if (!this.isLeader) throw kvError('KVL_ERR_NOT_LEADER', 'this replica is not the leader')
      await new Promise<void>((resolve, reject) => {
        const waiter: ReadWaiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            this.#readers.delete(waiter)
            reject(kvError('KVL_ERR_NO_QUORUM', 'the leader has not committed its first entry yet'))
          }, this.#t.leaderWaitMs)
        }
        this.#readers.add(waiter)
      })
    }
    return this.state.store.get(key)
  }

  /** After every event: wakes the reads waiting for this leader to become readable, or fails them when it stopped leading. */
  #wakeReaders (): void {
    if (this.#readers.size === 0) return
    const readable = canServeReads(this.state, this.#now())
    if (!readable && this.isLeader) return
    for (const r of this.#readers) {
      clearTimeout(r.timer)
      if (readable) r.resolve()
      else r.reject(kvError('KVL_ERR_NOT_LEADER', 'this replica stopped leading before it could serve the read'))
    }
    this.#readers.clear()
  }

  /** How many committed entries this replica has not applied yet, as far as it knows. */
  lag (): number {
    if (this.isLeader) return 0
    return Math.max(0, this.state.leaderCommitSeen - this.state.store.appliedIndex)
  }

  /** Follower side of replication: store the entries, publish the new position, then answer. */
  async onAppend (request: AppendRequest): Promise<AppendReply> {
    return await this.#answer({ type: 'appendRequest', request, now: this.#now() }, request.epoch)
  }

  /** Follower side of a snapshot install: the same, with the snapshot stored first. */
  async onSnapshot (request: SnapshotRequest): Promise<AppendReply> {
    return await this.#answer({ type: 'snapshotRequest', request, now: this.#now() }, request.epoch)
  }

  async #answer (event: Event, sentEpoch: number): Promise<AppendReply> {
    const writes: Array<Promise<void>> = []
    const effects = this.#dispatch(event, undefined, writes)
    const reply = effects.find((e): e is Extract<Effect, { type: 'reply' }> => e.type === 'reply')?.reply
    if (reply === undefined) throw new Error('append produced no reply')
    // the current leader is alive: no campaigning while it is heard from
    if (sentEpoch >= this.state.epoch && this.state.role === 'follower') this.#heardFromLeader = this.#now()
    const position = this.state.log.position
    const key = `${position.epoch}:${position.index}`
    // Publish before acknowledging: an election must see every acknowledged entry (rules.ts).
    // Alongside the disk write: a position published a little early can only delay an election.
    const publish = reply.ok && key !== this.#published
      ? this.#d.lease.lease.publish(this.state.id, position, this.state.epoch, this.#t.positionTtlMs).then(() => { this.#published = key })
      : undefined
    // written(): a resent batch whose entries are already in the log still waits for their write
    await Promise.all([...writes, this.#d.logFile.written(), publish])
    return reply
  }

  #dispatch (event: Event, beforeRun?: (effects: Effect[]) => void, writes: Array<Promise<void>> = []): Effect[] {
    const { effects } = step(this.state, event)
    beforeRun?.(effects)
    for (const e of effects) this.#run(e, writes)
    this.#wakeReaders()
    return effects
  }

  #run (e: Effect, writes: Array<Promise<void>>): void {
    switch (e.type) {
      case 'persist': {
        const last = e.entries.at(-1)
        if (last === undefined) return
        const done = this.#d.logFile.append(e.entries).then(() => {
          this.#dispatch({ type: 'persisted', upTo: last.index, epoch: last.epoch, now: this.#now() })
        })
        writes.push(done)
        done.catch((err: Error) => this.#d.log.error({ err: err.message }, 'log file append failed'))
        return
      }
      case 'truncate': {
        const done = this.#d.logFile.truncate(e.from)
        writes.push(done)
        done.catch((err: Error) => this.#d.log.error({ err: err.message }, 'log file truncate failed'))
        this.#d.log.warn({ from: e.from }, 'truncated a conflicting log tail')
        return
      }
      case 'send':
        this.#send(e.peer, e.request)
        return
      case 'sendSnapshot':
        this.#sendSnapshot(e.peer, e.request)
        return
      case 'compact': {
        const done = this.#d.logFile.compact(e.snapshot, e.entriesAfter)
        writes.push(done)
        done.catch((err: Error) => this.#d.log.error({ err: err.message }, 'log compaction failed'))
        this.#d.log.info({ snapshotIndex: e.snapshot.index, keys: e.snapshot.entries.length, entriesKept: e.entriesAfter.length }, 'log compacted into a snapshot')
        return
      }
      case 'ack': {
        const w = this.#waiters.get(e.index)
        this.#waiters.delete(e.index)
        if (e.result.applied) {
          this.#d.observe?.('acked')
          w?.resolve({ version: e.result.version, created: e.result.created })
        } else {
          this.#d.observe?.('refused')
          w?.reject(kvError(e.result.code, e.result.message))
        }
        return
      }
      case 'fail': {
        const w = this.#waiters.get(e.index)
        this.#waiters.delete(e.index)
        this.#d.observe?.('failed')
        w?.reject(kvError(e.code, e.message))
        return
      }
      case 'role':
        this.#d.log.info({ role: e.role, epoch: e.epoch, why: e.why, lastIndex: this.state.log.lastIndex, commitIndex: this.state.commitIndex }, 'role changed')
        this.#announcedEpoch = e.epoch
        if (e.role === 'follower') this.#d.observe?.('stepped-down')
        this.#d.onRole(e.role, e.epoch)
        break
      default:
        // proposed / refused / reply are read by whoever dispatched the event
    }
  }

  #send (peer: string, request: AppendRequest): void {
    const url = this.#peerUrls.get(peer)
    if (url === undefined) {
      queueMicrotask(() => this.#dispatch({ type: 'appendFailed', peer, now: this.#now() }))
      return
    }
    this.#d.peers.append(url, request).then(
      (reply) => this.#dispatch({ type: 'appendReply', peer, sentEpoch: request.epoch, reply, now: this.#now() }),
      () => this.#dispatch({ type: 'appendFailed', peer, now: this.#now() })
    )
  }

  #sendSnapshot (peer: string, request: SnapshotRequest): void {
    const url = this.#peerUrls.get(peer)
    if (url === undefined) {
      queueMicrotask(() => this.#dispatch({ type: 'appendFailed', peer, now: this.#now() }))
      return
    }
    this.#d.log.info({ peer, snapshotIndex: request.snapshot.index }, 'sending a snapshot to a follower that needs compacted entries')
    this.#d.peers.snapshot(url, request).then(
      (reply) => this.#dispatch({ type: 'appendReply', peer, sentEpoch: request.epoch, reply, now: this.#now() }),
      () => this.#dispatch({ type: 'appendFailed', peer, now: this.#now() })
    )
  }
}
