import { createRedis, type Redis } from '../../../shared/src/redis.js'
import { eventKeys, publishEvent, recentEvents, type ClusterEvent } from '../../../shared/src/events.js'
import type { Logger } from '../../../shared/src/logger.js'

/**
 * The cluster's recent events as this gateway knows them: what it saw itself and what every
 * other process published on the events channel. Keeps the last `capacity` in memory.
 */
export class EventLog {
  readonly #redis: Redis
  readonly #sub: Redis
  readonly #prefix: string
  readonly #source: string
  readonly #capacity: number
  readonly #events: ClusterEvent[] = []
  #sequence = 0

  constructor (opts: { redisUrl: string, prefix: string, source: string, log?: Logger, capacity?: number }) {
    this.#prefix = opts.prefix
    this.#source = opts.source
    this.#capacity = opts.capacity ?? 300
    this.#redis = createRedis(opts.redisUrl)
    this.#redis.on('error', () => {})
    this.#sub = createRedis(opts.redisUrl, undefined, { enableOfflineQueue: true, maxRetriesPerRequest: null })
    this.#sub.on('error', () => {})
    this.#sub.on('message', (_channel: string, message: string) => {
      try {
        this.#remember(JSON.parse(message) as ClusterEvent)
      } catch {}
    })
  }

  /** Increases with every event remembered, so a reader can ask for what is new. */
  get sequence (): number { return this.#sequence }

  async start (): Promise<void> {
    await this.#sub.subscribe(eventKeys(this.#prefix).channel).catch(() => {})
    for (const event of await recentEvents(this.#redis, this.#prefix, this.#capacity).catch(() => [])) this.#remember(event)
  }

  /** Publishes an event seen here; it comes back through the channel (or is kept now if Redis is away). */
  emit (event: Omit<ClusterEvent, 'at' | 'source'>): void {
    if (this.#redis.status === 'ready') publishEvent(this.#redis, this.#prefix, { ...event, source: this.#source })
    else this.#remember({ at: Date.now(), source: this.#source, ...event })
  }

  /** The newest `count` events, oldest first. */
  latest (count = this.#capacity): ClusterEvent[] {
    return this.#events.slice(-count)
  }

  /** The events remembered up to sequence number `sequence` (the newest ones after it left out). */
  upTo (sequence: number): ClusterEvent[] {
    const newer = Math.max(0, this.#sequence - sequence)
    return newer >= this.#events.length ? [] : this.#events.slice(0, this.#events.length - newer)
  }

  /** Events remembered after sequence number `since`. */
  since (since: number): ClusterEvent[] {
    const fresh = this.#sequence - since
    return fresh <= 0 ? [] : this.#events.slice(-Math.min(fresh, this.#events.length))
  }

  async stop (): Promise<void> {
    this.#sub.disconnect()
    this.#redis.disconnect()
  }

  #remember (event: ClusterEvent): void {
    this.#events.push(event)
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity)
    this.#sequence += 1
  }
}
