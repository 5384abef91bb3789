import type { IncomingMessage, ServerResponse } from 'node:http'
import { ClusterError, clusterError, toEnvelope } from '../../../shared/src/errors.js'
import { requestIdFrom } from '../../../shared/src/service/create-app.js'
import type { ResponseCache } from '../cache/response-cache.js'
import type { Logger } from '../../../shared/src/logger.js'
import type { GatewayConfig } from '../config.js'
import type { ProxyMetrics } from '../metrics.js'
import type { FailureKind } from '../resilience/outlier-detector.js'
import type { RetryBudget } from '../resilience/retry-budget.js'
import { may503BeRetried, shouldRetry, spendsAttempt } from '../resilience/retry-policy.js'
import type { Router } from '../upstreams/router.js'
import type { ServicePool } from '../upstreams/service-pool.js'
import type { Upstream } from '../upstreams/upstream.js'
import { drainUnreadBody, guardClose } from '../../../shared/src/service/linger.js'
import { clientGone, isClientGone, prepareBody, tooLarge } from './body.js'
import { classifyFailure, countsAgainstInstance, isFailureStatus, type TryFailure } from './failure.js'
import { upstreamHeaders } from './headers.js'
import { parseProxyPath } from './path.js'
import { ProxyTry, type HeldResponse } from './proxy-try.js'
import { runTries, type Hedging, type SettledTry, type Tries } from './hedge.js'
import { deadlineHeader } from '../../../shared/src/service/deadline.js'
import { retryKeyHeader } from '../../../shared/src/service/retry-key.js'
import { randomUUID } from 'node:crypto'
import type { EventLog } from '../events/event-log.js'
import type { Traffic } from '../stats/traffic.js'

export interface ProxyDeps {
  router: Router
  budget: RetryBudget
  metrics: ProxyMetrics
  config: GatewayConfig
  log: Logger
  instanceId: string
  traffic: Traffic
  events: Pick<EventLog, 'emit'>
  now?: () => number
  /** Serves GETs of the services whose policy says `cacheable` from the response cache (gateway/src/cache). */
  responseCache?: ResponseCache
  /** Hedged requests for the services that opt in (absent: never hedge). */
  hedging?: Hedging
}

/**
 * Proxies `/api/<service>/*` on the raw request (the hot path skips Fastify's routing): choose an
 * instance, stream the request and the response through its keep-alive pool, and on a failure
 * that sent no response byte, try another instance when the retry rules and the budget allow.
 */
export async function proxy (req: IncomingMessage, res: ServerResponse, deps: ProxyDeps): Promise<void> {
  const requestId = requestIdFrom(req.headers['x-request-id'])
  // a body may still be arriving when the answer goes out: never cut the connection under it
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) guardClose(req)
  try {
    await forward(req, res, requestId, deps)
  } catch (err) {
    if (isClientGone(err)) {
      deps.log.debug({ reqId: requestId }, 'client went away before its request body arrived')
      return
    }
    const error = err instanceof ClusterError ? err : clusterError('HTTP_ERR_INTERNAL', 'internal error')
    if (!(err instanceof ClusterError)) deps.log.error({ reqId: requestId, err }, 'proxy failed')
    writeError(res, error, requestId, deps.instanceId)
  } finally {
    // answered before the whole body came (a 413, an instance's early answer): read the rest
    // away rather than cut the connection under the answer
    if (!req.complete) drainUnreadBody(req)
  }
}

/** Not async itself: the promise is forwardTo's (or the cache's), one frame fewer per request. */
function forward (req: IncomingMessage, res: ServerResponse, requestId: string, deps: ProxyDeps): Promise<void> {
  const target = parseProxyPath(req.url ?? '/')
  if (!target.ok) throw clusterError(target.code, target.message)
  const pool = deps.router.service(target.service)
  if (pool === undefined) throw clusterError('GW_ERR_UNKNOWN_SERVICE', `unknown service "${target.service}"`)
  if (pool.policy.cacheable && deps.responseCache !== undefined) {
    // every method: reads may be answered from the cache, unsafe methods invalidate it (RFC 9111 §4.4)
    return deps.responseCache.serve(req, res, requestId, target, async (q, s) => { await forwardTo(q, s, requestId, deps, target, pool) })
  }
  return forwardTo(req, res, requestId, deps, target, pool)
}

