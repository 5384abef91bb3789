import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { misbehaviours } from '../../scripts/bench/misbehaviour-cases.js'

let redis: TestRedis
let cluster: EchoCluster
/** Above echo's own limit (1 MiB), so an instance can refuse a body the gateway let through. */
const bodyLimit = 2 * 1_048_576
const tryTimeoutMs = 600

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'gw-bad', 2, { GW_BODY_LIMIT_BYTES: String(bodyLimit), GW_TRY_TIMEOUT_MS: String(tryTimeoutMs) })
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
    await expectJsonError('/api/echo/big', 413, 'HTTP_ERR_PAYLOAD_TOO_LARGE', { method: 'POST', body: 'x'.repeat(bodyLimit + 1), headers: { 'content-type': 'text/plain' } })
    const size = bodyLimit + 1_000
    const res = await raw(`POST /api/echo/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n${size.toString(16)}\r\n${'y'.repeat(size)}\r\n0\r\n\r\n`)
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toMatchObject({ error: 'HTTP_ERR_PAYLOAD_TOO_LARGE' })
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
    expect(cluster.gateway.child.exitCode).toBeNull()
    const res = await request(`${cluster.gateway.url}/api/echo/still-here`)
    expect(res.statusCode).toBe(200)
    await res.body.dump()
  })
})

interface InstanceView { id: string, healthy: boolean, ejected: boolean }
async function echoInstances (): Promise<InstanceView[]> {
  const res = await request(`${cluster.gateway.url}/registry`)
  return ((await res.body.json()) as { services: Record<string, InstanceView[]> }).services.echo ?? []
}

/** Every ejection since the gateway started, from its own counter. */
async function ejections (): Promise<number> {
  const text = await (await request(`${cluster.gateway.url}/metrics`)).body.text()
  return [...text.matchAll(/^gateway_ejections_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0)
}

/** The gateway's log lines at error level (pino level 50 and above). */
function errorLines (): string[] {
  return cluster.gateway.lines.filter((line) => /"level":(5|6)\d/.test(line))
}

describe('client misbehaviours: the right answer, and no instance blamed (issue 14)', () => {
  const cases = misbehaviours({ gatewayBodyLimit: bodyLimit, instanceBodyLimit: 1_048_576, tryTimeoutMs })

  it.each(cases.map((c) => [c.name, c.expected ?? 'no answer (it left)', c] as const))('%s → %s', async (_name, _expected, c) => {
    // judged on its own: whatever an earlier case did has worn off
    await waitFor(async () => (await echoInstances()).every((v) => v.healthy && !v.ejected), 10_000, 'every instance back in rotation')
    const errorsBefore = errorLines().length
    const ejectionsBefore = await ejections()
    const result = await c.run(cluster.gateway.url)
    expect(result.status, `${c.name}: ${JSON.stringify(result).slice(0, 400)}`).toBe(c.expected)
    if (c.errorCode !== undefined) expect(JSON.parse(result.body)).toMatchObject({ error: c.errorCode })
    if (c.name.startsWith('Expect: 100-continue with')) expect(result.interim).toEqual([]) // refused before the body was sent
    else if (c.name.startsWith('Expect')) expect(result.interim).toEqual([100])
    await sleep(150) // let late effects (the instance's side of an abort, a log line) land
    expect(await ejections() - ejectionsBefore).toBe(0)
    expect((await echoInstances()).map((v) => [v.id, v.healthy, v.ejected])).toEqual([['echo-1', true, false], ['echo-2', true, false]])
    expect(errorLines().slice(errorsBefore)).toEqual([])
    const after = await request(`${cluster.gateway.url}/api/echo/after`)
    await after.body.dump()
    expect(after.statusCode).toBe(200)
  })

  it.each(['the instance answers early', 'chunked body over the limit'])('%s: the 413 reaches the client every time, never a reset', async (name) => {
    const c = cases.find((x) => x.name.startsWith(name))!
    const statuses = []
    // the reset this guards against is a race: one try in a few lost the answer before the fix
    // (when the client had asked to close, Node cut the connection under the unread body as
    // soon as the answer was written)
    for (let i = 0; i < 20; i++) statuses.push((await c.run(cluster.gateway.url)).status)
    expect(statuses).toEqual(Array(20).fill(413))
  })

  it('left no instance ejected, ever', async () => {
    expect(await ejections()).toBe(0)
  })
})
