import { createServer } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { createApp, requestIdFrom } from '../../shared/src/service/create-app.js'
import type { Logger } from '../../shared/src/logger.js'
import { RegistryWatcher } from '../../shared/src/registry/watcher.js'
import { createMetricsRegistry } from '../../shared/src/service/metrics.js'
import { ResponseCache } from './cache/response-cache.js'
import type { GatewayConfig } from './config.js'
import { GatewayMetrics, noMetrics } from './metrics.js'
import { proxy, writeError, type ProxyDeps } from './proxy/forward.js'
import { Hedging } from './proxy/hedge.js'
import { defaultHedgePolicy } from './resilience/hedge-policy.js'
import { tooLarge } from './proxy/body.js'
import { RetryBudget } from './resilience/retry-budget.js'
import { missingServices, registerAdminRoutes } from './routes/admin.js'
import { HealthChecker } from './upstreams/health-checker.js'
import { EventLog } from './events/event-log.js'
import { registerDashboard } from './routes/dashboard.js'
import { Traffic } from './stats/traffic.js'
import { Router } from './upstreams/router.js'
import type { PoolFactory } from './upstreams/upstream.js'

export interface Gateway {
  app: FastifyInstance
  router: Router
  watcher: RegistryWatcher
  start: () => Promise<void>
  stop: () => Promise<void>
}

/** `GW_BALANCERS=compute=least-outstanding,echo=random` → by service (the names are checked when the pools are made). */
function parseBalancers (text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]))
}

export interface GatewayOptions {
  /**
   * The topology's services: /readyz waits for them (or for NINES_SERVICES), /registry lists them
   * even with no instance. Any other service that registers is routed too. @default none
   */
  services?: readonly string[]
  /** Makes each instance's connection pool. @default an undici Pool */
  poolFactory?: PoolFactory
}

/**
 * The gateway: registry watch → router (a pool per instance) → balancer → proxy, with active
 * health checks, outlier ejection, retries under a budget and the admin routes. How each service
 * is routed comes from its instances' registrations. Never listens.
 */
export function buildGateway (config: GatewayConfig, log: Logger, { services = [], poolFactory }: GatewayOptions = {}): Gateway {
  const events = new EventLog({ redisUrl: config.redisUrl, prefix: config.keyPrefix, source: config.instanceId, log })
  const traffic = new Traffic()
  const router = new Router({
    knownServices: services,
    maxServices: config.maxServices,
    panicThreshold: config.panicThreshold,
    slowStart: { windowMs: config.slowStartMs, aggression: config.slowStartAggression, minWeight: config.slowStartMinWeight },
    balancers: parseBalancers(config.balancers),
    connections: config.upstreamConnections,
    health: { rise: config.healthRise, fall: config.healthFall },
    outlier: {
      consecutive5xx: config.eject5xx,
      consecutiveLocalOrigin: config.ejectLocalOrigin,
      failureRate: config.ejectFailureRate,
      failureRateMinRequests: config.ejectFailureMinRequests,
      baseEjectionMs: config.ejectBaseMs,
      maxEjectionMs: config.ejectMaxMs
    },
    ...(poolFactory !== undefined ? { factory: poolFactory } : {}),
    log,
    onEvent: (event) => events.emit(event)
  })
  const watcher = new RegistryWatcher({ redisUrl: config.redisUrl, prefix: config.keyPrefix, refreshMs: config.registryRefreshMs, log })
  watcher.on('change', (snapshot) => router.apply(snapshot))
  const health = new HealthChecker(router, {
    intervalMs: config.healthIntervalMs,
    fastIntervalMs: config.healthFastIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    log,
    onChange: (u, state) => events.emit({ type: state, service: u.record.service, instance: u.id, message: `${u.id} is ${state} (active checks)` })
  })
  const budget = new RetryBudget({ ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond, windowMs: 10_000 })
  const requiredServices = config.requiredServices === '' ? services : config.requiredServices.split(',').filter(Boolean)
  const metricsRegistry = createMetricsRegistry({ service: 'gateway', instance: config.instanceId })
  const responseCache = config.cacheEnabled
    ? new ResponseCache({
      redisUrl: config.redisUrl,
      prefix: config.keyPrefix,
      localMaxBytes: config.cacheLocalBytes,
      maxBodyBytes: config.cacheMaxBodyBytes,
      maxTtlMs: config.cacheMaxTtlMs,
      maxStaleMs: config.cacheMaxStaleMs,
      staleIfErrorMs: (service) => router.service(service)?.policy.staleIfErrorMs ?? 0,
      maxKeyBytes: config.cacheMaxKeyBytes,
      redisBytes: config.cacheRedisBytes,
      log,
      ...(config.metricsEnabled ? { metrics: metricsRegistry } : {})
    })
    : undefined
  const hedging = config.hedgeEnabled
    ? new Hedging({ policy: { ...defaultHedgePolicy, percentile: config.hedgePercentile, minDelayMs: config.hedgeMinDelayMs, minPaidShare: config.hedgeMinPaidShare }, budgetRatio: config.hedgeBudgetRatio, traffic })
    : undefined
  const deps: ProxyDeps = { router, budget, metrics: config.metricsEnabled ? new GatewayMetrics(metricsRegistry) : noMetrics, config, log, instanceId: config.instanceId, traffic, events, responseCache, hedging }

  const app = createApp({
    service: 'gateway',
    instanceId: config.instanceId,
    logger: log,
    metrics: metricsRegistry,
    httpMetrics: false,
    bodyLimit: config.bodyLimitBytes,
    readiness: () => missingServices(router, requiredServices, Date.now()).map((name) => `${name}: no healthy instance`),
    fastify: {
      // `/api/*` is the hot path: it goes straight to the proxy on the raw request, skipping
      // Fastify's routing and reply objects (about a fifth of the gateway's CPU per request);
      // everything else (admin routes, 404s, client errors) is Fastify's as usual
      serverFactory: (handler) => {
        const server = createServer((req, res) => {
          if (req.url?.startsWith('/api/') === true) void proxy(req, res, deps)
          else handler(req, res)
        })
        server.keepAliveTimeout = 72_000 // ms, longer than the usual client idle timeouts
        // `Expect: 100-continue` (curl sends it for uploads over 1 KiB): the gateway answers it
        // itself and never forwards it; a body announced over the limit is refused before it is sent
        server.on('checkContinue', (req, res) => {
          if (req.url?.startsWith('/api/') !== true) {
            res.writeContinue()
            handler(req, res)
          } else if (Number(req.headers['content-length']) > config.bodyLimitBytes) {
            writeError(res, tooLarge(config.bodyLimitBytes), requestIdFrom(req.headers['x-request-id']), config.instanceId, true)
          } else {
            res.writeContinue()
            void proxy(req, res, deps)
          }
        })
        return server
      }
    }
  })
  registerAdminRoutes(app, router, traffic)
  registerDashboard(app, router, traffic, events, config.dashboardMaxStreams)

  return {
    app,
    router,
    watcher,
    start: async () => {
      await events.start()
      await watcher.start()
      await responseCache?.start()
      router.apply(watcher.snapshot)
      health.start()
    },
    stop: async () => {
      await app.close()
      await health.stop()
      await watcher.stop()
      await events.stop()
      await router.close()
      await responseCache?.close()
    }
  }
}
