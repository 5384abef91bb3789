import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { PeerClient } from '../../services/kv-quorum/src/adapters/peer-client.js'
import { peerFailure } from '../../services/kv-quorum/src/adapters/peer-failure.js'
import type { ReplicaFailure } from '../../services/kv-quorum/src/core/coordination.js'

/** A stand-in peer on a real loopback socket that misbehaves as told once it has read the request. */
async function peer (handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { handle(req, res) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A loopback port nobody listens on (bound, read back, released). */
async function closedPort (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return `http://127.0.0.1:${port}`
}

const record = { key: 'k', value: Buffer.from('v'), version: { t: 1, c: 0, n: 'a' } }

const cases: Array<[string, ReplicaFailure, () => Promise<string>]> = [
  ['nothing listens (connection refused): never sent', 'refused', closedPort],
  ['the peer answers 503', 'refused', async () => await peer((_req, res) => { res.writeHead(503).end('{"code":"X"}') })],
  ['the peer answers 400', 'refused', async () => await peer((_req, res) => { res.writeHead(400).end('{"code":"X"}') })],
  ['the peer read the request, then the connection was cut', 'unknown', async () => await peer((req) => { req.socket.destroy() })],
  ['the peer read the request and never answered (timeout)', 'unknown', async () => await peer(() => {})],
  ['the peer answered 200 with a garbled body', 'unknown', async () => await peer((_req, res) => { res.writeHead(200).end('{not json') })]
]

describe('what a failed peer call says about the peer (real sockets)', () => {
  it.each(cases)('%s → %s', async (_name, expected, start) => {
    const url = await start()
    const client = new PeerClient({ connections: 1 })
    onTestFinished(async () => { await client.close() })
    for (const call of [
      async () => { await client.putRecords(url, [record], 300) },
      async () => await client.getRecord(url, 'k', 300)
    ]) {
      const err = await call().then(() => undefined, (e: unknown) => e)
      expect(err).toBeDefined()
      expect(peerFailure(err)).toBe(expected)
    }
  })
})
