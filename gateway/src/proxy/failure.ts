import type { FailureKind } from '../resilience/outlier-detector.js'

/**
 * Why a try failed, by origin. The upstream's kinds (`FailureKind`) count against the instance;
 * the others never do:
 * - `client-abort`: the client went away (logged at debug: it is routine, not a fault);
 * - `body-too-large`: the client's streamed body went over the gateway's limit (413);
 * - `unforwardable`: undici refused the request before sending it (a header it does not support);
 * - `early-answer`: the instance had begun answering while the request body was still being
 *   sent, and the exchange then broke (it refused the body on purpose, e.g. its own 413).
 */
export type TryFailure = FailureKind | 'client-abort' | 'body-too-large' | 'unforwardable' | 'early-answer'

/** Nothing reached the instance: safe to try elsewhere whatever the method. */
const notSent = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
const timeouts = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
/** undici's own refusals of a request: the gateway's side, never the instance's. */
const gatewaySide = new Set(['UND_ERR_NOT_SUPPORTED', 'UND_ERR_INVALID_ARG', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN'])

export interface FailureContext {
  /** The client closed its connection before the exchange ended. */
  clientGone: boolean
  /** The request body went over the limit while it streamed. */
  bodyOverLimit: boolean
  /** The instance had sent a status line when the try failed. */
  answerStarted: boolean
  /** The request body was still being sent when the try failed. */
  bodyUnsent: boolean
}

/** Sorts an undici error into the causes the retry and ejection rules care about. */
export function classifyFailure (err: unknown, ctx: FailureContext): TryFailure {
  if (ctx.clientGone) return 'client-abort'
  if (ctx.bodyOverLimit) return 'body-too-large'
  const code = (err as { code?: string } | undefined)?.code ?? ''
  if (gatewaySide.has(code)) return 'unforwardable'
  if (notSent.has(code)) return 'refused'
  if (ctx.answerStarted && ctx.bodyUnsent) return 'early-answer'
  if (timeouts.has(code)) return 'timeout'
  return 'reset'
}

/** The kinds that say something about the instance's health. */
export function countsAgainstInstance (failure: TryFailure): failure is FailureKind {
  return failure === 'refused' || failure === 'reset' || failure === 'timeout' || failure === 'status5xx'
}

/**
 * Whether an answer's status counts as the instance failing: every 5xx but 501 and 505, which
 * describe the request (a method or feature the instance does not implement, an HTTP version),
 * not the instance's health.
 */
export function isFailureStatus (status: number): boolean {
  return status >= 500 && status !== 501 && status !== 505
}
