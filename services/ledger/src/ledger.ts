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
import { mayEmit, roleOf, type LedgerRole } from './core/emit-policy.js'
import { Outbox } from './core/outbox.js'

/** How long one feed read blocks at the end of the stream (it returns at once when an entry arrives). */
const readBlockMs = 2_000
/**
 * How long the emitter sleeps with nothing to send. It is woken at once by what makes sending
 * possible (new entries, a claimed lease, the end of the rebuild): this is only a safety net.
 */
const idleEmitMs = 500

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
  batchMax: number
  readCount: number
  hwmPollMs: number
  skipLeaseCheck: boolean
}

export interface LedgerStatus {
  pair: PairName
  role: LedgerRole
  epoch: number
  rebuilt: boolean
  cursor: string
  applied: number
  accounts: number
  outbox: number
  floor: string
}

/**
 * One ledger instance: consumes the whole feed in order with its own cursor, applies each event
 * to its balances, and queues the outputs above the sink's high-water mark in its outbox. Three
 * loops run side by side: the consumer, the emitter (sends the outbox head when `mayEmit`), and
 * the mark poller (trims the outbox while not emitting). In the hot-warm pair a `LeaseKeeper`
 * decides who is hot; a takeover claims the new epoch at the sink, trims to the returned mark and
 * re-emits the rest.
 */
export class Ledger {
  readonly #o: LedgerOptions
  readonly #balances = new Balances()
  readonly #outbox = new Outbox()
  readonly #lease: LeaseKeeper | undefined
  readonly #applied: Counter
  readonly #acked: Counter
  #cursor = '0-0'
  #floor = '0-0'
  #rebuilt = false
  #claimedEpoch: number | undefined
  #role: LedgerRole
  #running = false
  #loops: Array<Promise<void>> = []
  #wake: (() => void) | undefined

