import { checkPolicy, type RoutingPolicy } from './policy.js'

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
  /** How the gateway routes to its service, as the service declares it (absent: the defaults). */
  policy?: RoutingPolicy
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

const idPattern = /^[A-Za-z0-9._:-]{1,128}$/
const servicePattern = /^[a-z0-9][a-z0-9-]{0,62}$/
const rolePattern = /^[a-z][a-z0-9-]{0,31}$/
const metaKeyPattern = /^[A-Za-z0-9_.-]{1,64}$/
const maxMetaEntries = 32
const maxMetaText = 256

/** A registry record as read, or why it cannot be used. */
export type RecordCheck = { ok: true, record: InstanceRecord } | { ok: false, problem: string }

/**
 * Validates a record read from the registry (a key or an announcement): anyone who can write to
 * Redis can put anything there, and one bad record must never take a reader down (an `Invalid
 * URL` thrown from the gateway's connection pool crash-looped it for as long as the key lived).
 * The URL must be a plain http(s) origin; id, service and role sane names; meta small and flat;
 * the routing policy valid (fields this version does not know are dropped).
 */
export function checkRecord (raw: string | null): RecordCheck {
  if (raw === null) return { ok: false, problem: 'no record' }
  let r: unknown
  try {
    r = JSON.parse(raw)
  } catch {
    return { ok: false, problem: 'not JSON' }
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return { ok: false, problem: 'not a JSON object' }
  const { id, service, url, role = 'member', startedAt = 0, meta, policy } = r as Record<string, unknown>
  if (typeof id !== 'string' || !idPattern.test(id)) return { ok: false, problem: `bad id ${show(id)}` }
  if (typeof service !== 'string' || !servicePattern.test(service)) return { ok: false, problem: `bad service ${show(service)}` }
  const origin = typeof url === 'string' ? httpOrigin(url) : undefined
  if (origin === undefined) return { ok: false, problem: `bad url ${show(url)}: expected an http(s) origin like http://127.0.0.1:40123` }
  if (typeof role !== 'string' || !rolePattern.test(role)) return { ok: false, problem: `bad role ${show(role)}` }
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt) || startedAt < 0) return { ok: false, problem: `bad startedAt ${show(startedAt)}` }
  if (meta !== undefined && !isFlatMeta(meta)) return { ok: false, problem: 'bad meta: expected at most 32 names of strings (≤ 256 characters), finite numbers or booleans' }
  const routing = policy === undefined ? undefined : checkPolicy(policy)
  if (routing !== undefined && !routing.ok) return { ok: false, problem: `bad policy: ${routing.problem}` }
  return { ok: true, record: { id, service, url: origin, role, startedAt, ...(meta !== undefined ? { meta } : {}), ...(routing !== undefined ? { policy: routing.policy } : {}) } }
}

function httpOrigin (text: string): string | undefined {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return undefined
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
  if (u.hostname === '' || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || (u.pathname !== '/' && u.pathname !== '')) return undefined
  return u.origin
}

function isFlatMeta (meta: unknown): meta is Record<string, string | number | boolean> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return false
  const entries = Object.entries(meta)
  if (entries.length > maxMetaEntries) return false
  return entries.every(([k, v]) => metaKeyPattern.test(k) && (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= maxMetaText)))
}

function show (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
