import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../../../../shared/src/logger.js'
import type { Redis } from '../../../../shared/src/redis.js'
import { parseTask, type TaskRequest, type TaskResult } from '../core/tasks.js'
import type { JobKeys } from './job.js'
import type { JobStore } from './job-store.js'

/** Resets the idle time of an entry only if this consumer still owns it (a reclaimed job stays reclaimed). */
const renewScript = `
local p = redis.call('xpending', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('xclaim', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`

export interface JobRunnerOptions {
  redis: Redis
  keys: JobKeys
  store: JobStore
  /** This instance: the consumer name in the group. */
  consumer: string
  concurrency: number
  visibilityMs: number
  maxAttempts: number
  execute: (req: TaskRequest, signal: AbortSignal) => Promise<TaskResult>
  log: Logger
}

type StreamEntry = [id: string, fields: string[]] | null

/**
 * Consumes the job stream as one consumer of a Redis Streams group: XREADGROUP for new
 * jobs, XAUTOCLAIM for jobs whose holder stopped renewing them for `visibilityMs` (it died or
 * froze). While a job runs its entry is renewed; it is acknowledged (and deleted) only after
 * the result is stored, so delivery is at least once and a crash loses no job.
 */
export class JobRunner {
  readonly #o: JobRunnerOptions
  readonly #active = new Map<string, AbortController>()
  #reader: Redis | undefined
  #running = false
  #loop: Promise<void> | undefined
  #reclaimTimer: NodeJS.Timeout | undefined
  #wake: (() => void) | undefined

  constructor (options: JobRunnerOptions) {
    this.#o = options
  }

  get active (): number {
    return this.#active.size
  }

  async start (): Promise<void> {
    if (this.#running) return
    this.#running = true
    // XREADGROUP BLOCK holds its connection: give it its own
    this.#reader = this.#o.redis.duplicate()
    this.#reader.on('error', () => {})
    this.#loop = this.#readLoop()
    this.#reclaimTimer = setInterval(() => { void this.#reclaim() }, Math.max(50, Math.floor(this.#o.visibilityMs / 2)))
  }

  /** Stops taking jobs; running ones are cancelled unacknowledged, so another instance reclaims them. */
  async stop (): Promise<void> {
    this.#running = false
    clearInterval(this.#reclaimTimer)
    for (const controller of this.#active.values()) controller.abort(new Error('instance stopping'))
    this.#wake?.()
    this.#reader?.disconnect()
    await this.#loop
  }

  async #readLoop (): Promise<void> {
    const { keys } = this.#o
    let groupReady = false
    while (this.#running) {
      const free = this.#o.concurrency - this.#active.size
      if (free <= 0) {
        await new Promise<void>((resolve) => { this.#wake = resolve })
        continue
      }
      try {
        if (!groupReady) groupReady = await this.#ensureGroup()
        const reply = await this.#reader!.xreadgroup('GROUP', keys.group, this.#o.consumer, 'COUNT', free, 'BLOCK', 1_000, 'STREAMS', keys.stream, '>') as Array<[string, StreamEntry[]]> | null
        for (const [, entries] of reply ?? []) {
          for (const entry of entries) if (entry !== null) this.#dispatch(entry)
        }
      } catch (err) {
        if (!this.#running) return
        // the group vanishes when Redis restarts empty: recreate it
        if ((err as Error).message.includes('NOGROUP')) groupReady = false
        this.#o.log.debug({ err: (err as Error).message }, 'job read failed; retrying')
        await sleep(250)
      }
    }
  }

  async #ensureGroup (): Promise<boolean> {
    try {
      await this.#o.redis.xgroup('CREATE', this.#o.keys.stream, this.#o.keys.group, '0', 'MKSTREAM')
    } catch (err) {
      if (!(err as Error).message.includes('BUSYGROUP')) throw err
    }
    return true
  }

  async #reclaim (): Promise<void> {
    const free = this.#o.concurrency - this.#active.size
    if (!this.#running || free <= 0 || this.#o.redis.status !== 'ready') return
    try {
      const reply = await this.#o.redis.xautoclaim(this.#o.keys.stream, this.#o.keys.group, this.#o.consumer, this.#o.visibilityMs, '0-0', 'COUNT', free) as [string, StreamEntry[], string[]?]
      for (const entry of reply[1]) {
        if (entry === null) continue
        this.#o.log.warn({ entry: entry[0] }, 'reclaimed a job whose holder stopped renewing it')
        this.#dispatch(entry)
      }
    } catch (err) {
      this.#o.log.debug({ err: (err as Error).message }, 'job reclaim failed')
    }
  }

  #dispatch ([entryId, fields]: [string, string[]]): void {
    if (this.#active.has(entryId)) return
    const jobId = fields[fields.indexOf('id') + 1]
    const controller = new AbortController()
    this.#active.set(entryId, controller)
    void this.#run(entryId, jobId, controller.signal).finally(() => {
      this.#active.delete(entryId)
      this.#wake?.()
      this.#wake = undefined
    })
  }

  async #run (entryId: string, jobId: string | undefined, signal: AbortSignal): Promise<void> {
    const { redis, keys, store, log } = this.#o
    const renew = setInterval(() => {
      redis.eval(renewScript, 1, keys.stream, keys.group, this.#o.consumer, entryId).catch(() => {})
    }, Math.max(20, Math.floor(this.#o.visibilityMs / 3)))
    try {
      const job = jobId === undefined ? undefined : await store.start(jobId, this.#o.consumer)
      if (job === undefined || job.status === 'done' || job.status === 'failed') {
        await this.#ack(entryId)
        return
      }
      if (job.attempts > this.#o.maxAttempts) {
        await store.finish(job.id, { error: { code: 'COMPUTE_ERR_TASK_FAILED', message: `gave up after ${this.#o.maxAttempts} attempts` } })
        await this.#ack(entryId)
        return
      }
      log.info({ job: job.id, task: job.task, attempt: job.attempts }, 'job started')
      let outcome: Parameters<JobStore['finish']>[1]
      try {
        outcome = { result: await this.#o.execute(parseTask(job.task, job.params), signal) }
      } catch (err) {
        const code = (err as { code?: string }).code
        // shed, stopping or Redis trouble: leave it pending, the visibility timeout brings it back
        if (signal.aborted || code === 'COMPUTE_ERR_OVERLOADED') {
          await store.requeue(job.id).catch(() => {})
          return
        }
        outcome = { error: { code: code ?? 'COMPUTE_ERR_TASK_FAILED', message: (err as Error).message } }
      }
      await store.finish(job.id, outcome)
      await this.#ack(entryId)
      log.info({ job: job.id, status: 'result' in outcome ? 'done' : 'failed' }, 'job finished')
    } catch (err) {
      log.warn({ err: (err as Error).message, entry: entryId }, 'job run failed; it will be reclaimed')
    } finally {
      clearInterval(renew)
    }
  }

  async #ack (entryId: string): Promise<void> {
    await this.#o.redis.multi().xack(this.#o.keys.stream, this.#o.keys.group, entryId).xdel(this.#o.keys.stream, entryId).exec()
  }
}
