import type { Logger } from '../../../shared/src/logger.js'
import type { PeerClient } from './adapters/peer-client.js'
import { differingBuckets, exchangeBucket } from './core/digest.js'
import type { HintBook } from './core/hints.js'
import type { ReplicaDirectory } from './directory.js'
import type { KvQuorumMetrics } from './metrics.js'
import type { LocalReplica } from './replica.js'

export interface BackgroundOptions {
  directory: ReplicaDirectory
  replica: LocalReplica
  peers: PeerClient
  hints: HintBook
  metrics: KvQuorumMetrics
  log: Logger
  hintIntervalMs: number
  antiEntropyMs: number
  replicaTimeoutMs: number
  /** Tombstones are collected about ten times per grace period (at most once a minute). */
  tombstoneGraceMs: number
}

const hintBatch = 500
const pushBatch = 500

/** A loop that runs `step` every `intervalMs` (never overlapping itself) until stopped. */
function every (intervalMs: number, step: () => Promise<void>, log: Logger, name: string): () => void {
  if (intervalMs <= 0) return () => {}
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const loop = (): void => {
    timer = setTimeout(() => {
      step().catch((err: Error) => log.warn({ err: err.message }, `${name} failed`)).finally(() => { if (!stopped) loop() })
    }, intervalMs)
    timer.unref()
  }
  loop()
  return () => { stopped = true; clearTimeout(timer) }
}

/**
 * The two background repairs. Hinted handoff: hints go to their replica as soon as it is
 * registered and answers. Anti-entropy: each round compares bucket digests with one peer
 * (in turn) and exchanges the records of the buckets that differ, both ways.
 */
export class Background {
  readonly #o: BackgroundOptions
  readonly #stops: Array<() => void> = []
  #nextPeer = 0

  constructor (opts: BackgroundOptions) {
    this.#o = opts
  }

  start (): void {
    this.#stops.push(every(this.#o.hintIntervalMs, async () => { await this.deliverHints() }, this.#o.log, 'hint delivery'))
    this.#stops.push(every(this.#o.antiEntropyMs, async () => { await this.antiEntropyRound() }, this.#o.log, 'anti-entropy'))
    this.#stops.push(every(Math.min(60_000, Math.ceil(this.#o.tombstoneGraceMs / 10)), async () => {
      const dropped = await this.#o.replica.collectTombstones()
      if (dropped > 0) this.#o.log.info({ dropped }, 'tombstones collected')
    }, this.#o.log, 'tombstone collection'))
  }

  stop (): void {
    for (const stop of this.#stops.splice(0)) stop()
  }

  async deliverHints (): Promise<void> {
    const { hints, directory, peers, metrics, log, replicaTimeoutMs } = this.#o
    const urls = directory.urls()
    await Promise.all(hints.replicas().map(async (id) => {
      const url = urls.get(id)
      if (url === undefined) return
      while (hints.count(id) > 0) {
        const batch = hints.peek(id, hintBatch)
        try {
          await peers.putRecords(url, batch, replicaTimeoutMs)
        } catch {
          return // still away: try again next round
        }
        hints.delivered(id, batch)
        metrics.hintsDelivered.inc(batch.length)
        log.info({ replica: id, delivered: batch.length, left: hints.count(id) }, 'hints delivered')
      }
    }))
  }

  async antiEntropyRound (): Promise<void> {
    const { directory, replica, peers, metrics, log, replicaTimeoutMs } = this.#o
    const peersUp = directory.peers().filter((p) => p.url !== undefined)
    if (peersUp.length === 0) return
    const peer = peersUp[this.#nextPeer++ % peersUp.length]
    if (peer?.url === undefined) return
    const theirs = await peers.digests(peer.url, replicaTimeoutMs)
    const buckets = differingBuckets(replica.digests(), theirs)
    let pulled = 0
    let pushed = 0
    for (const bucket of buckets) {
      const { pull, push } = exchangeBucket(replica.bucket(bucket), await peers.bucket(peer.url, bucket, replicaTimeoutMs))
      pulled += await replica.apply(pull)
      for (let i = 0; i < push.length; i += pushBatch) await peers.putRecords(peer.url, push.slice(i, i + pushBatch), replicaTimeoutMs)
      pushed += push.length
    }
    if (pulled + pushed > 0) {
      metrics.antiEntropyRecords.inc({ direction: 'pulled' }, pulled)
      metrics.antiEntropyRecords.inc({ direction: 'pushed' }, pushed)
      log.info({ peer: peer.id, buckets: buckets.length, pulled, pushed }, 'anti-entropy repaired differences')
    }
  }
}
