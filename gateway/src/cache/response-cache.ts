import type { IncomingMessage, ServerResponse } from 'node:http'
import { Counter, type Registry } from 'prom-client'
import { TwoTierCache, type CacheOutcome } from '../../../shared/src/cache/two-tier-cache.js'
import type { Logger } from '../../../shared/src/logger.js'
import { createRedis, type Redis } from '../../../shared/src/redis.js'
import { cacheKey, requestBypasses, storableTtlMs, varyMatches, varyNames, varyValues, type StoredResponse } from './policy.js'

export interface ResponseCacheOptions {
  redisUrl: string
  prefix: string
  localMaxBytes: number
  maxBodyBytes: number
  maxTtlMs: number
  log: Logger
  metrics?: Registry
}

/** Headers that describe one exchange, not the stored response. */
const perExchange = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'age', 'server-timing'])

/**
 * The gateway's response cache for services the topology marks `cacheable`: a GET is answered
 * from the shared two-tier cache when the upstream allowed it (Cache-Control), and concurrent
 * misses of one key send one request upstream, gateway-wide and across gateways (the cache's
 * single-flight and lock). The caller whose request goes upstream streams its answer as usual
 * while it is captured; the others get the stored copy, or go upstream themselves when it may
 * not be shared (no-store, another `Vary` variant, an error).
 */
export class ResponseCache {
  readonly #o: ResponseCacheOptions
  readonly #redis: Redis
  readonly #cache: TwoTierCache<StoredResponse>
  readonly #requests: Counter<'service' | 'outcome'> | undefined

  constructor (options: ResponseCacheOptions) {
    this.#o = options
    this.#redis = createRedis(options.redisUrl, options.log)
    this.#cache = new TwoTierCache<StoredResponse>({
      redis: this.#redis,
      prefix: options.prefix,
      namespace: 'gateway',
      ttlMs: 1_000,
      // never serve past the upstream's max-age: no jitter upwards, no stale window
      jitter: 0,
      staleMs: 0,
      localMaxBytes: options.localMaxBytes,
      log: options.log,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics })
    })
    this.#requests = options.metrics === undefined
      ? undefined
      : new Counter({ name: 'gateway_cache_requests_total', help: 'GETs to cacheable services by cache outcome (hit, miss, coalesced, bypass, pass)', labelNames: ['service', 'outcome'], registers: [options.metrics] })
  }

  async start (): Promise<void> {
    await this.#cache.start()
  }

  async close (): Promise<void> {
    await this.#cache.close()
    this.#redis.disconnect()
  }

  /**
   * Answers `request` from the cache or through `forward` (the normal proxy path, which writes
   * the response itself). `target.path` is the path forwarded upstream, with its query.
   */
  async serve (req: IncomingMessage, res: ServerResponse, requestId: string, target: { service: string, path: string }, forward: () => Promise<void>): Promise<void> {
    if (requestBypasses(req.method ?? 'GET', req.headers)) {
      this.#requests?.inc({ service: target.service, outcome: 'bypass' })
      await forward()
      return
    }
    let capture: Capture | undefined
    const result = await this.#cache.wrap(cacheKey(target.service, target.path), async () => {
      capture = new Capture(res, this.#o.maxBodyBytes)
      await forward()
      const response = capture.response()
      const names = response === undefined ? undefined : varyNames(response.headers)
      const ttlMs = response === undefined || names === undefined ? 0 : storableTtlMs(response.status, response.headers, this.#o.maxTtlMs)
      const value = response === undefined ? emptyResponse : { ...response, vary: varyValues(names ?? [], req.headers) }
      return { value, ttlMs }
    })
    if (capture !== undefined) {
      // ours went upstream, and our client already has it
      this.#requests?.inc({ service: target.service, outcome: result.stored ? 'miss' : 'pass' })
      return
    }
    if (!result.stored || !varyMatches(result.value.vary, req.headers)) {
      this.#requests?.inc({ service: target.service, outcome: 'pass' })
      await forward()
      return
    }
    this.#requests?.inc({ service: target.service, outcome: result.outcome })
    writeStored(res, requestId, result.value, result.outcome, Math.max(0, Math.floor((Date.now() - result.storedAt) / 1_000)))
  }
}

const emptyResponse: StoredResponse = { status: 0, headers: {}, body: '', vary: {} }

function writeStored (res: ServerResponse, requestId: string, stored: StoredResponse, outcome: CacheOutcome, ageS: number): void {
  const body = Buffer.from(stored.body, 'base64')
  res.writeHead(stored.status, {
    ...stored.headers,
    'content-length': body.length,
    age: String(ageS),
    'x-cache': 'hit',
    'x-cache-tier': 'gateway',
    'x-gateway-cache': outcome,
    'x-request-id': requestId
  })
  res.end(body)
}

/**
 * Records what the proxy writes to one response (status, headers, body up to a bound) while
 * letting it through unchanged, apart from `x-gateway-cache: miss`.
 */
class Capture {
  #status = 0
  #headers: Record<string, string | string[]> = {}
  readonly #chunks: Buffer[] = []
  #bytes = 0
  #overflow = false
  #ended = false

  constructor (res: ServerResponse, maxBytes: number) {
    const writeHead = res.writeHead.bind(res) as (status: number, headers?: Record<string, unknown>) => ServerResponse
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    const keep = (chunk: unknown): void => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || this.#overflow) return
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
      this.#bytes += buf.length
      if (this.#bytes > maxBytes) {
        this.#overflow = true
        this.#chunks.length = 0
      } else {
        this.#chunks.push(buf)
      }
    }
    res.writeHead = ((status: number, headers?: Record<string, unknown>) => {
      this.#status = status
      for (const [name, value] of Object.entries(headers ?? {})) {
        if (value !== undefined && !perExchange.has(name.toLowerCase())) this.#headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value)
      }
      return writeHead(status, { ...headers, 'x-gateway-cache': 'miss' })
    }) as ServerResponse['writeHead']
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk)
      return write(chunk, ...rest)
    }) as ServerResponse['write']
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] !== 'function') keep(args[0])
      this.#ended = true
      return end(...args)
    }) as ServerResponse['end']
  }

  /** The whole response, or undefined when it was cut, too large, or never began. */
  response (): Omit<StoredResponse, 'vary'> | undefined {
    if (!this.#ended || this.#overflow || this.#status === 0) return undefined
    return { status: this.#status, headers: this.#headers, body: Buffer.concat(this.#chunks).toString('base64') }
  }
}
