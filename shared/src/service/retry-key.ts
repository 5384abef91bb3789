/**
 * The gateway sends every try of one client request with the same fresh `x-retry-key` (never
 * the client's own value). A service that remembers the keys of writes it applied can answer a
 * retry with what the first try did instead of doing it twice, which makes the gateway's retry
 * of a write whose answer was lost (a timeout, a leader that died after committing) safe.
 * kv-leader does (services/kv-leader/src/core/store.ts).
 */
export const retryKeyHeader = 'x-retry-key'

const shape = /^[A-Za-z0-9_-]{8,64}$/

/** The header's value when it is a well-formed key, else undefined (a malformed key is ignored, never trusted). */
export function retryKeyFrom (header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && shape.test(header) ? header : undefined
}
