import { integer, type ConfigSpec } from '../../../shared/src/config.js'

export const feedSpec = {
  /** The most events the stream may hold; appends beyond it get 503 FEED_ERR_FULL. 0 = no cap. */
  maxEvents: integer('FEED_MAX_EVENTS', 5_000_000, { min: 0 }),
  /** How long an Idempotency-Key is remembered (at least 24 h): a retry within it returns the first id. */
  idempotencyTtlS: integer('FEED_IDEMPOTENCY_TTL_S', 86_400, { min: 86_400, max: 30 * 86_400 }),
  /** How long an append waits for an unreachable Redis to come back (never past the caller's deadline). @default 2000 */
  reconnectWaitMs: integer('FEED_REDIS_RECONNECT_WAIT_MS', 2_000, { min: 0, max: 60_000 }),
  /** Largest request body, in bytes. */
  bodyLimitBytes: integer('FEED_BODY_LIMIT_BYTES', 4_096, { min: 256, max: 1_048_576 })
} satisfies ConfigSpec
