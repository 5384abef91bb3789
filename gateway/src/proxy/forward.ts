import type { IncomingMessage, ServerResponse } from 'node:http'
import { ClusterError, clusterError, toEnvelope } from '../../../shared/src/errors.js'
import { requestIdFrom } from '../../../shared/src/service/create-app.js'
import type { ResponseCache } from '../cache/response-cache.js'
import type { Logger } from '../../../shared/src/logger.js'
import type { GatewayConfig } from '../config.js'
import type { ProxyMetrics } from '../metrics.js'
import type { FailureKind } from '../resilience/outlier-detector.js'
import type { RetryBudget } from '../resilience/retry-budget.js'
import { shouldRetry } from '../resilience/retry-policy.js'
import type { Router } from '../upstreams/router.js'
import type { ServicePool } from '../upstreams/service-pool.js'
import type { ServiceSpec } from '../../../topology.js'
import type { Upstream } from '../upstreams/upstream.js'
import { prepareBody } from './body.js'
import { classifyFailure } from './failure.js'
import { upstreamHeaders } from './headers.js'
import { parseProxyPath } from './path.js'
import { ProxyTry } from './proxy-try.js'
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
  /** Serves GETs of `cacheable` services from the response cache (gateway/src/cache). */
  responseCache?: ResponseCache
}

const clientGone = Object.assign(new Error('client closed the connection'), { code: 'CLIENT_GONE' })

/**
 * Proxies `/api/<service>/*` on the raw request (the hot path skips Fastify's routing): choose an
 * instance, stream the request and the response through its keep-alive pool, and on a failure
 * that sent no response byte, try another instance when the retry rules and the budget allow.
 */
export async function proxy (req: IncomingMessage, res: ServerResponse, deps: ProxyDeps): Promise<void> {
  const requestId = requestIdFrom(req.headers['x-request-id'])
  try {
    await forward(req, res, requestId, deps)
  } catch (err) {
    const error = err instanceof ClusterError ? err : clusterError('HTTP_ERR_INTERNAL', 'internal error')
    if (!(err instanceof ClusterError)) deps.log.error({ reqId: requestId, err }, 'proxy failed')
    writeError(res, error, requestId, deps.instanceId)
  }
}

async function forward (req: IncomingMessage, res: ServerResponse, requestId: string, deps: ProxyDeps): Promise<void> {
  const target = parseProxyPath(req.url ?? '/')
  if (!target.ok) throw clusterError(target.code, target.message)
  const pool = deps.router.service(target.service)
  if (pool === undefined) throw clusterError('GW_ERR_UNKNOWN_SERVICE', `unknown service "${target.service}"`)
  const spec = deps.router.spec(target.service)
  if (spec?.cacheable === true && deps.responseCache !== undefined) {
    // every method: reads may be answered from the cache, unsafe methods invalidate it (RFC 9111 §4.4)
    await deps.responseCache.serve(req, res, requestId, target, async (q, s) => { await forwardTo(q, s, requestId, deps, target, pool, spec) })
    return
  }
  await forwardTo(req, res, requestId, deps, target, pool, spec)
}

