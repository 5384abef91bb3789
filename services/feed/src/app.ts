import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { createApp, type CommonAppOptions } from '../../../shared/src/service/create-app.js'
import { parseEvent } from './core/event.js'
import type { FeedStream } from './adapters/stream.js'

export interface FeedDeps {
  stream: Pick<FeedStream, 'append'>
  bodyLimitBytes: number
}

/** The upstream of the pipeline: validates events and appends them to the stream. */
export function buildApp (identity: CommonAppOptions, deps: FeedDeps): FastifyInstance {
  const app = createApp({ ...identity, bodyLimit: deps.bodyLimitBytes })
  const appended = new Counter({ name: 'feed_events_appended_total', help: 'Events appended to the feed stream', registers: [app.metricsRegistry] })
  app.post('/events', async (request, reply) => {
    const event = parseEvent(request.body)
    const id = await deps.stream.append(event)
    appended.inc()
    return await reply.code(202).send({ id })
  })
  return app
}
