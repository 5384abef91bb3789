import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../shared/testing/cluster.js'
import { waitFor } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'gw-bad', 2, { GW_BODY_LIMIT_BYTES: '100000' })
  await waitFor(async () => (await request(`${cluster.gateway.url}/readyz`)).statusCode === 200, 10_000, 'gateway ready')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

/** Sends raw bytes, so malformed requests reach the server exactly as written. */
async function raw (text: string): Promise<{ status: number, body: string }> {
  const { port } = new URL(cluster.gateway.url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text))
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('error', reject)
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) })
    })
  })
}

async function expectJsonError (path: string, status: number, code: string, init: Parameters<typeof request>[1] = {}): Promise<void> {
  const res = await request(`${cluster.gateway.url}${path}`, init)
  const body = await res.body.json() as { error: string, message: string }
  expect(res.statusCode).toBe(status)
  expect(res.headers['content-type']).toMatch(/application\/json/)
  expect(body.error).toBe(code)
  expect(body.message).toEqual(expect.any(String))
}

describe('bad input at the gateway', () => {
  it('unknown service → 404 JSON', async () => {
    await expectJsonError('/api/nosuch/x', 404, 'GW_ERR_UNKNOWN_SERVICE')
  })

  it.each([
    ['/api/echo/internal/x', 404, 'GW_ERR_FORBIDDEN_PATH'],
    ['/api/echo/%69nternal/x', 404, 'GW_ERR_FORBIDDEN_PATH'],
    ['/api/echo/%2569nternal/x', 404, 'GW_ERR_FORBIDDEN_PATH'],
    ['/api/echo/a%2F..%2Finternal', 400, 'GW_ERR_BAD_PATH'],
    ['/api/echo/%2e%2e/internal/x', 400, 'GW_ERR_BAD_PATH'],
    ['/api/echo//internal/x', 400, 'GW_ERR_BAD_PATH']
  ])('internal routes stay unreachable: %s → %i', async (path, status, code) => {
    // raw bytes: an HTTP client would normalise the dot segments away before sending
    const res = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    expect(res.status).toBe(status)
    expect(JSON.parse(res.body)).toMatchObject({ error: code })
  })

  it('malformed percent-encoding → 400 JSON', async () => {
    const res = await raw('GET /api/echo/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ error: expect.stringMatching(/_ERR_/) })
  })

  it('oversized body → 413 JSON, with or without a content-length', async () => {
    await expectJsonError('/api/echo/big', 413, 'HTTP_ERR_PAYLOAD_TOO_LARGE', { method: 'POST', body: 'x'.repeat(200_000), headers: { 'content-type': 'text/plain' } })
    const res = await raw(`POST /api/echo/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n30d40\r\n${'y'.repeat(200_000)}\r\n0\r\n\r\n`)
    expect([413, 502]).toContain(res.status)
  })

  it('oversized headers → 431 JSON', async () => {
    const res = await raw(`GET /api/echo/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(40_000)}\r\nConnection: close\r\n\r\n`)
    expect(res.status).toBe(431)
    expect(JSON.parse(res.body)).toMatchObject({ error: 'HTTP_ERR_HEADERS_TOO_LARGE' })
  })

  it.each(['delay=-5', 'delay=abc', 'delay=99999999', 'status=42', 'status=700'])('invalid echo knob %s → 400 JSON from the instance', async (query) => {
    await expectJsonError(`/api/echo/x?${query}`, 400, 'ECHO_ERR_BAD_PARAM')
  })

  it('a bad x-request-id is replaced; a good one is kept', async () => {
    const good = await request(`${cluster.gateway.url}/api/echo/x`, { headers: { 'x-request-id': 'abc-123' } })
    await good.body.dump()
    expect(good.headers['x-request-id']).toBe('abc-123')
    const bad = await request(`${cluster.gateway.url}/api/echo/x`, { headers: { 'x-request-id': 'no spaces allowed!' } })
    await bad.body.dump()
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('is still up and serving after all of that', async () => {
    const res = await request(`${cluster.gateway.url}/api/echo/still-here`)
    expect(res.statusCode).toBe(200)
    await res.body.dump()
  })
})
