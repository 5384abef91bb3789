import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { isPairName } from '../../../../shared/src/pipeline/types.js'
import { parseBatch } from '../core/batch.js'
import { sinkError } from '../errors.js'
import type { SinkStore } from '../adapters/store.js'
import { unavailable } from './unavailable.js'

/**
 * Ingest and the pair claim, under /internal/ (the gateway refuses to forward it): only the
 * ledger instances talk to these.
 */
export function internalRoutes (app: FastifyInstance, store: SinkStore): void {
  const results = new Counter({ name: 'sink_outputs_total', help: 'Outputs received, by pair and result', labelNames: ['pair', 'result'], registers: [app.metricsRegistry] })

  app.post('/internal/outputs', async (request, reply) => {
    const batch = parseBatch(request.body)
    const r = await store.ingest(batch).catch(unavailable)
    if (r.stale) {
      results.inc({ pair: batch.pair, result: 'stale' }, batch.outputs.length)
      request.log.warn({ pair: batch.pair, epoch: batch.epoch, newest: r.epoch, from: batch.instance, outputs: batch.outputs.length }, 'stale epoch rejected')
      throw sinkError('SINK_ERR_STALE_EPOCH', `epoch ${batch.epoch} is older than the pair's newest epoch ${r.epoch}`)
    }
    results.inc({ pair: batch.pair, result: 'stored' }, r.stored)
    if (r.duplicatesDropped > 0) results.inc({ pair: batch.pair, result: 'duplicate' }, r.duplicatesDropped)
    if (r.conflicts > 0) {
      results.inc({ pair: batch.pair, result: 'conflict' }, r.conflicts)
      request.log.error({ pair: batch.pair, from: batch.instance, inputIds: r.conflictIds.slice(0, 20) }, 'conflicting outputs for the same input')
    }
    return await reply.send(r)
  })

  app.post<{ Params: { pair: string }, Body: { epoch?: unknown } }>('/internal/pairs/:pair/claim', async (request) => {
    const { pair } = request.params
    const epoch = request.body?.epoch
    if (!isPairName(pair)) throw sinkError('SINK_ERR_BAD_QUERY', `unknown pair ${JSON.stringify(pair)}`)
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw sinkError('SINK_ERR_BAD_BATCH', 'epoch must be a non-negative integer')
    return await store.claim(pair, epoch).catch(unavailable)
  })
}
