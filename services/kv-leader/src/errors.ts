import { errorFactory } from '../../../shared/src/errors.js'

/** Every error code kv-leader answers with, and its HTTP status (docs/kv-leader.md "Errors" lists them). */
export const kvErrorCodes = {
  KVL_ERR_BAD_KEY: 400,
  KVL_ERR_BAD_IF_MATCH: 400,
  KVL_ERR_BAD_CONSISTENCY: 400,
  KVL_ERR_VALUE_TOO_LARGE: 413,
  KVL_ERR_NOT_FOUND: 404,
  KVL_ERR_VERSION_MISMATCH: 412,
  KVL_ERR_NO_QUORUM: 503,
  KVL_ERR_OUTCOME_UNKNOWN: 503,
  KVL_ERR_NOT_LEADER: 503,
  KVL_ERR_NO_LEADER: 503,
  KVL_ERR_BAD_REPLICATION: 400
} as const

export type KvErrorCode = keyof typeof kvErrorCodes

const factory = errorFactory(kvErrorCodes)

/**
 * Every 503 that says "not done" (no quorum for a read, no leader, not the leader) is retryable;
 * `KVL_ERR_OUTCOME_UNKNOWN` is not: the write may still be applied, so repeating it is the
 * client's call, never a proxy's.
 */
export const kvError: typeof factory = (code, message, options = {}) =>
  factory(code, message, code === 'KVL_ERR_OUTCOME_UNKNOWN' ? { ...options, retryable: false } : options)
