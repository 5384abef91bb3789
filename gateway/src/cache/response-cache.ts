import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { clusterError, toEnvelope } from '../../../shared/src/errors.js'
import { TwoTierCache, type CacheResult, type Computed } from '../../../shared/src/cache/two-tier-cache.js'
import type { Logger } from '../../../shared/src/logger.js'
import { createRedis, type Redis } from '../../../shared/src/redis.js'
import { HotCounter } from '../hot-metrics.js'
import { ageField, currentAgeMs } from './age.js'
import { detachedRequest, Exchange } from './exchange.js'
import { invalidatedPaths, isUnsafe } from './invalidation.js'
import { place, variantStorageKey } from './placement.js'
import { cacheKey, type PolicyOptions } from './policy.js'
import { contentRange, ifRangeHolds, parseRange } from './range.js'
import { requestPolicy, type RequestPolicy } from './request-policy.js'
import { isErrorStatus, reuse, servableOnError } from './reuse.js'
import { freshen, toStored, type StoredRecord, type StoredResponse, type VaryRecord } from './stored.js'
import { SurrogateIndex } from './surrogate-index.js'
import { clientNotModified, notModifiedFields, notModifiedSelects, validatorsToSend } from './validation.js'

export interface ResponseCacheOptions {
  redisUrl: string
  prefix: string
  localMaxBytes: number
  maxBodyBytes: number
  /** Upper bound on freshness (`GW_CACHE_MAX_TTL_MS`). */
  maxTtlMs: number
  /** Upper bound on stale windows (`GW_CACHE_MAX_STALE_MS`). */
  maxStaleMs: number
  /** A service's default stale-if-error window (its routing policy's `staleIfErrorS`), ms. */
  staleIfErrorMs: (service: string) => number
  /** Keys longer than this stay out of Redis (local tier only). */
  maxKeyBytes: number
  /** This gateway's byte budget in Redis; past it, responses are cached locally only. */
  redisBytes: number
  log: Logger
  metrics?: Registry
  clock?: () => number
}

/** The normal proxy path for one request (the cache calls it on a miss, a refresh, an unsafe method). */
export type Forward = (req: IncomingMessage, res: ServerResponse) => Promise<void>

export interface Target { service: string, path: string }

type Outcome = 'hit' | 'stale' | 'revalidated' | 'miss' | 'coalesced' | 'pass' | 'bypass'

/** What the cache holds for a request: the URI's key, the key it selects, and the response there if any. */
interface Found {
  primary: string
  key: string
  index?: VaryRecord | undefined
  response?: StoredResponse | undefined
  /** When the record at `key` was written (the two-tier cache's clock), to replace exactly it. */
  storedAt: number
}

/** A stored response ready to be written: its body decoded once, its constant fields. */
interface Prepared {
  body: Buffer
  headers: OutgoingHttpHeaders
  notModified: OutgoingHttpHeaders
}

const notStored: StoredRecord = { kind: 'vary', names: [], generation: '' }
const conditionalFields = ['if-none-match', 'if-modified-since', 'if-range', 'range']

/**
 * The gateway's HTTP cache for services whose routing policy says `cacheable` (RFC 9111 shared cache, RFC 5861,
 * RFC 9213; the rules are the pure modules beside this one). GETs and HEADs are answered from
 * the two-tier cache while fresh, stale when the origin allows it or fails, or after a
 * revalidation; a miss or a refresh sends one request per key upstream, gateway-wide and
 * across gateways, and that request streams to its client while it is captured. Unsafe
 * methods invalidate what they changed, in every gateway (pub/sub). A service that
 * invalidates one of its own answers purges the gateway entries tagged with it.
 */
export class ResponseCache {
  readonly #o: ResponseCacheOptions
  readonly #redis: Redis
  readonly #cache: TwoTierCache<StoredRecord>
  readonly #surrogates: SurrogateIndex
  readonly #now: () => number
  readonly #policies = new Map<string, PolicyOptions>()
  readonly #prepared = new WeakMap<StoredResponse, Prepared>()
  readonly #counter: HotCounter | undefined
  readonly #cells = new Map<string, Record<Outcome, { value: number }>>()

