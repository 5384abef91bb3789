import type { Logger } from '../../../shared/src/logger.js'
import type { PeerClient } from './adapters/peer-client.js'
import type { HintBook } from './core/hints.js'
import type { HybridClock } from './core/hlc.js'
import { QuorumTally, type Quorum } from './core/quorum.js'
import { resolveRead, type ReplicaAnswer } from './core/read-resolution.js'
import type { KvRecord } from './core/record.js'
import type { ReplicaDirectory, ReplicaTarget } from './directory.js'
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

class NotRegistered extends Error {}

/**
 * Coordinates one client request over all N replicas: a write goes to every replica in
 * parallel and is answered once W acknowledged (or every replica answered or failed); a read
 * asks every replica, is answered once R answered, and read-repairs the stale ones afterwards.
 */
export class Coordinator {
  readonly #o: CoordinatorOptions

  constructor (opts: CoordinatorOptions) {
    this.#o = opts
  }

  /** `deadline`: the client's (epoch ms), passed on to every replica so none applies the write after the client gave up. */
  async write (key: string, value: Buffer | null, quorum: Quorum, deadline?: number): Promise<WriteOutcome> {
    const { directory, replica, peers, hints, clock, replicaTimeoutMs, metrics } = this.#o
    const record: KvRecord = { key, value, version: { ...clock.now(), n: directory.self } }
    const targets = directory.targets()
    const tally = new QuorumTally(quorum.w, targets.length)
    return await new Promise<WriteOutcome>((resolve) => {
      let answered = false
      const settle = (): void => {
        if (answered || !(tally.reached || tally.settled)) return
        answered = true
        resolve({ record, asked: quorum.w, replicas: [...tally.ok], reached: tally.reached })
      }
      for (const target of targets) {
        const send = target.self
          ? replica.apply([record])
          : target.url === undefined
            ? Promise.reject(new NotRegistered(target.id))
            : peers.putRecords(target.url, [record], replicaTimeoutMs, deadline)
        send.then(() => { tally.succeed(target.id); settle() }, (err: Error) => {
          tally.fail(target.id)
          if (!target.self && hints.add(target.id, record)) metrics.hintsStored.inc()
          if (target.self) this.#o.log.error({ err, key }, 'local write failed')
          settle()
        })
      }
    })
  }

  async read (key: string, quorum: Quorum, deadline?: number): Promise<ReadOutcome> {
    const { directory, replica, peers, replicaTimeoutMs } = this.#o
    const targets = directory.targets()
    const tally = new QuorumTally(quorum.r, targets.length)
    const answers: ReplicaAnswer[] = []
    const fetchFrom = async (target: ReplicaTarget): Promise<KvRecord | undefined> => {
      if (target.self) return replica.get(key)
      if (target.url === undefined) throw new NotRegistered(target.id)
      const record = await peers.getRecord(target.url, key, replicaTimeoutMs, deadline)
      if (record !== undefined) this.#o.clock.observe(record.version)
      return record
    }
    let settledAll: () => void = () => {}
    const allSettled = new Promise<void>((resolve) => { settledAll = resolve })
    const outcome = new Promise<ReadOutcome>((resolve) => {
      let answered = false
      const settle = (): void => {
        if (tally.settled) settledAll()
        if (answered || !(tally.reached || tally.settled)) return
        answered = true
        const { newest, stale } = resolveRead(answers)
        resolve({ record: newest, stale, asked: quorum.r, replicas: answers.map((a) => a.replica), reached: tally.reached })
      }
      for (const target of targets) {
        fetchFrom(target).then((record) => {
          answers.push({ replica: target.id, record })
          tally.succeed(target.id)
          settle()
        }, () => { tally.fail(target.id); settle() })
      }
    })
    // read repair runs off the response's critical path, once every replica answered or failed
    void allSettled.then(async () => { await this.#repair(key, answers, targets) })
    return await outcome
  }

  async #repair (key: string, answers: readonly ReplicaAnswer[], targets: readonly ReplicaTarget[]): Promise<void> {
    const { newest, stale } = resolveRead(answers)
    if (newest === undefined || stale.length === 0) return
    await Promise.all(stale.map(async (id) => {
      const target = targets.find((t) => t.id === id)
      try {
        if (target?.self === true) await this.#o.replica.apply([newest])
        else if (target?.url !== undefined) await this.#o.peers.putRecords(target.url, [newest], this.#o.replicaTimeoutMs)
        else return
        this.#o.metrics.readRepairs.inc()
      } catch (err) {
        this.#o.log.debug({ err: (err as Error).message, key, replica: id }, 'read repair failed; anti-entropy will retry')
      }
    }))
  }
}
