/**
 * Message framing of an instance's response (RFC 9112 §6). The gateway relays bodies framed by
 * Content-Length or by the chunked transfer coding and implements no other transfer coding, so a
 * response with any other `Transfer-Encoding` (an unknown token, `gzip`, `gzip, chunked`) cannot be
 * relayed as it is: its bytes would reach the client without their coding, and when chunked is
 * not the final coding its end is only the close of the connection (§6.3), which an instance that
 * keeps its connections alive never sends. Such a response is refused before any of it is sent.
 */

/** The `Transfer-Encoding` of a response the gateway cannot relay, or undefined when it can. */
export function unsupportedTransferCoding (headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const value = headers['transfer-encoding']
  if (value === undefined || value === 'chunked') return undefined // every response passes here: the common cases first
  const text = Array.isArray(value) ? value.join(', ') : value
  const codings = text.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '')
  return codings.length === 1 && codings[0] === 'chunked' ? undefined : text
}
