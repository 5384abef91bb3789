import type { ServerResponse } from 'node:http'
import { downstreamHeaders } from './headers.js'

/**
 * Passes an interim (1xx) response on to the client (RFC 9110 §15.2: a proxy forwards them):
 * 103 Early Hints with its fields, 102 Processing. Interim responses are never stored (the
 * cache only sees the final response). Nothing is sent once the final response has begun.
 */
export function forwardInformational (res: ServerResponse, status: number, headers: Record<string, string | string[] | undefined>): void {
  if (res.headersSent || res.writableEnded) return
  if (status === 103) {
    const hints = downstreamHeaders(headers, '') as Record<string, string | string[]>
    delete hints['x-request-id']
    // Node sends Early Hints only with a Link field, which is what they are for
    if (hints.link !== undefined) res.writeEarlyHints(hints)
  } else if (status === 102) {
    res.writeProcessing()
  }
}
