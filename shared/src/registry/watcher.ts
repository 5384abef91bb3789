import { EventEmitter } from 'node:events'
import { createRedis, waitReady, type Redis } from '../redis.js'
import type { Logger } from '../logger.js'
import { removeLapsed } from './lapsed.js'
import { checkRecord, registryKeys, type InstanceRecord, type RegistryEvent, type RegistryKeys } from './types.js'

export interface WatcherOptions {
  redisUrl: string
  prefix: string
  /** Full re-read of the registry, which also drops registrations whose TTL lapsed. @default 500 */
  refreshMs?: number
  /**
   * After Redis comes back (a reconnection, or a read that stalled for seconds), removals seen by
   * a refresh are held off this long so instances can re-register first (Redis may have
   * restarted empty, or let registrations lapse while it was frozen). @default 2500
   */
  reconnectGraceMs?: number
  log?: Logger
}

export type Snapshot = ReadonlyMap<string, InstanceRecord>

/**
 * Follows the registry: pub/sub for changes at once, a periodic refresh for lapsed TTLs.
 * While Redis is unreachable the last good snapshot is kept (self-preservation); the caller's
 * own health checks decide meanwhile. Emits `change` with the new snapshot.
 */
export class RegistryWatcher extends EventEmitter<{ change: [Snapshot] }> {
  readonly #keys: RegistryKeys
  readonly #refreshMs: number
  readonly #graceMs: number
  readonly #log: Logger | undefined
  readonly #redis: Redis
  readonly #sub: Redis
  #snapshot = new Map<string, InstanceRecord>()
  /** Each registration's JSON as last read, with the record parsed from it. */
  #raw = new Map<string, { raw: string, record: InstanceRecord }>()
  #timer: NodeJS.Timeout | undefined
  #readySince = 0
  #healthy = false
  /** Invalid records already logged (id or announcement → problem), so each is logged once. */
  readonly #reported = new Map<string, string>()

  constructor (opts: WatcherOptions) {
    super()
    this.#keys = registryKeys(opts.prefix)
    this.#refreshMs = opts.refreshMs ?? 500
    this.#graceMs = opts.reconnectGraceMs ?? 2_500
    this.#log = opts.log
    this.#redis = createRedis(opts.redisUrl, opts.log)
    this.#sub = createRedis(opts.redisUrl, undefined, { enableOfflineQueue: true, maxRetriesPerRequest: null })
    this.#sub.on('error', () => {}) // the command client logs outages once
    this.#redis.on('ready', () => { this.#readySince = Date.now() })
    this.#sub.on('message', (_channel: string, message: string) => this.#onEvent(message))
  }

  get snapshot (): Snapshot { return this.#snapshot }
  /** Whether the last refresh reached Redis. */
  get connected (): boolean { return this.#healthy }

  instances (service: string): InstanceRecord[] {
    return [...this.#snapshot.values()].filter((r) => r.service === service)
  }

  async start (): Promise<void> {
    await this.#sub.subscribe(this.#keys.channel).catch(() => {})
    // the first read is what the caller starts from: give a connection still being opened a
    // moment (its commands fail fast while it is not ready), then start anyway
    await waitReady(this.#redis, 2_000)
    await this.refresh()
    this.#loop()
  }

  async stop (): Promise<void> {
    clearTimeout(this.#timer)
    this.#sub.disconnect()
    this.#redis.disconnect()
  }

  /** Re-reads the whole registry; on failure keeps the current snapshot. */
  async refresh (): Promise<void> {
    let records: InstanceRecord[]
    const started = Date.now()
    try {
      const ids = await this.#redis.smembers(this.#keys.ids)
      const raws = ids.length > 0 ? await this.#redis.mget(ids.map((id) => this.#keys.instance(id))) : []
      records = []
      const lapsed: string[] = []
      const seen = new Set<string>()
      const parsed = new Map<string, { raw: string, record: InstanceRecord }>()
      raws.forEach((raw, i) => {
        const id = ids[i] as string
        if (raw === null) {
          lapsed.push(id)
          return
        }
        // most refreshes find every registration as it was: reuse the record checked last time
        const known = this.#raw.get(id)
        if (known !== undefined && known.raw === raw) {
          records.push(known.record)
          parsed.set(id, known)
          return
        }
        const check = checkRecord(raw)
        if (check.ok) {
          records.push(check.record)
          parsed.set(id, { raw, record: check.record })
        } else {
          this.#reportInvalid(`key ${this.#keys.instance(id)}`, check.problem, seen)
        }
      })
      this.#raw = parsed
      for (const key of this.#reported.keys()) if (key.startsWith('key ') && !seen.has(key)) this.#reported.delete(key)
      await removeLapsed(this.#redis, this.#keys, lapsed).catch(() => {})
      if (!this.#healthy) this.#log?.info({ instances: records.length }, 'registry reachable')
      this.#healthy = true
    } catch (err) {
      if (this.#healthy) this.#log?.warn({ err: (err as Error).message }, 'registry unreachable; keeping the last snapshot')
      this.#healthy = false
      return
    }
    // Redis stalled (a frozen primary that woke up): registrations lapsed on its clock meanwhile,
    // though their instances live and are re-registering: as after a reconnection
    if (Date.now() - started > Math.max(1_000, 4 * this.#refreshMs)) this.#readySince = Date.now()
    const next = new Map(records.map((r) => [r.id, r]))
    const inGrace = Date.now() - this.#readySince < this.#graceMs
    if (inGrace) {
      // Redis just came back: keep what we knew until the instances had time to re-register
      for (const [id, record] of this.#snapshot) if (!next.has(id)) next.set(id, record)
    }
    this.#replace(next)
  }

  #loop (): void {
    this.#timer = setTimeout(() => { void this.refresh().finally(() => this.#loop()) }, this.#refreshMs)
    this.#timer.unref()
  }

  #onEvent (message: string): void {
    let event: RegistryEvent
    try {
      event = JSON.parse(message) as RegistryEvent
    } catch {
      return
    }
    const next = new Map(this.#snapshot)
    if (event.type === 'down') {
      next.delete(event.id)
    } else if (event.type === 'up') {
      const check = checkRecord(JSON.stringify(event.instance ?? null))
      if (!check.ok) {
        this.#reportInvalid(`announcement ${JSON.stringify(event.instance ?? null).slice(0, 120)}`, check.problem)
        return
      }
      next.set(check.record.id, check.record)
    } else {
      return
    }
    this.#replace(next)
  }

  /** A bad record is skipped, and logged the first time it is seen (the refresh sees it every 500 ms). */
  #reportInvalid (where: string, problem: string, seen?: Set<string>): void {
    seen?.add(where)
    if (this.#reported.get(where) === problem) return
    if (this.#reported.size >= 1_000) this.#reported.clear()
    this.#reported.set(where, problem)
    this.#log?.warn({ record: where, problem }, 'invalid registry record skipped')
  }

  #replace (next: Map<string, InstanceRecord>): void {
    if (sameSnapshot(this.#snapshot, next)) return
    this.#snapshot = next
    this.emit('change', next)
  }
}

function sameSnapshot (a: Snapshot, b: Snapshot): boolean {
  if (a.size !== b.size) return false
  for (const [id, record] of a) {
    const other = b.get(id)
    if (other === record) continue // reused unchanged by a refresh: no need to compare
    if (other === undefined || JSON.stringify(other) !== JSON.stringify(record)) return false
  }
  return true
}
