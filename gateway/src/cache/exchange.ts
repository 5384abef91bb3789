import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http'
import { Socket } from 'node:net'
import type { HeaderMap } from './policy.js'
import type { Received } from './stored.js'

/** What the cache does with a response when its head arrives. */
export type HeadDecision = 'pass' | 'hold'

export interface ExchangeOptions {
  /** Responses longer than this are passed through but not captured. */
  maxBodyBytes: number
  /** Capture the body (only when the response may be stored). */
  capture: boolean
  /** Nobody is waiting for this response (a background refresh): it goes nowhere. */
  detached: boolean
  /** `x-gateway-cache` on a response passed through ('' for none). */
  label: string
  decide: (status: number, headers: HeaderMap) => HeadDecision
  now: () => number
}

/**
 * One exchange with the origin, seen through the ServerResponse the proxy writes to: the
 * proxy runs unchanged, and at the head of its response the cache either lets it through to
 * the client (capturing it, up to a bound, to store it) or holds it back — a `304` that
 * answers for a stored response, or an error a stale response will stand in for — in which
 * case nothing reaches the client and the cache answers once the exchange is over. A second
 * head (the proxy retrying after a held one) is judged afresh. `restore()` gives the
 * ServerResponse its own methods back.
 */
export class Exchange {
  status = 0
  headers: HeaderMap = {}
  responseTime = 0
  held = false
  readonly #res: ServerResponse
  readonly #o: ExchangeOptions
  readonly #originals: Pick<ServerResponse, 'writeHead' | 'write' | 'end'>
  #chunks: Buffer[] = []
  #bytes = 0
  #overflow = false
  #ended = false

  constructor (res: ServerResponse, options: ExchangeOptions) {
    this.#res = res
    this.#o = options
    this.#originals = { writeHead: res.writeHead, write: res.write, end: res.end }
    const writeHead = res.writeHead.bind(res) as (status: number, headers?: Record<string, unknown>) => ServerResponse
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      const headers = (typeof rest[0] === 'string' ? rest[1] : rest[0]) as Record<string, unknown> | undefined
      this.#head(status, headers ?? {})
      if (this.held || options.detached) return res
      return options.label === '' ? writeHead(status, headers) : writeHead(status, { ...headers, 'x-gateway-cache': options.label })
    }) as ServerResponse['writeHead']
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (this.held || options.detached) {
        this.#keep(chunk)
        return true
      }
      this.#keep(chunk)
      return write(chunk, ...rest)
    }) as ServerResponse['write']
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] !== 'function') this.#keep(args[0])
      this.#ended = true
      if (this.held || options.detached) {
        const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined
        callback?.()
        return res
      }
      return end(...args)
    }) as ServerResponse['end']
    if (options.detached) {
      // nobody to tell about interim responses
      res.writeEarlyHints = () => {}
      res.writeProcessing = () => {}
    }
  }

  /** Gives the ServerResponse its own methods back (then the cache may answer a held response). */
  restore (): void {
    Object.assign(this.#res, this.#originals)
  }

  /** The whole response as received, or undefined when it was held, cut, too large, or never began. */
  received (): Received | undefined {
    if (this.held || !this.#ended || this.#overflow || this.status === 0 || !this.#o.capture) return undefined
    return { status: this.status, headers: this.headers, body: Buffer.concat(this.#chunks, this.#bytes) }
  }

  #head (status: number, raw: Record<string, unknown>): void {
    const headers: HeaderMap = {}
    for (const name in raw) {
      const value = raw[name]
      if (value === undefined) continue
      headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value)
    }
    this.status = status
    this.headers = headers
    this.responseTime = this.#o.now()
    this.#chunks = []
    this.#bytes = 0
    this.#overflow = false
    this.held = this.#o.decide(status, headers) === 'hold'
  }

  #keep (chunk: unknown): void {
    if (!this.#o.capture || chunk === undefined || chunk === null || typeof chunk === 'function' || this.#overflow || this.held) return
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
    this.#bytes += buf.length
    if (this.#bytes > this.#o.maxBodyBytes) {
      this.#overflow = true
      this.#chunks = []
    } else {
      this.#chunks.push(buf)
    }
  }
}

/**
 * A request and a response that belong to no client, for a background refresh: the request
 * carries the given headers, the response is written to nowhere (an Exchange in detached mode
 * captures it).
 */
export function detachedRequest (method: string, url: string, headers: IncomingHttpHeaders): { req: IncomingMessage, res: ServerResponse } {
  const req = new IncomingMessage(new Socket())
  req.method = method
  req.url = url
  req.headers = headers
  const res = new ServerResponse(req)
  return { req, res }
}
