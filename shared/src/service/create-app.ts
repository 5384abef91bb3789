import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { Registry } from 'prom-client'
import { ClusterError, clusterError, toEnvelope, type ErrorCode, type ErrorEnvelope } from '../errors.js'
import type { Logger } from '../logger.js'
import { clientErrorHandler, frameworkErrors } from './client-errors.js'
import { enforceDeadlines } from './deadline.js'
import { drainUnreadBody } from './linger.js'
import { createMetricsRegistry, httpServerMetrics } from './metrics.js'

export interface AppIdentity {
  service: string
  instanceId: string
  logger: Logger
}

export interface CommonAppOptions extends AppIdentity {
  /** Extra readiness: return the reasons it is not ready, or an empty list. */
  readiness?: () => string[]
  /** @default 1 MiB */
  bodyLimit?: number
  metrics?: Registry
  /** Count and time every request (the gateway counts proxied ones itself). @default true */
  httpMetrics?: boolean
  fastify?: Partial<FastifyServerOptions>
}

declare module 'fastify' {
  interface FastifyInstance {
    instanceId: string
    metricsRegistry: Registry
  }
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/

/** Accepts a caller's x-request-id when it is sane, otherwise makes one. */
export function requestIdFrom (header: string | string[] | undefined): string {
  return typeof header === 'string' && requestIdPattern.test(header) ? header : randomUUID()
}

/**
 * The Fastify app every process starts from: request ids on every log line, `x-instance-id`
 * and `x-request-id` on every response, JSON errors, /healthz, /readyz and /metrics.
 * It never listens: `runService` does that.
 */
export function createApp (opts: CommonAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    bodyLimit: opts.bodyLimit ?? 1_048_576, // 1 MiB
    routerOptions: { maxParamLength: 2_048 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler,
    frameworkErrors,
    ...opts.fastify
  })
  const registry = opts.metrics ?? createMetricsRegistry({ service: opts.service, instance: opts.instanceId })
  app.decorate('instanceId', opts.instanceId)
  app.decorate('metricsRegistry', registry)

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-instance-id', opts.instanceId)
    reply.header('x-request-id', request.id)
    // Fastify closes the connection when it refuses a body it has not read (its 413): the reset
    // that follows can destroy the answer before the caller reads it (the gateway saw EPIPE and
    // blamed the instance). Read the rest of the body away instead, within bounds (linger.ts)
    if (!request.raw.complete && reply.getHeader('connection') === 'close') {
      reply.removeHeader('connection')
      drainUnreadBody(request.raw)
    }
  })
  if (opts.httpMetrics !== false) observeRequests(app, registry)
  enforceDeadlines(app)

  app.setErrorHandler((err: FastifyError | ClusterError, _request, reply) => { sendError(reply, err) })
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, clusterError('HTTP_ERR_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })

  app.get('/healthz', async () => ({ status: 'ok', service: opts.service, instance: opts.instanceId, uptimeS: Math.round(process.uptime()) }))
  app.get('/readyz', async (_request, reply) => {
    const reasons = opts.readiness?.() ?? []
    if (reasons.length === 0) return { status: 'ready', instance: opts.instanceId }
    // answered, not thrown: a poll of an instance still starting is no fault to log
    return await reply.code(503).send(toEnvelope(clusterError('HTTP_ERR_UNAVAILABLE', `not ready: ${reasons.join('; ')}`, { details: { reasons } })))
  })
  app.get('/metrics', async (_request, reply) => {
    void reply.type(registry.contentType)
    return await registry.metrics()
  })
  return app
}

function observeRequests (app: FastifyInstance, registry: Registry): void {
  const { requests, duration } = httpServerMetrics(registry)
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ method: request.method, route, status: String(reply.statusCode) })
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
    if (reply.statusCode >= 500) request.log.warn({ status: reply.statusCode, url: request.url, ms: reply.elapsedTime }, 'request failed')
    else request.log.debug({ status: reply.statusCode, url: request.url, ms: reply.elapsedTime }, 'request completed')
  })
}

const fastifyCodeNames: Record<number, ErrorCode> = {
  400: 'HTTP_ERR_BAD_REQUEST',
  404: 'HTTP_ERR_NOT_FOUND',
  405: 'HTTP_ERR_METHOD_NOT_ALLOWED',
  413: 'HTTP_ERR_PAYLOAD_TOO_LARGE',
  415: 'HTTP_ERR_UNSUPPORTED_MEDIA_TYPE',
  431: 'HTTP_ERR_HEADERS_TOO_LARGE',
  503: 'HTTP_ERR_UNAVAILABLE'
}

/** Maps any thrown error to a status and the JSON envelope; 5xx never leaks internals. */
function errorResponse (err: FastifyError | ClusterError | Error): { status: number, body: ErrorEnvelope } {
  if (err instanceof ClusterError) return { status: err.statusCode, body: toEnvelope(err) }
  const status = (err as FastifyError).statusCode ?? 500
  // a framework 4xx keeps its own status (406, 409…) under the nearest code of the catalogue
  if (status >= 400 && status < 500) return { status, body: toEnvelope(clusterError(fastifyCodeNames[status] ?? 'HTTP_ERR_BAD_REQUEST', err.message)) }
  if (status === 503) return { status, body: toEnvelope(clusterError('HTTP_ERR_UNAVAILABLE', err.message)) }
  return { status: 500, body: toEnvelope(clusterError('HTTP_ERR_INTERNAL')) }
}

/**
 * Answers with the JSON envelope of any error: a retryable 503 comes with `Retry-After`, and a
 * server-side fault (5xx but 501, a refusal) is logged with the request's id.
 */
export function sendError (reply: FastifyReply, err: FastifyError | ClusterError | Error): void {
  const { status, body } = errorResponse(err)
  if (status >= 500 && status !== 501) reply.log.error({ err }, 'request error')
  if (err instanceof ClusterError && err.retryable && status === 503) void reply.header('retry-after', '1')
  void reply.code(status).send(body)
}
