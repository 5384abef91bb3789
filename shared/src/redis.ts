import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from './logger.js'

export type { Redis }

/**
 * A Redis client tuned for a cluster that must keep serving while Redis is away: commands fail
 * fast instead of queueing (callers fall back to what they know), and the client reconnects on
 * its own with a short capped backoff so the cluster heals within a second of Redis returning.
 */
export function createRedis (url: string, log?: Logger, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000, // ms
    retryStrategy: (times) => Math.min(50 * times, 500), // ms between reconnect attempts
    ...overrides
  })
  let down = false
  redis.on('error', (err: Error) => {
    // ioredis repeats connection errors on every retry: log the transition, not each attempt
    if (!down) log?.warn({ err: err.message }, 'redis unavailable')
    down = true
  })
  redis.on('ready', () => {
    if (down) log?.info('redis available again')
    down = false
  })
  return redis
}

/** Resolves once the client is ready, or after `timeoutMs` (false): callers decide whether to wait longer. */
export async function waitReady (redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { redis.off('ready', onReady); resolve(false) }, timeoutMs)
    const onReady = (): void => { clearTimeout(timer); resolve(true) }
    redis.once('ready', onReady)
  })
}
