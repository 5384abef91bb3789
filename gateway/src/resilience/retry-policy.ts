import type { FailureKind } from './outlier-detector.js'

const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

export function isIdempotent (method: string): boolean {
  return idempotentMethods.has(method)
}

export interface TryOutcome {
  method: string
  failure: FailureKind | 'client-abort' | 'deadline'
  /** Did any response byte reach the client? Then nothing can be retried. */
  responseStarted: boolean
  /** Can the request body be sent again (no body, or it was buffered)? */
  bodyReplayable: boolean
  /** The route opted in to retrying non-idempotent requests. */
  retryNonIdempotent: boolean
  attempt: number
  maxAttempts: number
}

/**
 * Whether a failed try may go to another instance. A refused connection sent nothing, so any
 * method is safe; otherwise only idempotent requests (or routes that opted in) are retried,
 * and never once the client has seen part of a response.
 */
export function shouldRetry (o: TryOutcome): boolean {
  if (o.failure === 'client-abort' || o.failure === 'deadline' || o.failure === 'status5xx') return false
  if (o.responseStarted || !o.bodyReplayable || o.attempt >= o.maxAttempts) return false
  if (o.failure === 'refused') return true
  return isIdempotent(o.method) || o.retryNonIdempotent
}
