import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import { Counter, Gauge } from 'prom-client'
import { LeaseKeeper } from '../../../shared/src/lease/lease-keeper.js'
import { leaseKeys } from '../../../shared/src/lease/redis-lease.js'
import type { Logger } from '../../../shared/src/logger.js'
import { compareInputIds, type PairName } from '../../../shared/src/pipeline/types.js'
import type { Redis } from '../../../shared/src/redis.js'
import type { Registrar } from '../../../shared/src/registry/registrar.js'
import type { FeedReader } from './adapters/feed-reader.js'
import type { SinkClient } from './adapters/sink-client.js'
import { Balances, decodeEntry } from './core/balances.js'
import { mayEmit, retryDelayMs, type LedgerRole, type RetryTimings } from './core/emit-policy.js'
import { Outbox } from './core/outbox.js'
import { initialTakeover, roleOfPhase, stepTakeover, wantsMark, type TakeoverEffect, type TakeoverEvent, type TakeoverState } from './core/takeover.js'

export interface LedgerOptions {
  pair: PairName
  instanceId: string
  prefix: string
  reader: FeedReader
  sink: SinkClient
  /** Hot-warm only: a dedicated connection for the lease. */
  leaseRedis?: Redis
  registrar: () => Registrar
  log: Logger
  metrics: Registry
  lease: { ttlMs: number, renewMs: number, retryMs: number, marginMs: number, fastTakeover: boolean }
  /** Sink-call retries; also the wait before a claim is sent again. */
  retry: RetryTimings
  /** How long the emitter waits with nothing to send (new outputs wake it sooner). */
  idleMs: number
  batchMax: number
  readCount: number
  hwmPollMs: number
  skipLeaseCheck: boolean
}

export interface LedgerStatus {
  pair: PairName
  role: LedgerRole
  epoch: number
  /** The newest epoch this instance has seen (lease, sink): its next lease epoch passes it. */
  epochFloor: number
  rebuilt: boolean
  cursor: string
  applied: number
  accounts: number
  outbox: number
  floor: string
}

/** How long one feed read blocks at the end of the stream (it returns at once when an entry arrives). */
const readBlockMs = 2_000

/**
 * One ledger instance: consumes the whole feed in order with its own cursor, applies each event
 * to its balances, and queues the outputs above the sink's high-water mark in its outbox. Three
 * loops run side by side: the consumer, the emitter (sends the outbox head when `mayEmit`), and
 * the mark poller (trims the outbox while warm). Who emits is the pure takeover machine's
 * decision (`core/takeover.ts`); this class is its driver: it feeds it what the lease and the
 * sink say, and carries out its effects (publish the role, claim, trim, forfeit the lease).
 */
