import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * The feed's error codes (documented in docs/pairs.md, "Errors").
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const feedErrors = defineErrors({
  FEED_ERR_BAD_EVENT: { status: 400, message: 'the body is not a valid event' },
  FEED_ERR_BAD_IDEMPOTENCY_KEY: { status: 400, message: 'Idempotency-Key must be 1–128 characters of A–Z a–z 0–9 . _ : -' },
  FEED_ERR_KEY_REUSED: { status: 422, message: 'the Idempotency-Key was already used for another event' },
  FEED_ERR_FULL: { status: 503, message: 'the feed is full' },
  FEED_ERR_UNAVAILABLE: { status: 503, message: 'Redis is unreachable; nothing was appended' },
  FEED_ERR_OUTCOME_UNKNOWN: { status: 503, message: 'the event may or may not have been appended' }
})

export const feedError = errorFactory(feedErrors)
