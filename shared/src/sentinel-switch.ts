import { Redis, type RedisOptions } from 'ioredis'
import type { RedisTarget } from './redis-target.js'

type SentinelTarget = Extract<RedisTarget, { mode: 'sentinel' }>

/** The primary the Sentinels last announced, and when: the truth while their views converge. */
export interface Announcement { host: string, port: number, atMs: number }

/** Where a client's socket leads. */
export interface Remote { address?: string, port?: number }

interface Follower { clients: Set<Redis>, subs: Redis[], announced?: Announcement }

/** One set of Sentinel subscriptions per Sentinel-backed location, shared by the process's clients. */
const followers = new Map<string, Follower>()

/**
 * How long after a `+switch-master` a Sentinel may still name the old primary. The Sentinel that
 * ran the failover announces it at once; the others learn the new configuration from its hello
 * messages (every 2 s), and until then answer `get-master-addr-by-name` with the old address.
 */
export const STALE_ANSWER_WINDOW_MS = 10_000

/**
 * Moves `redis` to the new primary as soon as the Sentinels announce it (`+switch-master`).
 *
 * A dead primary closes its connections and clients reconnect by themselves; a *frozen* one
 * (SIGSTOP, a stalled VM) keeps them open, and every command waits until it wakes — long after
 * the Sentinels promoted its replica. So each process subscribes to every Sentinel, and on a
 * switch, a client connected elsewhere than the new primary is reconnected (it asks the
 * Sentinels again). A client that is connecting when the switch comes may still be told the old
 * address by a Sentinel that has not heard of the switch yet, and the old primary, woken from a
 * freeze, still calls itself primary until the Sentinels demote it: so for a while after a
 * switch, a connection made to any other server is dropped before it carries a command, and
 * the client asks again (split brain: writes taken there would be discarded at the demotion,
 * and readers of the new primary would not see them). ioredis' own `failoverDetector` aborts a
 * connection attempt for good, which is why it is off. The subscriptions end with the last client.
 */
export function followSwitches (redis: Redis, target: SentinelTarget): void {
  const key = `${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${target.masterName}`
  let f = followers.get(key)
  if (f === undefined) {
    const created: Follower = { clients: new Set(), subs: [] }
    created.subs = target.sentinels.map(({ host, port }) => subscribe(host, port, target, (newHost, newPort) => {
      const announced = { host: newHost, port: newPort, atMs: Date.now() }
      created.announced = announced
      // 'connect': connected, not yet ready (its role check is still under way)
      for (const client of created.clients) {
        if ((client.status === 'ready' || client.status === 'connect') && mustLeave(remoteOf(client), announced, announced.atMs)) client.disconnect(true)
      }
    }))
    followers.set(key, created)
    f = created
  }
  const follower = f
  follower.clients.add(redis)
  redis.on('connect', () => {
    if (mustLeave(remoteOf(redis), follower.announced, Date.now())) redis.disconnect(true)
  })
  redis.once('end', () => {
    follower.clients.delete(redis)
    if (follower.clients.size > 0) return
    followers.delete(key)
    for (const sub of follower.subs) sub.disconnect()
  })
}

/**
 * Whether a connection to `remote` must be dropped: it leads elsewhere than the primary the
 * Sentinels announced less than STALE_ANSWER_WINDOW_MS ago. Past that window the Sentinels
 * agree again, and whatever they answer is trusted (a later switch may have been missed). Pure.
 */
export function mustLeave (remote: Remote, announced: Announcement | undefined, nowMs: number): boolean {
  if (announced === undefined || nowMs - announced.atMs >= STALE_ANSWER_WINDOW_MS) return false
  return remote.port !== announced.port || !sameHost(remote.address, announced.host)
}

function remoteOf (client: Redis): Remote {
  const stream = (client as unknown as { stream?: { remoteAddress?: string, remotePort?: number } }).stream
  return { ...(stream?.remoteAddress !== undefined ? { address: stream.remoteAddress } : {}), ...(stream?.remotePort !== undefined ? { port: stream.remotePort } : {}) }
}

function subscribe (host: string, port: number, target: SentinelTarget, onSwitch: (host: string, port: number) => void): Redis {
  const options: RedisOptions = {
    host,
    port,
    ...(target.sentinelPassword !== undefined ? { password: target.sentinelPassword } : {}),
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: 1_000,
    retryStrategy: (times) => Math.min(100 * times, 1_000)
  }
  const sub = new Redis(options)
  sub.on('error', () => {}) // a Sentinel down: the others still tell
  void sub.subscribe('+switch-master').catch(() => {})
  sub.on('message', (_channel: string, message: string) => {
    // "<master name> <old ip> <old port> <new ip> <new port>"
    const [name, , , newHost, newPort] = message.split(' ')
    if (name === target.masterName && newHost !== undefined && newPort !== undefined) onSwitch(newHost, Number(newPort))
  })
  return sub
}

function sameHost (remote: string | undefined, announced: string): boolean {
  if (remote === undefined) return false
  const plain = remote.replace(/^::ffff:/, '')
  return plain === announced || (announced === 'localhost' && (plain === '127.0.0.1' || plain === '::1'))
}