/** The tries for one request whose service is known (the response cache calls this on a miss). */
async function forwardTo (req: IncomingMessage, res: ServerResponse, requestId: string, deps: ProxyDeps,
  target: { service: string, path: string }, pool: ServicePool): Promise<void> {
  // the service's own routing policy, as its instances registered it (a property read: built when the registry changed)
  const policy = pool.policy
  const now = deps.now ?? Date.now
  const started = now()
  const method = req.method ?? 'GET'
  const prepared = prepareBody(req, deps.config.bodyLimitBytes, deps.config.replayLimitBytes)
  const body = prepared instanceof Promise ? await prepared : prepared // most requests have no body: no await
  const role = policy.leaderRouting && needsLeader(method, target.path) ? 'leader' : undefined
  const headers = upstreamHeaders(req.headers, { clientIp: req.socket.remoteAddress ?? '', requestId, host: req.headers.host })
  // one key for every try of this request, never the client's: a service that remembers it
  // applies a retried write once (kv-leader); a client's own value could collide across requests
  if (method === 'GET' || method === 'HEAD') delete headers[retryKeyHeader]
  else headers[retryKeyHeader] = randomUUID()
  const dispatchBody = body.kind === 'buffered' ? body.data : body.kind === 'streamed' ? body.stream : null
  const replayable = body.kind !== 'streamed'
  // the service opted in, or the client made this request safe to repeat: a POST with an
  // Idempotency-Key is applied once however often it arrives (the feed, compute jobs: issue 13)
  const retryNonIdempotent = policy.retryNonIdempotent || req.headers['idempotency-key'] !== undefined

  let current: Tries | undefined
  let gone = false
  res.once('close', () => {
    if (res.writableFinished) return
    gone = true
    current?.abort(clientGone)
  })
  const deadline = started + deps.config.deadlineMs
  const tried = new Set<Upstream>()
  let status = 0
  // what an earlier try left behind when a retry then finds no instance: its answer is the
  // truth, never "nothing was sent" (a try that timed out may have been applied)
  let unknownOutcome: FailureKind | undefined
  let heldAnswer: HeldResponse | undefined
  deps.budget.requestStarted(started)
  // hedged requests (issue 17): undefined unless the service opts in, this request is safe to
  // send twice, and there is another instance to send it to
  const hedge = policy.hedge && pool.upstreams.length > 1
    ? deps.hedging?.forRequest(pool.name, { enabled: true, method, role, bodyReplayable: replayable }, started)
    : undefined
  const startTry = (upstream: Upstream, hold: number, claim: ((attempt: ProxyTry) => boolean) | undefined): ProxyTry => {
    tried.add(upstream)
    deps.metrics.pick(pool.name, upstream.id)
    const timeout = Math.max(1, Math.min(policy.tryTimeoutMs ?? deps.config.tryTimeoutMs, deadline - now()))
    // past this moment nobody waits for this try: an instance that was frozen and wakes up late
    // must not act on it (a retried PUT executed after its retry would overwrite newer writes).
    // A streamed body is never retried, and how long its upload takes is not known when the
    // headers go: it carries no deadline (stamped before the upload, it failed every slow one);
    // undici's headers timeout starts over once the body is sent, so its try is timed from then
    const tryHeaders = claim === undefined ? headers : { ...headers } // a hedge's deadline is its own
    if (replayable) tryHeaders[deadlineHeader] = String(now() + timeout)
    upstream.started()
    return ProxyTry.run(upstream, { origin: upstream.url, path: target.path, method: method as 'GET', headers: tryHeaders, body: dispatchBody, headersTimeout: timeout, bodyTimeout: timeout }, res, requestId, hold, claim)
  }
  try {
    for (let attempt = 1; ; attempt++) {
      const picked = pool.pick(now(), { exclude: tried, role }) ??
        (role !== undefined ? await waitForLeader(pool, tried, Math.min(deps.config.leaderWaitMs, deadline - now()), now) : undefined)
      if (picked === undefined) {
        if (unknownOutcome !== undefined) status = writeError(res, tryError(unknownOutcome, target.service, now() >= deadline), requestId, deps.instanceId)
        else if (heldAnswer !== undefined) {
          status = heldAnswer.status
          ProxyTry.writeHeld(res, heldAnswer, requestId)
        } else status = writeError(res, noUpstream(target.service, role), requestId, deps.instanceId)
        return
      }
      // a 503 is held back from the client only when it could be retried elsewhere
      const retriable503 = may503BeRetried(method, replayable, retryNonIdempotent, attempt, deps.config.maxAttempts)
      // after a try whose outcome is unknown, a 503 ("not done") would tell the client less than
      // the truth: it is held, and answered as that unknown outcome
      const hold = retriable503 || unknownOutcome !== undefined ? 503 : 0
      current = runTries(picked, {
        start: (upstream, claim) => startTry(upstream, hold, claim),
        hedge,
        deadline,
        now,
        pickSecond: () => pool.pick(now(), { exclude: tried }),
        onHedge: (service, event) => { deps.metrics.hedge(service, event) },
        onOther: (other, cancelled) => { settleOtherTry(other, cancelled, gone, pool, deps, now) }
      })
      const { upstream, outcome, startedAt: t0, elapsedMs: elapsed } = await current.done
      upstream.finished(elapsed)
      deps.traffic.recordTry(upstream.id, t0 + elapsed, elapsed, outcome.ok && outcome.status < 500)
      if (outcome.ok) {
        status = outcome.status
        if (!isFailureStatus(status)) {
          upstream.outlier.onSuccess(now())
          return
        }
        noteFailure(pool, upstream, 'status5xx', deps, now())
        if (outcome.held === undefined) return
        heldAnswer = outcome.held
        if (retriable503 && retryAfter503({ gone, deadline, pool, tried, role, answered: upstream, deps, now })) {
          // A deposed leader that did nothing may be elected again (it resumes its own term once
          // the lease store is back): the next leader may be this very instance. Excluded, the
          // retry waited out GW_LEADER_WAIT_MS for another and answered 503 while it led again
          // (Redis failover chaos, seed 7: kv-leader requests failed 5 s, 2 s past the failover).
          if (role !== undefined && !stillHolds(pool, upstream, role)) tried.delete(upstream)
          continue
        }
        if (gone) status = 499
        else if (unknownOutcome !== undefined) status = writeError(res, tryError(unknownOutcome, target.service, now() >= deadline), requestId, deps.instanceId)
        else ProxyTry.writeHeld(res, outcome.held, requestId)
        return
      }
      const failure = classifyFailure(outcome.error, {
        clientGone: gone,
        bodyOverLimit: body.kind === 'streamed' && body.stream.exceeded,
        answerStarted: outcome.answerStarted,
        bodyUnsent: body.kind === 'streamed' && !body.stream.readableEnded
      })
      if (!countsAgainstInstance(failure)) {
        status = answerClientSideFailure(res, failure, outcome.error, requestId, upstream, deps)
        return
      }
      deps.metrics.upstreamError(pool.name, failure)
      noteFailure(pool, upstream, failure, deps, now())
      if (failure !== 'refused') unknownOutcome = failure
      if (!spendsAttempt(failure, role)) attempt--
      const retry = now() < deadline && shouldRetry({
        method,
        failure,
        responseStarted: outcome.responseStarted,
        bodyReplayable: replayable,
        retryNonIdempotent,
        attempt,
        maxAttempts: deps.config.maxAttempts
      }) && deps.budget.tryAcquireRetry(now())
      if (!retry) {
        deps.log.warn({ reqId: requestId, instance: upstream.id, cause: failure, err: outcome.error.message }, 'upstream try failed')
        status = writeError(res, tryError(failure, target.service, now() >= deadline), requestId, deps.instanceId)
        return
      }
      deps.metrics.retry(pool.name)
    }
  } finally {
    const end = now()
    deps.metrics.request(pool.name, status, (end - started) / 1000)
    deps.traffic.recordRequest(pool.name, end, end - started, status > 0 && status < 500)
  }
}

