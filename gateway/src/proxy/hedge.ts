import { hedgeDelay, hedgesPay, hedgeTimerMs, isHedgeable, mayHedgeNow, type HedgeEvent, type HedgePolicy, type HedgeRequest, type HedgeVerdict } from '../resilience/hedge-policy.js'
import { RetryBudget } from '../resilience/retry-budget.js'
import { RecentOutcomes } from '../resilience/recent-outcomes.js'
import type { Traffic } from '../stats/traffic.js'
import type { Upstream } from '../upstreams/upstream.js'
import type { ProxyTry, TryOutcome } from './proxy-try.js'

/** How often a service's hedge delay is re-read from its latency window: a percentile costs a merge of the window. */
const delayRefreshMs = 100
const budgetWindowMs = 10_000

export interface HedgingOptions {
  policy: HedgePolicy
  /** Hedges allowed as a share of the service's hedgeable requests over 10 s. */
  budgetRatio: number
  traffic: Traffic
}

/** A hedgeable request's view of its service: when a hedge is due, whether one may go, and what it paid. */
export interface RequestHedge {
  readonly service: string
  readonly delayMs: number
  /** Whether a hedge of a try on `first` may go now. */
  readonly acquire: (now: number, first: Upstream) => HedgeVerdict
  /**
   * How the race between a try on `first` and its hedge ended: paid when the hedge answered
   * first and the try was still silent within its grace (cancelled, or failed); not when the try
   * answered first or soon after the hedge.
   */
  readonly paid: (first: Upstream, paid: boolean) => void
}

/** What the hedges of the tries on one instance paid: hedging pauses for that instance while they do not. */
interface InstanceHedging {
  outcomes: RecentOutcomes
  /** Hedges due while paused: every `probeEvery`-th is sent anyway. */
  dueWhilePaused: number
}

interface ServiceHedging {
  budget: RetryBudget
  delayMs: number | undefined
  computedAt: number
  /** What forRequest hands out while the delay holds: one object per service, none per request. */
  view: RequestHedge | undefined
}

/**
 * Hedged requests for the services that opt in (gateway I/O shell; the rules are in
 * resilience/hedge-policy.ts). Per service it keeps a budget of extra requests (a share of the
 * hedgeable requests over 10 s, no reserve) and the hedge delay, the service's latency at the
 * policy's percentile as the gateway measured it, refreshed every 100 ms. Per instance it keeps
 * what the hedges of its tries paid: hedges go where an instance is slow, and pause for the
 * instances that are not. An instance not seen before is hedged at once.
 */
export class Hedging {
  readonly #o: HedgingOptions
  readonly #services = new Map<string, ServiceHedging>()
  /** Keyed by the gateway's object for the instance: forgotten with it. */
  readonly #instances = new WeakMap<Upstream, InstanceHedging>()

  constructor (opts: HedgingOptions) {
    this.#o = opts
  }

