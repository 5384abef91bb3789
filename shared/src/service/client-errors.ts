import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { clusterError, toEnvelope } from '../errors.js'

/**
 * Errors Node raises before a request exists (oversized headers, unparsable request line,
 * timeouts): answered on the socket with the same JSON envelope as every other error.
 */
export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? clusterError('HTTP_ERR_HEADERS_TOO_LARGE')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? clusterError('HTTP_ERR_TIMEOUT')
      : clusterError('HTTP_ERR_BAD_REQUEST', 'malformed HTTP request')
  const status = error.statusCode
  const body = JSON.stringify(toEnvelope(error))
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/** Router-level errors (a URL that cannot be decoded) get the JSON envelope too. */
export function frameworkErrors (err: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_BAD_URL' ? 'malformed percent-encoding in the URL' : err.message
  void reply.code(400).type('application/json').send(toEnvelope(clusterError('HTTP_ERR_BAD_REQUEST', message)))
}
