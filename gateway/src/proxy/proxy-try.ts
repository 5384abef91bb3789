import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { Upstream } from '../upstreams/upstream.js'
import { downstreamHeaders } from './headers.js'
import { forwardInformational } from './informational.js'

export type TryOutcome =
  | { ok: true, status: number }
  | { ok: false, error: Error, responseStarted: boolean }

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0]

/**
 * One try of a proxied request on one instance, as an undici dispatch handler: the response
 * streams straight into the client's socket (backpressure through pause/resume), with no
 * intermediate stream objects and no AbortSignal; `abort()` cancels it when the client leaves.
 */
export class ProxyTry implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse
  readonly #requestId: string
  #controller: Controller | undefined
  #aborted: Error | undefined
  #status = 0
  #started = false
  #settle!: (outcome: TryOutcome) => void
  readonly done: Promise<TryOutcome>

  constructor (res: ServerResponse, requestId: string) {
    this.#res = res
    this.#requestId = requestId
    this.done = new Promise((resolve) => { this.#settle = resolve })
  }

  static run (upstream: Upstream, opts: Dispatcher.DispatchOptions, res: ServerResponse, requestId: string): ProxyTry {
    const attempt = new ProxyTry(res, requestId)
    upstream.pool.dispatch(opts, attempt)
    return attempt
  }

  abort (reason: Error): void {
    this.#aborted = reason
    this.#controller?.abort(reason)
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
    this.#started = true
    this.#status = statusCode
    this.#res.writeHead(statusCode, downstreamHeaders(headers, this.#requestId))
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#res.write(chunk)) return
    controller.pause()
    this.#res.once('drain', () => controller.resume())
  }

  onResponseEnd (): void {
    this.#res.end()
    this.#settle({ ok: true, status: this.#status })
  }

  onResponseError (_controller: Controller, error: Error): void {
    this.#settle({ ok: false, error, responseStarted: this.#started || this.#res.headersSent })
  }
}
