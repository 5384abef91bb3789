import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * The dashboard's event streams are a resource a client cannot exhaust (issue 14, item 8): one
 * frame per tick shared by every stream, and a cap on concurrent streams.
 */
const maxStreams = 4
let redis: TestRedis
let cluster: EchoCluster
const agent = new Agent({ connections: 20 })

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'dash-streams', 1, { GW_DASHBOARD_MAX_STREAMS: String(maxStreams) })
})

afterAll(async () => {
  await agent.destroy()
  killAll()
  await redis?.stop()
})

interface Frame { at: number, reset: boolean, events: Array<{ message: string }> }

/** An open stream: its frames as they arrive, and a way to close it. */
async function openStream (): Promise<{ status: number, frames: Frame[], body: string, close: () => void }> {
  const controller = new AbortController()
  const res = await request(`${cluster.gateway.url}/dashboard/stream`, { dispatcher: agent, signal: controller.signal })
  const frames: Frame[] = []
  let body = ''
  let buffer = ''
  res.body.on('data', (chunk: Buffer) => {
    body += chunk.toString()
    buffer += chunk.toString()
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1]
      buffer = buffer.slice(end + 2)
      if (data !== undefined) frames.push(JSON.parse(data) as Frame)
    }
  })
  res.body.on('error', () => {})
  return { status: res.statusCode, frames, get body () { return body }, close: () => controller.abort() }
}

describe('dashboard streams', () => {
  it('send one frame per tick, the same to every stream, whenever each was opened', async () => {
    const a = await openStream()
    await sleep(330)
    const b = await openStream()
    await sleep(330)
    const c = await openStream()
    const shared = (s: typeof a): number[] => s.frames.filter((f) => !f.reset).map((f) => f.at)
    await waitFor(() => [a, b, c].every((s) => shared(s).length >= 2), 5_000, 'two shared frames on every stream')
    await sleep(200) // every stream has been written the same ticks by now
    for (const s of [a, b, c]) s.close()
    // built once per tick: streams opened 330 ms apart get frames stamped at the same instants
    const ticksOfA = new Set(shared(a))
    for (const s of [b, c]) expect(shared(s).filter((at) => !ticksOfA.has(at))).toEqual([])
    for (const s of [a, b, c]) expect(s.frames[0]!.reset).toBe(true)
  })

  it('refuses a stream past the cap with a 503, and takes one again once a stream closes', async () => {
    await sleep(300) // the streams of the test above are gone
    const open = await Promise.all(Array.from({ length: maxStreams }, openStream))
    expect(open.map((s) => s.status)).toEqual(Array(maxStreams).fill(200))
    const refused = await request(`${cluster.gateway.url}/dashboard/stream`, { dispatcher: agent })
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(await refused.body.json()).toMatchObject({ error: 'GW_ERR_TOO_MANY_STREAMS' })
    open[0]!.close()
    let again: Awaited<ReturnType<typeof openStream>> | undefined
    await waitFor(async () => {
      again?.close()
      again = await openStream()
      return again.status === 200
    }, 3_000, 'a stream accepted once one closed')
    for (const s of [...open.slice(1), again!]) s.close()
  })

  it('still serves the proxy and the other routes', async () => {
    const res = await request(`${cluster.gateway.url}/api/echo/x`)
    await res.body.dump()
    expect(res.statusCode).toBe(200)
  })
})
