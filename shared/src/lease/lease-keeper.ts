import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Logger } from '../logger.js'
import { connectionGeneration, type Redis } from '../redis.js'
import { confirmReplicated, markBeforeWrite } from '../redis-replication.js'
import { RedisLease, type LeaseKeys, type LeaseReply } from './redis-lease.js'
import type { LeaseRequest, LogPosition } from './rules.js'
import { fastTakeoverAllowed, holdsLease, initialLeaseState, nextLeaseAction, reduceLease, type LeaseEvent, type LeaseState, type LeaseTimings } from './state.js'

/** What a contender for a free lease brings: nothing (a pair's lease), or its log for an election. */
export type Candidacy = { election?: undefined } | { election: { candidate: string, position: LogPosition, quorum: number } }

export interface LeaseKeeperOptions {
  /** A connection of its own: its Redis client id tells contenders whether we are alive. */
  redis: Redis
  keys: LeaseKeys
  /** A token unique to this process (instance id plus a nonce), so a restart is a new holder. */
  owner: string
  timings: LeaseTimings
  /** Take over at once when the holder's Redis connection is gone (kill -9), instead of waiting for the TTL. @default true */
  fastTakeover?: boolean
  /** The newest epoch this process has seen anywhere (a downstream's answer, a peer's message): a new epoch passes it. @default () => 0 */
  floor?: () => number
  /**
   * What each request brings, told whether we believe we hold the lease: `false` to sit this
   * round out while we know a live holder (kv-leader: a leader we hear from), so a holder that
   * is slow to renew resumes its own lease instead of being replaced. A holder must bring its
   * election too (see #tick). @default () => ({}) (always contend, no election rule)
   */
  candidacy?: (holding: boolean) => Candidacy | false
  /**
   * How long an acquisition or renewal waits for the Redis replicas to confirm it (`WAIT`, with
   * Sentinel only) before it counts as failed. @default timings.renewMs
   */
  confirmTimeoutMs?: number
  /** A monotonic clock in ms. @default performance.now */
  clock?: () => number
  log?: Logger
}

/**
 * The driver around the pure lease state: acquires, renews well inside the TTL, steals from a
 * dead holder, and emits `change` whenever we gain or lose the lease or learn of another holder or epoch,
 * `renewed` on every successful renewal. Callers ask `holds()` before every action the lease
 * protects: it reads the monotonic clock, so a process frozen past its lease knows it on waking,
 * before any I/O.
 *
 * Behind Sentinel, a grant counts only once the Redis replica confirmed it (`confirmReplicated`):
 * an acquisition or renewal that a failover could take back is never acted on, so an epoch is
 * never handed to two holders and the local deadline never outlives the lease in Redis. With
 * one Redis the confirmation costs nothing.
 */
export class LeaseKeeper extends EventEmitter<{ change: [LeaseState], renewed: [LeaseState] }> {
  readonly #lease: RedisLease
  readonly #redis: Redis
  readonly #opts: LeaseKeeperOptions
  readonly #clock: () => number
  #state: LeaseState = initialLeaseState
  #client: string | undefined
  #timer: NodeJS.Timeout | undefined
  #running = false
  #ticking: Promise<void> | undefined
  /** When our client last reconnected (not its first connection): no fast takeover for one TTL after. */
  #reconnectedAt: number | undefined
  /** An epoch the downstream refused: released before the next request, never resumed. */
  #forfeited: number | undefined

  constructor (opts: LeaseKeeperOptions) {
    super()
    this.#opts = opts
    this.#redis = opts.redis
    this.#lease = new RedisLease(opts.redis, opts.keys)
    this.#clock = opts.clock ?? (() => performance.now())
    // a reconnect is a new connection id: ask again before the next request
    this.#redis.on('ready', () => {
      this.#client = undefined
      if (connectionGeneration(this.#redis) > 1) this.#reconnectedAt = this.#clock()
    })
  }

