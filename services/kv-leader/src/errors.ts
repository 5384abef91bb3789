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
  KVL_ERR_NOT_LEADER: 503,
  KVL_ERR_NO_LEADER: 503,
  KVL_ERR_BAD_REPLICATION: 400
} as const

export type KvErrorCode = keyof typeof kvErrorCodes

/** Every 503 (no quorum, no leader, not the leader) is retryable. */
export const kvError = errorFactory(kvErrorCodes)
