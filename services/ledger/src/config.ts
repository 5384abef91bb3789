import { boolean, integer, oneOf, type ConfigSpec } from '../../../shared/src/config.js'
import { pairNames } from '../../../shared/src/pipeline/types.js'

export const ledgerSpec = {
  /** Which pair this instance belongs to: `hot-hot` registers as service ledger-hh, `hot-warm` as ledger-hw. */
  pair: oneOf('LEDGER_PAIR', pairNames, 'hot-hot'),
  /** Hot-warm lease time-to-live in Redis. */
  leaseTtlMs: integer('LEDGER_LEASE_TTL_MS', 1_000, { min: 50, max: 60_000 }),
  /** How often the hot renews its lease (at most half the TTL). */
  leaseRenewMs: integer('LEDGER_LEASE_RENEW_MS', 200, { min: 10, max: 30_000 }),
  /** How often the warm tries to take the lease. */
  leaseRetryMs: integer('LEDGER_LEASE_RETRY_MS', 50, { min: 10, max: 30_000 }),
  /** Subtracted from the local lease validity against clock drift. */
  leaseMarginMs: integer('LEDGER_LEASE_MARGIN_MS', 100, { min: 0, max: 30_000 }),
  /** Take over at once when the hot's Redis connection is gone (kill -9) instead of waiting for the TTL. */
  fastTakeover: boolean('LEDGER_FAST_TAKEOVER', true),
  /** Most outputs per batch sent to the sink. */
  batchMax: integer('LEDGER_BATCH_MAX', 1_000, { min: 1, max: 5_000 }),
  /** Most feed entries read per XREAD. */
  readCount: integer('LEDGER_READ_COUNT', 2_000, { min: 1, max: 100_000 }),
  /** Per-request timeout towards the sink. */
  sendTimeoutMs: integer('LEDGER_SEND_TIMEOUT_MS', 2_000, { min: 50, max: 60_000 }),
  /** How often a non-emitting instance reads the sink's high-water mark to trim its outbox. */
  hwmPollMs: integer('LEDGER_HWM_POLL_MS', 1_000, { min: 50, max: 60_000 }),
  /** After a failed sink call (a batch, a claim): the first wait, growing by as much per failure in a row. */
  retryMs: integer('LEDGER_RETRY_MS', 20, { min: 1, max: 10_000 }),
  /** The longest wait between retries (sink calls, feed reads, waiting for a sink at start). */
  retryMaxMs: integer('LEDGER_RETRY_MAX_MS', 200, { min: 1, max: 60_000 }),
  /**
   * How long the emitter sleeps with nothing to send before looking again: a safety net, since
   * what makes sending possible (new entries, a claimed epoch, the end of the rebuild) wakes it at once.
   */
  idleMs: integer('LEDGER_IDLE_MS', 500, { min: 1, max: 10_000 }),
  /** FAULT INJECTION for tests: send without checking the lease first, so the sink's fencing is what stops a stale hot. */
  faultSkipLeaseCheck: boolean('LEDGER_FAULT_SKIP_LEASE_CHECK', false)
} satisfies ConfigSpec

/** The registry service name of a pair. */
export function ledgerService (pair: typeof pairNames[number]): string {
  return pair === 'hot-hot' ? 'ledger-hh' : 'ledger-hw'
}
