import { boolean, commonSpec, integer, number, string, type ConfigOf, type ConfigSpec } from '../../shared/src/config.js'
import { responseCacheSpec } from './cache/config.js'

/** Every gateway setting, its variable and its default. README's configuration table mirrors this. */
export const gatewaySpec = {
  ...commonSpec,
  port: integer('PORT', 8080, { min: 0, max: 65535 }),
  instanceId: string('INSTANCE_ID', 'gateway-1'),
  tryTimeoutMs: integer('GW_TRY_TIMEOUT_MS', 2_000, { min: 10, max: 600_000 }),
  deadlineMs: integer('GW_DEADLINE_MS', 10_000, { min: 10, max: 600_000 }),
  maxAttempts: integer('GW_MAX_ATTEMPTS', 2, { min: 1, max: 5 }),
  retryBudgetRatio: number('GW_RETRY_BUDGET_RATIO', 0.2, { min: 0, max: 1 }),
  retryBudgetMinPerSecond: integer('GW_RETRY_BUDGET_MIN_PER_S', 10, { min: 0, max: 100_000 }),
  /** Between checks of an instance that passes them. */
  healthIntervalMs: integer('GW_HEALTH_INTERVAL_MS', 1_000, { min: 50, max: 60_000 }),
  /** Between checks of an instance whose last check failed or that is out of rotation. */
  healthFastIntervalMs: integer('GW_HEALTH_FAST_INTERVAL_MS', 250, { min: 50, max: 60_000 }),
  healthTimeoutMs: integer('GW_HEALTH_TIMEOUT_MS', 250, { min: 10, max: 60_000 }),
  healthRise: integer('GW_HEALTH_RISE', 2, { min: 1, max: 100 }),
  healthFall: integer('GW_HEALTH_FALL', 2, { min: 1, max: 100 }),
  eject5xx: integer('GW_EJECT_CONSECUTIVE_5XX', 5, { min: 1, max: 1_000 }),
  /** Refused, reset or timed-out tries in a row that eject (errors of local origin, as Envoy calls them). */
  ejectLocalOrigin: integer('GW_EJECT_CONSECUTIVE_LOCAL', 5, { min: 1, max: 1_000 }),
  /** Share of failed tries over 10 s that ejects, once `GW_EJECT_FAILURE_MIN_REQUESTS` were seen; 0 = off. */
  ejectFailureRate: number('GW_EJECT_FAILURE_RATE', 0.85, { min: 0, max: 1 }),
  ejectFailureMinRequests: integer('GW_EJECT_FAILURE_MIN_REQUESTS', 50, { min: 1, max: 1_000_000 }),
  ejectBaseMs: integer('GW_EJECT_BASE_MS', 1_000, { min: 10, max: 600_000 }),
  ejectMaxMs: integer('GW_EJECT_MAX_MS', 30_000, { min: 10, max: 3_600_000 }),
  panicThreshold: number('GW_PANIC_THRESHOLD', 0.5, { min: 0, max: 1 }),
  bodyLimitBytes: integer('GW_BODY_LIMIT_BYTES', 1_048_576, { min: 0, max: 1_073_741_824 }),
  replayLimitBytes: integer('GW_REPLAY_LIMIT_BYTES', 65_536, { min: 0, max: 16_777_216 }),
  leaderWaitMs: integer('GW_LEADER_WAIT_MS', 3_000, { min: 0, max: 60_000 }),
  registryRefreshMs: integer('GW_REGISTRY_REFRESH_MS', 500, { min: 50, max: 60_000 }),
  /** The services /readyz waits for; empty = every service of the topology. */
  requiredServices: string('NINES_SERVICES', '', { pattern: /^[a-z0-9,-]*$/ }),
  /** Services routed at once (any service that registers is routed; this bounds made-up ones). */
  maxServices: integer('GW_MAX_SERVICES', 64, { min: 1, max: 10_000 }),
  metricsEnabled: boolean('GW_METRICS', true),
  /** Concurrent `/dashboard/stream` connections; the next one gets 503. */
  dashboardMaxStreams: integer('GW_DASHBOARD_MAX_STREAMS', 100, { min: 1, max: 100_000 }),
  upstreamConnections: integer('GW_UPSTREAM_CONNECTIONS', 128, { min: 1, max: 10_000 }),
  /** Hedged requests for the services whose routing policy says `hedge: true`; off: never. */
  hedgeEnabled: boolean('GW_HEDGE', true),
  /** The service's latency percentile after which a GET is hedged. */
  hedgePercentile: number('GW_HEDGE_PERCENTILE', 0.95, { min: 0.5, max: 0.999 }),
  /** Hedges allowed as a share of the service's requests over 10 s. */
  hedgeBudgetRatio: number('GW_HEDGE_BUDGET_RATIO', 0.05, { min: 0, max: 1 }),
  /** Never hedge sooner than this after the first try. */
  hedgeMinDelayMs: integer('GW_HEDGE_MIN_DELAY_MS', 1, { min: 0, max: 60_000 }),
  /** Hedging pauses (down to one due hedge in ten) while fewer than this share of the latest 200 hedges paid (won, with the raced try still silent a hedge delay later). */
  hedgeMinPaidShare: number('GW_HEDGE_MIN_PAID_SHARE', 0.2, { min: 0, max: 1 }),
  /** Slow-start ramp of a newly admitted instance; 0 = off. */
  slowStartMs: integer('GW_SLOW_START_MS', 5_000, { min: 0, max: 600_000 }),
  slowStartAggression: number('GW_SLOW_START_AGGRESSION', 1, { min: 0.1, max: 10 }),
  slowStartMinWeight: number('GW_SLOW_START_MIN_WEIGHT', 0.1, { min: 0.01, max: 1 }),
  /** Balancer per service instead of the one it declares, e.g. `compute=least-outstanding` (benchmarks compare them). */
  balancers: string('GW_BALANCERS', '', { pattern: /^([a-z0-9-]+=[a-z-]+)?(,[a-z0-9-]+=[a-z-]+)*$/ }),
  ...responseCacheSpec
} satisfies ConfigSpec

export type GatewayConfig = ConfigOf<typeof gatewaySpec>
