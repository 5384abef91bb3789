import type { FastifyInstance } from 'fastify'
import type { TwoTierCache } from '../../../shared/src/cache/two-tier-cache.js'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import type { TaskPool } from './adapters/task-pool.js'
import type { TaskResult } from './core/tasks.js'
import type { JobStore } from './jobs/job-store.js'
import { registerJobRoutes } from './routes/jobs.js'
import { registerTaskRoutes } from './routes/tasks.js'

export interface ComputeDeps {
  pool: TaskPool
  cache: TwoTierCache<TaskResult>
  /** Absent: the job routes are not offered. */
  jobs?: JobStore
  httpMaxAgeS: number
}

/** The compute service: cached CPU tasks on a worker pool, and async jobs. Never listens. */
export function buildApp (identity: CommonAppOptions, deps: ComputeDeps): FastifyInstance {
  const app = createApp(identity)
  registerTaskRoutes(app, deps)
  if (deps.jobs !== undefined) registerJobRoutes(app, deps.jobs)
  return app
}
