import { defineErrors, errorFactory } from '../../shared/src/errors.js'

/**
 * The launcher control API's error codes (docs/errors.md, "Launcher control API").
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const controlErrors = defineErrors({
  CTL_ERR_UNAUTHORIZED: { status: 401, message: 'the control token is missing or wrong' },
  CTL_ERR_FORBIDDEN: { status: 403, message: 'only local programs may call the control API' },
  CTL_ERR_NOT_FOUND: { status: 404, message: 'no such instance, service or route' },
  CTL_ERR_BAD_REQUEST: { status: 400, message: 'the request is malformed' },
  CTL_ERR_CONFLICT: { status: 409, message: 'the action does not fit the current state' },
  CTL_ERR_INTERNAL: { status: 500, message: 'the launcher failed to carry out the action' }
})

export const controlError = errorFactory(controlErrors)
