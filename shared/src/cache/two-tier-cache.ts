import { setTimeout as sleep } from 'node:timers/promises'
import { LRUCache } from 'lru-cache'
import { Counter, type Registry } from 'prom-client'
import type { Logger } from '../logger.js'
import type { Redis } from '../redis.js'
import { freshness, jitteredTtl, makeEntry, namespacedKey, parseEntry, type CacheEntry } from './entry.js'
import { RedisLock } from './redis-lock.js'
import { SingleFlight } from './single-flight.js'
import { WriteBudget } from './write-budget.js'

/** How a value was obtained, as `x-cache` reports it. */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced' | 'stale'

export interface CacheResult<T> {
  value: T
  outcome: CacheOutcome
  /** Which tier answered: the in-process LRU, Redis, or none (computed now). */
  tier: 'local' | 'redis' | 'none'
  /** False when the computation said not to store it (ttl 0): a coalesced waiter may want its own. */
  stored: boolean
  /** Epoch ms the value was computed at. */
  storedAt: number
}

/** What a computation returns: the value and, optionally, its own TTL (0 = do not store). */
export interface Computed<T> {
  value: T
  ttlMs?: number
}

export interface TwoTierCacheOptions {
  /** Absent: local-only. When present but unreachable the cache degrades to local-only on its own. */
  redis?: Redis
  /** The key prefix of the cluster (`NINES_PREFIX`). */
  prefix: string
  /** What is cached (`primes`, `gateway`): one namespace per kind of value. */
  namespace: string
  /** Bump when the value format changes: old entries are never read again. @default 1 */
  version?: number
  /** Default time an entry stays fresh. */
  ttlMs: number
  /** TTL is scaled by a random factor in [1 - jitter, 1 + jitter]. @default 0.1 */
  jitter?: number
  /** Stale-while-revalidate window after the TTL: a stale value is served while one caller refreshes it. @default 0 (off) */
  staleMs?: number
  /** Bound of the in-process tier, in bytes of serialized entries. @default 16 MiB */
  localMaxBytes?: number
  /**
   * Keys longer than this (bytes, with the prefix) never reach Redis: local tier only, no
   * cross-instance lock. Undefined: no limit.
   */
  remoteMaxKeyBytes?: number
  /**
   * Bytes this process may have in Redis at once (entries written and not yet expired); a write
   * past it is kept locally only. Undefined: no limit.
   */
  remoteMaxBytes?: number
  /** Lease of the cross-instance compute lock, renewed while the computation runs. @default 2000 */
  lockTtlMs?: number
  /** How long a waiter waits for another instance's result before computing itself. @default 10000 */
  lockWaitMs?: number
  /** How often a waiter looks for that result. @default 10 */
  pollMs?: number
  log?: Logger
  /**
   * Told of every message on the invalidation channel (after the key is dropped locally), so
   * a user can purge what it derived from another cache's entries (the gateway's surrogate keys).
   */
  onInvalidate?: (message: string) => void
  /** Registers `cache_requests_total` and `cache_redis_errors_total` there. */
  metrics?: Registry
  clock?: () => number
  random?: () => number
}

export interface CacheStats {
  hit: number
  miss: number
  coalesced: number
  stale: number
  localHits: number
  redisHits: number
  redisErrors: number
  invalidationsReceived: number
  /** Values kept out of Redis by the key-length limit or the byte budget. */
  remoteSkipped: number
}

/**
 * A two-tier cache any service can use: an in-process LRU (bounded by bytes) in front of Redis.
 * Identical concurrent misses in one process share one computation (single-flight); across
 * processes a short, renewed Redis lock makes the others wait for the first result. Invalidation
 * deletes the key in Redis and is broadcast on pub/sub so every instance drops it from its LRU.
 * Any Redis failure degrades to local-only: results stay correct, they are just computed more.
 */
