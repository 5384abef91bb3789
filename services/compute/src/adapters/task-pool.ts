import { Piscina } from 'piscina'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { TaskRequest, TaskResult } from '../core/tasks.js'
import { computeError } from '../errors.js'

export interface TaskPoolOptions {
  threads: number
  /** Tasks waiting for a thread beyond this are refused (COMPUTE_ERR_OVERLOADED). */
  maxQueue: number
  /** Default deadline of a task. */
  taskTimeoutMs: number
  metrics?: Registry
  /** The worker module. @default the built `worker/task-worker.js` beside this file */
  filename?: string
}

/**
 * The worker file beside this one. Resolved from `import.meta.url`, so it works from dist/
 * (`.js`) and, should the source ever be run directly, from `.ts` with a loader.
 */
function defaultWorkerFile (): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  return new URL(`../worker/task-worker${ext}`, import.meta.url).href
}

/**
 * A Piscina pool of exactly `threads` threads with a bounded queue. A task is cancelled when
 * the caller's signal aborts (client gone) or its deadline passes: if it was queued it leaves
 * the queue, if it was running Piscina terminates that thread and starts a fresh one, so the
 * slot is freed either way.
 */
export class TaskPool {
  readonly #pool: Piscina
  readonly #o: TaskPoolOptions
  readonly #runs: Counter<'task' | 'result'> | undefined
  /** Tasks handed to Piscina and not yet settled, queued or running. */
  #pending = 0

  constructor (options: TaskPoolOptions) {
    this.#o = options
    this.#pool = new Piscina({
      filename: options.filename ?? defaultWorkerFile(),
      minThreads: options.threads,
      maxThreads: options.threads,
      maxQueue: options.maxQueue,
      idleTimeout: 60_000
    })
    if (options.metrics !== undefined) {
      this.#runs = new Counter({ name: 'compute_task_runs_total', help: 'Tasks handed to the pool, by result (ok, error, aborted, timeout, shed)', labelNames: ['task', 'result'], registers: [options.metrics] })
      const pool = this.#pool
      const gauges = [
        new Gauge({ name: 'compute_pool_queue_size', help: 'Tasks waiting for a thread', registers: [options.metrics], collect () { this.set(pool.queueSize) } }),
        new Gauge({ name: 'compute_pool_threads', help: 'Worker threads', registers: [options.metrics], collect () { this.set(pool.threads.length) } }),
        new Gauge({ name: 'compute_pool_utilization', help: 'Share of thread time spent running tasks', registers: [options.metrics], collect () { this.set(pool.utilization) } })
      ]
      void gauges // registered: read by /metrics through their collect()
    }
  }

  get queueSize (): number {
    return this.#pool.queueSize
  }

  get threads (): number {
    return this.#o.threads
  }

  /** Threads running a task now (what the gateway's saturation-aware balancer reads from the registry). */
  get busy (): number {
    return Math.min(this.#o.threads, Math.max(0, this.#pending - this.#pool.queueSize))
  }

  async run (req: TaskRequest, { signal, timeoutMs = this.#o.taskTimeoutMs }: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<TaskResult> {
    // Piscina's own maxQueue check lets tasks through while a thread is starting: bound it here
    if (this.#pool.queueSize >= this.#o.maxQueue) {
      this.#runs?.inc({ task: req.task, result: 'shed' })
      throw this.#overloaded()
    }
    const deadline = AbortSignal.timeout(timeoutMs)
    const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
    this.#pending += 1
    try {
      const result = await this.#pool.run(req, { signal: combined }) as TaskResult
      this.#runs?.inc({ task: req.task, result: 'ok' })
      return result
    } catch (err) {
      const message = (err as Error).message
      if (message === 'Task queue is at limit' || message === 'No task queue available and all Workers are busy') {
        this.#runs?.inc({ task: req.task, result: 'shed' })
        throw this.#overloaded()
      }
      if (deadline.aborted) {
        this.#runs?.inc({ task: req.task, result: 'timeout' })
        throw computeError('COMPUTE_ERR_DEADLINE', `${req.task} did not finish within ${timeoutMs} ms`)
      }
      if (signal?.aborted === true) {
        this.#runs?.inc({ task: req.task, result: 'aborted' })
        throw err
      }
      this.#runs?.inc({ task: req.task, result: 'error' })
      throw computeError('COMPUTE_ERR_TASK_FAILED', `${req.task} failed: ${message}`, { cause: err })
    } finally {
      this.#pending -= 1
    }
  }

  #overloaded (): Error {
    return computeError('COMPUTE_ERR_OVERLOADED', `all ${this.#o.threads} threads are busy and ${this.#o.maxQueue} tasks are queued; retry later`)
  }

  async close (): Promise<void> {
    await this.#pool.close({ force: true })
  }
}
