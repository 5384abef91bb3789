import { ClusterError } from './errors.js'
import { parseRedisTarget } from './redis-target.js'

/**
 * Typed configuration from environment variables. A spec maps each setting to the variable
 * that sets it and a parser; `loadConfig` reads them all, reports every bad variable in one
 * CFG_ERR_INVALID (never just the first), and returns a frozen object.
 */
export type Env = Record<string, string | undefined>

interface Setting<T> {
  env: string
  parse: (raw: string, name: string) => T
  default: T | (() => T)
  describe?: string
}

export type ConfigSpec = Record<string, Setting<unknown>>
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never }

export class ConfigError extends ClusterError {
  readonly problems: readonly string[]
  constructor (problems: string[]) {
    super('CFG_ERR_INVALID', `invalid configuration: ${problems.join('; ')}`, 500)
    this.problems = problems
  }
}

export function loadConfig<S extends ConfigSpec> (spec: S, env: Env = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [key, setting] of Object.entries(spec)) {
    const raw = env[setting.env]
    if (raw === undefined || raw === '') {
      out[key] = typeof setting.default === 'function' ? (setting.default as () => unknown)() : setting.default
      continue
    }
    try {
      out[key] = setting.parse(raw, setting.env)
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(out) as ConfigOf<S>
}

function fail (message: string): never {
  throw new Error(message)
}

export function integer (env: string, defaultValue: number, { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {}): Setting<number> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN
      if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${name} must be an integer ${min}–${max}, got "${raw}"`)
      return n
    }
  }
}

export function number (env: string, defaultValue: number, { min = -Infinity, max = Infinity } = {}): Setting<number> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      const n = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) fail(`${name} must be a number ${min}–${max}, got "${raw}"`)
      return n
    }
  }
}

export function string (env: string, defaultValue: string | (() => string), { pattern }: { pattern?: RegExp } = {}): Setting<string> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      if (pattern !== undefined && !pattern.test(raw)) fail(`${name} must match ${String(pattern)}, got "${raw}"`)
      return raw
    }
  }
}

export function oneOf<const T extends string> (env: string, choices: readonly T[], defaultValue: T): Setting<T> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      if (!(choices as readonly string[]).includes(raw)) fail(`${name} must be one of ${choices.join(', ')}, got "${raw}"`)
      return raw as T
    }
  }
}

/** A comma-separated list of non-empty items, each one of `choices` when given. */
export function list (env: string, defaultValue: readonly string[], { choices }: { choices?: readonly string[] } = {}): Setting<string[]> {
  return {
    env,
    default: () => [...defaultValue],
    parse: (raw, name) => {
      const items = raw.split(',').map((x) => x.trim()).filter((x) => x !== '')
      const bad = choices === undefined ? [] : items.filter((x) => !choices.includes(x))
      if (items.length === 0 || bad.length > 0) fail(`${name} must be a comma-separated list${choices === undefined ? '' : ` of ${choices.join(', ')}`}, got "${raw}"`)
      return items
    }
  }
}

export function boolean (env: string, defaultValue: boolean): Setting<boolean> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
      return fail(`${name} must be true or false, got "${raw}"`)
    }
  }
}

export function url (env: string, defaultValue: string): Setting<string> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      try {
        return new URL(raw).toString()
      } catch {
        return fail(`${name} must be a URL, got "${raw}"`)
      }
    }
  }
}

/**
 * A Redis location: `redis://host:port` for one server, or
 * `redis+sentinel://host1:26379,host2:26379,…/masterName` for a primary found through Sentinel
 * (see `redis-target.ts` for every parameter). Validated here, once, at startup.
 */
function redisLocation (env: string, defaultValue: string): Setting<string> {
  return {
    env,
    default: defaultValue,
    parse: (raw, name) => {
      try {
        const target = parseRedisTarget(raw)
        return target.mode === 'single' ? new URL(raw.trim()).toString() : raw.trim()
      } catch (err) {
        return fail(`${name} must be redis://host:port or redis+sentinel://host:port,…/masterName: ${(err as Error).message}`)
      }
    }
  }
}

/** Settings every process shares: where it listens, what it is called, where Redis is. */
export const commonSpec = {
  host: string('HOST', '127.0.0.1'),
  port: integer('PORT', 0, { min: 0, max: 65535 }),
  advertiseHost: string('ADVERTISE_HOST', ''),
  /** One Redis (`redis://…`) or a Sentinel-monitored primary (`redis+sentinel://…`): docs/redis-ha.md. */
  redisUrl: redisLocation('REDIS_URL', 'redis://127.0.0.1:6379'),
  /** How long a write that must survive a failover waits for the replicas (WAIT) before answering 503; unused with one Redis. */
  redisWaitMs: integer('REDIS_WAIT_MS', 500, { min: 1, max: 10_000 }),
  keyPrefix: string('NINES_PREFIX', 'nines', { pattern: /^[A-Za-z0-9_.:-]{1,64}$/ }),
  /** Set by the launcher: the process exits when its launcher is gone. */
  parentPid: integer('NINES_PARENT_PID', 0, { min: 0 }),
  /** A graceful stop that takes longer ends the process anyway (exit 1). @default 10000 */
  shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
  logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info')
} satisfies ConfigSpec
