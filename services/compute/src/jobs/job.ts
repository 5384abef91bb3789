import { randomUUID } from 'node:crypto'
import { computeError } from '../errors.js'
import { maxParamsBytes, parseTask, type TaskRequest } from '../core/tasks.js'

export type JobStatus = 'queued' | 'running' | 'done' | 'failed'

/** A job as `GET /jobs/:id` shows it. */
export interface JobView {
  id: string
  status: JobStatus
  task: string
  params: unknown
  attempts: number
  instance?: string
  result?: unknown
  error?: { code: string, message: string }
  createdAt: number
  updatedAt: number
}

/** Where jobs live in Redis, under the cluster prefix. */
export interface JobKeys {
  stream: string
  group: string
  job: (id: string) => string
  idempotency: (key: string) => string
}

export function jobKeys (prefix: string): JobKeys {
  return {
    stream: `${prefix}:compute:jobs`,
    group: 'compute',
    job: (id) => `${prefix}:compute:job:${id}`,
    idempotency: (key) => `${prefix}:compute:idem:${key}`
  }
}

const idempotencyPattern = /^[A-Za-z0-9._:-]{1,128}$/

/** Validates a submission body `{task, params}` into a task request; params are bounded in size. */
export function parseSubmission (body: unknown): TaskRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw computeError('COMPUTE_ERR_BAD_PARAM', 'the body must be a JSON object {"task", "params"}')
  const { task, params = {} } = body as { task?: unknown, params?: unknown }
  const size = Buffer.byteLength(JSON.stringify(params) ?? '')
  if (size > maxParamsBytes) throw computeError('COMPUTE_ERR_PARAMS_TOO_LARGE', `params take ${size} bytes as JSON; at most ${maxParamsBytes} are accepted`)
  return parseTask(task, params)
}

export function parseIdempotencyKey (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string' || !idempotencyPattern.test(header)) throw computeError('COMPUTE_ERR_BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–128 characters of A–Z a–z 0–9 . _ : -')
  return header
}

export function newJobId (): string {
  return randomUUID()
}

/** Rebuilds the view from the job's Redis hash; undefined when there is no such job. */
export function jobFromHash (hash: Record<string, string>): JobView | undefined {
  if (hash.id === undefined || hash.status === undefined) return undefined
  const view: JobView = {
    id: hash.id,
    status: hash.status as JobStatus,
    task: hash.task ?? '',
    params: safeJson(hash.params),
    attempts: Number(hash.attempts ?? 0),
    createdAt: Number(hash.createdAt ?? 0),
    updatedAt: Number(hash.updatedAt ?? 0)
  }
  if (hash.instance !== undefined) view.instance = hash.instance
  if (hash.result !== undefined) view.result = safeJson(hash.result)
  if (hash.error !== undefined) view.error = safeJson(hash.error) as JobView['error']
  return view
}

function safeJson (raw: string | undefined): unknown {
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
