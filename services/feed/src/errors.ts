import { errorFactory } from '../../../shared/src/errors.js'

/** The feed's error codes and their statuses (documented in docs/pairs.md, "Errors"). */
export const feedErrors = {
  FEED_ERR_BAD_EVENT: 400,
  FEED_ERR_BAD_IDEMPOTENCY_KEY: 400,
  FEED_ERR_KEY_REUSED: 422,
  FEED_ERR_FULL: 503,
  FEED_ERR_UNAVAILABLE: 503,
  FEED_ERR_OUTCOME_UNKNOWN: 503
} as const

export type FeedErrorCode = keyof typeof feedErrors

export const feedError = errorFactory(feedErrors)
