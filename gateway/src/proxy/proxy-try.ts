import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { Upstream } from '../upstreams/upstream.js'
import { unsupportedTransferCoding } from './framing.js'
import { downstreamHeaders } from './headers.js'
import { forwardInformational } from './informational.js'

/** An answer kept back from the client so the request can be retried elsewhere (a 503). */
export interface HeldResponse {
  status: number
  headers: Record<string, string | string[]>
  chunks: Buffer[]
}

export type TryOutcome =
  | { ok: true, status: number, held?: HeldResponse }
  | { ok: false, error: Error, responseStarted: boolean, answerStarted: boolean }

/** Why a hedged request's losing try is cancelled (it did not answer within its grace). */
const hedgeLost = Object.assign(new Error('another try answered first (hedged request)'), { code: 'HEDGE_LOST' })

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0]

/** A held answer larger than this is passed on as it is (and the request is not retried). */
const maxHeldBytes = 65_536

/**
 * One try of a proxied request on one instance, as an undici dispatch handler: the response
 * streams straight into the client's socket (backpressure through pause/resume), with no
 * intermediate stream objects and no AbortSignal; `abort()` cancels it when the client leaves.
 * An answer with the status `holdStatus` (503, when the request could be retried) is kept back
 * whole instead, so the caller can retry elsewhere or pass it on with `writeHeld`.
 */
export class ProxyTry implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse
  readonly #requestId: string
  readonly #holdStatus: number
  /** Hedged requests: asked before writing the answer, false when another try answered first. */
  readonly #claim: ((attempt: ProxyTry) => boolean) | undefined
  #controller: Controller | undefined
  #aborted: Error | undefined
  #status = 0
  #started = false
  /** A hedged race's loser: its answer is read and dropped, never written (see `lose`). */
  #lost: { bytes: number, timer: NodeJS.Timeout | undefined } | undefined
  #held: (HeldResponse & { bytes: number }) | undefined
  #settle!: (outcome: TryOutcome) => void
  readonly done: Promise<TryOutcome>

  constructor (res: ServerResponse, requestId: string, holdStatus = 0, claim?: (attempt: ProxyTry) => boolean) {
    this.#res = res
    this.#requestId = requestId
    this.#holdStatus = holdStatus
    this.#claim = claim
    this.done = new Promise((resolve) => { this.#settle = resolve })
  }

  static run (upstream: Upstream, opts: Dispatcher.DispatchOptions, res: ServerResponse, requestId: string, holdStatus = 0, claim?: (attempt: ProxyTry) => boolean): ProxyTry {
    const attempt = new ProxyTry(res, requestId, holdStatus, claim)
    upstream.pool.dispatch(opts, attempt)
    return attempt
  }

  /** Writes a held answer to the client as the instance sent it. */
  static writeHeld (res: ServerResponse, held: HeldResponse, requestId: string): void {
    res.writeHead(held.status, downstreamHeaders(held.headers, requestId))
    for (const chunk of held.chunks) res.write(chunk)
    res.end()
  }

  abort (reason: Error): void {
    this.#aborted = reason
    this.#controller?.abort(reason)
  }

  /**
   * Another try of the same request answered first. HTTP/1.1 cancels a request only by closing
   * its connection, and the next request then pays for a new one: with hedges at the p95 of a
   * healthy, busy service that churn cost 14 % of the gateway's throughput. So a loser that
   * answers within `graceMs` is read to its end and dropped, and its connection stays in the
   * pool; one that does not is cancelled then (a slow instance is relieved of it).
   */
  lose (graceMs: number): void {
    if (this.#lost !== undefined) return
    this.#lost = { bytes: 0, timer: setTimeout(() => { this.abort(hedgeLost) }, graceMs) }
  }

  onRequestStart (controller: Controller): void {
    this.#controller = controller
    if (this.#aborted !== undefined) controller.abort(this.#aborted)
  }

  onResponseStart (_controller: Controller, statusCode: number, headers: Record<string, string | string[]>): void {
    if (statusCode < 200) {
      // 1xx: passed on (103 Early Hints, 102 Processing), never stored; the final response follows
      forwardInformational(this.#res, statusCode, headers)
      return
    }
    const coding = unsupportedTransferCoding(headers)
    if (coding !== undefined) {
      // nothing of it reaches the client: the try fails (retried elsewhere, or answered 502)
      this.abort(Object.assign(new Error(`the instance answered with a transfer coding the gateway cannot relay (Transfer-Encoding: ${coding})`), { code: 'GW_UNSUPPORTED_TRANSFER_CODING' }))
      return
    }
    this.#status = statusCode
    if (statusCode === this.#holdStatus) {
      this.#held = { status: statusCode, headers, chunks: [], bytes: 0 }
      return
    }
    if (!this.#mayAnswer()) return
    this.#started = true
    this.#res.writeHead(statusCode, downstreamHeaders(headers, this.#requestId))
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#lost !== undefined) {
      // reading a large answer nobody wants costs more than a new connection
      this.#lost.bytes += chunk.length
      if (this.#lost.bytes > maxHeldBytes) this.abort(hedgeLost)
      return
    }
    if (this.#held !== undefined) {
      this.#held.bytes += chunk.length
      this.#held.chunks.push(chunk)
      if (this.#held.bytes <= maxHeldBytes) return
      this.#release()
      return
    }
    if (this.#res.write(chunk)) return
    controller.pause()
    this.#res.once('drain', () => controller.resume())
  }

  onResponseEnd (): void {
    clearTimeout(this.#lost?.timer)
    if (this.#lost !== undefined) {
      this.#settle({ ok: true, status: this.#status })
      return
    }
    if (this.#held !== undefined) {
      this.#settle({ ok: true, status: this.#status, held: this.#held })
      return
    }
    this.#res.end()
    this.#settle({ ok: true, status: this.#status })
  }

  onResponseError (_controller: Controller, error: Error): void {
    clearTimeout(this.#lost?.timer)
    this.#settle({ ok: false, error, responseStarted: this.#started || this.#res.headersSent, answerStarted: this.#status !== 0 })
  }

  /** A hedged request's try may write its answer only if it is the first to have one. */
  #mayAnswer (): boolean {
    if (this.#claim === undefined || this.#claim(this)) return true
    this.#lost ??= { bytes: 0, timer: undefined } // its answer has begun: read on, unless it is large
    return false
  }

  /** Too large to hold: what was held goes out now, the rest streams as usual. */
  #release (): void {
    const held = this.#held!
    this.#held = undefined
    if (!this.#mayAnswer()) return
    this.#started = true
    this.#res.writeHead(held.status, downstreamHeaders(held.headers, this.#requestId))
    for (const chunk of held.chunks) this.#res.write(chunk)
  }
}
