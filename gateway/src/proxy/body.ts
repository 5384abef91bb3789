import type { IncomingMessage } from 'node:http'
import { Transform, type Readable } from 'node:stream'
import { clusterError } from '../../../shared/src/errors.js'

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffered', data: Buffer }
  | { kind: 'streamed', stream: Readable }

/**
 * Small bodies of known length are read whole so a failed try can send them again; anything
 * larger streams straight through (no full buffering) and makes the request non-retryable.
 */
export async function prepareBody (req: IncomingMessage, limit: number, replayLimit: number): Promise<RequestBody> {
  const lengthHeader = req.headers['content-length']
  const chunked = req.headers['transfer-encoding'] !== undefined
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader)
  if (!chunked && (length === undefined || length === 0)) return { kind: 'none' }
  if (length !== undefined && length > limit) throw tooLarge(limit)
  if (!chunked && length !== undefined && length <= replayLimit) return { kind: 'buffered', data: await readAll(req, limit) }
  return { kind: 'streamed', stream: req.pipe(limitStream(limit)) }
}

async function readAll (req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

function limitStream (limit: number): Transform {
  let size = 0
  return new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > limit) callback(tooLarge(limit))
      else callback(null, chunk)
    }
  })
}

function tooLarge (limit: number): Error {
  return clusterError('HTTP_ERR_PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`)
}
