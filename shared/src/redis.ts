import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from './logger.js'
import { parseRedisTarget, type RedisTarget } from './redis-target.js'
import { followSwitches } from './sentinel-switch.js'

export type { Redis }

/** What `createRedis` knew about each client: its target, and how many times it became ready. */
interface ClientState { target: RedisTarget, readyCount: number }
const clients = new WeakMap<Redis, ClientState>()

/**
 * A Redis client tuned for a cluster that must keep serving while Redis is away: commands fail
 * fast instead of queueing (callers fall back to what they know), and the client reconnects on
 * its own with a short capped backoff so the cluster heals within a second of Redis returning.
 *
 * `url` is any form `parseRedisTarget` accepts. With `redis+sentinel://…` the client asks the
 * Sentinels for the current primary on every (re)connection, checks that the server it reached
 * really is a primary, reconnects on a `READONLY` reply (it reached a demoted primary), and
 * reconnects when the Sentinels announce a new primary (`followSwitches`: a frozen primary keeps
 * its connections open): a failover looks to callers like a short outage, never like a wrong server.
 */
export function createRedis (url: string, log?: Logger, overrides: RedisOptions = {}): Redis {
  const target = parseRedisTarget(url)
  const common: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000, // ms
    retryStrategy: (times) => Math.min(50 * times, 500), // ms between reconnect attempts
    // a write that reached a replica (a demoted primary) fails; reconnecting finds the new primary
    reconnectOnError: (err) => err.message.startsWith('READONLY')
  }
  const redis = target.mode === 'single'
    ? new Redis(target.url, { ...common, ...overrides })
    : new Redis({ ...common, ...sentinelOptions(target), ...overrides })
  const state: ClientState = { target, readyCount: 0 }
  clients.set(redis, state)
  // a frozen primary keeps its connections open: leave it as soon as the Sentinels replace it
  if (target.mode === 'sentinel') followSwitches(redis, target)
  let down = false
  redis.on('error', (err: Error) => {
    // ioredis repeats connection errors on every retry: log the transition, not each attempt
    if (!down) log?.warn({ err: err.message }, 'redis unavailable')
    down = true
  })
  redis.on('ready', () => {
    state.readyCount += 1
    if (down) log?.info('redis available again')
    down = false
  })
  return redis
}

/** ioredis options for a primary found through Sentinel. */
export function sentinelOptions (target: Extract<RedisTarget, { mode: 'sentinel' }>): RedisOptions {
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.masterName,
    role: 'master',
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
    // every Sentinel unreachable: keep asking, at the same pace as a plain reconnect
    sentinelRetryStrategy: (times) => Math.min(50 * times, 500), // ms
    sentinelReconnectStrategy: (times) => Math.min(100 * times, 1_000), // ms, the failover detector's links
    sentinelCommandTimeout: 500, // ms: a frozen Sentinel must not stall a reconnection
    // leaving a server half-closes the socket and waits for the server to close it: a frozen
    // primary never does, and the client would stay on it this long after the Sentinels replaced it
    disconnectTimeout: 100, // ms
    // ioredis' failover detector would leave a demoted primary sooner, but a +switch-master
    // that arrives while the client is asking the Sentinels aborts that connection attempt
    // for good (status "end": the client never reconnects). A dead primary closes the socket
    // anyway, and a write to a demoted one gets READONLY, which reconnects (reconnectOnError).
    failoverDetector: false
  }
}

/** The parsed location a client was made for (undefined for clients not made by `createRedis`). */
export function redisTargetOf (redis: Redis): RedisTarget | undefined {
  return clients.get(redis)?.target
}

/**
 * How many times the client became ready. A change between two moments means it reconnected
 * (possibly to another primary) in between: `WAIT` then says nothing about earlier writes.
 */
export function connectionGeneration (redis: Redis): number {
  return clients.get(redis)?.readyCount ?? 0
}

/**
 * Ready and able to take a command. Between the server's FIN and the socket's `close` event a
 * client is still `ready` while its stream no longer takes writes: a caller that retried on
 * `status` alone would spin on microtasks and starve the very event that ends that state.
 */
function isWritable (redis: Redis): boolean {
  return redis.status === 'ready' && redis.stream?.writable === true
}

/** Resolves once the client can take a command, or after `timeoutMs` (false): callers decide whether to wait longer. */
export async function waitReady (redis: Redis, timeoutMs: number): Promise<boolean> {
  if (isWritable(redis)) return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { redis.off('ready', onReady); resolve(false) }, timeoutMs)
    const onReady = (): void => { clearTimeout(timer); resolve(true) }
    redis.once('ready', onReady)
  })
}
