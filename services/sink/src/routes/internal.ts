import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { isPairName } from '../../../../shared/src/pipeline/types.js'
import { parseBatch, parseEpochHolder } from '../core/batch.js'
import { sinkError } from '../errors.js'
import type { SinkStore } from '../adapters/store.js'
import { writeFailed } from './unavailable.js'

/**
 * Ingest and the pair claim, under /internal/ (the gateway refuses to forward it): only the
 * ledger instances talk to these.
 */
export function internalRoutes (app: FastifyInstance, store: SinkStore): void {
  const results = new Counter({ name: 'sink_outputs_total', help: 'Outputs received, by pair and result', labelNames: ['pair', 'result'], registers: [app.metricsRegistry] })

  app.post('/internal/outputs', async (request, reply) => {
    const batch = parseBatch(request.body)
    const r = await store.ingest(batch).catch(writeFailed)
    if (r.stale !== false) {
      results.inc({ pair: batch.pair, result: 'stale' }, batch.outputs.length)
      request.log.warn({ pair: batch.pair, epoch: batch.epoch, newest: r.epoch, from: batch.instance, outputs: batch.outputs.length, why: r.stale }, 'stale epoch rejected')
      throw sinkError('SINK_ERR_STALE_EPOCH', r.stale === 'older'
        ? `epoch ${batch.epoch} is older than the pair's newest epoch ${r.epoch}`
        : `epoch ${batch.epoch} was claimed by another holder: an epoch is never shared`)
    }
    results.inc({ pair: batch.pair, result: 'stored' }, r.stored)
    if (r.duplicatesDropped > 0) results.inc({ pair: batch.pair, result: 'duplicate' }, r.duplicatesDropped)
    if (r.conflicts > 0) {
      results.inc({ pair: batch.pair, result: 'conflict' }, r.conflicts)
      request.log.error({ pair: batch.pair, from: batch.instance, inputIds: r.conflictIds.slice(0, 20) }, 'conflicting outputs for the same input')
    }
    return await reply.send(r)
  })

  app.post<{ Params: { pair: string }, Body: unknown }>('/internal/pairs/:pair/claim', async (request) => {
    const { pair } = request.params
    if (!isPairName(pair)) throw sinkError('SINK_ERR_BAD_QUERY', `unknown pair ${JSON.stringify(pair)}`)
    const body = typeof request.body === 'object' && request.body !== null ? request.body as Record<string, unknown> : {}
    const { epoch, holder } = parseEpochHolder(body)
    const r = await store.claim(pair, epoch, holder).catch(writeFailed)
    if (r.outcome === 'older' || r.outcome === 'taken') request.log.warn({ pair, epoch, newest: r.epoch, holder, why: r.outcome }, 'claim refused')
    return r
  })
}