export class TwoTierCache<T> {
  readonly namespace: string
  readonly stats: CacheStats = { hit: 0, miss: 0, coalesced: 0, stale: 0, localHits: 0, redisHits: 0, redisErrors: 0, invalidationsReceived: 0, remoteSkipped: 0 }
  readonly #o: Required<Omit<TwoTierCacheOptions, 'redis' | 'log' | 'metrics' | 'onInvalidate' | 'remoteMaxKeyBytes' | 'remoteMaxBytes'>>
  readonly #onInvalidate: ((message: string) => void) | undefined
  readonly #maxKeyBytes: number
  readonly #budget: WriteBudget | undefined
  readonly #redis: Redis | undefined
  readonly #log: Logger | undefined
  readonly #lru: LRUCache<string, CacheEntry<T>>
  readonly #flights = new SingleFlight<CacheResult<T>>()
  readonly #channel: string
  readonly #counters: CacheCounters | undefined
  #subscriber: Redis | undefined

  constructor (options: TwoTierCacheOptions) {
    this.#o = {
      prefix: options.prefix,
      namespace: options.namespace,
      version: options.version ?? 1,
      ttlMs: options.ttlMs,
      jitter: options.jitter ?? 0.1,
      staleMs: options.staleMs ?? 0,
      localMaxBytes: options.localMaxBytes ?? 16 * 1024 * 1024,
      lockTtlMs: options.lockTtlMs ?? 2_000,
      lockWaitMs: options.lockWaitMs ?? 10_000,
      pollMs: options.pollMs ?? 10,
      clock: options.clock ?? Date.now,
      random: options.random ?? Math.random
    }
    this.namespace = options.namespace
    this.#maxKeyBytes = options.remoteMaxKeyBytes ?? Infinity
    this.#budget = options.remoteMaxBytes === undefined ? undefined : new WriteBudget(options.remoteMaxBytes)
    this.#redis = options.redis
    this.#log = options.log
    this.#onInvalidate = options.onInvalidate
    this.#lru = new LRUCache({ maxSize: this.#o.localMaxBytes })
    this.#channel = `${options.prefix}:cache:invalidate`
    this.#counters = options.metrics === undefined ? undefined : cacheCounters(options.metrics)
  }

  /** The full Redis key of a cache key. */
  key (key: string): string {
    return namespacedKey(this.#o.prefix, this.#o.namespace, this.#o.version, key)
  }

  /** Starts listening for invalidations from other instances (a dedicated subscriber connection). */
  async start (): Promise<void> {
    if (this.#redis === undefined || this.#subscriber !== undefined) return
    // a subscriber may queue its SUBSCRIBE until Redis is reachable; ioredis re-subscribes after a reconnect
    const sub = this.#redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    sub.on('error', () => {})
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return
      this.stats.invalidationsReceived++
      this.#lru.delete(message)
      this.#onInvalidate?.(message)
    })
    this.#subscriber = sub
    void sub.subscribe(this.#channel).catch((err: unknown) => this.#log?.warn({ err: (err as Error).message }, 'cache invalidation subscribe failed'))
  }

  async close (): Promise<void> {
    this.#subscriber?.disconnect()
    this.#subscriber = undefined
  }

  /**
   * The value for `key`: from the LRU, else Redis, else `compute` (once per key across
   * concurrent callers and, through the lock, across instances). A caller's `signal` stops its
   * wait; the computation is cancelled only once every caller waiting for it has gone.
   */
  async wrap (key: string, compute: (signal: AbortSignal) => Promise<Computed<T>>, options: { signal?: AbortSignal } = {}): Promise<CacheResult<T>> {
    const full = this.key(key)
    const local = this.#lru.get(full)
    if (local !== undefined) {
      const state = freshness(local, this.#o.clock())
      if (state === 'fresh') return this.#count({ value: local.value, outcome: 'hit', tier: 'local', stored: true, storedAt: local.storedAt })
      if (state === 'stale') {
        this.#revalidate(full, compute)
        return this.#count({ value: local.value, outcome: 'stale', tier: 'local', stored: true, storedAt: local.storedAt })
      }
      this.#lru.delete(full)
    }
    const { value: loaded, leader } = await this.#flights.do(full, async (signal) => await this.#load(full, compute, signal), options.signal)
    const outcome: CacheOutcome = leader || loaded.outcome !== 'miss' ? loaded.outcome : 'coalesced'
    return this.#count({ ...loaded, outcome })
  }

  /** A fresh or stale value if either tier has one; never computes. */
  async get (key: string): Promise<CacheEntry<T> | undefined> {
    const full = this.key(key)
    const now = this.#o.clock()
    const local = this.#lru.get(full)
    if (local !== undefined && freshness(local, now) !== 'dead') return local
    const remote = await this.#redisGet(full)
    return remote !== undefined && freshness(remote.entry, now) !== 'dead' ? remote.entry : undefined
  }

  /**
   * Replaces the entry stored at `storedAt` (one the caller may no longer use as it is) with a
   * new computation: once per key in this process, and across processes under the same lock as
   * a miss. A caller that finds a newer entry (another instance refreshed it meanwhile) gets
   * that one, `coalesced`, without computing.
   */
  async refresh (key: string, storedAt: number, compute: (signal: AbortSignal) => Promise<Computed<T>>, options: { signal?: AbortSignal } = {}): Promise<CacheResult<T>> {
    const full = this.key(key)
    const newer = (entry: CacheEntry<T>): boolean => entry.storedAt > storedAt && freshness(entry, this.#o.clock()) !== 'dead'
    const local = this.#lru.get(full)
    if (local !== undefined && newer(local)) return this.#count({ value: local.value, outcome: 'hit', tier: 'local', stored: true, storedAt: local.storedAt })
    const { value: loaded, leader } = await this.#flights.do(`refresh:${full}`, async (signal) => await this.#computeUnderLock(full, compute, signal, newer), options.signal)
    const outcome: CacheOutcome = leader || loaded.outcome !== 'miss' ? loaded.outcome : 'coalesced'
    return this.#count({ ...loaded, outcome })
  }

  /**
   * Whether a companion write of `bytes` about the entry at `fullKey` (see `key`), living `ttlMs`,
   * may go to Redis: the same key-length limit and byte budget as the entries themselves, so
   * nothing a caller writes beside them (the gateway's surrogate index) escapes the bound.
   * Spends the budget when it says yes.
   */
  reserveRemote (fullKey: string, bytes: number, ttlMs: number): boolean {
    return this.#reserve(fullKey, bytes, this.#o.clock(), ttlMs)
  }

  /** Drops `key` from this process's tier only (its owner purges Redis and tells the others). */
  forgetLocal (key: string): void {
    this.#lru.delete(this.key(key))
  }

  /** Stores a value in both tiers. */
  async set (key: string, value: T, ttlMs = this.#o.ttlMs): Promise<void> {
    await this.#store(this.key(key), value, ttlMs)
  }

  /**
   * Drops `key` everywhere: this LRU, Redis, and (by pub/sub) every other instance's LRU.
   * Returns false when Redis was unreachable, so only this instance forgot it.
   */
  async invalidate (key: string): Promise<boolean> {
    const full = this.key(key)
    this.#lru.delete(full)
    if (!this.#redisUsable()) return false
    try {
      await this.#redis!.del(full)
      await this.#redis!.publish(this.#channel, full)
      return true
    } catch (err) {
      this.#redisFailed(err)
      return false
    }
  }

  async #load (full: string, compute: (signal: AbortSignal) => Promise<Computed<T>>, signal: AbortSignal): Promise<CacheResult<T>> {
    const remote = await this.#redisGet(full)
    if (remote !== undefined) {
      const state = freshness(remote.entry, this.#o.clock())
      if (state !== 'dead') this.#lru.set(full, remote.entry, { size: remote.size })
      if (state === 'fresh') return { value: remote.entry.value, outcome: 'hit', tier: 'redis', stored: true, storedAt: remote.entry.storedAt }
      if (state === 'stale') {
        this.#revalidate(full, compute)
        return { value: remote.entry.value, outcome: 'stale', tier: 'redis', stored: true, storedAt: remote.entry.storedAt }
      }
    }
    return await this.#computeUnderLock(full, compute, signal)
  }

  /** One instance computes; the others poll Redis for its result, or take over if its lease lapses. */
  async #computeUnderLock (full: string, compute: (signal: AbortSignal) => Promise<Computed<T>>, signal: AbortSignal,
    accept: (entry: CacheEntry<T>) => boolean = (entry) => freshness(entry, this.#o.clock()) === 'fresh'): Promise<CacheResult<T>> {
    if (!this.#redisUsableFor(full)) return await this.#computeAndStore(full, compute, signal)
    const lock = new RedisLock(this.#redis!, `${full}:lock`)
    const giveUpAt = this.#o.clock() + this.#o.lockWaitMs
    for (;;) {
      signal.throwIfAborted()
      let acquired: boolean
      try {
        acquired = await lock.acquire(this.#o.lockTtlMs)
      } catch (err) {
        this.#redisFailed(err)
        return await this.#computeAndStore(full, compute, signal)
      }
      if (acquired) {
        try {
          // someone may have stored it between our read and our lock
          const again = await this.#acceptedFromRedis(full, accept)
          if (again !== undefined) return again
          return await this.#withRenewal(lock, async () => await this.#computeAndStore(full, compute, signal))
        } finally {
          lock.release().catch(() => {})
        }
      }
      await sleep(this.#o.pollMs, undefined, { signal })
      const filled = await this.#acceptedFromRedis(full, accept)
      if (filled !== undefined) return filled
      if (this.#o.clock() >= giveUpAt) return await this.#computeAndStore(full, compute, signal)
    }
  }

  async #acceptedFromRedis (full: string, accept: (entry: CacheEntry<T>) => boolean): Promise<CacheResult<T> | undefined> {
    const remote = await this.#redisGet(full)
    if (remote === undefined || !accept(remote.entry)) return undefined
    this.#lru.set(full, remote.entry, { size: remote.size })
    return { value: remote.entry.value, outcome: 'coalesced', tier: 'redis', stored: true, storedAt: remote.entry.storedAt }
  }

  async #withRenewal<R> (lock: RedisLock, fn: () => Promise<R>): Promise<R> {
    const timer = setInterval(() => { lock.extend(this.#o.lockTtlMs).catch(() => {}) }, Math.max(10, Math.floor(this.#o.lockTtlMs / 3)))
    try {
      return await fn()
    } finally {
      clearInterval(timer)
    }
  }

  async #computeAndStore (full: string, compute: (signal: AbortSignal) => Promise<Computed<T>>, signal: AbortSignal): Promise<CacheResult<T>> {
    const { value, ttlMs = this.#o.ttlMs } = await compute(signal)
    if (ttlMs <= 0) return { value, outcome: 'miss', tier: 'none', stored: false, storedAt: this.#o.clock() }
    const storedAt = await this.#store(full, value, ttlMs)
    return { value, outcome: 'miss', tier: 'none', stored: true, storedAt }
  }

  async #store (full: string, value: T, ttlMs: number): Promise<number> {
    const now = this.#o.clock()
    const ttl = jitteredTtl(ttlMs, this.#o.jitter, this.#o.random)
    const entry = makeEntry(value, now, ttl, this.#o.staleMs)
    const raw = JSON.stringify(entry)
    this.#lru.set(full, entry, { size: raw.length })
    if (this.#mayWrite(full, raw, now, ttl + this.#o.staleMs)) {
      try {
        await this.#redis!.set(full, raw, 'PX', ttl + this.#o.staleMs)
      } catch (err) {
        this.#redisFailed(err)
      }
    }
    return now
  }

  /** Stale-while-revalidate: one background refresh per key, errors only logged. */
  #revalidate (full: string, compute: (signal: AbortSignal) => Promise<Computed<T>>): void {
    this.#flights.do(`revalidate:${full}`, async (signal) => await this.#computeUnderLock(full, compute, signal))
      .catch((err: unknown) => this.#log?.warn({ err: (err as Error).message, key: full }, 'cache revalidation failed'))
  }

  async #redisGet (full: string): Promise<{ entry: CacheEntry<T>, size: number } | undefined> {
    if (!this.#redisUsableFor(full)) return undefined
    try {
      const raw = await this.#redis!.get(full)
      const entry = parseEntry<T>(raw)
      return entry === undefined || raw === null ? undefined : { entry, size: raw.length }
    } catch (err) {
      this.#redisFailed(err)
      return undefined
    }
  }

  #redisUsable (): boolean {
    return this.#redis !== undefined && this.#redis.status === 'ready'
  }

  /** Redis, for this key: reachable, and the key within the length limit. */
  #redisUsableFor (full: string): boolean {
    return this.#redisUsable() && this.#keyFits(full)
  }

  #keyFits (full: string): boolean {
    return this.#maxKeyBytes === Infinity || Buffer.byteLength(full) <= this.#maxKeyBytes
  }

  /** Whether this write may go to Redis; the key-length limit and the byte budget say no. */
  #mayWrite (full: string, raw: string, now: number, ttlMs: number): boolean {
    return this.#reserve(full, Buffer.byteLength(raw) + Buffer.byteLength(full), now, ttlMs)
  }

  #reserve (full: string, bytes: number, now: number, ttlMs: number): boolean {
    if (!this.#redisUsable()) return false
    if (!this.#keyFits(full)) {
      this.#skipped('key-too-long')
      return false
    }
    if (this.#budget === undefined || this.#budget.tryReserve(bytes, now, ttlMs)) return true
    this.#skipped('budget')
    return false
  }

  #skipped (reason: 'key-too-long' | 'budget'): void {
    this.stats.remoteSkipped++
    this.#counters?.skipped.inc({ namespace: this.namespace, reason })
  }

  #redisFailed (err: unknown): void {
    this.stats.redisErrors++
    this.#counters?.errors.inc({ namespace: this.namespace })
    this.#log?.debug({ err: (err as Error).message, namespace: this.namespace }, 'cache: redis call failed, local only')
  }

  #count (result: CacheResult<T>): CacheResult<T> {
    this.stats[result.outcome]++
    if (result.outcome === 'hit') {
      if (result.tier === 'local') this.stats.localHits++
      else this.stats.redisHits++
    }
    this.#counters?.requests.inc({ namespace: this.namespace, outcome: result.outcome, tier: result.tier })
    return result
  }
}

interface CacheCounters {
  requests: Counter<'namespace' | 'outcome' | 'tier'>
  errors: Counter<'namespace'>
  skipped: Counter<'namespace' | 'reason'>
}

function cacheCounters (registry: Registry): CacheCounters {
  const requests = registry.getSingleMetric('cache_requests_total') as Counter<'namespace' | 'outcome' | 'tier'> | undefined ??
    new Counter({ name: 'cache_requests_total', help: 'Cache lookups by outcome (hit, miss, coalesced, stale) and answering tier', labelNames: ['namespace', 'outcome', 'tier'], registers: [registry] })
  const errors = registry.getSingleMetric('cache_redis_errors_total') as Counter<'namespace'> | undefined ??
    new Counter({ name: 'cache_redis_errors_total', help: 'Redis calls of the cache that failed (the cache went local-only for them)', labelNames: ['namespace'], registers: [registry] })
  const skipped = registry.getSingleMetric('cache_redis_skipped_total') as Counter<'namespace' | 'reason'> | undefined ??
    new Counter({ name: 'cache_redis_skipped_total', help: 'Cache reads and writes kept off Redis by the key-length limit or the byte budget (reason)', labelNames: ['namespace', 'reason'], registers: [registry] })
  return { requests, errors, skipped }
}