  /**
   * For one incoming request: undefined when it may not be hedged or the service's latency is
   * not known well enough yet; otherwise its hedge delay and budget. Counts the request in the budget.
   */
  forRequest (service: string, request: HedgeRequest, now: number): RequestHedge | undefined {
    if (!isHedgeable(request)) return undefined
    let s = this.#services.get(service)
    if (s === undefined) {
      s = {
        budget: new RetryBudget({ ratio: this.#o.budgetRatio, minPerSecond: 0, windowMs: budgetWindowMs }),
        delayMs: undefined,
        computedAt: -Infinity,
        view: undefined
      }
      this.#services.set(service, s)
    }
    s.budget.requestStarted(now)
    if (now - s.computedAt >= delayRefreshMs) {
      s.computedAt = now
      s.delayMs = hedgeDelay(this.#o.traffic.servicePercentile(service, now, this.#o.policy.percentile), this.#o.policy)
      const budget = s.budget
      s.view = s.delayMs === undefined
        ? undefined
        : { service, delayMs: s.delayMs, acquire: (at, first) => this.#acquire(budget, this.#instance(first), at), paid: (first, paid) => { this.#paid(this.#instance(first), paid) } }
    }
    return s.view
  }

  #instance (upstream: Upstream): InstanceHedging {
    let h = this.#instances.get(upstream)
    if (h === undefined) {
      h = { outcomes: new RecentOutcomes(this.#o.policy.judgeOver), dueWhilePaused: 0 }
      this.#instances.set(upstream, h)
    }
    return h
  }

  #paying (h: InstanceHedging): boolean {
    const { known, yes } = h.outcomes.counts
    return hedgesPay({ known, paid: yes }, this.#o.policy)
  }

  #acquire (budget: RetryBudget, h: InstanceHedging, now: number): HedgeVerdict {
    if (!this.#paying(h) && ++h.dueWhilePaused % this.#o.policy.probeEvery !== 0) return 'paused'
    return budget.tryAcquireRetry(now) ? 'sent' : 'denied'
  }

  /** A probe sent while paused stands for the `probeEvery` hedges held back: an instance turned slow is noticed in a few probes. */
  #paid (h: InstanceHedging, paid: boolean): void {
    h.outcomes.add(paid, this.#paying(h) ? 1 : this.#o.policy.probeEvery)
  }
}

/** One try as the request's tries see it once it ended. */
export interface SettledTry {
  upstream: Upstream
  outcome: TryOutcome
  startedAt: number
  elapsedMs: number
}

export interface TriesOptions {
  /** Starts a try on an instance (counting it, stamping its deadline); `claim` is set when it may race another. */
  start: (upstream: Upstream, claim: ((attempt: ProxyTry) => boolean) | undefined) => ProxyTry
  /** Present when the request may be hedged. */
  hedge: RequestHedge | undefined
  /** The second instance for a hedge (never one already tried), or undefined. */
  pickSecond: () => Upstream | undefined
  /** A try that did not decide the request ended (cancelled after losing, or failed while another ran on). */
  onOther: (settled: SettledTry, cancelled: boolean) => void
  /** A hedge was sent, won the race, paid (see `RequestHedge.paid`), or was due but refused by the budget or held back while hedges do not pay. */
  onHedge: (service: string, event: HedgeEvent) => void
  deadline: number
  now: () => number
}

/** The tries of one attempt: what the caller awaits and what it cancels when the client leaves. */
export interface Tries {
  /** The try that decides the attempt: the one that answered, or the last one to fail. */
  readonly done: Promise<SettledTry>
  abort: (reason: Error) => void
}

interface Running { upstream: Upstream, attempt: ProxyTry | undefined, startedAt: number, settled: boolean }

/**
 * One attempt of a request: a try on `first`, and when the request may be hedged and that try
 * has not begun to answer after the hedge delay, a second try on another instance. The first to
 * answer writes the response; the other is cancelled (its connection closed, so the instance sees
 * the request abandoned) unless it answers within the hedge delay (`ProxyTry.lose`). A try that
 * fails while the other runs on gives way to it.
 */
export function runTries (first: Upstream, o: TriesOptions): Tries {
  const { hedge } = o
  if (hedge === undefined) {
    const startedAt = o.now()
    const attempt = o.start(first, undefined)
    return {
      done: attempt.done.then((outcome) => ({ upstream: first, outcome, startedAt, elapsedMs: o.now() - startedAt })),
      abort: (reason) => { attempt.abort(reason) }
    }
  }

  const running: Running[] = []
  let winner: ProxyTry | undefined
  let timer: NodeJS.Timeout | undefined
  let finish!: (settled: SettledTry) => void
  const done = new Promise<SettledTry>((resolve) => { finish = resolve })

  const raceEnded = (paid: boolean): void => {
    hedge.paid(first, paid)
    if (paid) o.onHedge(hedge.service, 'paid')
  }
  // the first try to receive a response claims the client's response; the others lose: each
  // may still answer (dropped, keeping its connection) for as long as the hedge delay, the
  // service's usual worst case, and is cancelled after that
  const claim = (attempt: ProxyTry): boolean => {
    if (winner !== undefined) return winner === attempt
    winner = attempt
    clearTimeout(timer)
    if (running.length > 1) {
      const first = running[0]!
      if (first.attempt === attempt) raceEnded(false)
      else {
        o.onHedge(hedge.service, 'won')
        if (first.settled) raceEnded(true) // the first try failed: the hedge saved the request
      }
    }
    for (const r of running) if (r.attempt !== attempt && !r.settled) r.attempt?.lose(hedge.delayMs)
    return true
  }
  const launch = (upstream: Upstream): void => {
    const r: Running = { upstream, attempt: undefined, startedAt: o.now(), settled: false }
    running.push(r)
    const attempt = o.start(upstream, claim)
    r.attempt = attempt
    void attempt.done.then((outcome) => {
      r.settled = true
      // the first try lost to its hedge: the hedge paid unless the first answered within its grace
      if (r === running[0] && winner !== undefined && winner !== attempt) raceEnded(!outcome.ok)
      const settled = { upstream, outcome, startedAt: r.startedAt, elapsedMs: o.now() - r.startedAt }
      if (winner === attempt || (winner === undefined && running.every((x) => x.settled))) {
        clearTimeout(timer)
        finish(settled)
      } else {
        o.onOther(settled, winner !== undefined)
      }
    })
  }
  const fire = (): void => {
    if (winner !== undefined || running[0]!.settled) return
    const second = o.pickSecond()
    if (second === undefined) return
    const verdict = mayHedgeNow({ now: o.now(), deadline: o.deadline, responseStarted: false }, () => hedge.acquire(o.now(), first))
    if (verdict === undefined) return
    o.onHedge(hedge.service, verdict)
    if (verdict === 'sent') launch(second)
  }

  launch(first)
  const wait = hedgeTimerMs(running[0]!.startedAt, hedge.delayMs, o.deadline)
  if (wait !== undefined) timer = setTimeout(fire, wait)
  return {
    done,
    abort: (reason) => {
      clearTimeout(timer)
      for (const r of running) if (!r.settled) r.attempt?.abort(reason)
    }
  }
}
