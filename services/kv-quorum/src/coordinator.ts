import type { Logger } from '../../../shared/src/logger.js'
import type { PeerClient } from './adapters/peer-client.js'
import { peerFailure } from './adapters/peer-failure.js'
import {
  begin,
  step,
  type CoordinationEffect,
  type CoordinationEvent,
  type CoordinationOutcome,
  type CoordinationRequest,
  type CoordinationStep,
  type ReplicaTarget
} from './core/coordination.js'
import type { HintBook } from './core/hints.js'
import type { HybridClock } from './core/hlc.js'
import type { Quorum } from './core/quorum.js'
import type { KvRecord } from './core/record.js'
import type { ReplicaDirectory } from './directory.js'
import type { KvQuorumMetrics } from './metrics.js'
import type { LocalReplica } from './replica.js'

export interface QuorumOutcome {
  asked: number
  /** Replicas that acknowledged (write) or answered (read) before the response. */
  replicas: string[]
  reached: boolean
}

export interface WriteOutcome extends QuorumOutcome {
  record: KvRecord
}

export interface ReadOutcome extends QuorumOutcome {
  /** The newest record among the answers (a tombstone means deleted). */
  record: KvRecord | undefined
  /** Answering replicas that were behind it: read repair is sending them the newest record. */
  stale: string[]
}

/** What the coordinator needs from the peer client (tests pass a fake). */
export type PeerTransport = Pick<PeerClient, 'putRecords' | 'getRecord'>

export interface CoordinatorOptions {
  directory: Pick<ReplicaDirectory, 'self' | 'targets'>
  replica: LocalReplica
  peers: PeerTransport
  clock: HybridClock
  hints: HintBook
  replicaTimeoutMs: number
  metrics: Pick<KvQuorumMetrics, 'hintsStored' | 'readRepairs'>
  log: Pick<Logger, 'error' | 'debug'>
}

/**
 * Coordinates one client request over all N replicas. What to do when (answer, hint, read
 * repair) is decided by the pure state machine in `core/coordination.ts`; this driver only
 * carries out its effects (replica calls, the local replica, the hint book, metrics, logs) and
 * feeds their results back to it as events.
 */
export class Coordinator {
  readonly #o: CoordinatorOptions

  constructor (opts: CoordinatorOptions) {
    this.#o = opts
  }

  /** `deadline`: the client's (epoch ms), passed on to every replica so none applies the write after the client gave up. */
  async write (key: string, value: Buffer | null, quorum: Quorum, deadline?: number): Promise<WriteOutcome> {
    const { directory, clock } = this.#o
    const record: KvRecord = { key, value, version: { ...clock.now(), n: directory.self } }
    const outcome = await this.#run({ op: 'write', record, needed: quorum.w, targets: directory.targets(), deadline })
    return { record, asked: outcome.asked, replicas: outcome.replicas, reached: outcome.reached }
  }

  async read (key: string, quorum: Quorum, deadline?: number): Promise<ReadOutcome> {
    const outcome = await this.#run({ op: 'read', key, needed: quorum.r, targets: this.#o.directory.targets(), deadline })
    return { record: outcome.record, stale: outcome.stale, asked: outcome.asked, replicas: outcome.replicas, reached: outcome.reached }
  }

  /** Resolves at the machine's `answer`; the request goes on afterwards (hints, read repair). */
  async #run (request: CoordinationRequest): Promise<CoordinationOutcome> {
    const key = request.op === 'write' ? request.record.key : request.key
    return await new Promise((resolve) => {
      let current = begin(request)
      const run = (next: CoordinationStep): void => {
        current = next
        for (const effect of next.effects) this.#execute(effect, key, resolve, feed)
      }
      // results always come back on a later tick, never while effects are being executed
      const feed = (event: CoordinationEvent): void => { run(step(current.state, event)) }
      run(current)
    })
  }

  #execute (effect: CoordinationEffect, key: string, answer: (o: CoordinationOutcome) => void, feed: (e: CoordinationEvent) => void): void {
    const { hints, metrics, log } = this.#o
    switch (effect.type) {
      case 'put':
      case 'get': {
        const { target } = effect
        const call = effect.type === 'put' ? this.#store(target, effect.record, effect.deadline) : this.#fetch(target, effect.key, effect.deadline)
        void call.then(
          (record) => { feed({ type: 'replied', replica: target.id, record: record ?? undefined }) },
          (err: unknown) => { feed({ type: 'failed', replica: target.id, failure: failureOf(target, err), error: err }) })
        break
      }
      case 'answer':
        answer(effect.outcome)
        break
      case 'hint':
        if (hints.add(effect.replica, effect.record)) metrics.hintsStored.inc({ reason: effect.reason })
        break
      case 'repair': {
        const { target } = effect
        // after the answer: bounded by the replica timeout, not by the client's deadline
        void this.#store(target, effect.record).then(
          () => { metrics.readRepairs.inc(); feed({ type: 'repaired', replica: target.id }) },
          (err: unknown) => { feed({ type: 'repairFailed', replica: target.id, error: err }) })
        break
      }
      case 'log':
        log[effect.level]({ err: effect.error, key, replica: effect.replica }, effect.message)
        break
    }
  }

  async #store (target: ReplicaTarget, record: KvRecord, deadline?: number): Promise<undefined> {
    const { replica, peers, replicaTimeoutMs } = this.#o
    if (target.self) await replica.apply([record])
    else if (target.url === undefined) throw new Error(`${target.id} is not registered`)
    else await peers.putRecords(target.url, [record], replicaTimeoutMs, deadline)
    return undefined
  }

  async #fetch (target: ReplicaTarget, key: string, deadline: number | undefined): Promise<KvRecord | undefined> {
    const { replica, peers, clock, replicaTimeoutMs } = this.#o
    if (target.self) return replica.get(key)
    if (target.url === undefined) throw new Error(`${target.id} is not registered`)
    const record = await peers.getRecord(target.url, key, replicaTimeoutMs, deadline)
    // a write this instance coordinates next is stamped after what it has read
    if (record !== undefined) clock.observe(record.version)
    return record
  }
}

/** A local failure may have reached the store before its log append failed: `unknown`. */
function failureOf (target: ReplicaTarget, err: unknown): 'refused' | 'unknown' {
  return target.self ? 'unknown' : peerFailure(err)
}
