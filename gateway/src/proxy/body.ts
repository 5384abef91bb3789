import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { clusterError, type ClusterError } from '../../../shared/src/errors.js'

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffered', data: Buffer }
  | { kind: 'streamed', stream: BodyLimit }

/** Thrown when the client goes away before its request body arrived: nobody is left to answer. */
export const clientGone = Object.assign(new Error('client closed the connection'), { code: 'CLIENT_GONE' })

export function isClientGone (err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'CLIENT_GONE'
}

const none: RequestBody = { kind: 'none' }

/**
 * Small bodies of known length are read whole so a failed try can send them again; anything
 * larger streams straight through (no full buffering) and makes the request non-retryable.
 * Only a body to read makes this asynchronous: most proxied requests have none.
 */
export function prepareBody (req: IncomingMessage, limit: number, replayLimit: number): RequestBody | Promise<RequestBody> {
  const lengthHeader = req.headers['content-length']
  const chunked = req.headers['transfer-encoding'] !== undefined
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader)
  if (!chunked && (length === undefined || length === 0)) return none
  if (length !== undefined && length > limit) throw tooLarge(limit)
  if (!chunked && length !== undefined && length <= replayLimit) return readAll(req, limit).then((data) => ({ kind: 'buffered', data }))
  const stream = new BodyLimit(limit)
  req.pipe(stream)
  return { kind: 'streamed', stream }
}

async function readAll (req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > limit) throw tooLarge(limit)
      chunks.push(chunk as Buffer)
    }
  } catch (err) {
    // Node's "aborted" (ECONNRESET): the client left mid-body, which is routine, not a fault
    if ((err as { code?: string }).code === 'ECONNRESET' || req.destroyed) throw clientGone
    throw err
  }
  if (!req.complete) throw clientGone
  return Buffer.concat(chunks, size)
}

/**
 * The streamed body on its way upstream: fails once more than `limit` bytes went through, and
 * says so (`exceeded`), so the try's failure is put down to the client's body, not the instance.
 */
export class BodyLimit extends Transform {
  readonly #limit: number
  #size = 0
  #exceeded = false

  constructor (limit: number) {
    super()
    this.#limit = limit
  }

  get exceeded (): boolean { return this.#exceeded }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null, data?: Buffer) => void): void {
    this.#size += chunk.length
    if (this.#size > this.#limit) {
      this.#exceeded = true
      callback(tooLarge(this.#limit))
    } else {
      callback(null, chunk)
    }
  }
}

export function tooLarge (limit: number): ClusterError {
  return clusterError('HTTP_ERR_PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`)
}