export class Ledger {
  readonly #o: LedgerOptions
  readonly #balances = new Balances()
  readonly #outbox = new Outbox()
  readonly #lease: LeaseKeeper | undefined
  /** The lease owner token: the sink binds each epoch to it. */
  readonly #holder: string
  readonly #applied: Counter
  readonly #acked: Counter
  #takeover: TakeoverState
  #cursor = '0-0'
  #floor = '0-0'
  #rebuilt = false
  #running = false
  #loops: Array<Promise<void>> = []
  #wake: (() => void) | undefined
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor (opts: LedgerOptions) {
    this.#o = opts
    this.#takeover = initialTakeover(opts.pair)
    this.#holder = `${opts.instanceId}:${randomBytes(4).toString('hex')}`
    this.#applied = new Counter({ name: 'ledger_events_applied_total', help: 'Feed events applied to the balances', registers: [opts.metrics] })
    this.#acked = new Counter({ name: 'ledger_outputs_acked_total', help: 'Outputs acknowledged by the sink', registers: [opts.metrics] })
    const outbox = this.#outbox
    new Gauge({ name: 'ledger_outbox_size', help: 'Outputs waiting for the sink', registers: [opts.metrics], collect () { this.set(outbox.size) } }) // eslint-disable-line no-new
    const status = (): LedgerStatus => this.status()
    new Gauge({ name: 'ledger_is_hot', help: '1 while this instance emits (hot), 0 while warm', registers: [opts.metrics], collect () { this.set(status().role === 'hot' ? 1 : 0) } }) // eslint-disable-line no-new
    new Gauge({ name: 'ledger_lease_epoch', help: 'Fencing epoch of the pair lease as this instance knows it (0 for hot-hot)', registers: [opts.metrics], collect () { this.set(status().epoch) } }) // eslint-disable-line no-new
    if (opts.pair === 'hot-warm') {
      if (opts.leaseRedis === undefined) throw new Error('the hot-warm pair needs a lease connection')
      const lease = new LeaseKeeper({
        redis: opts.leaseRedis,
        keys: leaseKeys(opts.prefix, `ledger:${opts.pair}`),
        owner: this.#holder,
        timings: opts.lease,
        fastTakeover: opts.lease.fastTakeover,
        // a new epoch passes every epoch seen anywhere, even one a Redis failover lost
        floor: () => this.#takeover.epochFloor,
        log: opts.log
      })
      lease.on('change', (s) => this.#dispatch({ type: 'leaseChanged', held: s.held, epoch: s.epoch }))
      this.#lease = lease
    }
  }

  static initialRole (pair: PairName): LedgerRole { return roleOfPhase(initialTakeover(pair).phase) }

  get rebuilt (): boolean { return this.#rebuilt }

  status (): LedgerStatus {
    return {
      pair: this.#o.pair,
      role: roleOfPhase(this.#takeover.phase),
      epoch: this.#lease?.epoch ?? 0,
      epochFloor: this.#takeover.epochFloor,
      rebuilt: this.#rebuilt,
      cursor: this.#cursor,
      applied: this.#balances.applied,
      accounts: this.#balances.accounts,
      outbox: this.#outbox.size,
      floor: this.#floor
    }
  }

  /**
   * Returns at once. In the background: learns the sink's mark (waiting for a sink), then
   * consumes, emits and (hot-warm) contends for the lease; `rebuilt` once caught up with the feed.
   */
  start (): void {
    this.#running = true
    this.#loops = [this.#run()]
  }

  async #run (): Promise<void> {
    const mark = await this.#readMark(true)
    if (!this.#running || mark === undefined) return
    this.#floor = mark.highWaterMark
    this.#dispatch({ type: 'markRead', sinkEpoch: mark.epoch, highWaterMark: mark.highWaterMark })
    this.#o.log.info({ floor: this.#floor, epochFloor: this.#takeover.epochFloor }, 'rebuilding from the feed; outputs above the sink mark will be emitted')
    this.#lease?.start()
    await Promise.all([this.#consume(), this.#emit(), this.#pollMark()])
  }

  async stop (): Promise<void> {
    this.#running = false
    for (const timer of this.#timers) clearTimeout(timer)
    this.#wake?.()
    this.#o.reader.close()
    await this.#lease?.stop()
    await Promise.race([Promise.all(this.#loops), sleep(3_000)])
  }

  #dispatch (event: TakeoverEvent): void {
    const { state, effects } = stepTakeover(this.#takeover, event, { claimRetryMs: this.#o.retry.retryMs })
    this.#takeover = state
    for (const effect of effects) this.#perform(effect)
  }

  #perform (effect: TakeoverEffect): void {
    switch (effect.type) {
      case 'publishRole':
        this.#o.log.info({ role: effect.role, epoch: effect.epoch }, effect.role === 'hot' ? 'became hot' : 'became warm')
        void this.#o.registrar().update({ role: effect.role, meta: { pair: this.#o.pair, epoch: effect.epoch } }).catch(() => {})
        return
      case 'claim':
        this.#later(effect.delayMs, () => { void this.#claim(effect.epoch) })
        return
      case 'trim':
        this.#trimTo(effect.through)
        return
      case 'forfeitLease':
        this.#lease?.drop()
        return
      case 'readMark':
        void this.#readMark(false).then((mark) => {
          if (mark !== undefined) this.#dispatch({ type: 'markRead', sinkEpoch: mark.epoch, highWaterMark: mark.highWaterMark })
        })
        return
      case 'wakeEmitter':
        this.#wake?.()
    }
  }

  async #consume (): Promise<void> {
    const { reader, readCount, log } = this.#o
    while (this.#running) {
      let entries
      try {
        // a blocked read returns as soon as an entry arrives; stop() closes the reader to end it
        entries = await reader.read(this.#cursor, readCount, readBlockMs)
      } catch (err) {
        if (!this.#running) return
        log.warn({ err: (err as Error).message }, 'feed read failed; retrying')
        await sleep(this.#o.retry.retryMaxMs)
        continue
      }
      for (const { id, fields } of entries) {
        this.#cursor = id
        const event = decodeEntry(fields)
        if (event === undefined) {
          log.error({ inputId: id }, 'malformed feed entry skipped')
          continue
        }
        const output = this.#balances.apply(id, event.account, event.amount)
        if (compareInputIds(id, this.#floor) > 0) this.#outbox.push(output)
      }
      this.#applied.inc(entries.length)
      const justRebuilt = !this.#rebuilt && entries.length < readCount
      if (justRebuilt) {
        this.#rebuilt = true
        log.info({ applied: this.#balances.applied, cursor: this.#cursor, outbox: this.#outbox.size }, 'state rebuilt from the feed')
      }
      if (entries.length > 0 || justRebuilt) this.#wake?.()
    }
  }

  async #emit (): Promise<void> {
    const { pair, instanceId, batchMax, log, sink } = this.#o
    let failures = 0
    while (this.#running) {
      const lease = this.#lease
      const allowed = mayEmit({ rebuilt: this.#rebuilt, phase: this.#takeover.phase, holdsLease: lease === undefined || this.#o.skipLeaseCheck || lease.holds() })
      const batch = allowed ? this.#outbox.peek(batchMax) : []
      const url = batch.length > 0 ? sink.pick() : undefined
      if (url === undefined) {
        // nothing to send: new entries, a claimed epoch and a finished rebuild wake this loop at
        // once, so the idle wait is only a safety net; a batch with no sink listed looks again sooner
        await this.#idle(batch.length > 0 ? this.#o.retry.retryMaxMs : this.#o.idleMs)
        continue
      }
      const epoch = this.#takeover.epoch
      const result = await sink.send(url, { pair, epoch, holder: epoch > 0 ? this.#holder : '', instance: instanceId, outputs: batch })
      if (result.kind === 'ok') {
        failures = 0
        const last = (batch[batch.length - 1] as { inputId: string }).inputId
        this.#outbox.trimThrough(last)
        this.#acked.inc(batch.length)
        this.#dispatch({ type: 'batchAccepted', epoch, sinkEpoch: result.epoch })
      } else if (result.kind === 'stale') {
        log.warn({ epoch, reason: result.message }, 'the sink refused our epoch; stepping down')
        this.#dispatch({ type: 'batchRefused', epoch })
      } else {
        failures++
        if (failures === 1 || failures % 50 === 0) log.warn({ sink: url, reason: result.message, failures }, 'sink send failed; retrying on the next instance')
        await sleep(retryDelayMs(failures, this.#o.retry))
      }
    }
  }

  /** While warm, follow the sink's mark so the outbox stays small (and the epoch floor current). */
  async #pollMark (): Promise<void> {
    while (this.#running) {
      await sleep(this.#o.hwmPollMs)
      if (!this.#running || !wantsMark(this.#takeover)) continue
      const mark = await this.#readMark(false)
      if (mark !== undefined) this.#dispatch({ type: 'markRead', sinkEpoch: mark.epoch, highWaterMark: mark.highWaterMark })
    }
  }

  /** The sink's mark and newest epoch (a claim of epoch 0); with `wait`, until a sink answers. */
  async #readMark (wait: boolean): Promise<{ epoch: number, highWaterMark: string } | undefined> {
    while (this.#running) {
      const url = this.#o.sink.pick()
      const r = url === undefined ? undefined : await this.#o.sink.claim(url, this.#o.pair, 0)
      if (r !== undefined) return r
      if (!wait) return undefined
      await sleep(this.#o.retry.retryMaxMs)
    }
    return undefined
  }

  /** One claim of `epoch` at the sink; the machine decides what its answer (or silence) means. */
  async #claim (epoch: number): Promise<void> {
    if (!this.#running) return
    const url = this.#o.sink.pick()
    const r = url === undefined ? undefined : await this.#o.sink.claim(url, this.#o.pair, epoch, this.#holder)
    if (r === undefined) {
      this.#dispatch({ type: 'claimFailed', epoch })
      return
    }
    if (r.outcome === 'claimed') this.#o.log.info({ epoch, highWaterMark: r.highWaterMark }, 'claimed the pair at the sink; re-emitting after its mark')
    else this.#o.log.warn({ epoch, newest: r.epoch, outcome: r.outcome }, 'the sink refused our epoch; stepping down')
    this.#dispatch({ type: 'claimAnswered', epoch, outcome: r.outcome, sinkEpoch: r.epoch, highWaterMark: r.highWaterMark })
  }

  #trimTo (mark: string): void {
    this.#outbox.trimThrough(mark)
    if (compareInputIds(mark, this.#floor) > 0) this.#floor = mark
  }

  #later (ms: number, fn: () => void): void {
    if (!this.#running) return
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, ms)
    this.#timers.add(timer)
  }

  async #idle (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); resolve() }
      this.#wake = done
    })
    this.#wake = undefined
  }
}
