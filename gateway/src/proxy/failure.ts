import type { FailureKind } from '../resilience/outlier-detector.js'

/** Nothing reached the instance: safe to try elsewhere whatever the method. */
const notSent = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
const timeouts = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/** Sorts an undici error into the causes the retry and ejection rules care about. */
export function classifyFailure (err: unknown, clientGone: boolean): FailureKind | 'client-abort' {
  if (clientGone) return 'client-abort'
  const code = (err as { code?: string }).code ?? ''
  if (notSent.has(code)) return 'refused'
  if (timeouts.has(code)) return 'timeout'
  return 'reset'
}
