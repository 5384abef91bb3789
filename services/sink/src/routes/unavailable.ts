import { sinkError } from '../errors.js'

/** Maps a Redis failure to 503 SINK_ERR_UNAVAILABLE (callers retry; nothing was half-written: every write is one script). */
export function unavailable (err: unknown): never {
  throw sinkError('SINK_ERR_UNAVAILABLE', `sink storage unreachable: ${(err as Error).message}`, { cause: err })
}
