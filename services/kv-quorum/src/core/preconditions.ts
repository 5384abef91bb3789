import type { IncomingHttpHeaders } from 'node:http'

/**
 * The request preconditions (RFC 9110 §13.1) a write or read could carry. A leaderless store has
 * no single point where "compare, then set" happens at once: two coordinators can both see the
 * version a client names and both write. Rather than pretend, or silently ignore the condition
 * (both used to answer 200), kv-quorum refuses any of them with 501; kv-leader's If-Match is an
 * atomic compare-and-set.
 */
const preconditions = ['if-match', 'if-none-match', 'if-unmodified-since'] as const

/** The first precondition header the request carries, or undefined. */
export function unsupportedPrecondition (headers: IncomingHttpHeaders): string | undefined {
  return preconditions.find((name) => headers[name] !== undefined)
}
