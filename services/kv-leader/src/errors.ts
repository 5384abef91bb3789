import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * Every error code kv-leader answers with (docs/kv-leader.md "Errors" lists them). Every 503 that
 * says "not done" (no quorum for a read, no leader, not the leader) is retryable;
 * `KVL_ERR_OUTCOME_UNKNOWN` is not: the write may still be applied, so repeating it is the
 * client's call, never a proxy's.
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const kvLeaderErrors = defineErrors({
  KVL_ERR_BAD_KEY: { status: 400, message: 'bad key' },
  KVL_ERR_BAD_IF_MATCH: { status: 400, message: 'If-Match / If-None-Match is neither * nor a list of entity-tags' },
  KVL_ERR_BAD_CONSISTENCY: { status: 400, message: 'consistency must be linearizable or eventual' },
  KVL_ERR_VALUE_TOO_LARGE: { status: 413, message: 'the value is too large' },
  KVL_ERR_NOT_FOUND: { status: 404, message: 'no such key' },
  KVL_ERR_VERSION_MISMATCH: { status: 412, message: 'the precondition did not hold' },
  KVL_ERR_NO_QUORUM: { status: 503, message: 'the new leader has not committed its first entry yet' },
  KVL_ERR_OUTCOME_UNKNOWN: { status: 503, message: 'the write may or may not be applied', retryable: false },
  KVL_ERR_NOT_LEADER: { status: 503, message: 'this replica is not the leader' },
  KVL_ERR_NO_LEADER: { status: 503, message: 'no leader to forward to' },
  KVL_ERR_BAD_REPLICATION: { status: 400, message: 'malformed append request' }
})

export type KvErrorCode = keyof typeof kvLeaderErrors

export const kvError = errorFactory(kvLeaderErrors)
