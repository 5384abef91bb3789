/** The gateway's load-balancing strategies (one file each in gateway/src/balancing). */
export const balancerNames = ['round-robin', 'random', 'least-outstanding', 'latency-ewma', 'least-saturated'] as const
export type BalancerName = typeof balancerNames[number]

/**
 * How the gateway routes to a service, declared by the service itself (`runService`'s `policy`)
 * and published in every registration of its instances: a new service, or a changed policy,
 * needs no gateway change and no gateway restart. A service that declares none gets the defaults.
 */
export interface RoutingPolicy {
  /** @default 'least-outstanding' */
  balancer?: BalancerName
  /** `leader`: non-GET requests (and reads without `consistency=eventual`) go to the instance whose registry role is `leader`. @default 'any' */
  routing?: 'any' | 'leader'
  /** POST requests may be retried on another instance (the service dedupes them). @default false */
  retryNonIdempotent?: boolean
  /** Per-try timeout, when the service's work is slower than the gateway's default (`GW_TRY_TIMEOUT_MS`). */
  tryTimeoutMs?: number
  /**
   * GET and HEAD requests still unanswered at the service's p95 are sent to a second instance too,
   * and the first answer wins (within a budget of extra requests). @default false
   */
  hedge?: boolean
  /** The gateway may cache GET responses that allow it (Cache-Control). @default false */
  cacheable?: boolean
  /**
   * How long past its freshness the gateway may still answer with a cached response when the
   * service fails: the service's default `stale-if-error` (RFC 5861 §4), in seconds, for
   * responses that name none. Capped by the gateway's `GW_CACHE_MAX_STALE_MS`. @default 0
   */
  staleIfErrorS?: number
}

/** A policy as read from a registration (or declared by a service), or why it cannot be used. */
export type PolicyCheck =
  | { ok: true, policy: RoutingPolicy, /** Fields this version does not know: dropped. */ unknown: string[] }
  | { ok: false, problem: string }

const tryTimeoutBounds = { min: 10, max: 600_000 } // ms, as GW_TRY_TIMEOUT_MS
const staleIfErrorBounds = { min: 0, max: 604_800 } // s: a week
const maxFields = 32

/**
 * Validates a routing policy. The result always lists its fields in one order, so two equal
 * policies serialise alike. Unknown fields are dropped and named (a newer service may declare
 * more than this gateway knows; the service itself refuses to start with one, see runService).
 */
export function checkPolicy (raw: unknown): PolicyCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problem: 'not a JSON object' }
  const fields = raw as Record<string, unknown>
  const names = Object.keys(fields)
  if (names.length > maxFields) return { ok: false, problem: `more than ${maxFields} fields` }
  const { balancer, routing, retryNonIdempotent, tryTimeoutMs, hedge, cacheable, staleIfErrorS } = fields
  if (balancer !== undefined && !(balancerNames as readonly unknown[]).includes(balancer)) {
    return { ok: false, problem: `balancer ${show(balancer)}: expected one of ${balancerNames.join(', ')}` }
  }
  if (routing !== undefined && routing !== 'any' && routing !== 'leader') return { ok: false, problem: `routing ${show(routing)}: expected "any" or "leader"` }
  for (const [name, value] of [['retryNonIdempotent', retryNonIdempotent], ['hedge', hedge], ['cacheable', cacheable]] as const) {
    if (value !== undefined && typeof value !== 'boolean') return { ok: false, problem: `${name} ${show(value)}: expected true or false` }
  }
  if (tryTimeoutMs !== undefined && !isIntegerIn(tryTimeoutMs, tryTimeoutBounds)) {
    return { ok: false, problem: `tryTimeoutMs ${show(tryTimeoutMs)}: expected an integer ${tryTimeoutBounds.min}–${tryTimeoutBounds.max}` }
  }
  if (staleIfErrorS !== undefined && !isIntegerIn(staleIfErrorS, staleIfErrorBounds)) {
    return { ok: false, problem: `staleIfErrorS ${show(staleIfErrorS)}: expected an integer ${staleIfErrorBounds.min}–${staleIfErrorBounds.max}` }
  }
  const policy: RoutingPolicy = {
    ...(balancer !== undefined ? { balancer: balancer as BalancerName } : {}),
    ...(routing !== undefined ? { routing } : {}),
    ...(retryNonIdempotent !== undefined ? { retryNonIdempotent: retryNonIdempotent as boolean } : {}),
    ...(tryTimeoutMs !== undefined ? { tryTimeoutMs: tryTimeoutMs as number } : {}),
    ...(hedge !== undefined ? { hedge: hedge as boolean } : {}),
    ...(cacheable !== undefined ? { cacheable: cacheable as boolean } : {}),
    ...(staleIfErrorS !== undefined ? { staleIfErrorS: staleIfErrorS as number } : {})
  }
  return { ok: true, policy, unknown: names.filter((name) => !knownFields.has(name)) }
}

/** A service's own declaration: anything but a clean policy stops it at start, naming the problem. */
export function declaredPolicy (service: string, raw: RoutingPolicy): RoutingPolicy {
  const check = checkPolicy(raw)
  if (!check.ok) throw new Error(`${service}: bad routing policy: ${check.problem}`)
  if (check.unknown.length > 0) throw new Error(`${service}: bad routing policy: unknown field(s) ${check.unknown.join(', ')}`)
  return check.policy
}

// every field of RoutingPolicy, checked by the compiler: a field added there must be added here
const fieldNames = { balancer: true, routing: true, retryNonIdempotent: true, tryTimeoutMs: true, hedge: true, cacheable: true, staleIfErrorS: true } satisfies Record<keyof RoutingPolicy, true>
const knownFields = new Set(Object.keys(fieldNames))

function isIntegerIn (value: unknown, { min, max }: { min: number, max: number }): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

function show (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