/** The tries for one request whose service is known (the response cache calls this on a miss). */
async function forwardTo (req: IncomingMessage, res: ServerResponse, requestId: string, deps: ProxyDeps,
  target: { service: string, path: string }, pool: ServicePool, spec: ServiceSpec | undefined): Promise<void> {
  const now = deps.now ?? Date.now
  const started = now()
  const method = req.method ?? 'GET'
  const body = await prepareBody(req, deps.config.bodyLimitBytes, deps.config.replayLimitBytes)
  const role = spec?.routing === 'leader' && needsLeader(method, target.path) ? 'leader' : undefined
  const headers = upstreamHeaders(req.headers, { clientIp: req.socket.remoteAddress ?? '', requestId, host: req.headers.host })
  // one key for every try of this request, never the client's: a service that remembers it
  // applies a retried write once (kv-leader); a client's own value could collide across requests
  if (method === 'GET' || method === 'HEAD') delete headers[retryKeyHeader]
  else headers[retryKeyHeader] = randomUUID()
  const dispatchBody = body.kind === 'buffered' ? body.data : body.kind === 'streamed' ? body.stream : null

  let current: ProxyTry | undefined
  let gone = false
  res.once('close', () => {
    if (res.writableFinished) return
    gone = true
    current?.abort(clientGone)
  })
  const deadline = started + deps.config.deadlineMs
  const tried = new Set<Upstream>()
  let status = 0
  deps.budget.requestStarted(started)
  try {
    for (let attempt = 1; ; attempt++) {
      const upstream = pool.pick(now(), { exclude: tried, role }) ??
        (role !== undefined ? await waitForLeader(pool, tried, Math.min(deps.config.leaderWaitMs, deadline - now()), now) : undefined)
      if (upstream === undefined) {
        status = writeError(res, noUpstream(target.service, role), requestId, deps.instanceId)
        return
      }
      tried.add(upstream)
      deps.metrics.pick(pool.name, upstream.id)
      const timeout = Math.max(1, Math.min(spec?.tryTimeoutMs ?? deps.config.tryTimeoutMs, deadline - now()))
      const t0 = now()
      // past this moment nobody waits for this try: an instance that was frozen and wakes up late
      // must not act on it (a retried PUT executed after its retry would overwrite newer writes)
      headers[deadlineHeader] = String(t0 + timeout)
      upstream.started()
      current = ProxyTry.run(upstream, { origin: upstream.url, path: target.path, method: method as 'GET', headers, body: dispatchBody, headersTimeout: timeout, bodyTimeout: timeout }, res, requestId)
      const outcome = await current.done
      const elapsed = now() - t0
      upstream.finished(elapsed)
      deps.traffic.recordTry(upstream.id, t0 + elapsed, elapsed, outcome.ok && outcome.status < 500)
      if (outcome.ok) {
        status = outcome.status
        // a 503 is an instance saying "not now" on purpose (shedding load, no quorum): not an outlier
        if (status >= 500 && status !== 503) noteFailure(pool, upstream, 'status5xx', deps, now())
        else upstream.outlier.onSuccess(now())
        return
      }
      const failure = classifyFailure(outcome.error, gone)
      if (failure === 'client-abort') {
        status = 499 // nginx's code for a client that went away
        return
      }
      deps.metrics.upstreamError(pool.name, failure)
      noteFailure(pool, upstream, failure, deps, now())
      const retry = now() < deadline && shouldRetry({
        method,
        failure,
        responseStarted: outcome.responseStarted,
        bodyReplayable: body.kind !== 'streamed',
        retryNonIdempotent: spec?.retryNonIdempotent === true,
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

function noteFailure (pool: ServicePool, upstream: Upstream, failure: FailureKind, deps: ProxyDeps, at: number): void {
  if (!upstream.outlier.onFailure(failure, at) || !pool.mayEject(upstream, at)) return
  const ms = upstream.outlier.eject(at)
  deps.metrics.ejection(pool.name, upstream.id)
  deps.log.warn({ target: pool.name, instance: upstream.id, cause: failure, ejectedForMs: ms }, 'instance ejected')
  deps.events.emit({ type: 'ejected', service: pool.name, instance: upstream.id, message: `${upstream.id} ejected for ${ms} ms (${failure})` })
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

/** Answers with the JSON error envelope on the raw response, or cuts it if a response had begun. */
export function writeError (res: ServerResponse, err: ClusterError, requestId: string, instanceId: string): number {
  if (res.headersSent) {
    res.destroy()
    return res.statusCode
  }
  const payload = JSON.stringify(toEnvelope(err))
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    // an error may leave part of a request body unread: do not reuse the connection for it
    ...(err.statusCode === 413 ? { connection: 'close' } : {}),
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'x-instance-id': instanceId,
    ...(err.statusCode === 503 ? { 'retry-after': '1' } : {})
  })
  res.end(payload)
  return err.statusCode
}
