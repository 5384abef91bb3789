/**
 * Where Redis is, as one string every process reads from REDIS_URL. Two forms:
 *
 * - `redis://[[user]:password@]host:port[/db]` (or `rediss://`): one Redis server.
 * - `redis+sentinel://[[user]:password@]host1[:port1],host2[:port2],…/masterName[/db]`:
 *   a primary found through Redis Sentinel (port 26379 by default). The clients ask the
 *   Sentinels for the current primary and follow it across failovers.
 *
 * Query parameters, in either form:
 * - `minReplicas=N` — how many replicas `confirmReplicated()` waits for (default: 1 with
 *   Sentinel, 0 for one server);
 * - `sentinelPassword=…` — the Sentinels' own password, when they have one.
 *
 * Keeping the whole location in one string means every caller of `createRedis(config.redisUrl)`
 * — services, the gateway's registry watcher, scripts — gets Sentinel support with no change.
 * This module is pure: parsing and validation only.
 */
export interface SentinelAddress {
  host: string
  port: number
}

export type RedisTarget =
  | {
    mode: 'single'
    /** The URL handed to ioredis, without our own query parameters. */
    url: string
    minReplicas: number
  }
  | {
    mode: 'sentinel'
    sentinels: SentinelAddress[]
    /** The name the Sentinels monitor the primary under (`sentinel monitor <name> …`). */
    masterName: string
    db: number
    username?: string
    password?: string
    sentinelPassword?: string
    minReplicas: number
  }

const SENTINEL_SCHEME = 'redis+sentinel:'
const DEFAULT_SENTINEL_PORT = 26379

const OWN_PARAMS = new Set(['minReplicas', 'sentinelPassword'])

/** Parses a Redis location; throws an Error naming what is wrong. */
export function parseRedisTarget (raw: string): RedisTarget {
  const text = raw.trim()
  if (text.toLowerCase().startsWith(`${SENTINEL_SCHEME}//`)) return parseSentinel(text)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`"${raw}" is not a URL (expected redis://host:port or redis+sentinel://host:port,…/masterName)`)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`unsupported scheme "${url.protocol}" (expected redis:, rediss: or redis+sentinel:)`)
  }
  if (url.hostname === '') throw new Error(`"${raw}" has no host`)
  const minReplicas = parseMinReplicas(url.searchParams.get('minReplicas'), 0)
  for (const name of OWN_PARAMS) url.searchParams.delete(name)
  return { mode: 'single', url: url.toString(), minReplicas }
}

function parseSentinel (text: string): RedisTarget {
  const rest = text.slice(`${SENTINEL_SCHEME}//`.length)
  const queryAt = rest.indexOf('?')
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt)
  const params = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1))
  const slash = beforeQuery.indexOf('/')
  const authority = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash)
  const path = slash === -1 ? '' : beforeQuery.slice(slash + 1)

  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? undefined : authority.slice(0, at)
  const hosts = at === -1 ? authority : authority.slice(at + 1)
  const sentinels = hosts.split(',').map((h) => parseHostPort(h.trim()))
  if (sentinels.length === 0 || hosts.trim() === '') throw new Error('a redis+sentinel URL needs at least one Sentinel host')

  const [masterName = '', dbText, ...extra] = path.split('/')
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(masterName)) {
    throw new Error(`a redis+sentinel URL needs the master name as its path (redis+sentinel://host:26379/mymaster), got "/${path}"`)
  }
  if (extra.length > 0 || (dbText !== undefined && dbText !== '' && !/^\d{1,2}$/.test(dbText))) {
    throw new Error(`the path after the master name must be a database number, got "/${path}"`)
  }
  const target: RedisTarget = {
    mode: 'sentinel',
    sentinels,
    masterName,
    db: dbText === undefined || dbText === '' ? 0 : Number(dbText),
    minReplicas: parseMinReplicas(params.get('minReplicas'), 1)
  }
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':')
    const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon))
    const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1))
    if (username !== '') target.username = username
    if (password !== '') target.password = password
  }
  const sentinelPassword = params.get('sentinelPassword')
  if (sentinelPassword !== null && sentinelPassword !== '') target.sentinelPassword = sentinelPassword
  for (const name of params.keys()) {
    if (!OWN_PARAMS.has(name)) throw new Error(`unknown redis+sentinel parameter "${name}" (known: ${[...OWN_PARAMS].join(', ')})`)
  }
  return target
}

function parseHostPort (text: string): SentinelAddress {
  // [v6]:port, host:port, host
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text)
  if (m === null) throw new Error(`"${text}" is not a Sentinel address (host or host:port)`)
  const port = m[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3])
  if (port < 1 || port > 65535) throw new Error(`Sentinel port ${port} is out of range 1–65535`)
  return { host: (m[1] ?? m[2]) as string, port }
}

function parseMinReplicas (raw: string | null, defaultValue: number): number {
  if (raw === null || raw === '') return defaultValue
  if (!/^\d{1,2}$/.test(raw)) throw new Error(`minReplicas must be an integer 0–99, got "${raw}"`)
  return Number(raw)
}

/** The same location with any password replaced, for logs and the launcher's banner. */
export function redactRedisUrl (raw: string): string {
  return raw.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`
  }).replace(/(sentinelPassword=)[^&]*/, '$1***')
}

/** Builds the redis+sentinel URL for a list of Sentinels (launcher, compose, Kubernetes). */
export function sentinelUrl (sentinels: readonly SentinelAddress[], masterName: string, params: Record<string, string | number> = {}): string {
  const hosts = sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(',')
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()
  return `${SENTINEL_SCHEME}//${hosts}/${masterName}${query === '' ? '' : `?${query}`}`
}
