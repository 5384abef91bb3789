import { defineErrors, errorFactory } from '../../../shared/src/errors.js'

/**
 * The echo service's one error code (docs/errors.md).
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const echoErrors = defineErrors({
  ECHO_ERR_BAD_PARAM: { status: 400, message: '?delay= or ?status= is out of range or not an integer' }
})

export const echoError = errorFactory(echoErrors)
