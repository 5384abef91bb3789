import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Pool } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ProxyTry } from '../../gateway/src/proxy/proxy-try.js'

/**
 * A hedged request's losing try on a real connection (ProxyTry.lose): one that answers within
 * its grace is read to its end and its keep-alive connection is reused; one that does not, or
 * whose answer is large, is cancelled. A loser never writes to the client's response.
 */
let server: Server
let origin: string
let sockets: Set<Socket>
/** Requests the instance saw abandoned before it answered. */
let abandoned: number

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://instance.invalid')
    const delayMs = Number(url.searchParams.get('delay') ?? 0)
    const bytes = Number(url.searchParams.get('bytes') ?? 2)
    const timer = setTimeout(() => { res.end('x'.repeat(bytes)) }, delayMs)
    res.once('close', () => {
      if (res.writableFinished) return
      clearTimeout(timer)
      abandoned++
    })
  })
  server.on('connection', (socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

let pool: Pool
beforeEach(() => {
  sockets = new Set()
  abandoned = 0
  pool = new Pool(origin, { connections: 1 })
  return async () => { await pool.destroy() }
})

/** The client's response, which a loser must never touch. */
function untouchableResponse (): ServerResponse {
  const touched = (): never => { throw new Error('a losing try wrote to the client') }
  return { writeHead: touched, write: touched, end: touched, headersSent: false, once: touched } as unknown as ServerResponse
}

/** A try that lost its race: its rival has claimed the client's response already. */
function losingTry (path: string): ProxyTry {
  const attempt = new ProxyTry(untouchableResponse(), 'req-1', 0, () => false)
  pool.dispatch({ origin, path, method: 'GET' }, attempt)
  return attempt
}

async function reusesConnection (): Promise<boolean> {
  const res = await pool.request({ path: '/next', method: 'GET' })
  await res.body.dump()
  return sockets.size === 1
}

describe('a hedged request\'s losing try', () => {
  it('answering within its grace is read to its end and keeps its connection', async () => {
    const attempt = losingTry('/?delay=30')
    attempt.lose(1_000)
    expect(await attempt.done).toEqual({ ok: true, status: 200 })
    expect(abandoned).toBe(0)
    expect(await reusesConnection()).toBe(true)
  })

  it('still silent when its grace runs out is cancelled, and the instance sees it abandoned', async () => {
    const attempt = losingTry('/?delay=5000')
    attempt.lose(50)
    const outcome = await attempt.done
    expect(outcome).toMatchObject({ ok: false, error: { code: 'HEDGE_LOST' } })
    await expect.poll(() => abandoned).toBe(1)
  })

  it('answering with a large body is cancelled rather than read', async () => {
    const attempt = losingTry('/?bytes=1000000')
    attempt.lose(1_000)
    expect(await attempt.done).toMatchObject({ ok: false, error: { code: 'HEDGE_LOST' } })
    expect(await reusesConnection()).toBe(false)
  })
})
