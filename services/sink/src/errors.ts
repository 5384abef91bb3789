import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * The sink's error codes (documented in docs/pairs.md, "Errors").
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const sinkErrors = defineErrors({
  SINK_ERR_BAD_BATCH: { status: 400, message: 'the batch or claim is malformed' },
  SINK_ERR_BAD_QUERY: { status: 400, message: 'the query is malformed' },
  SINK_ERR_STALE_EPOCH: { status: 409, message: 'the batch carries a stale epoch' },
  SINK_ERR_UNAVAILABLE: { status: 503, message: 'the sink cannot reach Redis; nothing was written' },
  SINK_ERR_OUTCOME_UNKNOWN: { status: 503, message: 'the batch may have been applied but is not confirmed by the Redis replica' }
})

export const sinkError = errorFactory(sinkErrors)
