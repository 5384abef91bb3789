import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

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
  const socket = req.socket as GuardedSocket | null
  let bytes = 0
  const cut = (): void => {
    done()
    socket?.destroy()
  }
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length
    if (bytes > maxBytes) cut()
  }
  const done = (): void => {
    clearTimeout(timer)
    req.off('data', onData)
    // the connection was half-closed after the answer (see guardClose): every byte the client
    // sent is read now, so closing resets nothing
    if (socket?.[closeWhenDrained] === true) socket.destroy()
  }
  const timer = setTimeout(cut, maxMs)
  timer.unref()
  req.on('data', onData)
  req.once('end', done)
  req.once('close', done)
  req.unpipe()
  req.resume()
}

const guardedRequest = Symbol('guardedRequest')
const closeWhenDrained = Symbol('closeWhenDrained')
type GuardedSocket = Socket & { destroySoon?: () => void, [guardedRequest]?: IncomingMessage, [closeWhenDrained]?: boolean }

/**
 * Arms a lingering close for a request whose body may still be arriving when it is answered.
 * When the answer ends the connection (the client asked `Connection: close`), Node destroys the
 * socket as soon as the answer is written, unread bytes and all: the reset can destroy the answer
 * before the client reads it. Guarded, the socket half-closes instead (our FIN after the answer,
 * as nginx's lingering close) and is closed once `drainUnreadBody` has read the rest. Call it
 * before anything can answer: Node ends the connection in a tick of its own, before a promise
 * continuation could arm anything.
 */
export function guardClose (req: IncomingMessage): void {
  const socket = req.socket as GuardedSocket | null
  if (socket === null) return
  const armed = socket[guardedRequest] !== undefined
  socket[guardedRequest] = req
  const own = socket.destroySoon
  if (armed || own === undefined) return
  socket.destroySoon = function (this: GuardedSocket) {
    const current = this[guardedRequest]
    if (current === undefined || current.complete || current.destroyed) {
      own.call(this)
      return
    }
    this[closeWhenDrained] = true
    this.end()
    current.resume() // read on, whoever drains it; drainUnreadBody bounds it
  }
}
