import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import { echoError } from './errors.js'

/** Largest `?delay=` accepted, so a request can never hold a connection for long. */
const maxDelayMs = 30_000

export interface EchoParams { delayMs: number, status: number }

/** Pure validation of the two knobs that let tests exercise timeouts and ejection. */
export function parseEchoParams (query: Record<string, unknown>): EchoParams {
  const delayMs = integerParam(query.delay, 'delay', 0, maxDelayMs, 0)
  const status = integerParam(query.status, 'status', 200, 599, 200)
  return { delayMs, status }
}

function integerParam (raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min && value <= max)) throw echoError('ECHO_ERR_BAD_PARAM', `${name} must be an integer ${min}–${max}, got ${JSON.stringify(raw)}`)
  return value
}

export interface EchoOptions {
  /** Injected slowness: `ms` more for a `share` of requests (ECHO_SLOW_MS, ECHO_SLOW_SHARE). */
  slow?: { ms: number, share: number }
  /** @default Math.random */
  random?: () => number
}

/** The stateless pool: answers any path with who served it, so balancing can be seen. */
export function buildApp (identity: CommonAppOptions, opts: EchoOptions = {}): FastifyInstance {
  const app = createApp(identity)
  const random = opts.random ?? Math.random
  const waiting = new Gauge({ name: 'echo_delays_waiting', help: 'Delayed answers waiting now', registers: [app.metricsRegistry] })
  const cancelled = new Counter({ name: 'echo_delays_cancelled_total', help: 'Delayed answers abandoned because the caller went away (a gateway cancelling a hedged request\'s losing try)', registers: [app.metricsRegistry] })
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/*',
    handler: async (request, reply) => {
      const params = parseEchoParams(request.query as Record<string, unknown>)
      const { status } = params
      const delayMs = params.delayMs + (opts.slow !== undefined && opts.slow.ms > 0 && random() < opts.slow.share ? opts.slow.ms : 0)
      if (delayMs > 0) {
        // a caller that leaves (a hedge answered first, a timeout) ends the wait: nobody reads the answer
        const left = new AbortController()
        const onClose = (): void => { if (!reply.raw.writableFinished) left.abort() }
        reply.raw.once('close', onClose)
        waiting.inc()
        try {
          await sleep(delayMs, undefined, { signal: left.signal })
        } catch {
          cancelled.inc()
          return await reply.hijack()
        } finally {
          waiting.dec()
          reply.raw.off('close', onClose)
        }
      }
      const [path = '/', query = ''] = request.url.split('?', 2)
      const body = request.body
      return await reply.code(status).send({
        instance: identity.instanceId,
        method: request.method,
        path,
        query: Object.fromEntries(new URLSearchParams(query)),
        ...(Buffer.isBuffer(body) || typeof body === 'string' ? { bodyBytes: Buffer.byteLength(body) } : {})
      })
    }
  })
  return app
}
