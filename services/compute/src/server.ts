import { TwoTierCache } from '../../../shared/src/cache/two-tier-cache.js'
import { createMetricsRegistry } from '../../../shared/src/service/metrics.js'
import { runService } from '../../../shared/src/service/run-service.js'
import { TaskPool } from './adapters/task-pool.js'
import { buildApp } from './app.js'
import { computeSpec } from './config.js'
import type { TaskResult } from './core/tasks.js'
import { taskKey } from './core/tasks.js'
import { jobKeys } from './jobs/job.js'
import { JobRunner } from './jobs/job-runner.js'
import { JobStore } from './jobs/job-store.js'

await runService({
  service: 'compute',
  spec: computeSpec,
  // free Piscina threads decide (least-saturated); a miss may take ~10 s; answers are deterministic, so 5 min stale beats a 503
  policy: { balancer: 'least-saturated', hedge: true, tryTimeoutMs: 10_000, cacheable: true, staleIfErrorS: 300 },
  build: async ({ config, instanceId, log, redis, registrar }) => {
    const metrics = createMetricsRegistry({ service: 'compute', instance: instanceId })
    const pool = new TaskPool({ threads: config.threads, maxQueue: config.maxQueue, taskTimeoutMs: config.taskTimeoutMs, metrics })
    const cache = new TwoTierCache<TaskResult>({
      redis,
      prefix: config.keyPrefix,
      namespace: 'compute',
      version: 1,
      ttlMs: config.cacheTtlMs,
      jitter: config.cacheJitter,
      staleMs: config.cacheStaleMs,
      localMaxBytes: config.cacheLocalBytes,
      lockTtlMs: config.cacheLockTtlMs,
      lockWaitMs: config.taskTimeoutMs,
      log,
      metrics
    })
    const keys = jobKeys(config.keyPrefix)
    const store = new JobStore({ redis, keys, maxDepth: config.jobsMaxDepth, ttlS: config.jobsResultTtlS, waitMs: config.redisWaitMs })
    const runner = new JobRunner({
      redis,
      keys,
      store,
      consumer: instanceId,
      concurrency: config.jobsConcurrency,
      visibilityMs: config.jobsVisibilityMs,
      maxAttempts: config.jobsMaxAttempts,
      log,
      // jobs share the cache: a job for a known answer finishes at once, and its result serves later GETs
      execute: async (req, signal) => (await cache.wrap(taskKey(req), async (s) => ({ value: await pool.run(req, { signal: s, timeoutMs: config.jobTimeoutMs }) }), { signal })).value
    })
    const app = buildApp({
      service: 'compute',
      instanceId,
      logger: log,
      metrics,
      readiness: () => registrar().registered ? [] : ['not registered']
    }, { pool, cache, httpMaxAgeS: config.httpMaxAgeS, ...(config.jobsEnabled ? { jobs: store } : {}) })
    // the pool outlives the listener: requests still draining keep their threads
    app.addHook('onClose', async () => { await pool.close() })
    return {
      app,
      meta: { threads: config.threads },
      // the gateway's least-saturated balancer weighs its requests in flight, plus the jobs that
      // no gateway sees, by threads; busy and queued are there for people to read
      liveMeta: () => ({ jobs: runner.active, busy: pool.busy, queued: pool.queueSize }),
      start: async () => {
        await cache.start()
        if (config.jobsEnabled) await runner.start()
      },
      stop: async () => {
        await runner.stop()
        await cache.close()
      }
    }
  }
})
