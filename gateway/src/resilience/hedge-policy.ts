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
  /**
   * Hedging pauses while fewer than this share of the service's last `judgeOver` hedges paid
   * (see `hedgesPay`). @default 0.2
   */
  minPaidShare: number
  /** How many of the latest hedges `hedgesPay` judges by: enough that a burst (every try outlasting the percentile at once behind a pause of the gateway) cannot flip it. @default 200 */
  judgeOver: number
  /** While paused, one due hedge in this many is still sent, to notice when hedges pay again. @default 10 */
  probeEvery: number
}

export const defaultHedgePolicy: HedgePolicy = { percentile: 0.95, minSamples: 20, minDelayMs: 1, minPaidShare: 0.2, judgeOver: 200, probeEvery: 10 }

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

/** What became of a due hedge: sent, refused by the budget, or held back while hedges do not pay. */
export type HedgeVerdict = 'sent' | 'denied' | 'paused'

/** What the gateway counts of its hedges (`gateway_hedges_total{event}`): the verdicts, and the races won and paid. */
export type HedgeEvent = HedgeVerdict | 'won' | 'paid'

/**
 * Whether a hedge may be sent at `now`: never at or past the deadline (nobody would wait for
 * it), never once a response has begun (the answer is on its way): undefined. Otherwise what
 * `acquire` says (asked last: asking spends the budget).
 */
export function mayHedgeNow (s: { now: number, deadline: number, responseStarted: boolean }, acquire: () => HedgeVerdict): HedgeVerdict | undefined {
  if (s.responseStarted || s.now >= s.deadline) return undefined
  return acquire()
}

/** ms to wait before the hedge of a try started at `startedAt`, or undefined if it would land at or past the deadline. */
export function hedgeTimerMs (startedAt: number, delayMs: number, deadline: number): number | undefined {
  return startedAt + delayMs < deadline ? delayMs : undefined
}

/**
 * Whether hedging pays for a service, judged by its latest hedges. A hedge paid when it answered
 * first and the try it raced was still silent a hedge delay later (or failed): it cut a slow try
 * short. One that lost, or won by a hair, was extra load for nothing. When one instance is slow,
 * its tries are what outlast the percentile and a hedge to another instance saves them. When
 * nothing is slow, the tries that outlast it are the tail of the load every instance shares: a
 * hedge is no faster, most lose, and the few that win do so by a hair. Then hedges only add
 * load (on the tail bench they cost 14 % of the throughput), so hedging pauses, down to one
 * probe in `probeEvery`, until the probes pay again. Until `minSamples` hedges are known it pays.
 */
export function hedgesPay (latest: { known: number, paid: number }, policy: HedgePolicy): boolean {
  return latest.known < policy.minSamples || latest.paid >= policy.minPaidShare * latest.known
}
