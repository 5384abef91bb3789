/**
 * One error family for the whole cluster. Every error has a stable string `code`
 * (`<AREA>_ERR_<WHAT>`), the HTTP status it maps to, and whether a retry may help.
 * Codes are documented in docs/errors.md; a retired code is never reused.
 */
export class ClusterError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly retryable: boolean

  constructor (code: string, message: string, statusCode: number, options: { retryable?: boolean, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    this.retryable = options.retryable ?? false
  }
}

/** The JSON body every error response carries. */
export interface ErrorEnvelope {
  error: string
  message: string
  retryable?: boolean
}

export function toEnvelope (err: ClusterError): ErrorEnvelope {
  return err.retryable ? { error: err.code, message: err.message, retryable: true } : { error: err.code, message: err.message }
}

/** The catalogue of codes and their statuses; errors.test.ts keeps docs/errors.md in step with it. */
export const errorCodes = {
  CFG_ERR_INVALID: 500,
  CFG_ERR_UNKNOWN_STRATEGY: 500,
  REDIS_ERR_NOT_REPLICATED: 503,
  HTTP_ERR_BAD_REQUEST: 400,
  HTTP_ERR_NOT_FOUND: 404,
  HTTP_ERR_METHOD_NOT_ALLOWED: 405,
  HTTP_ERR_PAYLOAD_TOO_LARGE: 413,
  HTTP_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  HTTP_ERR_TIMEOUT: 408,
  HTTP_ERR_HEADERS_TOO_LARGE: 431,
  HTTP_ERR_INTERNAL: 500,
  HTTP_ERR_UNAVAILABLE: 503,
  HTTP_ERR_DEADLINE_PASSED: 503,
  GW_ERR_UNKNOWN_SERVICE: 404,
  GW_ERR_FORBIDDEN_PATH: 404,
  GW_ERR_BAD_PATH: 400,
  GW_ERR_NO_UPSTREAM: 503,
  GW_ERR_UPSTREAM_TIMEOUT: 504,
  GW_ERR_UPSTREAM_BROKEN: 502,
  GW_ERR_DEADLINE_EXCEEDED: 504,
  GW_ERR_NOT_CACHED: 504,
  GW_ERR_UNFORWARDABLE: 400,
  GW_ERR_TOO_MANY_STREAMS: 503,
  ECHO_ERR_BAD_PARAM: 400
} as const

export type ErrorCode = keyof typeof errorCodes

/** Builds a ClusterError whose status comes from the catalogue, so a code always maps to one status. */
export function clusterError (code: ErrorCode, message: string, options: { retryable?: boolean, cause?: unknown } = {}): ClusterError {
  return new ClusterError(code, message, errorCodes[code], options)
}

export function badRequest (message: string): ClusterError {
  return clusterError('HTTP_ERR_BAD_REQUEST', message)
}

/**
 * Turns a service's own table of codes (code → HTTP status) into its error factory: the code
 * fixes the status, and a 503 is retryable unless the caller says otherwise.
 */
export function errorFactory<const T extends Record<string, number>> (table: T): (code: keyof T & string, message: string, options?: { retryable?: boolean, cause?: unknown }) => ClusterError {
  return (code, message, options = {}) => {
    const status = table[code] as number
    return new ClusterError(code, message, status, { retryable: options.retryable ?? status === 503, ...(options.cause !== undefined ? { cause: options.cause } : {}) })
  }
}
