/**
 * The cluster in one typed file. The local launcher starts it, docker-compose.yml mirrors it
 * (a test fails when they drift), the gateway reads balancers and routing rules from it, and
 * /readyz waits for every service listed here. Adding a service is a folder under services/
 * and one entry below: the gateway needs no change.
 */
export type BalancerName = 'round-robin' | 'random' | 'least-outstanding' | 'latency-ewma' | 'least-saturated'

export interface InstanceSpec {
  /** Stable id: the registry key, the launcher's name for it, `x-instance-id`. */
  id: string
  env?: Readonly<Record<string, string>>
}

export interface ServiceSpec {
  /** The server entry, relative to the project root, as TypeScript source (run from dist/). */
  entry: string
  /** A count of interchangeable instances (`<service>-1` …), or named ones with their own settings. */
  instances: number | readonly InstanceSpec[]
  /** Interchangeable instances can be scaled up and down. */
  scalable: boolean
  /** @default 'least-outstanding' */
  balancer?: BalancerName
  /** `leader`: non-GET requests (and default reads) go to the instance whose registry role is `leader`. */
  routing?: 'any' | 'leader'
  /** POST requests may be retried on another instance (the service dedupes them). @default false */
  retryNonIdempotent?: boolean
  /** Per-try timeout for this service, when its work is slower than the gateway default. */
  tryTimeoutMs?: number
  /**
   * GET and HEAD requests still unanswered at the service's p95 are sent to a second instance too,
   * and the first answer wins (within a budget of extra requests, see gateway/src/proxy/hedge.ts). @default false
   */
  hedge?: boolean
  /** The gateway may cache GET responses that allow it (Cache-Control). @default false */
  cacheable?: boolean
  /**
   * How long past its freshness the gateway may still answer with a cached response when the
   * service fails (a 500/502/503/504, a broken connection, no healthy instance): the
   * service's default `stale-if-error` (RFC 5861 §4), in seconds, for responses that do not
   * name a longer one. Never for `no-cache`, `must-revalidate` or `s-maxage` responses.
   * @default 0
   */
  staleIfErrorS?: number
  env?: Readonly<Record<string, string>>
  autoscale?: AutoscaleSpec
}

/** Autoscaling bounds for a scalable service (used when the launcher runs with --autoscale). */
export interface AutoscaleSpec {
  /** @default the service's instance count */
  min?: number
  /** @default three times min, at most 8 */
  max?: number
  /** @default 50 */
  targetP99Ms?: number
}

export interface Topology {
  gateway: { port: number }
  services: Readonly<Record<string, ServiceSpec>>
}

export const topology = {
  gateway: { port: 8080 },
  services: {
    echo: {
      entry: 'services/echo/src/server.ts',
      instances: 3,
      scalable: true,
      balancer: 'least-outstanding',
      hedge: true,
      autoscale: { min: 3, max: 8, targetP99Ms: 25 }
    },
    'kv-quorum': {
      entry: 'services/kv-quorum/src/server.ts',
      // named: each replica is a member of the replica set by id and keeps its own data
      instances: [
        { id: 'kv-quorum-1', env: { KVQ_DATA_DIR: 'data/kv-quorum/kv-quorum-1' } },
        { id: 'kv-quorum-2', env: { KVQ_DATA_DIR: 'data/kv-quorum/kv-quorum-2' } },
        { id: 'kv-quorum-3', env: { KVQ_DATA_DIR: 'data/kv-quorum/kv-quorum-3' } }
      ],
      scalable: false,
      // any instance coordinates; a write waits for W replicas, so spread by outstanding requests
      balancer: 'least-outstanding',
      // reads only (hedging is for GET/HEAD): a read is a quorum read from any coordinator
      hedge: true,
      env: { KVQ_REPLICAS: 'kv-quorum-1,kv-quorum-2,kv-quorum-3' }
    },
    feed: {
      entry: 'services/feed/src/server.ts',
      instances: 2,
      scalable: true,
      balancer: 'least-outstanding'
    },
    'ledger-hh': {
      entry: 'services/ledger/src/server.ts',
      instances: [{ id: 'ledger-hh-a', env: { LEDGER_PAIR: 'hot-hot' } }, { id: 'ledger-hh-b', env: { LEDGER_PAIR: 'hot-hot' } }],
      scalable: false,
      env: { LEDGER_PAIR: 'hot-hot' }
    },
    'ledger-hw': {
      entry: 'services/ledger/src/server.ts',
      instances: [{ id: 'ledger-hw-a', env: { LEDGER_PAIR: 'hot-warm' } }, { id: 'ledger-hw-b', env: { LEDGER_PAIR: 'hot-warm' } }],
      scalable: false,
      env: { LEDGER_PAIR: 'hot-warm' }
    },
    sink: {
      entry: 'services/sink/src/server.ts',
      instances: 2,
      scalable: true,
      balancer: 'least-outstanding'
    },
    'kv-leader': {
      entry: 'services/kv-leader/src/server.ts',
      instances: [
        { id: 'kv-leader-1', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-1' } },
        { id: 'kv-leader-2', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-2' } },
        { id: 'kv-leader-3', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-3' } }
      ],
      scalable: false,
      balancer: 'least-outstanding',
      routing: 'leader',
      // a write waits up to KV_WRITE_TIMEOUT_MS for its quorum, plus a follower's wait for a leader
      tryTimeoutMs: 5_000
    },
    compute: {
      entry: 'services/compute/src/server.ts',
      instances: 2,
      scalable: true,
      // CPU work on Piscina threads: prefer the instance with the most free threads (it publishes them)
      balancer: 'least-saturated',
      hedge: true,
      // a miss may run a sieve of 50 M (~0.5 s) or 10 M hash rounds (~10 s): longer than the default try
      tryTimeoutMs: 10_000,
      cacheable: true,
      // answers are deterministic: with every instance down, a cached answer up to 5 min stale beats a 503
      staleIfErrorS: 300,
      // misses are CPU work: a p99 of a quarter second under load is the signal to add an instance
      autoscale: { min: 2, max: 4, targetP99Ms: 250 }
    }
  }
} as const satisfies Topology

/** The instance ids a service starts with. */
export function instanceSpecs (service: string, spec: ServiceSpec): InstanceSpec[] {
  if (typeof spec.instances === 'number') {
    return Array.from({ length: spec.instances }, (_, i) => ({ id: `${service}-${i + 1}` }))
  }
  return [...spec.instances]
}

/** Where the built entry lives, relative to the project root. */
export function builtEntry (spec: ServiceSpec): string {
  return `dist/${spec.entry.replace(/\.ts$/, '.js')}`
}
