import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * The compute service's error codes; docs/compute.md "Errors" lists each. Every 503 is retryable and comes with Retry-After.
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const computeErrors = defineErrors({
  COMPUTE_ERR_BAD_PARAM: { status: 400, message: 'a param is missing, not an integer, or out of range' },
  COMPUTE_ERR_UNKNOWN_TASK: { status: 400, message: 'unknown task' },
  COMPUTE_ERR_PARAMS_TOO_LARGE: { status: 400, message: 'job params are too large' },
  COMPUTE_ERR_BAD_IDEMPOTENCY_KEY: { status: 400, message: 'Idempotency-Key must be 1–128 characters of A–Z a–z 0–9 . _ : -' },
  COMPUTE_ERR_OVERLOADED: { status: 503, message: 'every thread is busy and the queue is full' },
  COMPUTE_ERR_DEADLINE: { status: 504, message: 'the task ran past its deadline and was cancelled' },
  COMPUTE_ERR_TASK_FAILED: { status: 500, message: 'the worker failed' },
  COMPUTE_ERR_JOB_NOT_FOUND: { status: 404, message: 'no such job, or its record expired' },
  COMPUTE_ERR_JOBS_FULL: { status: 503, message: 'too many jobs are queued or running' },
  COMPUTE_ERR_JOBS_UNAVAILABLE: { status: 503, message: 'the job queue (Redis) is unreachable' },
  COMPUTE_ERR_OUTCOME_UNKNOWN: { status: 503, message: 'the job may or may not have been accepted' }
})

export const computeError = errorFactory(computeErrors)
