/**
 * Hedged requests ("The Tail at Scale", Dean and Barroso, 2013): when a try has not answered by
 * the service's usual worst case (a high percentile of its recent latency), the same request
 * goes to a second instance and the first answer wins. Only safe requests are hedged, never past
 * the request's deadline, and within a budget of extra requests. Pure: no clock, no I/O.
 */
export interface HedgePolicy {
  /** The latency percentile of the service after which a second try is sent. @default 0.95 */
  percentile: number
  /** Requests the latency window must hold before its percentile is trusted. @default 20 */
  minSamples: number
  /** Never hedge sooner than this after the first try, in ms. @default 1 */
  minDelayMs: number
}

export const defaultHedgePolicy: HedgePolicy = { percentile: 0.95, minSamples: 20, minDelayMs: 1 }

/** Safe methods only: a hedge runs the request twice, which is harmless only if it changes nothing. */
const safeMethods = new Set(['GET', 'HEAD'])

export interface HedgeRequest {
  /** The service opted in (its routing policy's `hedge: true`) and hedging is on in the gateway. */
  enabled: boolean
  method: string
  /** A role-routed request (the leader) has no second instance to go to. */
  role: string | undefined
  /** A streamed request body cannot be sent twice. */
  bodyReplayable: boolean
}

/** Whether this request may be hedged at all. */
export function isHedgeable (r: HedgeRequest): boolean {
  return r.enabled && safeMethods.has(r.method) && r.role === undefined && r.bodyReplayable
}

/**
 * How long after a try starts a hedge is due, in ms, from the service's recent latency at the
 * policy's percentile; undefined when the window is too thin to say.
 */
export function hedgeDelay (window: { count: number, percentileMs: number }, policy: HedgePolicy): number | undefined {
  if (window.count < policy.minSamples || !(window.percentileMs > 0)) return undefined
  return Math.max(policy.minDelayMs, window.percentileMs)
}

/**
 * Whether a hedge may be sent at `now`: never at or past the deadline (nobody would wait for
 * it), never once a response has begun (the answer is on its way), and only if the budget
 * granted it (checked last: asking spends).
 */
export function mayHedgeNow (s: { now: number, deadline: number, responseStarted: boolean }, acquireBudget: () => boolean): boolean {
  if (s.responseStarted || s.now >= s.deadline) return false
  return acquireBudget()
}

/** ms to wait before the hedge of a try started at `startedAt`, or undefined if it would land at or past the deadline. */
export function hedgeTimerMs (startedAt: number, delayMs: number, deadline: number): number | undefined {
  return startedAt + delayMs < deadline ? delayMs : undefined
}
