import type { FailureKind } from './outlier-detector.js'

const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

export function isIdempotent (method: string): boolean {
  return idempotentMethods.has(method)
}

export interface TryOutcome {
  method: string
  /**
   * What went wrong. `status503` is the instance's definite refusal ("not now": shedding load,
   * lost its Redis, no quorum): the request was not done, like a refused connection, but the
   * instance did read it, so only requests that may be repeated are retried (Envoy's
   * `retry_on: 503`). Other 5xx answers are never retried.
   */
  failure: FailureKind | 'status503' | 'client-abort' | 'deadline'
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

/**
 * Whether a 503 answer to this try could be retried, decided before the try: only then is the
 * instance's 503 held back from the client (see ProxyTry) rather than streamed to it at once.
 * `shouldRetry` for `status503`, written out for the hot path (no object per try); a unit test
 * keeps the two in step.
 */
export function may503BeRetried (method: string, bodyReplayable: boolean, retryNonIdempotent: boolean, attempt: number, maxAttempts: number): boolean {
  return bodyReplayable && attempt < maxAttempts && (retryNonIdempotent || isIdempotent(method))
}

/**
 * Whether a failed try counts against the request's attempts. A refused connection to the
 * leader does not: nothing was sent, the leader has just died, and the next try waits for the
 * next leader as a first try would. The deadline, the instances not tried yet (each at most
 * once) and the retry budget still bound the request. Seen in the kv-leader chaos run: a try
 * refused by a deposed leader ("nothing done"), then one refused by its killed successor, used
 * both attempts, and the client got 502 while the next leader was being elected.
 */
export function spendsAttempt (failure: TryOutcome['failure'], role: string | undefined): boolean {
  return !(role !== undefined && failure === 'refused')
}