  constructor (options: ResponseCacheOptions) {
    this.#o = options
    this.#now = options.clock ?? Date.now
    this.#redis = createRedis(options.redisUrl, options.log)
    const ownKeys = `${options.prefix}:cache:gateway:`
    this.#cache = new TwoTierCache<StoredRecord>({
      redis: this.#redis,
      prefix: options.prefix,
      namespace: 'gateway',
      // v2: entries carry their HTTP policy and age; v1 entries are never read again
      version: 2,
      ttlMs: 1_000,
      // the two-tier cache only keeps entries (for as long as each may be used); HTTP decides how
      jitter: 0,
      staleMs: 0,
      localMaxBytes: options.localMaxBytes,
      // one client with unique query strings filled 37 MB of Redis in 10 s: the shared tier is bounded
      remoteMaxKeyBytes: options.maxKeyBytes,
      remoteMaxBytes: options.redisBytes,
      log: options.log,
      clock: this.#now,
      // our own invalidations (gateway keys) are never surrogate keys: only other caches' are
      onInvalidate: (message) => { if (!message.startsWith(ownKeys)) void this.#purgeSurrogate(message) },
      ...(options.metrics === undefined ? {} : { metrics: options.metrics })
    })
    this.#surrogates = new SurrogateIndex(this.#redis, options.prefix, (key) => this.#cache.key(key), options.log, (fullKey, bytes, ttlMs) => this.#cache.reserveRemote(fullKey, bytes, ttlMs))
    this.#counter = options.metrics === undefined
      ? undefined
      : new HotCounter({ name: 'gateway_cache_requests_total', help: 'Requests to cacheable services by cache outcome (hit, stale, revalidated, miss, coalesced, pass, bypass)', labelNames: ['service', 'outcome'], registry: options.metrics })
  }

  async start (): Promise<void> {
    await this.#cache.start()
  }

  async close (): Promise<void> {
    await this.#cache.close()
    this.#redis.disconnect()
  }

  /**
   * Answers a request to a cacheable service from the cache or through `forward` (the normal
   * proxy path, which writes the response itself). `target.path` is the path forwarded
   * upstream, with its query.
   */
  async serve (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward): Promise<void> {
    const method = req.method ?? 'GET'
    if (method === 'GET' || method === 'HEAD') await this.#read(req, res, requestId, target, forward)
    else if (isUnsafe(method)) await this.#write(req, res, target, forward)
    else await forward(req, res)
  }

  async #read (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward): Promise<void> {
    const rq = requestPolicy(req.headers)
    if (rq.noStore || rq.preconditions) {
      this.#count(target.service, 'bypass')
      await forward(req, res)
      return
    }
    const found = await this.#lookup(cacheKey(target.service, target.path), req.headers)
    const head = req.method === 'HEAD'
    if (found.response !== undefined) {
      const decision = reuse(found.response, rq, this.#now())
      if (decision === 'fresh') return this.#answer(req, res, requestId, target.service, found.response, 'hit')
      if (decision === 'stale-ok') return this.#answer(req, res, requestId, target.service, found.response, 'stale')
      if (decision === 'stale-while-revalidate') {
        this.#answer(req, res, requestId, target.service, found.response, 'stale')
        if (!head) this.#refreshInBackground(req, target, forward, found)
        return
      }
      if (decision !== 'bypass' && rq.onlyIfCached) return this.#notCached(res, requestId)
      if (decision === 'bypass' || head) return await this.#pass(req, res, target, forward, decision === 'bypass' ? 'bypass' : 'pass')
      if (forcedByClient(rq)) {
        // the client wants the origin's word: validate what we hold, or step aside (as cheap as no cache)
        if (decision === 'revalidate') return await this.#direct(req, res, requestId, target, forward, found, rq)
        return await this.#pass(req, res, target, forward, 'bypass')
      }
      return await this.#refresh(req, res, requestId, target, forward, found, rq, decision === 'revalidate')
    }
    if (rq.onlyIfCached) return this.#notCached(res, requestId)
    if (rq.noCache || rq.maxAgeMs === 0) return await this.#pass(req, res, target, forward, 'bypass')
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined
    if (head || rq.range || rq.authorization || conditional) {
      // not shareable with other requests: each goes upstream (and may still be stored)
      await this.#direct(req, res, requestId, target, forward, found, rq)
      return
    }
    let mine = false
    const result = await this.#cache.wrap(found.key, async () => {
      mine = true
      return await this.#exchange(req, res, requestId, target, forward, found, rq, { revalidate: false, detached: false })
    })
    if (!mine) await this.#afterFlight(req, res, requestId, target, forward, found, rq, result)
  }

  /** A stored response that needs the origin: one request per key refreshes it (§4.3). */
  async #refresh (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward, found: Found, rq: RequestPolicy, revalidate: boolean): Promise<void> {
    let mine = false
    const result = await this.#cache.refresh(found.key, found.storedAt, async () => {
      mine = true
      return await this.#exchange(req, res, requestId, target, forward, found, rq, { revalidate, detached: false })
    })
    if (!mine) await this.#afterFlight(req, res, requestId, target, forward, found, rq, result)
  }

  /** RFC 5861 §3: the stale response went to the client; one background request refreshes it. */
  #refreshInBackground (req: IncomingMessage, target: Target, forward: Forward, found: Found): void {
    const headers: IncomingHttpHeaders = { ...req.headers }
    for (const name of conditionalFields) delete headers[name]
    const detached = detachedRequest('GET', req.url ?? '/', headers)
    const rq = requestPolicy(headers)
    this.#cache.refresh(found.key, found.storedAt, async () => await this.#exchange(detached.req, detached.res, '', target, forward, found, rq, { revalidate: true, detached: true }))
      .catch((err: unknown) => this.#o.log.warn({ err: (err as Error).message, key: found.key }, 'cache background refresh failed'))
  }

  /** Another request of the same flight fetched a response: use it if it suits this request, else go upstream alone. */
  async #afterFlight (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward, found: Found, rq: RequestPolicy, result: CacheResult<StoredRecord>): Promise<void> {
    if (result.stored) {
      let response: StoredResponse | undefined
      if (result.value.kind === 'response') response = result.value
      else if (result.value.names.length > 0) {
        const variant = await this.#cache.get(variantStorageKey(found.primary, result.value, req.headers))
        if (variant?.value.kind === 'response') response = variant.value
      }
      if (response !== undefined) {
        const decision = reuse(response, rq, this.#now())
        if (decision === 'fresh' || decision === 'stale-ok') return this.#answer(req, res, requestId, target.service, response, 'coalesced')
      }
    }
    await this.#direct(req, res, requestId, target, forward, await this.#lookup(found.primary, req.headers), rq)
  }

  /** One exchange for this request alone; what it brings is stored as usual. */
  async #direct (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward, found: Found, rq: RequestPolicy): Promise<void> {
    const revalidate = found.response !== undefined && (found.response.policy.etag !== undefined || found.response.policy.lastModified !== undefined)
    const computed = await this.#exchange(req, res, requestId, target, forward, found, rq, { revalidate, detached: false })
    if ((computed.ttlMs ?? 0) > 0) await this.#cache.set(found.key, computed.value, computed.ttlMs)
  }

  /**
   * One request upstream for `found.key`, through the proxy. With a stored response it may
   * carry validators; a `304` that selects the stored response freshens it and answers the
   * client from it, and an error (or no instance at all) is answered with the stored response
   * while `stale-if-error` allows. Anything else streams to the client and is stored when it
   * may be. Returns what to store under `found.key` (ttl 0: nothing).
   */
  async #exchange (req: IncomingMessage, res: ServerResponse, requestId: string, target: Target, forward: Forward, found: Found, rq: RequestPolicy,
    mode: { revalidate: boolean, detached: boolean }): Promise<Computed<StoredRecord>> {
    const stored = found.response
    const options = this.#policy(target.service)
    const clientHeaders = req.headers
    const validators = mode.revalidate && stored !== undefined ? validatorsToSend(stored.policy, clientHeaders) : undefined
    const onlyOurs = clientHeaders['if-none-match'] === undefined && clientHeaders['if-modified-since'] === undefined
    if (validators !== undefined) req.headers = { ...clientHeaders, ...validators }
    const requestTime = this.#now()
    const exchange = new Exchange(res, {
      maxBodyBytes: this.#o.maxBodyBytes,
      capture: req.method === 'GET' && !rq.range,
      detached: mode.detached,
      label: 'miss',
      now: this.#now,
      decide: (status, headers) => {
        if (stored === undefined) return 'pass'
        if (status === 304 && validators !== undefined && notModifiedSelects(stored.policy, headers, onlyOurs)) return 'hold'
        if (isErrorStatus(status) && servableOnError(stored, rq, this.#now())) return 'hold'
        return 'pass'
      }
    })
    try {
      await forward(req, res)
    } finally {
      exchange.restore()
      req.headers = clientHeaders
    }
    const nothing: Computed<StoredRecord> = { value: notStored, ttlMs: 0 }
    if (exchange.held && stored !== undefined) {
      if (exchange.status === 304) {
        const freshened = freshen(stored, exchange.headers, { requestTime, responseTime: exchange.responseTime }, options)
        if (!mode.detached) this.#answer(req, res, requestId, target.service, freshened.record, 'revalidated')
        this.#surrogates.add(found.key, freshened.record.tags, freshened.retentionMs)
        return { value: freshened.record, ttlMs: freshened.retentionMs }
      }
      if (!mode.detached) this.#answer(req, res, requestId, target.service, stored, 'stale')
      this.#o.log.warn({ service: target.service, key: found.key, status: exchange.status }, 'origin failed: answered with the stale stored response')
      return nothing
    }
    if (!mode.detached) this.#count(target.service, 'miss')
    const received = exchange.received()
    if (received === undefined) return nothing
    const built = toStored(received, { authorization: rq.authorization, range: rq.range, noStore: rq.noStore }, { requestTime, responseTime: exchange.responseTime }, options)
    if (built === undefined) return nothing
    const placement = place(built.record, built.retentionMs, found, clientHeaders, randomBytes(6).toString('hex'), options.maxTtlMs + options.maxStaleMs)
    for (const write of placement.writes) {
      await this.#cache.set(write.key, write.value, write.ttlMs)
      if (write.value.kind === 'response') this.#surrogates.add(write.key, write.value.tags, write.ttlMs)
    }
    if ((placement.here.ttlMs ?? 0) > 0 && placement.here.value.kind === 'response') this.#surrogates.add(found.key, built.record.tags, built.retentionMs)
    return placement.here
  }

  /** RFC 9111 §4.4: a successful unsafe request invalidates its target and Location / Content-Location, in every gateway. */
  async #write (req: IncomingMessage, res: ServerResponse, target: Target, forward: Forward): Promise<void> {
    const exchange = new Exchange(res, {
      maxBodyBytes: 0,
      capture: false,
      detached: false,
      label: '',
      now: this.#now,
      decide: (status, headers) => {
        // before the client sees the answer, so its next request cannot meet the old entry
        for (const path of invalidatedPaths(target.path, status, headers, req.headers.host)) {
          this.#cache.invalidate(cacheKey(target.service, path))
            .catch((err: unknown) => this.#o.log.warn({ err: (err as Error).message }, 'cache invalidation failed'))
        }
        return 'pass'
      }
    })
    try {
      await forward(req, res)
    } finally {
      exchange.restore()
    }
  }

  async #pass (req: IncomingMessage, res: ServerResponse, target: Target, forward: Forward, outcome: 'pass' | 'bypass'): Promise<void> {
    this.#count(target.service, outcome)
    await forward(req, res)
  }

  /** The stored record for a request: the URI's, or the variant it selects. */
  async #lookup (primary: string, headers: IncomingHttpHeaders): Promise<Found> {
    const first = await this.#cache.get(primary)
    if (first === undefined) return { primary, key: primary, storedAt: 0 }
    const record = first.value
    if (record.kind === 'response') return { primary, key: primary, response: record, storedAt: first.storedAt }
    const key = variantStorageKey(primary, record, headers)
    const second = await this.#cache.get(key)
    const response = second?.value.kind === 'response' ? second.value : undefined
    return { primary, key, index: record, response, storedAt: second?.storedAt ?? 0 }
  }

  /**
   * Writes a stored response to the client (RFC 9111 §4): with its current `Age`, its own
   * `Date`, and `x-cache`; a `304` when the client's conditional matches it, a `206` for a
   * satisfiable single range.
   */
  #answer (req: IncomingMessage, res: ServerResponse, requestId: string, service: string, stored: StoredResponse, outcome: Outcome): void {
    this.#count(service, outcome)
    const now = this.#now()
    const prepared = this.#prepare(stored)
    const own = {
      age: ageField(currentAgeMs(stored.initialAgeMs, stored.responseTime, now)),
      'x-cache': outcome === 'stale' ? 'stale' : 'hit',
      'x-gateway-cache': outcome,
      'x-request-id': requestId
    }
    const h = req.headers
    if ((h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) &&
      clientNotModified(stored.status, { etag: stored.policy.etag, lastModified: stored.policy.lastModified, date: stored.headers.date as string | undefined }, h, now)) {
      res.writeHead(304, Object.assign({}, prepared.notModified, own))
      res.end()
      return
    }
    const range = h.range !== undefined && req.method === 'GET' && stored.status === 200 && ifRangeHolds(firstValue(h['if-range']), stored.policy)
      ? parseRange(h.range, prepared.body.length)
      : undefined
    if (range !== undefined) {
      res.writeHead(206, Object.assign({}, prepared.headers, own, { 'content-range': contentRange(range, prepared.body.length), 'content-length': range.end - range.start + 1 }))
      res.end(prepared.body.subarray(range.start, range.end + 1))
      return
    }
    res.writeHead(stored.status, Object.assign({}, prepared.headers, own))
    if (req.method === 'HEAD') res.end()
    else res.end(prepared.body)
  }

  #prepare (stored: StoredResponse): Prepared {
    let prepared = this.#prepared.get(stored)
    if (prepared === undefined) {
      const body = Buffer.from(stored.body, 'base64')
      const bodyless = stored.status === 204 || stored.status === 304 || stored.status < 200
      const headers: OutgoingHttpHeaders = { ...stored.headers, 'x-cache-tier': 'gateway' }
      if (!bodyless) headers['content-length'] = body.length
      const notModified: OutgoingHttpHeaders = { 'x-cache-tier': 'gateway' }
      for (const name of notModifiedFields) if (stored.headers[name] !== undefined) notModified[name] = stored.headers[name]
      prepared = { body, headers, notModified }
      this.#prepared.set(stored, prepared)
    }
    return prepared
  }

  /** `Cache-Control: only-if-cached` and nothing usable stored: 504 (RFC 9111 §5.2.1.7). */
  #notCached (res: ServerResponse, requestId: string): void {
    const payload = JSON.stringify(toEnvelope(clusterError('GW_ERR_NOT_CACHED', 'only-if-cached: no stored response may answer this request')))
    res.writeHead(504, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), 'x-request-id': requestId })
    res.end(payload)
  }

  async #purgeSurrogate (tag: string): Promise<void> {
    const purged = await this.#surrogates.purge(tag, (key) => this.#cache.forgetLocal(key))
    if (purged > 0) this.#o.log.info({ tag, purged }, 'cache entries purged by surrogate key')
  }

  #policy (service: string): PolicyOptions {
    let options = this.#policies.get(service)
    if (options === undefined) {
      options = { maxTtlMs: this.#o.maxTtlMs, maxStaleMs: this.#o.maxStaleMs, defaultStaleIfErrorMs: this.#o.staleIfErrorMs(service) }
      this.#policies.set(service, options)
    }
    return options
  }

  #count (service: string, outcome: Outcome): void {
    if (this.#counter === undefined) return
    let cells = this.#cells.get(service)
    if (cells === undefined) {
      const counter = this.#counter
      const cell = (o: Outcome): { value: number } => counter.cell(service, o)
      cells = { hit: cell('hit'), stale: cell('stale'), revalidated: cell('revalidated'), miss: cell('miss'), coalesced: cell('coalesced'), pass: cell('pass'), bypass: cell('bypass') }
      this.#cells.set(service, cells)
    }
    cells[outcome].value++
  }
}

/** The request, not the stored response's age, sends it to the origin: no point joining others. */
function forcedByClient (rq: RequestPolicy): boolean {
  return rq.noCache || rq.maxAgeMs !== undefined || rq.minFreshMs !== undefined
}

function firstValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
