import { errorFactory } from '../../../shared/src/errors.js'

/** kv-quorum's error codes and their statuses; docs/kv-quorum.md lists them ("Errors"). */
export const kvQuorumErrors = {
  KVQ_ERR_BAD_KEY: 400,
  KVQ_ERR_BAD_QUORUM: 400,
  KVQ_ERR_VALUE_TOO_LARGE: 413,
  KVQ_ERR_NOT_FOUND: 404,
  KVQ_ERR_NO_QUORUM: 503,
  KVQ_ERR_PRECONDITION_UNSUPPORTED: 501,
  KVQ_ERR_BAD_RECORD: 400,
  KVQ_ERR_BAD_BUCKET: 400
} as const

export type KvQuorumErrorCode = keyof typeof kvQuorumErrors

export const kvqError = errorFactory(kvQuorumErrors)
