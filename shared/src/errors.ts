/**
 * One error family for the whole cluster. Every error has a stable string `code`
 * (`<AREA>_ERR_<WHAT>`), the HTTP status it maps to, and whether a retry may help.
 * Each area declares its codes once, in a table made by `defineErrors`; the tables together are
 * the catalogue (test/unit/errors.test.ts finds every table, keeps the codes unique and each
 * documented with its status). A retired code is never reused.
 */
export class ClusterError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly retryable: boolean
  /** Extra fields of the JSON body (e.g. the quorum a request reached); never `error`, `message` or `retryable`. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor (code: string, message: string, statusCode: number, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    this.retryable = options.retryable ?? false
    this.details = options.details
  }
}

export interface ErrorOptions {
  /** Overrides the table's flag for this one error. */
  retryable?: boolean
  cause?: unknown
  details?: Record<string, unknown>
}

/** The JSON body every error response carries. */
export interface ErrorEnvelope {
  error: string
  message: string
  retryable?: boolean
  [detail: string]: unknown
}

export function toEnvelope (err: ClusterError): ErrorEnvelope {
  return { error: err.code, message: err.message, ...(err.retryable ? { retryable: true } : {}), ...err.details }
}

/** One row of the catalogue. */
export interface ErrorEntry<C extends string = string> {
  readonly code: C
  readonly status: number
  /** What the code means, in one line: the message when the thrower gives none. */
  readonly message: string
  /** Whether trying again later may succeed; sent as `"retryable": true` and, on a 503, `Retry-After`. */
  readonly retryable: boolean
}

export type ErrorTable<C extends string = string> = { readonly [K in C]: ErrorEntry<K> }

interface ErrorSpec {
  status: number
  message: string
  /** @default status === 503 */
  retryable?: boolean
}

const tables = new WeakSet<object>()

/** An area's table of codes; a 503 is retryable unless the row says otherwise. */
export function defineErrors<const T extends Record<string, ErrorSpec>> (specs: T): ErrorTable<keyof T & string> {
  const table: Record<string, ErrorEntry> = {}
  for (const [code, spec] of Object.entries(specs)) {
    table[code] = Object.freeze({ code, status: spec.status, message: spec.message, retryable: spec.retryable ?? spec.status === 503 })
  }
  tables.add(Object.freeze(table))
  return table as ErrorTable<keyof T & string>
}

/** True for a table `defineErrors` made: how the catalogue test finds every table a module exports. */
export function isErrorTable (value: unknown): value is ErrorTable {
  return typeof value === 'object' && value !== null && tables.has(value)
}

/** A table's error factory: the code fixes the status and, unless overridden, the retryable flag. */
export function errorFactory<C extends string> (table: ErrorTable<C>): (code: C, message?: string, options?: ErrorOptions) => ClusterError {
  return (code, message, options = {}) => {
    const entry = table[code]
    return new ClusterError(code, message ?? entry.message, entry.status, { ...options, retryable: options.retryable ?? entry.retryable })
  }
}

/**
 * The codes every process shares: configuration, Redis, HTTP, and the gateway's.
 * @public found by the error catalogue (test/support/error-catalogue.ts)
 */
export const sharedErrors = defineErrors({
  CFG_ERR_INVALID: { status: 500, message: 'invalid configuration' },
  CFG_ERR_UNKNOWN_STRATEGY: { status: 500, message: 'an unknown balancer is named' },
  REDIS_ERR_NOT_REPLICATED: { status: 503, message: 'the write was not confirmed by the required Redis replicas' },
  HTTP_ERR_BAD_REQUEST: { status: 400, message: 'the request could not be parsed' },
  HTTP_ERR_NOT_FOUND: { status: 404, message: 'no route for this method and path' },
  HTTP_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'the route does not accept this method' },
  HTTP_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  HTTP_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the content type is not accepted' },
  HTTP_ERR_TIMEOUT: { status: 408, message: 'the request was not received in time' },
  HTTP_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'request headers exceed the size limit' },
  HTTP_ERR_INTERNAL: { status: 500, message: 'internal error' },
  // a plain 503 from the framework (closing, not ready) carries no retryable flag and no Retry-After
  HTTP_ERR_UNAVAILABLE: { status: 503, message: 'the instance is not ready or is shutting down', retryable: false },
  HTTP_ERR_DEADLINE_PASSED: { status: 503, message: 'the caller\'s deadline passed before the request could start; nothing was done' },
  GW_ERR_UNKNOWN_SERVICE: { status: 404, message: 'no service of that name' },
  GW_ERR_FORBIDDEN_PATH: { status: 404, message: 'internal routes are never proxied' },
  GW_ERR_BAD_PATH: { status: 400, message: 'the path hides what it names' },
  GW_ERR_NO_UPSTREAM: { status: 503, message: 'no instance of the service is available' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'the instance did not answer in time', retryable: true },
  // retryable when the try failed before anything was sent; not when the instance answered mid-body
  GW_ERR_UPSTREAM_BROKEN: { status: 502, message: 'the instance failed before answering' },
  GW_ERR_DEADLINE_EXCEEDED: { status: 504, message: 'the request deadline passed across tries' },
  GW_ERR_NOT_CACHED: { status: 504, message: 'only-if-cached: no stored response may answer this request' },
  GW_ERR_UNFORWARDABLE: { status: 400, message: 'the request cannot be forwarded' },
  GW_ERR_TOO_MANY_STREAMS: { status: 503, message: 'too many dashboard streams are open' }
})

export type ErrorCode = keyof typeof sharedErrors

/** Builds a shared-catalogue ClusterError: a code always maps to one status. */
export const clusterError = errorFactory(sharedErrors)
