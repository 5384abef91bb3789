import { mayHaveWritten } from '../../../../shared/src/redis-replication.js'
import { sinkError } from '../errors.js'

/** Maps a Redis failure of a read to 503 SINK_ERR_UNAVAILABLE (callers retry). */
export function unavailable (err: unknown): never {
  throw sinkError('SINK_ERR_UNAVAILABLE', `sink storage unreachable: ${(err as Error).message}`, { cause: err })
}

/**
 * Maps a failed ingest or claim: 503 SINK_ERR_OUTCOME_UNKNOWN when it may have been applied
 * without being confirmed on the Redis replicas (the ledger retries; the sink dedupes), else
 * 503 SINK_ERR_UNAVAILABLE (nothing was written: every write is one script).
 */
export function writeFailed (err: unknown): never {
  if (mayHaveWritten(err)) throw sinkError('SINK_ERR_OUTCOME_UNKNOWN', `the write may or may not be stored (not confirmed on the Redis replicas: ${(err as Error).message}); retry it`, { cause: err })
  unavailable(err)
}