  constructor (opts: LedgerOptions) {
    this.#o = opts
    this.#role = roleOf(opts.pair, false)
    this.#applied = new Counter({ name: 'ledger_events_applied_total', help: 'Feed events applied to the balances', registers: [opts.metrics] })
    this.#acked = new Counter({ name: 'ledger_outputs_acked_total', help: 'Outputs acknowledged by the sink', registers: [opts.metrics] })
    const outbox = this.#outbox
    new Gauge({ name: 'ledger_outbox_size', help: 'Outputs waiting for the sink', registers: [opts.metrics], collect () { this.set(outbox.size) } }) // eslint-disable-line no-new
    const status = (): LedgerStatus => this.status()
    new Gauge({ name: 'ledger_is_hot', help: '1 while this instance emits (hot), 0 while warm', registers: [opts.metrics], collect () { this.set(status().role === 'hot' ? 1 : 0) } }) // eslint-disable-line no-new
    new Gauge({ name: 'ledger_lease_epoch', help: 'Fencing epoch of the pair lease as this instance knows it (0 for hot-hot)', registers: [opts.metrics], collect () { this.set(status().epoch) } }) // eslint-disable-line no-new
    if (opts.pair === 'hot-warm') {
      if (opts.leaseRedis === undefined) throw new Error('the hot-warm pair needs a lease connection')
      this.#lease = new LeaseKeeper({
        redis: opts.leaseRedis,
        keys: leaseKeys(opts.prefix, `ledger:${opts.pair}`),
        owner: `${opts.instanceId}:${randomBytes(4).toString('hex')}`,
        timings: opts.lease,
        fastTakeover: opts.lease.fastTakeover,
        log: opts.log
      })
      this.#lease.on('change', () => this.#onLeaseChange())
    }
  }

  static initialRole (pair: PairName): LedgerRole { return roleOf(pair, false) }

  get rebuilt (): boolean { return this.#rebuilt }

  status (): LedgerStatus {
    return {
      pair: this.#o.pair,
      role: this.#role,
      epoch: this.#lease?.epoch ?? 0,
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
    if (!this.#running) return
    this.#floor = mark ?? '0-0'
    this.#o.log.info({ floor: this.#floor }, 'rebuilding from the feed; outputs above the sink mark will be emitted')
    this.#lease?.start()
    await Promise.all([this.#consume(), this.#emit(), this.#pollMark()])
  }

  async stop (): Promise<void> {
    this.#running = false
    this.#wake?.()
    this.#o.reader.close()
    await this.#lease?.stop()
    await Promise.race([Promise.all(this.#loops), sleep(3_000)])
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
        await sleep(200)
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
      const allowed = mayEmit({ pair, rebuilt: this.#rebuilt, holdsLease: lease === undefined || this.#o.skipLeaseCheck || lease.holds(), epoch: lease?.epoch ?? 0, claimedEpoch: lease === undefined ? 0 : this.#claimedEpoch })
      const batch = allowed ? this.#outbox.peek(batchMax) : []
      const url = batch.length > 0 ? sink.pick() : undefined
      if (url === undefined) {
        // nothing to send: new entries, a claimed lease and a finished rebuild wake this loop at once
        await this.#idle(batch.length > 0 ? 100 : idleEmitMs)
        continue
      }
      const epoch = lease?.epoch ?? 0
      const result = await sink.send(url, { pair, epoch, instance: instanceId, outputs: batch })
      if (result.kind === 'ok') {
        failures = 0
        const last = (batch[batch.length - 1] as { inputId: string }).inputId
        this.#outbox.trimThrough(last)
        this.#acked.inc(batch.length)
      } else if (result.kind === 'stale') {
        log.warn({ epoch, reason: result.message }, 'the sink refused our epoch as stale; stepping down')
        this.#claimedEpoch = undefined
        lease?.drop()
        this.#onLeaseChange()
      } else {
        failures++
        if (failures === 1 || failures % 50 === 0) log.warn({ sink: url, reason: result.message, failures }, 'sink send failed; retrying on the next instance')
        await sleep(Math.min(20 * failures, 200))
      }
    }
  }

  /** While not emitting, follow the sink's mark so the outbox stays small. */
  async #pollMark (): Promise<void> {
    while (this.#running) {
      await sleep(this.#o.hwmPollMs)
      if (!this.#running || this.#role === 'hot') continue
      const mark = await this.#readMark(false)
      if (mark !== undefined) this.#trimTo(mark)
    }
  }

  async #readMark (wait: boolean): Promise<string | undefined> {
    while (this.#running) {
      const url = this.#o.sink.pick()
      const r = url === undefined ? undefined : await this.#o.sink.claim(url, this.#o.pair, 0)
      if (r !== undefined) return r.highWaterMark
      if (!wait) return undefined
      await sleep(100)
    }
    return undefined
  }

  #trimTo (mark: string): void {
    this.#outbox.trimThrough(mark)
    if (compareInputIds(mark, this.#floor) > 0) this.#floor = mark
  }

  #onLeaseChange (): void {
    const lease = this.#lease
    if (lease === undefined) return
    const held = lease.state.held
    const role = roleOf(this.#o.pair, held)
    if (role !== this.#role) {
      this.#role = role
      this.#o.log.info({ role, epoch: lease.epoch }, role === 'hot' ? 'became hot' : 'became warm')
      void this.#o.registrar().update({ role, meta: { pair: this.#o.pair, epoch: lease.epoch } })
    }
    if (held && this.#claimedEpoch !== lease.epoch) void this.#claim(lease.epoch)
  }

  /** Fences older epochs at the sink, then re-emits from the mark it returns. */
  async #claim (epoch: number): Promise<void> {
    const lease = this.#lease as LeaseKeeper
    while (this.#running && lease.state.held && lease.epoch === epoch && this.#claimedEpoch !== epoch) {
      const url = this.#o.sink.pick()
      const r = url === undefined ? undefined : await this.#o.sink.claim(url, this.#o.pair, epoch)
      if (r === undefined) {
        await sleep(20)
        continue
      }
      if (r.epoch > epoch) {
        this.#o.log.warn({ epoch, newest: r.epoch }, 'the sink has seen a newer epoch; stepping down')
        lease.drop()
        this.#onLeaseChange()
        return
      }
      this.#trimTo(r.highWaterMark)
      this.#claimedEpoch = epoch
      this.#o.log.info({ epoch, highWaterMark: r.highWaterMark, reemit: this.#outbox.size }, 'claimed the pair at the sink; re-emitting after its mark')
      this.#wake?.()
    }
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
