import { errorFactory, type ClusterError } from '../../../shared/src/errors.js'

/** The compute service's error codes and their statuses; docs/compute.md "Errors" lists each. */
export const computeErrorCodes = {
  COMPUTE_ERR_BAD_PARAM: 400,
  COMPUTE_ERR_UNKNOWN_TASK: 400,
  COMPUTE_ERR_PARAMS_TOO_LARGE: 400,
  COMPUTE_ERR_BAD_IDEMPOTENCY_KEY: 400,
  COMPUTE_ERR_OVERLOADED: 503,
  COMPUTE_ERR_DEADLINE: 504,
  COMPUTE_ERR_TASK_FAILED: 500,
  COMPUTE_ERR_JOB_NOT_FOUND: 404,
  COMPUTE_ERR_JOBS_FULL: 503,
  COMPUTE_ERR_JOBS_UNAVAILABLE: 503,
  COMPUTE_ERR_OUTCOME_UNKNOWN: 503
} as const

export type ComputeErrorCode = keyof typeof computeErrorCodes

const makeError = errorFactory(computeErrorCodes)

/** Every 503 (overloaded, jobs full or unavailable) is retryable and comes with Retry-After. */
export function computeError (code: ComputeErrorCode, message: string, cause?: unknown): ClusterError {
  return makeError(code, message, { cause })
}