  get state (): LeaseState { return this.#state }
  get epoch (): number { return this.#state.epoch }
  /** The scripts, for what the keeper does not do itself (an election candidate's position). */
  get lease (): RedisLease { return this.#lease }

  /** Whether we hold the lease at this instant, by our own monotonic clock. */
  holds (): boolean {
    return holdsLease(this.#state, this.#clock())
  }

  start (): void {
    this.#running = true
    this.#schedule(0)
  }

  /** Runs a round now (something suggests the holder is gone) instead of at the next retry. */
  poke (): void {
    if (this.#running && this.#ticking === undefined) this.#schedule(0)
  }

  /** Stops renewing and releases the lease if we hold it, so a successor needs no TTL wait. */
  async stop (): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    await this.#ticking
    if (this.#state.held) {
      const { epoch } = this.#state
      this.#apply({ type: 'dropped' })
      await this.#lease.release(this.#opts.owner, epoch).catch(() => false)
    }
  }

  /**
   * The downstream refused our epoch (older than its newest, or already another holder's): stop
   * holding at once, and never resume that epoch — the next grant is a new one, past it.
   */
  drop (): void {
    if (this.#state.holder !== this.#opts.owner) return
    this.#forfeited = this.#state.epoch
    this.#apply({ type: 'fenced' })
  }

  #schedule (delayMs: number): void {
    if (!this.#running) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined
        this.#schedule(nextLeaseAction(this.#state, this.#clock(), this.#opts.timings).delayMs)
      })
    }, delayMs)
  }

  async #tick (): Promise<void> {
    const { owner, timings } = this.#opts
    const holding = this.#state.held
    // Every request carries the election, a renewal included. A holder's belief that it holds
    // may be stale: it was frozen while another took the lease, and that one has just died, so
    // this very request takes the lease afresh (a steal), and must pass the election rule like
    // anyone's. Without it a leader woken from a 6 s freeze stole its dead successor's lease with
    // a stale log and truncated entries a majority had committed (chaos, kv-leader, seed 5).
    // Renewing a lease that is still ours never looks at the election (redis-lease.ts).
    const candidacy = this.#opts.candidacy?.(holding) ?? {}
    if (candidacy === false) return
    const sentAt = this.#clock()
    try {
      this.#client ??= await this.#lease.clientId()
      if (this.#forfeited !== undefined) {
        // still ours in Redis, it would be renewed as is: free it so the next grant is a new epoch
        await this.#lease.release(owner, this.#forfeited)
        this.#forfeited = undefined
      }
      const req: LeaseRequest = {
        owner,
        client: this.#client,
        floor: Math.max(this.#state.epoch, this.#opts.floor?.() ?? 0),
        // a holder that lost its lease to the clock resumes it when nobody took a newer epoch
        resume: this.#state.holder === owner ? this.#state.epoch : 0,
        ...(candidacy.election !== undefined ? { election: candidacy.election } : {})
      }
      const mark = markBeforeWrite(this.#redis)
      let reply: LeaseReply = await this.#lease.acquire(req, timings.ttlMs)
      if (!reply.granted && reply.reason === 'held' && this.#opts.fastTakeover !== false &&
        fastTakeoverAllowed(this.#clock(), this.#reconnectedAt, timings) && !(await this.#lease.clientAlive(reply.client))) {
        this.#opts.log?.warn({ holder: reply.owner, epoch: reply.epoch }, 'lease holder connection is gone; taking over')
        reply = await this.#lease.steal(req, timings.ttlMs, reply)
      }
      // a grant the replica has not confirmed may vanish in a failover: it is not a grant yet
      if (reply.granted) await confirmReplicated(this.#redis, mark, { timeoutMs: this.#opts.confirmTimeoutMs ?? timings.renewMs })
      // drop() while the request was out: that epoch is forfeited, released at the next round
      if (reply.granted && this.#forfeited !== undefined && reply.epoch <= this.#forfeited) return
      if (reply.granted) this.#apply({ type: 'granted', epoch: reply.epoch, owner, sentAt })
      else if (reply.reason === 'held') this.#apply({ type: 'refused', epoch: reply.epoch, holder: reply.owner })
      else this.#opts.log?.debug({ reason: reply.reason }, 'lease is free but this candidate may not take it')
      if (reply.granted && holding && this.#state.held) this.emit('renewed', this.#state)
    } catch (err) {
      this.#opts.log?.debug({ err: (err as Error).message }, 'lease request failed')
      this.#apply({ type: 'failed' })
    }
    // a lapse we only notice by the clock (Redis away, frozen) is a loss too
    if (this.#state.held && !this.holds()) {
      this.#apply({ type: 'dropped' })
    }
  }

  #apply (event: LeaseEvent): void {
    const before = this.#state
    this.#state = reduceLease(before, event, this.#opts.timings)
    if (before.held !== this.#state.held || before.epoch !== this.#state.epoch || before.holder !== this.#state.holder) {
      this.#opts.log?.info({ held: this.#state.held, epoch: this.#state.epoch, holder: this.#state.holder }, this.#state.held ? 'lease acquired' : 'lease lost')
      this.emit('change', this.#state)
    }
  }
}
