import type { IncomingMessage } from 'node:http'

export interface LingerOptions {
  /**
   * Most bytes of the unread body read and dropped before the connection is cut. Generous: on
   * loopback megabytes are already in flight when the answer goes out, and cutting under them
   * is the reset this avoids. @default 16 MiB
   */
  maxBytes?: number
  /** Longest wait for the rest of the body. @default 5000 */
  maxMs?: number
}

/**
 * A staged close (RFC 9112 §9.6) after answering before the request body was read: the rest of
 * the body is read and dropped, within bounds, rather than closing at once. Closing a socket
 * with unread bytes makes the kernel send a reset, which can destroy the answer before the client
 * reads it: the client (or the gateway, for an instance's early 413) then sees `EPIPE` or
 * `ECONNRESET` instead of the answer. Once the body has ended the connection is reusable; past
 * the bounds it is cut (nginx's lingering_close does the same).
 */
export function drainUnreadBody (req: IncomingMessage, { maxBytes = 16 * 1_048_576, maxMs = 5_000 }: LingerOptions = {}): void {
  if (req.complete || req.destroyed) return
  let bytes = 0
  const cut = (): void => {
    done()
    req.socket?.destroy()
  }
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length
    if (bytes > maxBytes) cut()
  }
  const done = (): void => {
    clearTimeout(timer)
    req.off('data', onData)
  }
  const timer = setTimeout(cut, maxMs)
  timer.unref()
  req.on('data', onData)
  req.once('end', done)
  req.once('close', done)
  req.unpipe()
  req.resume()
}
