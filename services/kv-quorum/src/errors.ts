import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * kv-quorum's error codes; docs/kv-quorum.md lists them ("Errors").
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const kvQuorumErrors = defineErrors({
  KVQ_ERR_BAD_KEY: { status: 400, message: 'bad key' },
  KVQ_ERR_BAD_QUORUM: { status: 400, message: 'bad quorum' },
  KVQ_ERR_VALUE_TOO_LARGE: { status: 413, message: 'the value is too large' },
  KVQ_ERR_NOT_FOUND: { status: 404, message: 'no such key' },
  KVQ_ERR_NO_QUORUM: { status: 503, message: 'too few replicas answered' },
  KVQ_ERR_PRECONDITION_UNSUPPORTED: { status: 501, message: 'a leaderless store cannot compare and set atomically' },
  KVQ_ERR_BAD_RECORD: { status: 400, message: 'malformed replication record' },
  KVQ_ERR_BAD_BUCKET: { status: 400, message: 'bucket number out of range' }
})

export const kvqError = errorFactory(kvQuorumErrors)
