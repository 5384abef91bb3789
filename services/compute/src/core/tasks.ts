import { computeError } from '../errors.js'
import { iteratedSha256 } from './hash.js'
import { countPrimes } from './primes.js'

/** Largest `limit` of `primes`: the sieve needs limit/2 bytes, so 25 MB per thread at most. */
export const maxPrimesLimit = 50_000_000
/** Largest `rounds` of `hash` (about 10 s of one core). */
const maxHashRounds = 10_000_000
/** Longest `input` of `hash`, in characters. */
const maxHashInput = 256
/** Largest job `params`, serialized as JSON. */
export const maxParamsBytes = 4_096

export type TaskRequest =
  | { task: 'primes', params: { limit: number } }
  | { task: 'hash', params: { rounds: number, input: string } }

export type TaskName = TaskRequest['task']
const taskNames: readonly TaskName[] = ['primes', 'hash']

export type TaskResult = { count: number } | { digest: string }

/**
 * Validates a task name and its params (from a query string or a job body) into a normalized
 * request; throws a 400 ClusterError naming the offending value.
 */
export function parseTask (task: unknown, params: unknown): TaskRequest {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw computeError('COMPUTE_ERR_BAD_PARAM', 'params must be a JSON object')
  const p = params as Record<string, unknown>
  switch (task) {
    case 'primes':
      return { task, params: { limit: integerParam(p.limit, 'limit', 1, maxPrimesLimit) } }
    case 'hash': {
      const input = p.input ?? 'nines'
      if (typeof input !== 'string' || input.length > maxHashInput) throw computeError('COMPUTE_ERR_BAD_PARAM', `input must be a string of at most ${maxHashInput} characters`)
      return { task, params: { rounds: integerParam(p.rounds, 'rounds', 1, maxHashRounds), input } }
    }
    default:
      throw computeError('COMPUTE_ERR_UNKNOWN_TASK', `unknown task ${JSON.stringify(task)}; known: ${taskNames.join(', ')}`)
  }
}

function integerParam (raw: unknown, name: string, min: number, max: number): number {
  if (raw === undefined) throw computeError('COMPUTE_ERR_BAD_PARAM', `${name} is required (an integer ${min}–${max})`)
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) throw computeError('COMPUTE_ERR_BAD_PARAM', `${name} must be an integer ${min}–${max}, got ${JSON.stringify(raw)}`)
  return value
}

/** The cache key of a request: the task and its normalized params, in a fixed order. */
export function taskKey (req: TaskRequest): string {
  switch (req.task) {
    case 'primes': return `primes:limit=${req.params.limit}`
    case 'hash': return `hash:rounds=${req.params.rounds}:input=${encodeURIComponent(req.params.input)}`
  }
}

/** Runs a task on the calling thread (the worker calls it; the benchmark's inline mode too). */
export function runTask (req: TaskRequest): TaskResult {
  switch (req.task) {
    case 'primes': return { count: countPrimes(req.params.limit) }
    case 'hash': return { digest: iteratedSha256(req.params.input, req.params.rounds) }
  }
}
