/**
 * The cluster in one typed file: what to start. The local launcher starts it, docker-compose.yml
 * and deploy/k8s mirror it (a test fails when they drift), and the gateway's /readyz waits for
 * every service listed here. How the gateway routes to a service (balancer, leader routing,
 * retries, hedging, caching) is not here: each service declares it (`runService`'s `policy`) and
 * publishes it in the registry. Adding a service is a folder under services/ and one entry
 * below: the gateway needs no change and no restart.
 */
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
      env: { KVQ_REPLICAS: 'kv-quorum-1,kv-quorum-2,kv-quorum-3' }
    },
    feed: {
      entry: 'services/feed/src/server.ts',
      instances: 2,
      scalable: true
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
      scalable: true
    },
    'kv-leader': {
      entry: 'services/kv-leader/src/server.ts',
      instances: [
        { id: 'kv-leader-1', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-1' } },
        { id: 'kv-leader-2', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-2' } },
        { id: 'kv-leader-3', env: { KV_DATA_DIR: 'data/kv-leader/kv-leader-3' } }
      ],
      scalable: false
    },
    compute: {
      entry: 'services/compute/src/server.ts',
      instances: 2,
      scalable: true,
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
