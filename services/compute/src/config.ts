import { boolean, integer, number, type ConfigSpec } from '../../../shared/src/config.js'
import { coresAvailable } from './adapters/cores.js'

/**
 * Every compute setting, its variable and its default. Threads default to the cores this
 * process may use (affinity and cgroup quota): more threads than cores only adds switching
 * (the benchmark shows it).
 */
export const computeSpec = {
  threads: integer('COMPUTE_THREADS', coresAvailable(), { min: 1, max: 256 }),
  /** Tasks waiting for a thread beyond this are shed with 503 + Retry-After. */
  maxQueue: integer('COMPUTE_MAX_QUEUE', 64, { min: 0, max: 100_000 }),
  /** A request's task still running after this is cancelled (its thread is replaced); matches the gateway deadline. */
  taskTimeoutMs: integer('COMPUTE_TASK_TIMEOUT_MS', 10_000, { min: 10, max: 600_000 }),
  cacheTtlMs: integer('COMPUTE_CACHE_TTL_MS', 300_000, { min: 1, max: 86_400_000 }),
  cacheStaleMs: integer('COMPUTE_CACHE_STALE_MS', 0, { min: 0, max: 86_400_000 }),
  cacheJitter: number('COMPUTE_CACHE_JITTER', 0.1, { min: 0, max: 0.9 }),
  cacheLocalBytes: integer('COMPUTE_CACHE_LOCAL_BYTES', 8 * 1024 * 1024, { min: 1024, max: 4 * 1024 * 1024 * 1024 }),
  cacheLockTtlMs: integer('COMPUTE_CACHE_LOCK_TTL_MS', 2_000, { min: 50, max: 600_000 }),
  /** `Cache-Control: max-age` of task responses (what the gateway may cache); 0 → no-store. */
  httpMaxAgeS: integer('COMPUTE_HTTP_MAX_AGE_S', 60, { min: 0, max: 86_400 }),
  jobsEnabled: boolean('COMPUTE_JOBS', true),
  /** Jobs queued or running at most; a submission beyond gets 503 + Retry-After. */
  jobsMaxDepth: integer('COMPUTE_JOBS_MAX_DEPTH', 1_000, { min: 1, max: 1_000_000 }),
  /** Jobs this instance runs at once. */
  jobsConcurrency: integer('COMPUTE_JOBS_CONCURRENCY', 1, { min: 1, max: 256 }),
  /** A job held this long by an instance that stopped renewing it is reclaimed by another. */
  jobsVisibilityMs: integer('COMPUTE_JOBS_VISIBILITY_MS', 15_000, { min: 100, max: 3_600_000 }),
  jobsResultTtlS: integer('COMPUTE_JOBS_RESULT_TTL_S', 3_600, { min: 1, max: 30 * 86_400 }),
  jobsMaxAttempts: integer('COMPUTE_JOBS_MAX_ATTEMPTS', 3, { min: 1, max: 100 }),
  jobTimeoutMs: integer('COMPUTE_JOB_TIMEOUT_MS', 300_000, { min: 10, max: 3_600_000 })
} satisfies ConfigSpec
