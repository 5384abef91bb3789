import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClusterError } from '../../../shared/src/errors.js'
import { clusterError, toEnvelope } from '../../../shared/src/errors.js'
import type { Logger } from '../../../shared/src/logger.js'
import type { GatewayConfig } from '../config.js'
import type { GatewayMetrics } from '../metrics.js'
import type { FailureKind } from '../resilience/outlier-detector.js'
import type { RetryBudget } from '../resilience/retry-budget.js'
import { shouldRetry } from '../resilience/retry-policy.js'
import type { Router } from '../upstreams/router.js'
import type { ServicePool } from '../upstreams/service-pool.js'
import type { Upstream } from '../upstreams/upstream.js'
import { prepareBody, type RequestBody } from './body.js'
import { classifyFailure } from './failure.js'
import { downstreamHeaders, upstreamHeaders } from './headers.js'
import { parseProxyPath } from './path.js'

export interface ProxyDeps {
  router: Router
  budget: RetryBudget
  metrics: GatewayMetrics
  config: GatewayConfig
  log: Logger
  instanceId: string
  now?: () => number
}

type TryResult = { ok: true, status: number } | { ok: false, failure: FailureKind | 'client-abort', responseStarted: boolean, error: unknown }

/**
 * Proxies `/api/<service>/*`: choose an instance, stream the request and the response through
 * its keep-alive pool, and on a failure that sent no response byte, try another instance when
 * the retry rules and the budget allow. Errors decided before the first try are thrown (the
 * Fastify error handler answers them); after that the raw response is ours.
 */
export async function proxy (request: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<void> {
  const now = deps.now ?? Date.now
  const started = now()
  const target = parseProxyPath(request.raw.url ?? '/')
  if (!target.ok) throw clusterError(target.code, target.message)
  const pool = deps.router.service(target.service)
  if (pool === undefined) throw clusterError('GW_ERR_UNKNOWN_SERVICE', `unknown service "${target.service}"`)
  const spec = deps.router.spec(target.service)
  const body = await prepareBody(request.raw, deps.config.bodyLimitBytes, deps.config.replayLimitBytes)
  const role = spec?.routing === 'leader' && needsLeader(request.method, target.path) ? 'leader' : undefined
  const headers = upstreamHeaders(request.headers, { clientIp: request.ip, requestId: request.id, host: request.headers.host })

  void reply.hijack()
  const res = reply.raw
  const abort = new AbortController()
  res.on('close', () => { if (!res.writableFinished) abort.abort() })
  const deadline = started + deps.config.deadlineMs
  const tried = new Set<Upstream>()
  let holdsRetrySlot = false
  let status = 0
  deps.budget.requestStarted()
  try {
    for (let attempt = 1; ; attempt++) {
      const upstream = await pickUpstream(pool, tried, role, deps, now)
      if (upstream === undefined) {
        status = writeError(res, noUpstream(target.service, role), request.id, deps.instanceId)
        return
      }
      tried.add(upstream)
      deps.metrics.picks.inc({ service: pool.name, instance: upstream.id })
      const timeout = Math.max(1, Math.min(spec?.tryTimeoutMs ?? deps.config.tryTimeoutMs, deadline - now()))
      const result = await tryOnce(upstream, request.method, target.path, headers, body, timeout, res, abort.signal, request.id, now)
      if (result.ok) {
        status = result.status
        if (status >= 500) noteFailure(pool, upstream, 'status5xx', deps, now())
        else upstream.outlier.onSuccess(now())
        return
      }
      if (result.failure === 'client-abort') {
        status = 499 // nginx's code for a client that went away
        return
      }
      deps.metrics.upstreamErrors.inc({ service: pool.name, cause: result.failure })
      noteFailure(pool, upstream, result.failure, deps, now())
      const retry = now() < deadline && shouldRetry({
        method: request.method,
        failure: result.failure,
        responseStarted: result.responseStarted,
        bodyReplayable: body.kind !== 'streamed',
        retryNonIdempotent: spec?.retryNonIdempotent === true,
        attempt,
        maxAttempts: deps.config.maxAttempts
      }) && (holdsRetrySlot || deps.budget.tryAcquireRetry())
      if (!retry) {
        request.log.warn({ instance: upstream.id, cause: result.failure, err: (result.error as Error).message }, 'upstream try failed')
        status = writeError(res, tryError(result.failure, target.service, now() >= deadline), request.id, deps.instanceId)
        return
      }
      holdsRetrySlot = true
      deps.metrics.retries.inc({ service: pool.name })
    }
  } finally {
    deps.budget.requestFinished()
    if (holdsRetrySlot) deps.budget.retryFinished()
    deps.metrics.requests.inc({ service: pool.name, status: String(status) })
    deps.metrics.duration.observe({ service: pool.name }, (now() - started) / 1000)
  }
}

async function tryOnce (upstream: Upstream, method: string, path: string, headers: Record<string, string | string[]>, body: RequestBody,
  timeoutMs: number, res: ServerResponse, signal: AbortSignal, requestId: string, now: () => number): Promise<TryResult> {
  const t0 = now()
  let responseStarted = false
  let status = 0
  upstream.started()
  try {
    await upstream.pool.stream({
      path,
      method: method as 'GET',
      headers,
      body: body.kind === 'buffered' ? body.data : body.kind === 'streamed' ? body.stream : null,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    }, ({ statusCode, headers: upstreamHeaders }) => {
      responseStarted = true
      status = statusCode
      res.writeHead(statusCode, downstreamHeaders(upstreamHeaders as Record<string, string | string[]>, requestId))
      return res
    })
    return { ok: true, status }
  } catch (error) {
    return { ok: false, failure: classifyFailure(error, signal.aborted), responseStarted: responseStarted || res.headersSent, error }
  } finally {
    upstream.finished(now() - t0)
  }
}

function noteFailure (pool: ServicePool, upstream: Upstream, failure: FailureKind, deps: ProxyDeps, at: number): void {
  if (!upstream.outlier.onFailure(failure, at) || !pool.mayEject(upstream, at)) return
  const ms = upstream.outlier.eject(at)
  deps.metrics.ejections.inc({ service: pool.name, instance: upstream.id })
  deps.log.warn({ target: pool.name, instance: upstream.id, cause: failure, ejectedForMs: ms }, 'instance ejected')
}

/** Waits briefly for a leader during an election instead of failing at once. */
async function pickUpstream (pool: ServicePool, tried: Set<Upstream>, role: string | undefined, deps: ProxyDeps, now: () => number): Promise<Upstream | undefined> {
  const pick = (): Upstream | undefined => pool.pick(now(), { exclude: tried, ...(role !== undefined ? { role } : {}) })
  let upstream = pick()
  if (upstream !== undefined || role === undefined || tried.size > 0) return upstream
  const giveUp = now() + deps.config.leaderWaitMs
  while (upstream === undefined && now() < giveUp) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    upstream = pick()
  }
  return upstream
}

/** Writes, reads without `consistency=eventual`, go to the leader. */
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

/** Answers with the JSON error envelope on the raw response, or cuts it if a response had begun. */
export function writeError (res: ServerResponse, err: ClusterError, requestId: string, instanceId: string): number {
  if (res.headersSent) {
    res.destroy()
    return res.statusCode
  }
  const payload = JSON.stringify(toEnvelope(err))
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'x-instance-id': instanceId,
    ...(err.statusCode === 503 ? { 'retry-after': '1' } : {})
  })
  res.end(payload)
  return err.statusCode
}
