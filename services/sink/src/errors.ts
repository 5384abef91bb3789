import { errorFactory } from '../../../shared/src/errors.js'

/** The sink's error codes and their statuses (documented in docs/pairs.md, "Errors"). */
export const sinkErrors = {
  SINK_ERR_BAD_BATCH: 400,
  SINK_ERR_BAD_QUERY: 400,
  SINK_ERR_STALE_EPOCH: 409,
  SINK_ERR_UNAVAILABLE: 503,
  SINK_ERR_OUTCOME_UNKNOWN: 503
} as const

export type SinkErrorCode = keyof typeof sinkErrors

export const sinkError = errorFactory(sinkErrors)