/**
 * An instance answered 503 ("not now") to a request that may be repeated: retry it on another
 * instance if there is one, within the deadline and the retry budget (Envoy's `retry_on: 503`).
 * Otherwise the instance's own answer is passed on (it says why, and when to come back).
 */
function retryAfter503 (o: { gone: boolean, deadline: number, pool: ServicePool, tried: ReadonlySet<Upstream>, role: string | undefined, answered: Upstream, deps: ProxyDeps, now: () => number }): boolean {
  if (o.gone || o.now() >= o.deadline) return false
  // no waiting for a new leader when the leader itself said "not now"; an instance that is no
  // longer the leader (a frozen one woke up deposed and refuses what it held) spoke for nobody:
  // the next try waits for the next leader, as a first try would
  if (o.pool.pick(o.now(), { exclude: o.tried, role: o.role }) === undefined && (o.role === undefined || stillHolds(o.pool, o.answered, o.role))) return false
  if (!o.deps.budget.tryAcquireRetry(o.now())) return false
  o.deps.metrics.retry(o.pool.name)
  return true
}

/** A try that failed for reasons of the client's or the gateway's: answered, never held against the instance. */
function answerClientSideFailure (res: ServerResponse, failure: TryFailure, err: Error, requestId: string, upstream: Upstream, deps: ProxyDeps): number {
  if (failure === 'client-abort') {
    deps.log.debug({ reqId: requestId, instance: upstream.id }, 'client went away')
    return 499 // nginx's code for a client that went away
  }
  if (failure === 'body-too-large') return writeError(res, tooLarge(deps.config.bodyLimitBytes), requestId, deps.instanceId)
  if (failure === 'early-answer') {
    // the client has the instance's answer (or its start); the rest of its body was refused
    deps.log.debug({ reqId: requestId, instance: upstream.id, err: err.message }, 'the instance answered before the request body was sent')
    return writeError(res, clusterError('GW_ERR_UPSTREAM_BROKEN', 'the instance answered before the request body was sent'), requestId, deps.instanceId)
  }
  deps.log.warn({ reqId: requestId, instance: upstream.id, err: err.message }, 'request cannot be forwarded')
  return writeError(res, clusterError('GW_ERR_UNFORWARDABLE', `the request cannot be forwarded: ${err.message}`), requestId, deps.instanceId)
}

