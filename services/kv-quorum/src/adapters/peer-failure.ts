import type { ReplicaFailure } from '../core/coordination.js'

/** A peer answered with a non-2xx status: it did not do what was asked. */
export class PeerStatusError extends Error {
  readonly statusCode: number

  constructor (message: string, statusCode: number) {
    super(message)
    this.name = 'PeerStatusError'
    this.statusCode = statusCode
  }
}

/**
 * Errors undici raises before a request's first byte is written: the connection was never
 * established (the pool connects before it sends anything).
 */
const notConnected = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL'
])

/**
 * What a failed peer call says about the peer's copy: `refused` when the peer certainly did
 * not store anything (never connected, or it answered with an error status), `unknown` for
 * everything else (a timeout, a connection reset or closed after sending, a garbled answer):
 * the peer may have stored it. When in doubt, `unknown`.
 */
export function peerFailure (err: unknown): Exclude<ReplicaFailure, 'unregistered'> {
  if (err instanceof PeerStatusError) return 'refused'
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && notConnected.has(code) ? 'refused' : 'unknown'
}
