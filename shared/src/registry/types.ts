/** What an instance tells the registry about itself. */
export interface InstanceRecord {
  id: string
  service: string
  /** The base URL it actually bound, e.g. http://127.0.0.1:40123 */
  url: string
  /** e.g. `member` for stateless pools, `leader`/`follower`, `hot`/`warm` */
  role: string
  /** ms since the epoch */
  startedAt: number
  /** Small service-specific facts (epoch, log index, …) shown by GET /registry. */
  meta?: Record<string, string | number | boolean>
}

export type RegistryEvent =
  | { type: 'up', instance: InstanceRecord }
  | { type: 'down', id: string, service: string }

export interface RegistryKeys {
  instance: (id: string) => string
  ids: string
  channel: string
}

export function registryKeys (prefix: string): RegistryKeys {
  return {
    instance: (id) => `${prefix}:registry:instance:${id}`,
    ids: `${prefix}:registry:ids`,
    channel: `${prefix}:registry:events`
  }
}

export function parseRecord (raw: string | null): InstanceRecord | undefined {
  if (raw === null) return undefined
  try {
    const r = JSON.parse(raw) as Partial<InstanceRecord>
    if (typeof r.id !== 'string' || typeof r.service !== 'string' || typeof r.url !== 'string') return undefined
    return { id: r.id, service: r.service, url: r.url, role: r.role ?? 'member', startedAt: r.startedAt ?? 0, ...(r.meta ? { meta: r.meta } : {}) }
  } catch {
    return undefined
  }
}
