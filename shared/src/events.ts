import type { Redis } from './redis.js'

/** A notable thing that happened in the cluster, for the dashboard's timeline. */
export interface ClusterEvent {
  /** ms since the epoch */
  at: number
  type: 'instance-added' | 'instance-removed' | 'role-changed' | 'ejected' | 'readmitted' | 'unhealthy' | 'healthy' |
  'lease-taken' | 'lease-lost' | 'leader-elected' | 'scale-up' | 'scale-down' | 'restarted' | string
  service?: string
  instance?: string
  /** Who saw it (gateway-1, kv-leader-2, launcher). */
  source: string
  message: string
}

export function eventKeys (prefix: string): { channel: string, recent: string } {
  return { channel: `${prefix}:events`, recent: `${prefix}:events:recent` }
}

/** How many events the recent list keeps. */
const recentEventsKept = 500

/**
 * Publishes an event on the cluster's channel and keeps it in a capped list for late joiners.
 * Fire and forget: an event is never worth failing or slowing the work that caused it.
 */
export function publishEvent (redis: Redis, prefix: string, event: Omit<ClusterEvent, 'at'> & { at?: number }): void {
  const keys = eventKeys(prefix)
  const json = JSON.stringify({ at: Date.now(), ...event })
  redis.multi().publish(keys.channel, json).lpush(keys.recent, json).ltrim(keys.recent, 0, recentEventsKept - 1).exec().catch(() => {})
}

export async function recentEvents (redis: Redis, prefix: string, count = 300): Promise<ClusterEvent[]> {
  const raws = await redis.lrange(eventKeys(prefix).recent, 0, count - 1)
  return raws.flatMap((raw) => {
    try {
      return [JSON.parse(raw) as ClusterEvent]
    } catch {
      return []
    }
  }).reverse()
}