/**
 * The bookkeeping of a hedged request's try that did not decide it. One cancelled because its
 * rival answered first is no fault of its instance; one that failed while its rival ran on, or
 * answered a 503 that gave way to it, is counted as any try is.
 */
function settleOtherTry ({ upstream, outcome, startedAt, elapsedMs }: SettledTry, cancelled: boolean, gone: boolean, pool: ServicePool, deps: ProxyDeps, now: () => number): void {
  upstream.finished(elapsedMs)
  deps.traffic.recordTry(upstream.id, startedAt + elapsedMs, elapsedMs, outcome.ok && outcome.status < 500)
  if (cancelled) return
  if (outcome.ok) {
    if (isFailureStatus(outcome.status)) noteFailure(pool, upstream, 'status5xx', deps, now())
    else upstream.outlier.onSuccess(now())
    return
  }
  // hedged requests have no streamed body: only the instance or the client can be at fault
  const failure = classifyFailure(outcome.error, { clientGone: gone, bodyOverLimit: false, answerStarted: outcome.answerStarted, bodyUnsent: false })
  if (!countsAgainstInstance(failure)) return
  deps.metrics.upstreamError(pool.name, failure)
  noteFailure(pool, upstream, failure, deps, now())
}

function noteFailure (pool: ServicePool, upstream: Upstream, failure: FailureKind, deps: ProxyDeps, at: number): void {
  if (!upstream.outlier.onFailure(failure, at) || !pool.mayEject(upstream, at)) return
  const ms = upstream.outlier.eject(at)
  deps.metrics.ejection(pool.name, upstream.id)
  deps.log.warn({ target: pool.name, instance: upstream.id, cause: failure, ejectedForMs: ms }, 'instance ejected')
  deps.events.emit({ type: 'ejected', service: pool.name, instance: upstream.id, message: `${upstream.id} ejected for ${ms} ms (${failure})` })
}

/** Whether the gateway's registry still shows `upstream`'s instance in `role`. */
function stillHolds (pool: ServicePool, upstream: Upstream, role: string): boolean {
  return pool.upstreams.some((u) => u.id === upstream.id && u.role === role)
}

/**
 * During an election there is briefly no leader (or only the dead one, still registered): wait
 * for a new one rather than fail at once.
 */
async function waitForLeader (pool: ServicePool, tried: ReadonlySet<Upstream>, waitMs: number, now: () => number): Promise<Upstream | undefined> {
  const giveUp = now() + waitMs
  while (now() < giveUp) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    const leader = pool.pick(now(), { role: 'leader', exclude: tried })
    if (leader !== undefined) return leader
  }
  return undefined
}

/** Writes, and reads without `consistency=eventual`, go to the leader. */
function needsLeader (method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true
  return !/[?&]consistency=eventual(&|$)/.test(path)
}

function noUpstream (service: string, role: string | undefined): ClusterError {
  const what = role === undefined ? 'no healthy instance' : `no ${role}`
  return clusterError('GW_ERR_NO_UPSTREAM', `${what} of service "${service}" is available`, { retryable: true })
}

function tryError (failure: FailureKind, service: string, deadlinePassed: boolean): ClusterError {
  if (deadlinePassed) return clusterError('GW_ERR_DEADLINE_EXCEEDED', `the request deadline passed before "${service}" answered`)
  if (failure === 'timeout') return clusterError('GW_ERR_UPSTREAM_TIMEOUT', `"${service}" did not answer in time`, { retryable: true })
  return clusterError('GW_ERR_UPSTREAM_BROKEN', `"${service}" failed before answering (${failure})`, { retryable: true })
}

/**
 * Answers with the JSON error envelope on the raw response, or cuts it if a response had begun.
 * `close` ends the connection after it (a body the client has not sent yet will never be read).
 */
export function writeError (res: ServerResponse, err: ClusterError, requestId: string, instanceId: string, close = false): number {
  if (res.headersSent) {
    res.destroy()
    return res.statusCode
  }
  const payload = JSON.stringify(toEnvelope(err))
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    ...(close ? { connection: 'close' } : {}),
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'x-instance-id': instanceId,
    ...(err.statusCode === 503 ? { 'retry-after': '1' } : {})
  })
  res.end(payload)
  return err.statusCode
}
