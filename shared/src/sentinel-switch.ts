import { Redis, type RedisOptions } from 'ioredis'
import type { RedisTarget } from './redis-target.js'

type SentinelTarget = Extract<RedisTarget, { mode: 'sentinel' }>

interface Follower { clients: Set<Redis>, subs: Redis[] }

/** One set of Sentinel subscriptions per Sentinel-backed location, shared by the process's clients. */
const followers = new Map<string, Follower>()

/**
 * Moves `redis` to the new primary as soon as the Sentinels announce it (`+switch-master`).
 *
 * A dead primary closes its connections and clients reconnect by themselves; a *frozen* one
 * (SIGSTOP, a stalled VM) keeps them open, and every command waits until it wakes — long after
 * the Sentinels promoted its replica. So each process subscribes to every Sentinel, and on a
 * switch, a ready client still connected elsewhere than the new primary is reconnected (it asks
 * the Sentinels again). A client that is connecting is left alone: it is asking them already
 * (ioredis' own `failoverDetector` aborts such an attempt for good, which is why it is off).
 * The subscriptions end with the last client.
 */
export function followSwitches (redis: Redis, target: SentinelTarget): void {
  const key = `${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${target.masterName}`
  let f = followers.get(key)
  if (f === undefined) {
    const created: Follower = { clients: new Set(), subs: [] }
    created.subs = target.sentinels.map(({ host, port }) => subscribe(host, port, target, (newHost, newPort) => {
      for (const client of created.clients) {
        const stream = (client as unknown as { stream?: { remoteAddress?: string, remotePort?: number } }).stream
        if (client.status === 'ready' && (stream?.remotePort !== newPort || !sameHost(stream?.remoteAddress, newHost))) client.disconnect(true)
      }
    }))
    followers.set(key, created)
    f = created
  }
  const follower = f
  follower.clients.add(redis)
  redis.once('end', () => {
    follower.clients.delete(redis)
    if (follower.clients.size > 0) return
    followers.delete(key)
    for (const sub of follower.subs) sub.disconnect()
  })
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
