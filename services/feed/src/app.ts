import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import { deadlineFrom, deadlineHeader } from '../../../shared/src/service/deadline.js'
import { parseEvent, parseIdempotencyKey } from './core/event.js'
import { feedError } from './errors.js'
import type { FeedStream } from './adapters/stream.js'

export interface FeedDeps {
  stream: Pick<FeedStream, 'append'>
  bodyLimitBytes: number
}

/**
 * The upstream of the pipeline: validates events and appends them to the stream. With an
 * `Idempotency-Key`, a retry of the same event returns the first id (200) instead of appending
 * again, and the same key with another event is refused (422).
 */
export function buildApp (identity: CommonAppOptions, deps: FeedDeps): FastifyInstance {
  const app = createApp({ ...identity, bodyLimit: deps.bodyLimitBytes })
  const appended = new Counter({ name: 'feed_events_appended_total', help: 'Events appended to the feed stream', registers: [app.metricsRegistry] })
  app.post('/events', async (request, reply) => {
    const event = parseEvent(request.body)
    const key = parseIdempotencyKey(request.headers['idempotency-key'])
    const r = await deps.stream.append(event, key, deadlineFrom(request.headers[deadlineHeader]))
    if ('conflict' in r) throw feedError('FEED_ERR_KEY_REUSED', `Idempotency-Key ${JSON.stringify(key)} was used for another event (input ${r.id}): use a new key for a new event`)
    if (!r.created) return await reply.code(200).send({ id: r.id })
    appended.inc()
    return await reply.code(202).send({ id: r.id })
  })
  return app
}
