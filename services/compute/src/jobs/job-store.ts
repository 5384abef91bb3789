import type { Redis } from '../../../../shared/src/redis.js'
import { confirmReplicated, markBeforeWrite, mayHaveWritten } from '../../../../shared/src/redis-replication.js'
import type { TaskRequest } from '../core/tasks.js'
import { computeError } from '../errors.js'
import { jobFromHash, type JobKeys, type JobView } from './job.js'

/**
 * Atomic submission: an Idempotency-Key already seen returns its job (and is written again, so
 * the WAIT that follows covers that job's first submission too); a full queue refuses;
 * otherwise the job record is written and its id appended to the stream. The stream holds
 * only queued and running jobs (entries are deleted once acknowledged), so XLEN is the depth.
 */
const submitScript = `
if ARGV[7] ~= '' then
  local existing = redis.call('get', KEYS[3])
  if existing then
    redis.call('expire', KEYS[3], ARGV[6])
    return {'dup', existing}
  end
end
if redis.call('xlen', KEYS[1]) >= tonumber(ARGV[5]) then return {'full', ''} end
redis.call('hset', KEYS[2], 'id', ARGV[1], 'status', 'queued', 'task', ARGV[2], 'params', ARGV[3], 'attempts', '0', 'createdAt', ARGV[4], 'updatedAt', ARGV[4])
redis.call('expire', KEYS[2], ARGV[6])
redis.call('xadd', KEYS[1], '*', 'id', ARGV[1])
if ARGV[7] ~= '' then redis.call('set', KEYS[3], ARGV[1], 'EX', ARGV[6]) end
return {'ok', ARGV[1]}
`

/** Marks a job running on this instance and counts the attempt; returns the record (empty when gone). */
const startScript = `
if redis.call('exists', KEYS[1]) == 0 then return {} end
local status = redis.call('hget', KEYS[1], 'status')
if status == 'done' or status == 'failed' then return redis.call('hgetall', KEYS[1]) end
redis.call('hset', KEYS[1], 'status', 'running', 'instance', ARGV[1], 'updatedAt', ARGV[2])
redis.call('hincrby', KEYS[1], 'attempts', 1)
return redis.call('hgetall', KEYS[1])
`

export interface JobStoreOptions {
  redis: Redis
  keys: JobKeys
  maxDepth: number
  /** How long a job record, its result and its idempotency key live. */
  ttlS: number
  /** How long a submission waits for the Redis replica to confirm it (with Sentinel only). @default 500 */
  waitMs?: number
  clock?: () => number
}

export type SubmitResult = { id: string, created: boolean }

/** The job records in Redis: submit, read, and the status transitions the runner makes. */
export class JobStore {
  readonly #o: JobStoreOptions
  readonly #clock: () => number

  constructor (options: JobStoreOptions) {
    this.#o = options
    this.#clock = options.clock ?? Date.now
  }

  /**
   * Accepts a job, answered only once the Redis replica has it (`confirmReplicated`; no round
   * trip with one Redis), so an accepted job survives a failover; unconfirmed is
   * COMPUTE_ERR_OUTCOME_UNKNOWN (retry with the same Idempotency-Key).
   */
  async submit (id: string, req: TaskRequest, idempotencyKey: string | undefined): Promise<SubmitResult> {
    const { keys, redis } = this.#o
    const reply = await this.#call(async () => {
      const mark = markBeforeWrite(redis)
      const r = await redis.eval(submitScript, 3,
        keys.stream, keys.job(id), keys.idempotency(idempotencyKey ?? ''),
        id, req.task, JSON.stringify(req.params), String(this.#clock()), String(this.#o.maxDepth), String(this.#o.ttlS), idempotencyKey ?? '')
      await confirmReplicated(redis, mark, { timeoutMs: this.#o.waitMs ?? 500 })
      return r
    }, true) as [string, string]
    if (reply[0] === 'full') throw computeError('COMPUTE_ERR_JOBS_FULL', `${this.#o.maxDepth} jobs are already queued or running; retry later`)
    return { id: reply[1], created: reply[0] === 'ok' }
  }

  async get (id: string): Promise<JobView | undefined> {
    const hash = await this.#call(async () => await this.#o.redis.hgetall(this.#o.keys.job(id)))
    return jobFromHash(hash)
  }

  async start (id: string, instance: string): Promise<JobView | undefined> {
    const flat = await this.#o.redis.eval(startScript, 1, this.#o.keys.job(id), instance, String(this.#clock())) as string[]
    const hash: Record<string, string> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string
    return jobFromHash(hash)
  }

  async finish (id: string, outcome: { result: unknown } | { error: { code: string, message: string } }): Promise<void> {
    const fields = 'result' in outcome
      ? ['status', 'done', 'result', JSON.stringify(outcome.result)]
      : ['status', 'failed', 'error', JSON.stringify(outcome.error)]
    await this.#o.redis.multi()
      .hset(this.#o.keys.job(id), ...fields, 'updatedAt', String(this.#clock()))
      .expire(this.#o.keys.job(id), this.#o.ttlS)
      .exec()
  }

  /** Back to queued (a retry will follow after the visibility timeout). */
  async requeue (id: string): Promise<void> {
    await this.#o.redis.hset(this.#o.keys.job(id), 'status', 'queued', 'updatedAt', String(this.#clock()))
  }

  /** `write`: a failure that may have written anyway is COMPUTE_ERR_OUTCOME_UNKNOWN, not "unavailable". */
  async #call<R> (fn: () => Promise<R>, write = false): Promise<R> {
    if (this.#o.redis.status !== 'ready') throw computeError('COMPUTE_ERR_JOBS_UNAVAILABLE', 'the job queue (Redis) is unreachable; retry later')
    try {
      return await fn()
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('COMPUTE_ERR_') === true) throw err
      if (write && mayHaveWritten(err)) throw computeError('COMPUTE_ERR_OUTCOME_UNKNOWN', `the job may or may not have been accepted (${(err as Error).message}); retry with the same Idempotency-Key to submit it at most once`, { cause: err })
      throw computeError('COMPUTE_ERR_JOBS_UNAVAILABLE', `the job queue (Redis) failed: ${(err as Error).message}`, { cause: err })
    }
  }
}
