import type { Redis } from '../redis.js'
import type { Logger } from '../logger.js'
import { publishEvent } from '../events.js'
import { registryKeys, type InstanceRecord, type RegistryEvent, type RegistryKeys } from './types.js'

export interface RegistrarOptions {
  redis: Redis
  prefix: string
  record: InstanceRecord
  /** How long a registration lives without a heartbeat. @default 2000 */
  ttlMs?: number
  /** @default ttlMs / 4 */
  heartbeatMs?: number
  /** Facts that change while the instance runs (queue depth …), merged into `meta` at every heartbeat. */
  liveMeta?: () => NonNullable<InstanceRecord['meta']>
  log?: Logger
}

/**
 * Keeps one instance registered: a key with a TTL renewed by heartbeat, plus its id in a set
 * the watchers list. It never throws: while Redis is away it keeps trying, and when Redis comes
 * back (even empty, after a restart) the next heartbeat registers the instance again.
 */
export class Registrar {
  readonly #redis: Redis
  readonly #keys: RegistryKeys
  readonly #prefix: string
  readonly #ttlMs: number
  readonly #heartbeatMs: number
  readonly #log: Logger | undefined
  readonly #liveMeta: RegistrarOptions['liveMeta']
  #record: InstanceRecord
  #timer: NodeJS.Timeout | undefined
  #registered = false
  #stopped = false
  /** The record as last written to Redis: an unchanged one is only renewed. */
  #written: string | undefined

  constructor (opts: RegistrarOptions) {
    this.#redis = opts.redis
    this.#keys = registryKeys(opts.prefix)
    this.#prefix = opts.prefix
    this.#record = opts.record
    this.#ttlMs = opts.ttlMs ?? 2_000
    this.#heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(this.#ttlMs / 4))
    this.#log = opts.log
    this.#liveMeta = opts.liveMeta
  }

  get record (): InstanceRecord { return this.#record }
  /** True once the latest heartbeat reached Redis. */
  get registered (): boolean { return this.#registered }

  async start (): Promise<void> {
    this.#stopped = false
    await this.#beat()
    this.#schedule()
  }

  /** Publishes a new role (and meta) at once rather than at the next heartbeat. */
  async update (changes: Partial<Pick<InstanceRecord, 'role' | 'meta' | 'url'>>): Promise<void> {
    const before = this.#record
    this.#record = { ...this.#record, ...changes }
    if (changes.role !== undefined && changes.role !== before.role) this.#announceRole(before.role)
    if (!this.#stopped) await this.#beat(true)
  }

  /** Deregisters and stops the heartbeat. Best effort: a dead Redis lets the TTL do it. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    const { id, service } = this.#record
    const event: RegistryEvent = { type: 'down', id, service }
    try {
      await this.#redis.multi().del(this.#keys.instance(id)).srem(this.#keys.ids, id).publish(this.#keys.channel, JSON.stringify(event)).exec()
    } catch (err) {
      this.#log?.warn({ err: (err as Error).message }, 'deregistration failed; the registration will expire')
    }
    this.#registered = false
  }

  /** A role change is a cluster event too (leader elected, lease taken): the dashboard's timeline shows it. */
  #announceRole (previous: string): void {
    const { id, service, role, meta } = this.#record
    const type = role === 'leader' ? 'leader-elected' : role === 'hot' ? 'lease-taken' : 'role-changed'
    const epoch = meta?.epoch !== undefined ? ` (epoch ${String(meta.epoch)})` : ''
    publishEvent(this.#redis, this.#prefix, { type, service, instance: id, source: id, message: `${id}: ${previous} → ${role}${epoch}` })
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => { void this.#beat().finally(() => this.#schedule()) }, this.#heartbeatMs)
    this.#timer.unref()
  }

  async #beat (announce = false): Promise<void> {
    const record = this.#liveMeta === undefined ? this.#record : { ...this.#record, meta: { ...this.#record.meta, ...this.#liveMeta() } }
    const json = JSON.stringify(record)
    const key = this.#keys.instance(record.id)
    try {
      if (!announce && this.#registered && json === this.#written) {
        // nothing changed: one small command renews the TTL (an idle cluster heartbeats 40 times a second)
        if (await this.#redis.pexpire(key, this.#ttlMs) === 1) return
        // the key is gone (it lapsed during a stall, or Redis restarted empty): register afresh, loudly
        announce = true
      }
      const tx = this.#redis.multi().set(key, json, 'PX', this.#ttlMs).sadd(this.#keys.ids, record.id)
      // announce on first registration, after an outage, and on a change, so watchers need not wait for a refresh
      if (announce || !this.#registered) tx.publish(this.#keys.channel, JSON.stringify({ type: 'up', instance: record } satisfies RegistryEvent))
      await tx.exec()
      if (!this.#registered) this.#log?.info({ url: record.url, role: record.role }, 'registered')
      this.#registered = true
      this.#written = json
    } catch (err) {
      if (this.#registered) this.#log?.warn({ err: (err as Error).message }, 'heartbeat failed; will retry')
      this.#registered = false
    }
  }
}
